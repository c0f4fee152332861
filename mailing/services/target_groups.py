"""Saved target groups: named combinations of interests that staff keep (selectors.TargetGroupSpec)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from ..models import SavedTargetGroup
from ..selectors import target_group_build


@transaction.atomic
def saved_target_group_save(
    *,
    group: SavedTargetGroup,
    any_of: Iterable[int],
    all_of: Iterable[int] = (),
    none_of: Iterable[int] = (),
    user=None,
) -> SavedTargetGroup:
    """Save `group` (new or not, its name set) with this combination. The combination is checked as any
    target group is (interests on the form, at least one wanted, none both wanted and excluded):
    selectors.InvalidTargetGroup says what is wrong, and nothing is saved."""
    spec = target_group_build(any_of=any_of, all_of=all_of, none_of=none_of)
    if group.pk is None and user is not None and user.is_authenticated:
        group.created_by = user
    group.save()
    group.any_of.set(spec.any_of)
    group.all_of.set(spec.all_of)
    group.none_of.set(spec.none_of)
    return group
