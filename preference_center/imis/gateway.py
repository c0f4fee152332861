"""The SQL gateway: the only code that talks to the iMIS database (discovery, reads and health here, the
writes in `sql_writes`). It implements `interface.Gateway`.

Every function takes `using`, the Django database alias (default: settings.IMIS_DB_ALIAS), and returns
plain dataclasses from `types`. Errors worth retrying (connection lost, timeouts, deadlock or lock
victims: `errors.is_transient`) are raised as `ImisUnavailable`, anything else the database says as
`ImisRefused`; nothing here knows about our models.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import DatabaseError, connections

from .columns import cell_text as _text
from .columns import column_type, not_boolean_reason
from .errors import ImisUnavailable, plain_message, translated_errors
from .identifiers import is_valid_identifier
from .sql_writes import alias as _alias
from .sql_writes import write_changes as write_changes  # the writes: part of this implementation
from .sql_writes import written_activities as written_activities
from .statements import REQUIRED_TABLES, Statements
from .types import CheckboxField, Discovery, Health, Member, SkippedField, UdRow


def _connection(using):
    return connections[_alias(using)]


def _as_bool(value):
    """CheckBox fields are bit columns that may hold NULL: read as unchecked."""
    return bool(value) if value is not None else False


# Every statement runs under it: transient errors become ImisUnavailable (retry later), anything else iMIS
# says becomes ImisRefused (errors.is_transient decides).
_unavailable_on_connection_errors = translated_errors


def ping(using=None) -> None:
    """Does iMIS answer? One SELECT 1 on a connection closed afterwards (a probe's thread keeps none open);
    ImisUnavailable or ImisRefused when it does not."""
    connection = _connection(using)
    try:
        with _unavailable_on_connection_errors(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


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
