"""The SQL gateway's writes: a batch of checkbox changes in ONE iMIS transaction, each with its Activity
row, and the look-up of Activity rows an earlier attempt committed.

Every statement runs under `translated_errors`: transient errors become ImisUnavailable (retry later),
anything else iMIS says ImisRefused."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connections, transaction

from .activity import activity_values, imis_local_time
from .batch import checked_batch
from .columns import cell_text as _text
from .errors import ImisError, translated_errors
from .statements import Statements
from .types import ALREADY_WRITTEN, CREATED_ROW, NO_UD_ROW, WRITTEN, ValueChange, WriteOutcome

COUNTER_NAME = "Activity"
# SQL Server accepts at most 2,100 parameters per statement; stay well below.
MAX_IN_LIST = 500


def alias(using):
    """The database alias of iMIS: `using`, else IMIS_DB_ALIAS."""
    return using or settings.IMIS_DB_ALIAS


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def written_activities(changes: Iterable[tuple[str, str]], using=None) -> dict[str, int]:
    """{change id: Activity SEQN} for the (iMIS ID, change id) pairs iMIS already holds an Activity row of
    (SOURCE_CODE = change id): what an earlier attempt committed before its worker was lost."""
    connection = connections[alias(using)]
    with translated_errors(), connection.cursor() as cursor:
        return _activities_found(cursor, Statements(connection), list(changes))


def _activities_found(cursor, stmts, pairs) -> dict[str, int]:
    """{change id: Activity SEQN} of the (iMIS ID, change id) pairs iMIS holds an Activity row of."""
    found = {}
    for chunk in _chunks(pairs, MAX_IN_LIST // 2):
        ids = sorted({imis_id for imis_id, _code in chunk})
        codes = [code for _imis_id, code in chunk]
        cursor.execute(stmts.activities_for(len(ids), len(codes)), [*ids, *codes])
        rows = {(_text(i), _text(code)): seqn for i, code, seqn in cursor.fetchall()}
        found.update({code: int(rows[(i, code)]) for i, code in chunk if (i, code) in rows})
    return found


def _current_values(cursor, stmts, todo) -> dict:
    """{(table, iMIS ID): {field: value}} of the members of `todo` that have a row in each UD table."""
    by_table = defaultdict(list)
    for c in todo:
        by_table[c.table_name].append(c)
    current = {}
    for table, table_changes in by_table.items():
        fields = sorted({c.field_name for c in table_changes})
        for ids in _chunks(sorted({c.imis_id for c in table_changes}), MAX_IN_LIST):
            cursor.execute(stmts.ud_values_for(table, fields, len(ids)), ids)
            for row in cursor.fetchall():
                current[(table, _text(row[0]))] = dict(zip(fields, row[1:], strict=True))
    return current


def _update_values(cursor, stmts, todo, current, create_missing_rows, outcomes) -> set[str]:
    """UD updates, one statement per (table, field, value) group; a member without a row is created
    (create_missing_rows) or reported NO_UD_ROW. Returns the change ids whose row was created."""
    groups = defaultdict(list)
    created = set()
    for c in todo:
        if (c.table_name, c.imis_id) in current:
            groups[(c.table_name, c.field_name, bool(c.value))].append(c.imis_id)
        elif create_missing_rows:
            cursor.execute(stmts.ud_insert(c.table_name, c.field_name), [c.imis_id, bool(c.value)])
            current[(c.table_name, c.imis_id)] = {c.field_name: None}
            created.add(c.change_id)
        else:
            outcomes[c.change_id] = WriteOutcome(c.change_id, NO_UD_ROW)
    for (table, field, value), ids in groups.items():
        for chunk in _chunks(ids, MAX_IN_LIST):
            cursor.execute(stmts.ud_update(table, field, len(chunk)), [value, *chunk])
    return created


def _insert_activities(cursor, stmts, to_log, created, outcomes, now):
    """One block of Activity SEQNs, allocated under the Counter row lock, and a row per change."""
    cursor.execute(stmts.counter_bump(), [len(to_log), now, settings.IMIS_UPDATED_BY, COUNTER_NAME])
    if cursor.rowcount == 0:
        raise ImisError("iMIS has no Counter row 'Activity'")
    cursor.execute(stmts.counter_read(), [COUNTER_NAME])
    last = int(cursor.fetchone()[0])
    rows = []
    for seqn, c in enumerate(to_log, start=last - len(to_log) + 1):
        v = activity_values(c)
        when = v["TRANSACTION_DATE"]  # EFFECTIVE_DATE too
        rows.append(
            [seqn, c.imis_id, v["ACTIVITY_TYPE"], when, when, v["PRODUCT_CODE"], v["DESCRIPTION"]]
            + [v["SOURCE_SYSTEM"], v["SOURCE_CODE"]]
        )
        outcomes[c.change_id] = WriteOutcome(c.change_id, CREATED_ROW if c.change_id in created else WRITTEN, seqn)
    cursor.executemany(stmts.activity_insert(), rows)


def _insert_name_log(cursor, stmts, to_log, current, now):
    rows = []
    for c in to_log:
        before = current.get((c.table_name, c.imis_id), {}).get(c.field_name)
        text = f"{c.table_name}.{c.field_name}: {int(bool(before))} -> {int(bool(c.value))}"
        rows.append([now, "CHANGE", "CHANGE", settings.IMIS_UPDATED_BY, c.imis_id, text])
    cursor.executemany(stmts.name_log_insert(), rows)


def write_changes(
    changes: Iterable[ValueChange], using=None, *, create_missing_rows=None, name_log=None
) -> list[WriteOutcome]:
    """Write a batch of checkbox changes in ONE iMIS transaction and return a WriteOutcome per change.

    For each change: the UD value is updated and an Activity row is inserted with SOURCE_CODE = the change
    UUID and a SEQN from a block allocated in `Counter` inside the same transaction. A change whose UUID
    already has an Activity row for that member is reported ALREADY_WRITTEN and not written again (a
    retry after a crash; one query for the whole batch, so `tried_before` is not needed here). A member
    without a row in the UD table is reported NO_UD_ROW and nothing is created, unless
    `create_missing_rows`."""
    changes = checked_batch(changes)
    create_missing_rows = settings.IMIS_CREATE_MISSING_UD_ROWS if create_missing_rows is None else create_missing_rows
    name_log = settings.IMIS_WRITE_NAME_LOG if name_log is None else name_log
    if not changes:
        return []
    db_alias = alias(using)
    connection = connections[db_alias]
    stmts = Statements(connection)
    for c in changes:  # every identifier validated before the first statement runs
        stmts.q(c.table_name)
        stmts.q(c.field_name)
    outcomes: dict[str, WriteOutcome] = {}
    with translated_errors(), transaction.atomic(using=db_alias), connection.cursor() as cursor:
        done = _activities_found(cursor, stmts, [(c.imis_id, c.change_id) for c in changes])
        outcomes.update({code: WriteOutcome(code, ALREADY_WRITTEN, seqn) for code, seqn in done.items()})
        todo = [c for c in changes if c.change_id not in outcomes]
        current = _current_values(cursor, stmts, todo)
        created = _update_values(cursor, stmts, todo, current, create_missing_rows, outcomes)
        to_log = [c for c in todo if c.change_id not in outcomes]
        if to_log:
            now = imis_local_time()
            _insert_activities(cursor, stmts, to_log, created, outcomes, now)
            if name_log:
                _insert_name_log(cursor, stmts, to_log, current, now)
    return [outcomes[c.change_id] for c in changes]
