"""The iMIS gateway: the only code that talks to the iMIS database.

Every function takes `using`, the Django database alias (default: settings.IMIS_DB_ALIAS), and returns
plain dataclasses from `types`. Errors worth retrying (connection lost, timeouts, deadlock or lock
victims: `errors.is_transient`) are raised as `ImisUnavailable`, anything else the database says as
`ImisRefused`; nothing here knows about our models.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from .columns import column_type, not_boolean_reason
from .errors import ImisError, ImisUnavailable, plain_message, translated_errors
from .identifiers import is_valid_identifier
from .statements import REQUIRED_TABLES, Statements
from .types import (
    ALREADY_WRITTEN,
    CREATED_ROW,
    NO_UD_ROW,
    WRITTEN,
    CheckboxField,
    Discovery,
    Health,
    Member,
    SkippedField,
    UdRow,
    ValueChange,
    WriteOutcome,
)

COUNTER_NAME = "Activity"
# SQL Server accepts at most 2,100 parameters per statement; stay well below.
MAX_IN_LIST = 500


def _alias(using):
    return using or settings.IMIS_DB_ALIAS


def _connection(using):
    return connections[_alias(using)]


def _as_bool(value):
    """CheckBox fields are bit columns that may hold NULL: read as unchecked."""
    return bool(value) if value is not None else False


def _text(value):
    # char columns come back space-padded from SQL Server.
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Every statement runs under it: transient errors become ImisUnavailable (retry later), anything else iMIS
# says becomes ImisRefused (errors.is_transient decides).
_unavailable_on_connection_errors = translated_errors


# --- discovery ------------------------------------------------------------------------------------------


def catalogue(using=None):
    """{lower-cased table name: (catalogue spelling, {lower-cased column: spelling})} of physical tables."""
    connection = _connection(using)
    with _unavailable_on_connection_errors(), connection.cursor() as cursor:
        tables = {}
        for info in connection.introspection.get_table_list(cursor):
            if info.type == "t":
                tables[info.name.lower()] = info.name
        return tables


def _columns(using, table):
    """{lower-cased column: (catalogue spelling, ColumnType)} of a physical table."""
    connection = _connection(using)
    with _unavailable_on_connection_errors(), connection.cursor() as cursor:
        return {
            col.name.lower(): (col.name, column_type(connection.vendor, col.type_code, col.display_size))
            for col in connection.introspection.get_table_description(cursor, table)
        }


def discover_checkbox_fields(using=None) -> Discovery:
    """Checkbox fields of single-instance UD tables that physically exist, and every other field with the
    reason it is not offered as an interest."""
    connection = _connection(using)
    stmts = Statements(connection)
    with _unavailable_on_connection_errors(), connection.cursor() as cursor:
        cursor.execute(stmts.ud_tables())
        ud_tables = {_text(name).lower(): (_text(name), _as_bool(multi)) for name, multi in cursor.fetchall()}
        cursor.execute(stmts.ud_fields())
        ud_fields = [
            (_text(t), _text(f), _text(ftype), _text(prompt), _text(help_), seq or 0)
            for t, f, ftype, prompt, help_, seq in cursor.fetchall()
        ]
    physical = catalogue(using)
    columns_of = {}
    result = Discovery()

    for table, field, ftype, prompt, micro_help, seq in sorted(ud_fields, key=lambda r: (r[0].lower(), r[5], r[1])):

        def skip(reason, table=table, field=field):
            result.skipped.append(SkippedField(table, field, reason))

        if not is_valid_identifier(table) or not is_valid_identifier(field):
            skip("invalid identifier: refused, never used in SQL")
            continue
        meta = ud_tables.get(table.lower())
        if meta is None:
            skip("table not listed in UD_Table")
            continue
        if meta[1]:
            skip("multi-instance table (ALLOW_MULTIPLE_INSTANCES = 1)")
            continue
        if ftype.lower() != "checkbox":
            skip(f"not a checkbox field (FIELD_TYPE {ftype or 'empty'})")
            continue
        physical_table = physical.get(table.lower())
        if physical_table is None:
            skip("table listed in UD_Table but not in the database")
            continue
        if physical_table not in columns_of:
            columns_of[physical_table] = _columns(using, physical_table)
        physical_field, physical_type = columns_of[physical_table].get(field.lower(), (None, None))
        if physical_field is None:
            skip("field listed in UD_Field but the table has no such column")
            continue
        if not is_valid_identifier(physical_table) or not is_valid_identifier(physical_field):
            skip("invalid identifier in the database catalogue: refused")
            continue
        if not physical_type.is_boolean:
            skip(not_boolean_reason(physical_type))
            continue
        result.interests.append(CheckboxField(physical_table, physical_field, prompt, micro_help, int(seq)))
    return result


# --- reading members and values -----------------------------------------------------------------------


def _keyset_chunks(using, sql, chunk_size):
    """Run `sql` (ordered by ID, `WHERE ID > %s`, at most chunk_size rows) from the start, then after the
    last ID of each chunk: one short query per chunk, no server-side cursor held between them."""
    connection = _connection(using)
    after = ""
    while True:
        with _unavailable_on_connection_errors(), connection.cursor() as cursor:
            cursor.execute(sql, [after])
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < chunk_size:
            return
        after = rows[-1][0]


def iter_roster(using=None, chunk_size=None) -> Iterator[list[Member]]:
    """Every Name row in ID order, as lists of at most `chunk_size` members (memory bounded by the chunk)."""
    chunk_size = chunk_size or settings.IMIS_CHUNK_SIZE
    sql = Statements(_connection(using)).roster_chunk(chunk_size, settings.IMIS_LANGUAGE_FIELD)
    for rows in _keyset_chunks(using, sql, chunk_size):
        yield [
            Member(
                imis_id=_text(r[0]),
                email=_text(r[1]),
                first_name=_text(r[2]),
                last_name=_text(r[3]),
                full_name=_text(r[4]),
                status=_text(r[5]),
                is_company=_as_bool(r[6]),
                exclude_mail=_as_bool(r[7]),
                language=_text(r[8]) if len(r) > 8 else "",
            )
            for r in rows
        ]


def iter_checkbox_values(table, fields, using=None, chunk_size=None) -> Iterator[list[UdRow]]:
    """The values of `fields` in UD table `table` for every member who has a row, in ID-keyed chunks; each
    row's values are a tuple in the order of `fields`."""
    chunk_size = chunk_size or settings.IMIS_CHUNK_SIZE
    fields = list(fields)
    sql = Statements(_connection(using)).ud_values_chunk(table, fields, chunk_size)
    for rows in _keyset_chunks(using, sql, chunk_size):
        # bool(None) is False: a NULL bit reads as unchecked, as _as_bool has it.
        yield [UdRow(_text(r[0]), tuple(map(bool, r[1:]))) for r in rows]


