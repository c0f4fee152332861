"""Staff order of interests on the member form, changed by moves rather than typed numbers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from ..models import RemoteInterest
from ..signals import interests_changed

MOVES = ("top", "up", "down", "bottom")


def _moved(order: list[int], selected: set[int], move: str) -> list[int]:
    if move == "top":
        return [i for i in order if i in selected] + [i for i in order if i not in selected]
    if move == "bottom":
        return [i for i in order if i not in selected] + [i for i in order if i in selected]
    if move == "down":
        return list(reversed(_moved(list(reversed(order)), selected, "up")))
    # "up": each selected interest swaps with the unselected one just above it; a block of selected
    # interests moves up together and keeps its inner order.
    result = list(order)
    for index in range(1, len(result)):
        if result[index] in selected and result[index - 1] not in selected:
            result[index - 1], result[index] = result[index], result[index - 1]
    return result


@transaction.atomic
def interests_move(*, interest_ids: Iterable[int], move: str) -> list[RemoteInterest]:
    """Move the given interests to the top, one place up, one place down or to the bottom of the staff
    order, and renumber every interest 1..n. Returns the interests whose position changed."""
    if move not in MOVES:
        raise ValueError(f"unknown move {move!r}: one of {', '.join(MOVES)}")
    interests = list(RemoteInterest.objects.select_for_update().order_by("position", "id"))
    by_id = {i.pk: i for i in interests}
    selected = {int(i) for i in interest_ids} & by_id.keys()
    changed = []
    for position, pk in enumerate(_moved([i.pk for i in interests], selected, move), start=1):
        interest = by_id[pk]
        if interest.position != position:
            interest.position = position
            changed.append(interest)
    RemoteInterest.objects.bulk_update(changed, ["position"], batch_size=500)
    if changed:
        interests_changed.send(sender=RemoteInterest)
    return changed


@transaction.atomic
def interests_reorder(*, interest_ids: list[int]) -> list[RemoteInterest]:
    """Put the given interests (e.g. the rows of a filtered page after a drag and drop) in this order,
    in the places they occupy now; the others keep theirs. Renumbers 1..n; returns what moved.

    Unknown or repeated ids are refused (ValueError) and nothing changes."""
    wanted = [int(i) for i in interest_ids]
    if len(set(wanted)) != len(wanted):
        raise ValueError("an interest may appear only once in the new order")
    interests = list(RemoteInterest.objects.select_for_update().order_by("position", "id"))
    by_id = {i.pk: i for i in interests}
    unknown = set(wanted) - by_id.keys()
    if unknown:
        raise ValueError(f"no such interest: {', '.join(map(str, sorted(unknown)))}")
    new_order = iter(wanted)
    selected = set(wanted)
    order = [next(new_order) if i.pk in selected else i.pk for i in interests]
    changed = []
    for position, pk in enumerate(order, start=1):
        if by_id[pk].position != position:
            by_id[pk].position = position
            changed.append(by_id[pk])
    RemoteInterest.objects.bulk_update(changed, ["position"], batch_size=500)
    if changed:
        interests_changed.send(sender=RemoteInterest)
    return changed
