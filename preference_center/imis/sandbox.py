"""A replica of the iMIS tables we touch (docs/imis-schema.sql), with demo members, on SQLite or PostgreSQL.

For development, the demo and the tests. It refuses to run against SQL Server: a real iMIS is never
rebuilt by us.
"""

from __future__ import annotations

import random
import re

from django.db import connections, transaction

from .identifiers import checked

# (column, type, nullable, default) as in docs/imis-schema.sql; types are SQL Server's.
SCHEMA = {
    "Name": [
        ("ID", "varchar(10)", False, None),
        ("FIRST_NAME", "varchar(20)", False, ""),
        ("LAST_NAME", "varchar(30)", False, ""),
        ("FULL_NAME", "varchar(70)", False, ""),
        ("COMPANY", "varchar(80)", False, ""),
        ("MEMBER_TYPE", "varchar(5)", False, ""),
        ("STATUS", "varchar(5)", False, ""),
        ("CO_ID", "varchar(10)", False, ""),
        ("COMPANY_RECORD", "bit", False, 0),
        ("EXCLUDE_MAIL", "bit", False, 0),
        ("EMAIL", "varchar(100)", False, ""),
        ("LAST_UPDATED", "datetime", True, None),
        ("UPDATED_BY", "varchar(60)", False, ""),
        ("TIME_STAMP", "timestamp", True, None),
    ],
    "UD_Table": [
        ("TABLE_NAME", "varchar(30)", False, None),
        ("DESCRIPTION", "varchar(60)", False, ""),
        ("APPLICATION", "varchar(15)", False, ""),
        ("EXTERNAL_FLAG", "bit", False, 0),
        ("LINK_VIA", "varchar(30)", False, ""),
        ("ALLOW_MULTIPLE_INSTANCES", "bit", False, 0),
        ("REQUIRED", "bit", False, 0),
        ("EDIT_TYPES", "varchar(100)", False, ""),
        ("NAME_ALL_TABLE", "bit", False, 0),
        ("TIME_STAMP", "timestamp", True, None),
    ],
    "UD_Field": [
        ("TABLE_NAME", "varchar(30)", False, None),
        ("FIELD_NAME", "varchar(30)", False, None),
        ("FIELD_TYPE", "varchar(10)", False, ""),
        ("FIELD_LENGTH", "int", False, 0),
        ("PROMPT", "varchar(30)", False, ""),
        ("MICRO_HELP", "varchar(255)", False, ""),
        ("SEQ", "int", False, 0),
        ("DEFAULT_VALUE", "varchar(255)", False, ""),
        ("TIME_STAMP", "timestamp", True, None),
    ],
    "Activity": [
        ("SEQN", "int", False, 0),
        ("ID", "varchar(10)", False, ""),
        ("ACTIVITY_TYPE", "varchar(10)", False, ""),
        ("TRANSACTION_DATE", "datetime", True, None),
        ("EFFECTIVE_DATE", "datetime", True, None),
        ("PRODUCT_CODE", "varchar(31)", False, ""),
        ("DESCRIPTION", "varchar(255)", False, ""),
        ("SOURCE_SYSTEM", "varchar(10)", False, ""),
        ("SOURCE_CODE", "varchar(40)", False, ""),
        ("UF_1", "varchar(255)", False, ""),
        ("UF_2", "varchar(255)", False, ""),
        ("UF_3", "varchar(255)", False, ""),
        ("UF_4", "numeric(15,4)", False, 0),
        ("UF_5", "numeric(15,4)", False, 0),
        ("UF_6", "datetime", True, None),
        ("UF_7", "datetime", True, None),
        ("NOTE", "text", True, None),
        ("CO_ID", "varchar(10)", False, ""),
        ("MEMBER_TYPE", "varchar(5)", False, ""),
        ("AMOUNT", "money", False, 0),
        ("TIME_STAMP", "timestamp", True, None),
    ],
    "Counter": [
        ("COUNTER_NAME", "char(30)", False, None),
        ("LAST_VALUE", "int", False, 0),
        ("LAST_UPDATED", "datetime", True, None),
        ("UPDATED_BY", "varchar(255)", False, ""),
        ("HAS_CHECKSUM", "bit", False, 0),
        ("TIME_STAMP", "timestamp", True, None),
    ],
    "Name_Log": [
        ("DATE_TIME", "datetime", False, None),
        ("LOG_TYPE", "varchar(10)", False, ""),
        ("SUB_TYPE", "varchar(10)", False, ""),
        ("USER_ID", "varchar(60)", False, ""),
        ("ID", "varchar(10)", False, ""),
        ("LOG_TEXT", "varchar(8000)", False, ""),
        ("TIME_STAMP", "timestamp", True, None),
    ],
}
PRIMARY_KEYS = {
    "Name": ("ID",),
    "UD_Table": ("TABLE_NAME",),
    "UD_Field": ("TABLE_NAME", "FIELD_NAME"),
    "Activity": ("SEQN",),
    "Counter": ("COUNTER_NAME",),
}
INDEXES = {"Activity": ("ID",)}  # iActivityID, clustered on SQL Server