# --- writing --------------------------------------------------------------------------------------------


def _imis_now():
    """iMIS stores local wall-clock time in datetime columns."""
    return timezone.localtime(timezone.now(), timezone.get_default_timezone()).replace(tzinfo=None)


def _as_imis_time(value: datetime.datetime | None):
    if value is None:
        return _imis_now()
    if timezone.is_aware(value):
        return timezone.localtime(value, timezone.get_default_timezone()).replace(tzinfo=None)
    return value


def written_activities(changes: Iterable[tuple[str, str]], using=None) -> dict[str, int]:
    """{change id: Activity SEQN} for the (iMIS ID, change id) pairs iMIS already holds an Activity row of
    (SOURCE_CODE = change id): what an earlier attempt committed before its worker was lost."""
    connection = _connection(using)
    with _unavailable_on_connection_errors(), connection.cursor() as cursor:
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


def write_changes(changes: Iterable[ValueChange], using=None, *, create_missing_rows=None, name_log=None):
    """Write a batch of checkbox changes in ONE iMIS transaction and return a WriteOutcome per change.

    For each change: the UD value is updated and an Activity row is inserted with SOURCE_CODE = the change
    UUID and a SEQN from a block allocated in `Counter` inside the same transaction. A change whose UUID
    already has an Activity row for that member is reported ALREADY_WRITTEN and not written again (a
    retry after a crash). A member without a row in the UD table is reported NO_UD_ROW and nothing is
    created, unless `create_missing_rows`.
    """
    changes = list(changes)
    if create_missing_rows is None:
        create_missing_rows = settings.IMIS_CREATE_MISSING_UD_ROWS
    if name_log is None:
        name_log = settings.IMIS_WRITE_NAME_LOG
    if not changes:
        return []
    keys = [(c.imis_id, c.table_name.lower(), c.field_name.lower()) for c in changes]
    if len(set(keys)) != len(keys):
        raise ImisError("a batch may hold one change per member and field; keep the latest")
    if len({c.change_id for c in changes}) != len(changes):
        raise ImisError("a batch may not repeat a change id")

    connection = _connection(using)
    stmts = Statements(connection)
    # Validate every identifier before the first statement runs.
    for c in changes:
        stmts.q(c.table_name)
        stmts.q(c.field_name)

    outcomes: dict[str, WriteOutcome] = {}
    alias = _alias(using)
    with _unavailable_on_connection_errors(), transaction.atomic(using=alias), connection.cursor() as cursor:
        # 1. Changes already written by an earlier attempt that committed.
        done = _activities_found(cursor, stmts, [(c.imis_id, c.change_id) for c in changes])
        outcomes.update({code: WriteOutcome(code, ALREADY_WRITTEN, seqn) for code, seqn in done.items()})
        todo = [c for c in changes if c.change_id not in outcomes]

        # 2. Which members have a row in each UD table (and their current values, for Name_Log).
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

        # 3. UD updates, grouped by (table, field, value) into one statement per group.
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

        # 4. One block of Activity SEQNs, allocated under the Counter row lock.
        to_log = [c for c in todo if c.change_id not in outcomes]
        if to_log:
            now = _imis_now()
            cursor.execute(stmts.counter_bump(), [len(to_log), now, settings.IMIS_UPDATED_BY, COUNTER_NAME])
            if cursor.rowcount == 0:
                raise ImisError("iMIS has no Counter row 'Activity'")
            cursor.execute(stmts.counter_read(), [COUNTER_NAME])
            last = int(cursor.fetchone()[0])
            first = last - len(to_log) + 1
            rows = []
            for seqn, c in enumerate(to_log, start=first):
                when = _as_imis_time(c.transaction_date)
                rows.append(
                    [
                        seqn,
                        c.imis_id,
                        settings.IMIS_ACTIVITY_TYPE[:10],
                        when,
                        when,
                        (c.product_code or c.field_name)[:31],
                        c.description[:255],
                        settings.IMIS_SOURCE_SYSTEM[:10],
                        c.change_id[:40],
                    ]
                )
                status = CREATED_ROW if c.change_id in created else WRITTEN
                outcomes[c.change_id] = WriteOutcome(c.change_id, status, seqn)
            cursor.executemany(stmts.activity_insert(), rows)
            if name_log:
                log_rows = []
                for c in to_log:
                    before = current.get((c.table_name, c.imis_id), {}).get(c.field_name)
                    text = f"{c.table_name}.{c.field_name}: {int(_as_bool(before))} -> {int(bool(c.value))}"
                    log_rows.append([now, "CHANGE", "CHANGE", settings.IMIS_UPDATED_BY, c.imis_id, text])
                cursor.executemany(stmts.name_log_insert(), log_rows)
    return [outcomes[c.change_id] for c in changes]


