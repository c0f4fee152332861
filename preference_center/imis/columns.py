"""What a UD column physically is, from the database catalogue: a checkbox is offered only on a bit column.

`UD_Field` may call a field a CheckBox whose column is something else (a legacy varchar(1) holding 'Y'):
read as a boolean, any non-empty string would be "ticked", and writing True to it fails. The catalogue's
description of a column (Django's introspection `FieldInfo`) carries a type code whose meaning depends on
the backend; this module maps it, so that the rule is one table per backend that tests can read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnType:
    name: str  # as a person reads it: "bit", "varchar(1)"
    is_boolean: bool


# mssql-django describes a column by its ODBC SQL type (SQLColumns' DATA_TYPE, the same with pyodbc and
# mssql-python): bit is SQL_BIT (-7). It folds nvarchar shorter than 4,000 into SQL_WCHAR (-8), so nchar and
# nvarchar cannot be told apart here; both are text, refused alike.
SQL_SERVER_TYPES = {
    -7: "bit",
    -6: "tinyint",
    5: "smallint",
    4: "int",
    -5: "bigint",
    2: "numeric",
    3: "decimal",
    6: "float",
    7: "real",
    8: "float",
    1: "char",
    12: "varchar",
    -1: "text",
    -8: "nvarchar",
    -9: "nvarchar",
    -10: "ntext",
    91: "date",
    93: "datetime",
    -2: "binary",
    -3: "varbinary",
    -11: "uniqueidentifier",
}
SQL_SERVER_BOOLEAN = {-7}
# PostgreSQL replicas: the column's type OID (pg_type).
POSTGRESQL_TYPES = {
    16: "boolean",
    18: "char",
    20: "bigint",
    21: "smallint",
    23: "integer",
    25: "text",
    1042: "char",
    1043: "varchar",
    1700: "numeric",
    700: "real",
    701: "double precision",
    1082: "date",
    1114: "timestamp",
    1184: "timestamptz",
    17: "bytea",
}
POSTGRESQL_BOOLEAN = {16}
# SQLite replicas: the type as declared in CREATE TABLE (the sandbox declares bit columns "boolean"; a copy
# of SQL Server's DDL would say "bit").
SQLITE_BOOLEAN = {"bit", "bool", "boolean"}
SIZED = {"char", "varchar", "nvarchar", "binary", "varbinary"}


def _sized(name, size):
    return f"{name}({size})" if name in SIZED and size and 0 < size < 2**30 - 1 else name


def column_type(vendor: str, type_code, size: int | None = None) -> ColumnType:
    """The type of a column as the catalogue describes it (`type_code` and `display_size` of its FieldInfo)
    on `vendor` (a connection's vendor: "microsoft", "postgresql", "sqlite")."""
    if vendor == "sqlite":
        declared = " ".join(str(type_code or "").lower().split()) or "no declared type"
        return ColumnType(declared, declared.split("(")[0].strip() in SQLITE_BOOLEAN)
    if vendor == "microsoft":
        names, boolean = SQL_SERVER_TYPES, SQL_SERVER_BOOLEAN
    elif vendor == "postgresql":
        names, boolean = POSTGRESQL_TYPES, POSTGRESQL_BOOLEAN
    else:
        return ColumnType(f"type {type_code!r}", False)
    return ColumnType(_sized(names.get(type_code, f"type {type_code}"), size), type_code in boolean)


def not_boolean_reason(column: ColumnType) -> str:
    """Why a CheckBox field on this column is not offered ("bit": what iMIS's CheckBox columns are)."""
    return f"column is {column.name}, not bit"


def cell_text(value) -> str:
    """A text cell as we keep it: SQL Server returns char columns space-padded, NULL as None."""
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