# The demo's UD tables: (name, multi-instance, [(field, FIELD_TYPE, prompt, micro help, physical?)])
DEMO_UD_TABLES = [
    (
        "ud_EmailPrefs",
        False,
        [
            ("NEWSLETTER", "CheckBox", "Monthly newsletter", "News from the association, once a month", True),
            ("EVENTS", "CheckBox", "Events and conferences", "Invitations to meetings and the annual conference", True),
            ("ADVOCACY_ALERT", "CheckBox", "Advocacy alerts", "When legislation affects the profession", True),
            ("PREFERRED_DAY", "Char", "Preferred day", "", True),
            ("WEBINARS", "CheckBox", "Webinars", "Listed in UD_Field, never created", False),
        ],
    ),
    (
        "UD_Topics",
        False,
        [
            ("Policy_Updates", "CheckBox", "Policy updates", "", True),
            ("Research_Digest", "CheckBox", "Research digest", "A quarterly digest of new research", True),
            ("CE_Credits", "CheckBox", "Continuing education", "Courses that earn CE credits", True),
            ("Volunteering", "CheckBox", "Volunteer opportunities", "", True),
            ("Notes", "Char", "Notes", "", True),
        ],
    ),
    (
        "ud_Committees",
        True,
        [
            ("COMMITTEE", "Char", "Committee", "", True),
            ("CHAIR", "CheckBox", "Chair", "", True),
        ],
    ),
]
# Listed in UD_Table (half-finished setup) but never created.
DEMO_PHANTOM_TABLE = ("ud_Retired", [("OLD_FLAG", "CheckBox", "Old flag", "", False)])

FIRST_NAMES = ["Ada", "Ben", "Chloé", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemi", "Luis"]
LAST_NAMES = ["Okafor", "Smith", "Nguyen", "García", "Müller", "Rossi", "Kowalski", "Haddad", "Brown", "Sato"]
EXISTING_ACTIVITY_ROWS_PER_100 = 10
COUNTER_START_GAP = 1000
BATCH = 5000


class SandboxRefused(Exception):
    pass


def _type(sql_type, vendor):
    base = sql_type.split("(")[0]
    if base == "bit":
        return "boolean"
    if base == "datetime":
        return "timestamp" if vendor == "postgresql" else "datetime"
    if base == "timestamp":
        return "bytea" if vendor == "postgresql" else "blob"
    if base == "money":
        return "numeric(19,4)"
    return sql_type


def _default(sql_type, default, vendor):
    if default is None:
        return ""
    if sql_type == "bit":
        return " DEFAULT " + (("TRUE" if default else "FALSE") if vendor == "postgresql" else str(int(default)))
    if isinstance(default, str):
        return " DEFAULT '" + default.replace("'", "''") + "'"
    return f" DEFAULT {default}"


def create_table_sql(connection, table, columns, primary_key=()):
    q = connection.ops.quote_name
    vendor = connection.vendor
    parts = [
        f"{q(checked(name))} {_type(sql_type, vendor)}{'' if nullable else ' NOT NULL'}{_default(sql_type, default, vendor)}"
        for name, sql_type, nullable, default in columns
    ]
    if primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(q(c) for c in primary_key)})")
    return f"CREATE TABLE {q(checked(table))} ({', '.join(parts)})"


