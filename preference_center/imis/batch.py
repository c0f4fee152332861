"""What every gateway refuses in a batch of changes before it sends anything."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ImisError
from .types import ValueChange


def checked_batch(changes: Iterable[ValueChange]) -> list[ValueChange]:
    """The changes as a list; ImisError when a batch holds two changes of one member's field (keep the
    latest) or repeats a change id."""
    changes = list(changes)
    keys = [(c.imis_id, c.table_name.lower(), c.field_name.lower()) for c in changes]
    if len(set(keys)) != len(keys):
        raise ImisError("a batch may hold one change per member and field; keep the latest")
    if len({c.change_id for c in changes}) != len(changes):
        raise ImisError("a batch may not repeat a change id")
    return changes