# --- health ---------------------------------------------------------------------------------------------

# What the least-privilege login needs (README, "Connecting to your iMIS").
REQUIRED_PRIVILEGES = (
    ("Name", "SELECT"),
    ("UD_Table", "SELECT"),
    ("UD_Field", "SELECT"),
    ("Activity", "SELECT"),
    ("Activity", "INSERT"),
    ("Counter", "SELECT"),
    ("Counter", "UPDATE"),
)


def health_check(using=None, ud_tables: Iterable[str] = ()) -> Health:
    """Is iMIS reachable, are the tables there, may our login do what it must?"""
    connection = _connection(using)
    health = Health(reachable=False, vendor=connection.vendor)
    stmts = Statements(connection)
    ud_tables = sorted(set(ud_tables))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        health.reachable = True
        physical = catalogue(using)
    except (DatabaseError, ImisUnavailable) as exc:
        health.error = plain_message(exc)
        return health
    finally:
        # A failed probe may leave a broken connection behind; the next caller gets a fresh one.
        if not health.reachable:
            connection.close_if_unusable_or_obsolete()

    tables = {t: physical.get(t.lower()) for t in (*REQUIRED_TABLES, *ud_tables)}
    health.missing_tables = [t for t, found in tables.items() if found is None]
    check = stmts.permission_check()
    if check is None:
        return health
    wanted = list(REQUIRED_PRIVILEGES) + [(t, p) for t in ud_tables for p in ("SELECT", "UPDATE")]
    with _unavailable_on_connection_errors(), connection.cursor() as cursor:
        for table, privilege in wanted:
            name = tables.get(table)
            if name is None:
                continue
            target = f"dbo.{name}" if connection.vendor == "microsoft" else stmts.q(name)
            cursor.execute(check, [target, privilege])
            if not cursor.fetchone()[0]:
                health.missing_permissions.append(f"{privilege} on {name}")
    return health