def _insert(cursor, connection, table, columns, rows):
    q = connection.ops.quote_name
    sql = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    for start in range(0, len(rows), BATCH):
        cursor.executemany(sql, rows[start : start + BATCH])


def _member_id(i):
    return str(100000 + i)


def _ud_tables(extra_tables, fields_per_table):
    tables = list(DEMO_UD_TABLES)
    for t in range(1, extra_tables + 1):
        fields = [
            (f"TOPIC_{f:02d}", "CheckBox", f"Topic {t}.{f}", f"Extra topic {f} of table {t}", True)
            for f in range(1, fields_per_table + 1)
        ]
        tables.append((f"ud_Extra_{t}", False, fields))
    return tables


def drop_sandbox(using):
    connection = connections[using]
    if connection.vendor == "microsoft":
        raise SandboxRefused("imis_sandbox never touches SQL Server: it is for SQLite and PostgreSQL replicas")
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        existing = {t.name for t in connection.introspection.get_table_list(cursor)}
        ud = {name for name in existing if re.fullmatch(r"(?i)ud_\w+", name)}
        for table in sorted((set(SCHEMA) & existing) | ud):
            cursor.execute(f"DROP TABLE {q(table)}")


def _create_tables(cursor, connection, ud_tables):
    q = connection.ops.quote_name
    for table, columns in SCHEMA.items():
        cursor.execute(create_table_sql(connection, table, columns, PRIMARY_KEYS.get(table, ())))
    for table, columns in INDEXES.items():
        cursor.execute(
            f"CREATE INDEX {q('i' + table + '_' + '_'.join(columns))} ON {q(table)} ({', '.join(q(c) for c in columns)})"
        )
    for table, multi, fields in ud_tables:
        columns = [("ID", "varchar(10)", False, None)]
        if multi:
            columns.append(("SEQN", "int", False, None))
        for name, ftype, _prompt, _help, physical in fields:
            if physical:
                is_checkbox = ftype == "CheckBox"
                columns.append(
                    (name, "bit" if is_checkbox else "varchar(60)", is_checkbox, None if is_checkbox else "")
                )
        cursor.execute(create_table_sql(connection, table, columns, ("ID", "SEQN") if multi else ("ID",)))


def _insert_metadata(cursor, connection, ud_tables):
    """UD_Table and UD_Field, including what discovery must skip (the phantom table, unbuilt fields)."""
    phantom_table, phantom_fields = DEMO_PHANTOM_TABLE
    meta_tables = [(t, m, list(fs)) for t, m, fs in ud_tables] + [(phantom_table, False, phantom_fields)]
    _insert(
        cursor,
        connection,
        "UD_Table",
        ["TABLE_NAME", "DESCRIPTION", "APPLICATION", "LINK_VIA", "ALLOW_MULTIPLE_INSTANCES", "REQUIRED"],
        [[t, t.replace("_", " "), "Membership", "ID", bool(m), True] for t, m, _f in meta_tables],
    )
    _insert(
        cursor,
        connection,
        "UD_Field",
        ["TABLE_NAME", "FIELD_NAME", "FIELD_TYPE", "FIELD_LENGTH", "PROMPT", "MICRO_HELP", "SEQ"],
        [
            [t, name, ftype, 1 if ftype == "CheckBox" else 60, prompt, help_, seq * 10]
            for t, _m, fields in meta_tables
            for seq, (name, ftype, prompt, help_, _physical) in enumerate(fields, start=1)
        ],
    )


