"""What went wrong talking to iMIS, and whether trying the same statements again later may succeed.

`is_transient` is the one place that tells the two apart, from the driver's own exception (Django's
database errors carry it as `__cause__`): psycopg for a PostgreSQL replica, sqlite3 for an SQLite one,
mssql-python for SQL Server."""

from __future__ import annotations

import re
import sqlite3
from functools import cache

from django.db import DatabaseError, InterfaceError


class ImisError(Exception):
    """iMIS answered, but not as expected (missing counter row, bad batch)."""


class ImisUnavailable(ImisError):
    """iMIS could not be reached, timed out or chose us as a lock victim: worth retrying later."""


class ImisRefused(ImisError):
    """iMIS refused a statement (a constraint, a trigger, a value, a missing column): trying the same again
    fails the same way."""


# PostgreSQL SQLSTATEs worth a retry: serialization failure, deadlock detected, lock_not_available
# (lock_timeout), query_canceled (statement_timeout), the server shutting down or starting; classes 08
# (connection exception) and 53 (insufficient resources: too many connections, out of memory).
POSTGRES_TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"})
POSTGRES_TRANSIENT_CLASSES = frozenset({"08", "53"})
# SQL Server, through mssql-python: deadlock victim 1205 (and snapshot conflicts) come as SQLSTATE 40001;
# lost or refused connections as 08xxx / 01002; query and login timeouts as HYT00 / HYT01; 40003 is a
# connection lost mid-statement. mssql-python keeps no SQLSTATE or native error number on its exceptions,
# only the text its SQLSTATE table gives each state (`driver_error`) and the server's message
# (`ddbc_error`): the state is recognised by that text, looked up in the driver's own table.
MSSQL_TRANSIENT_STATES = ("40001", "40003", "01002", "08001", "08003", "08004", "08007", "08S01", "HYT00", "HYT01")
# 1222 (lock request timeout) comes as the catch-all HY000: only its fixed message tells it apart.
MSSQL_TRANSIENT_MESSAGES = ("Lock request time out period exceeded",)
SQLITE_TRANSIENT_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED ("database is locked")


def _causes(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


@cache
def _mssql_transient_texts():
    from mssql_python.exceptions import sqlstate_to_exception

    return frozenset(sqlstate_to_exception(state, "").driver_error for state in MSSQL_TRANSIENT_STATES)


def _driver_transient(exc) -> bool | None:
    """True or False for an exception of a driver we know; None for anything else."""
    module = type(exc).__module__ or ""
    if module.startswith("psycopg"):
        state = getattr(exc, "sqlstate", None)
        if state is None:  # raised by the client: the connection failed, timed out or was lost
            import psycopg

            return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
        return state in POSTGRES_TRANSIENT_STATES or state[:2] in POSTGRES_TRANSIENT_CLASSES
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in SQLITE_TRANSIENT_CODES
        return "database is locked" in str(exc)
    if module.startswith("mssql_python"):
        if getattr(exc, "driver_error", None) in _mssql_transient_texts():
            return True
        return any(text in str(getattr(exc, "ddbc_error", "")) for text in MSSQL_TRANSIENT_MESSAGES)
    return None


def is_transient(exc: BaseException) -> bool:
    """Would the same statements, tried again later, probably succeed? (iMIS unreachable, a timeout, a
    deadlock or lock victim.) False for everything iMIS refuses on the merits."""
    for link in _causes(exc):
        if isinstance(link, ImisUnavailable | ConnectionError | TimeoutError):
            return True
        verdict = _driver_transient(link)
        if verdict is not None:
            return verdict
    # No driver error behind it: Django's own "connection already closed".
    return isinstance(exc, InterfaceError)


_DRIVER_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")


def plain_message(exc: BaseException) -> str:
    """The database's own message, first line, without a stack or the ODBC driver's [bracketed] prefixes."""
    for link in _causes(exc):
        ddbc = getattr(link, "ddbc_error", None)  # mssql-python: the server's text, not "Driver Error: ..."
        if ddbc:
            exc = link
            text = ddbc
            break
    else:
        text = str(exc)
    text = _DRIVER_PREFIX.sub("", text.strip())
    return (text.splitlines()[0].strip() if text else type(exc).__name__)[:500]


class translated_errors:
    """Raise what the database said as ImisUnavailable (transient) or ImisRefused (anything else)."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, ImisError):
            return False
        if is_transient(exc):
            raise ImisUnavailable(plain_message(exc)) from exc
        if isinstance(exc, DatabaseError):
            raise ImisRefused(plain_message(exc)) from exc
        return False
