"""Staff order of interests on the member form, changed by moves rather than typed numbers.

The form shows interests under their group headings, the groups in the order of their first interest
(subscribers.forms.groups). Positions are kept in that order, numbered 1..n: each group's interests are
consecutive, so the list staff sort by position reads as the form does, and a move never leaves an
interest "at the bottom" of a list while the form shows it in the middle."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from ..models import RemoteInterest
from ..signals import interests_changed

MOVES = ("top", "up", "down", "bottom")


def form_order(interests: Iterable[RemoteInterest]) -> list[RemoteInterest]:
    """`interests` (in position order) as the form reads them: each group where its first interest is."""
    grouped: dict[str, list[RemoteInterest]] = {}
    for interest in interests:
        grouped.setdefault(interest.group, []).append(interest)
    return [interest for members in grouped.values() for interest in members]


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


def _renumber(interests: list[RemoteInterest]) -> list[RemoteInterest]:
    """Save `interests` (all of them, in their new order) as positions 1..n; returns those that changed."""
    changed = []
    for position, interest in enumerate(form_order(interests), start=1):
        if interest.position != position:
            interest.position = position
            changed.append(interest)
    RemoteInterest.objects.bulk_update(changed, ["position"], batch_size=500)
    if changed:
        interests_changed.send(sender=RemoteInterest)
    return changed


def _locked():
    return list(RemoteInterest.objects.select_for_update().order_by("position", "id"))


@transaction.atomic
def interests_move(*, interest_ids: Iterable[int], move: str) -> list[RemoteInterest]:
    """Move the given interests to the top, one place up, one place down or to the bottom of their group
    (a group's interests stay together on the form), and renumber every interest 1..n. Returns the
    interests whose position changed."""
    if move not in MOVES:
        raise ValueError(f"unknown move {move!r}: one of {', '.join(MOVES)}")
    interests = _locked()
    by_id = {i.pk: i for i in interests}
    selected = {int(i) for i in interest_ids} & by_id.keys()
    grouped: dict[str, list[int]] = {}
    for interest in form_order(interests):
        grouped.setdefault(interest.group, []).append(interest.pk)
    order = [pk for members in grouped.values() for pk in _moved(members, selected, move)]
    return _renumber([by_id[pk] for pk in order])


@transaction.atomic
def interests_reorder(*, interest_ids: list[int]) -> list[RemoteInterest]:
    """Put the given interests (the rows a drag and drop touched) in this order, in the places they occupy
    now; the others keep theirs. Then each group gathers where its first interest is, and every interest
    is renumbered 1..n. Returns what moved.

    Unknown or repeated ids are refused (ValueError) and nothing changes."""
    wanted = [int(i) for i in interest_ids]
    if len(set(wanted)) != len(wanted):
        raise ValueError("an interest may appear only once in the new order")
    interests = _locked()
    by_id = {i.pk: i for i in interests}
    unknown = set(wanted) - by_id.keys()
    if unknown:
        raise ValueError(f"no such interest: {', '.join(map(str, sorted(unknown)))}")
    new_order = iter(wanted)
    selected = set(wanted)
    return _renumber([by_id[next(new_order)] if i.pk in selected else i for i in interests])


@transaction.atomic
def interests_regroup() -> list[RemoteInterest]:
    """Renumber after a group was renamed or interests were added: each group where its first interest
    is, as the form shows it. Returns what moved."""
    return _renumber(_locked())
