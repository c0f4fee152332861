"""Members without a row in an offered UD table, as the roster pull finds them (MissingUdRow).

iMIS never creates a member's UD row, and a change of a checkbox in a table where the member has no row
fails in the push. The pull streams every row of each offered table anyway: it marks the members it sees
in a bitmap of member ids (one byte per id: flat, whatever the number of UD rows), then compares the
active members with it, a chunk of ids at a time, and writes only the differences with what is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from subscribers.models import Subscriber

from ..models import MissingUdRow


class UdRowsSeen:
    """The members (ids) seen with a row in one UD table during a pull."""

    def __init__(self):
        # Members created after this (by a pull running meanwhile) are beyond it: neither seen nor missing.
        self.size = (Subscriber.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self._seen = bytearray(self.size)

    def mark(self, subscriber_ids: Iterable[int]) -> None:
        for subscriber_id in subscriber_ids:
            if subscriber_id < self.size:
                self._seen[subscriber_id] = 1

    def missing(self, subscriber_ids: Iterable[int]) -> set[int]:
        return {sid for sid in subscriber_ids if sid < self.size and not self._seen[sid]}


def missing_ud_rows_record(*, table_name: str, seen: UdRowsSeen, seen_at) -> int:
    """Bring the recorded missing rows of `table_name` in line with what the pull saw (after every row of
    the table has streamed). Returns how many active members have no row."""
    # Discovery may have changed the table's spelling; the interests spell it as the catalogue does.
    MissingUdRow.objects.filter(table_name__iexact=table_name).exclude(table_name=table_name).update(
        table_name=table_name
    )
    rows = MissingUdRow.objects.filter(table_name=table_name)
    recorded = bytearray(seen.size)  # what the last pull found: a bitmap too, whatever their number
    for subscriber_id in rows.values_list("subscriber_id", flat=True).iterator(chunk_size=settings.IMIS_CHUNK_SIZE):
        if subscriber_id < seen.size:
            recorded[subscriber_id] = 1
    # Few round trips: ids are small, and a pull's queries wait on a busy server more than they cost.
    total, after, step = 0, 0, settings.IMIS_CHUNK_SIZE * 10
    while ids := list(
        Subscriber.objects.filter(active=True, id__gt=after).order_by("id").values_list("id", flat=True)[:step]
    ):
        after = ids[-1]
        missing = seen.missing(ids)
        total += len(missing)
        new = [sid for sid in missing if not recorded[sid]]
        created = [sid for sid in ids if sid < seen.size and recorded[sid] and sid not in missing]
        with transaction.atomic():
            if created:  # iMIS staff created these rows
                rows.filter(subscriber_id__in=created).delete()
            MissingUdRow.objects.bulk_create(
                [MissingUdRow(subscriber_id=sid, table_name=table_name, seen_at=seen_at) for sid in new],
                batch_size=1000,
                ignore_conflicts=True,
            )
    rows.filter(subscriber__active=False).delete()
    return total


def missing_ud_rows_forget(*, keep_tables: Iterable[str]) -> None:
    """Drop what is recorded of tables no longer offered (no interest of theirs on the form)."""
    keep = {table.lower() for table in keep_tables}
    stale = {
        t
        for t in MissingUdRow.objects.order_by().values_list("table_name", flat=True).distinct()
        if t.lower() not in keep
    }
    if stale:
        MissingUdRow.objects.filter(table_name__in=stale).delete()