def _name_row(rnd, i):
    first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
    is_company = i % 50 == 49
    return [
        _member_id(i),
        "" if is_company else first,
        "" if is_company else last,
        f"{last} Associates" if is_company else f"{first} {last}",
        "I" if i % 31 == 30 else "A",
        is_company,
        i % 29 == 28,
        "" if i % 13 == 12 else f"member{i}@example.org",
    ]


def _add_ud_rows(rnd, i, ud_tables, ud_rows):
    imis_id = _member_id(i)
    for table, multi, fields in ud_tables:
        gap = 17 if table == "ud_EmailPrefs" else 23
        if not multi and i % gap == gap - 1:
            continue  # no UD row: iMIS never loaded one for this member
        values = []
        for name, ftype, _p, _h, physical in fields:
            if not physical:
                continue
            if ftype == "CheckBox":
                values.append(None if rnd.random() < 0.1 else rnd.random() < 0.4)
            else:
                values.append(rnd.choice(["", "Monday", "Friday"]) if name == "PREFERRED_DAY" else "")
        if multi:
            ud_rows[table].extend([imis_id, seqn, *values] for seqn in range(1, (i % 3) + 1))
        else:
            ud_rows[table].append([imis_id, *values])


def _insert_members(cursor, connection, ud_tables, rnd, members: range, activity_seqn: int) -> int:
    """One batch of members with their UD rows and a few Activity rows; returns the last Activity SEQN."""
    names, activities = [], []
    ud_rows = {t: [] for t, _m, _f in ud_tables}
    for i in members:
        names.append(_name_row(rnd, i))
        _add_ud_rows(rnd, i, ud_tables, ud_rows)
        if i % 100 < EXISTING_ACTIVITY_ROWS_PER_100:
            activity_seqn += 1
            activities.append([activity_seqn, _member_id(i), "MEETING", "ANNUAL", "Registered for the annual meeting"])
    name_columns = ["ID", "FIRST_NAME", "LAST_NAME", "FULL_NAME", "STATUS", "COMPANY_RECORD", "EXCLUDE_MAIL", "EMAIL"]
    _insert(cursor, connection, "Name", name_columns, names)
    for table, multi, fields in ud_tables:
        columns = ["ID", *(["SEQN"] if multi else []), *[f[0] for f in fields if f[4]]]
        _insert(cursor, connection, table, columns, ud_rows[table])
    _insert(cursor, connection, "Activity", ["SEQN", "ID", "ACTIVITY_TYPE", "PRODUCT_CODE", "DESCRIPTION"], activities)
    return activity_seqn


def build_sandbox(using, members=300, extra_tables=0, fields_per_table=20, seed=42, progress=None):
    """Drop and recreate the replica tables on `using`, filled with `members` demo members.

    `progress(n)` is called with the number of members written after each batch."""
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        raise SandboxRefused(
            f"imis_sandbox builds replicas on SQLite or PostgreSQL only, not {connection.vendor}: "
            "a real iMIS is never rebuilt"
        )
    rnd = random.Random(seed)
    ud_tables = _ud_tables(extra_tables, fields_per_table)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        drop_sandbox(using)
        _create_tables(cursor, connection, ud_tables)
        _insert_metadata(cursor, connection, ud_tables)
        activity_seqn = 0
        for start in range(0, members, BATCH):
            stop = min(members, start + BATCH)
            activity_seqn = _insert_members(cursor, connection, ud_tables, rnd, range(start, stop), activity_seqn)
            if progress:
                progress(stop)
        _insert(
            cursor,
            connection,
            "Counter",
            ["COUNTER_NAME", "LAST_VALUE", "UPDATED_BY"],
            [["Activity", activity_seqn + COUNTER_START_GAP, "SANDBOX"], ["Name_Log", 0, "SANDBOX"]],
        )
    return {"members": members, "ud_tables": [t for t, _m, _f in ud_tables], "last_activity_seqn": activity_seqn}


def member_id(i):
    """The iMIS ID the sandbox gives to its i-th member (0-based)."""
    return _member_id(i)
