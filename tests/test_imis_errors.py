"""imis.is_transient, per driver, on the drivers' real exceptions: provoked on the real PostgreSQL and SQLite
replicas, and built by mssql-python's own SQLSTATE table for SQL Server (no SQL Server on this machine),
then wrapped by Django as a query would be."""

import sqlite3
import threading
import types

import mssql_python
import psycopg
import pytest
from django.db import connections
from django.db.utils import DatabaseErrorWrapper
from mssql_python.exceptions import sqlstate_to_exception

from preference_center import imis
from preference_center.imis.errors import translated_errors
from tests.conftest import q

pytestmark = pytest.mark.django_db(databases=["default", "imis", "imis_sqlite"], transaction=True)


def raised_by(alias, *statements):
    """Run the statements on Django's connection to `alias`; return what Django raised."""
    with pytest.raises(Exception) as caught, connections[alias].cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    return caught.value


def translated(exc):
    with pytest.raises(imis.ImisError) as caught, translated_errors():
        raise exc
    return caught.value


# --- PostgreSQL ---------------------------------------------------------------------------------------


@pytest.fixture
def pg_table():
    with connections["imis"].cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pc_err; CREATE TABLE pc_err (id int PRIMARY KEY, v int CHECK (v >= 0))")
        cursor.execute("INSERT INTO pc_err VALUES (1, 1), (2, 2)")
    yield
    with connections["imis"].cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pc_err")


def other_pg_connection():
    settings = connections["imis"].settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=False,
    )


def test_postgres_lock_timeout_is_transient(pg_table):
    with other_pg_connection() as holder:
        holder.execute("SELECT * FROM pc_err WHERE id = 1 FOR UPDATE")
        exc = raised_by("imis", "SET lock_timeout = '100ms'", "UPDATE pc_err SET v = 5 WHERE id = 1")
    assert isinstance(exc.__cause__, psycopg.errors.LockNotAvailable)
    assert imis.is_transient(exc)
    assert isinstance(translated(exc), imis.ImisUnavailable)


def test_postgres_deadlock_is_transient(pg_table):
    victims = []

    def lock(connection, first, second, ready, go):
        try:
            connection.execute("UPDATE pc_err SET v = v + 1 WHERE id = %s", [first])
            ready.set()
            go.wait(5)
            connection.execute("UPDATE pc_err SET v = v + 1 WHERE id = %s", [second])
            connection.commit()
        except psycopg.Error as exc:
            victims.append(exc)
            connection.rollback()

    with other_pg_connection() as a, other_pg_connection() as b:
        ready_a, ready_b, go = threading.Event(), threading.Event(), threading.Event()
        threads = [
            threading.Thread(target=lock, args=(a, 1, 2, ready_a, go)),
            threading.Thread(target=lock, args=(b, 2, 1, ready_b, go)),
        ]
        for t in threads:
            t.start()
        ready_a.wait(5), ready_b.wait(5)
        go.set()
        for t in threads:
            t.join(20)
    [victim] = victims
    assert isinstance(victim, psycopg.errors.DeadlockDetected)
    assert imis.is_transient(victim)


def test_postgres_serialization_failure_is_transient(pg_table):
    with connections["imis"].cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT v FROM pc_err WHERE id = 1")
        with other_pg_connection() as other:
            other.execute("UPDATE pc_err SET v = 7 WHERE id = 1")
            other.commit()
        with pytest.raises(Exception) as caught:
            cursor.execute("UPDATE pc_err SET v = 8 WHERE id = 1")
        cursor.execute("ROLLBACK")
    assert isinstance(caught.value.__cause__, psycopg.errors.SerializationFailure)
    assert imis.is_transient(caught.value)


def test_postgres_statement_timeout_and_a_lost_connection_are_transient(pg_table):
    timeout = raised_by("imis", "SET statement_timeout = 50", "SELECT pg_sleep(2)")
    connections["imis"].close()
    assert isinstance(timeout.__cause__, psycopg.errors.QueryCanceled) and imis.is_transient(timeout)

    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(host="127.0.0.1", port=1, user="postgres", connect_timeout=2)
    assert refused.value.sqlstate is None and imis.is_transient(refused.value)


def test_postgres_refusals_are_not_transient_and_keep_their_first_line(pg_table):
    check = raised_by("imis", "UPDATE pc_err SET v = -1 WHERE id = 2")
    raised = raised_by("imis", "DO $$ BEGIN RAISE EXCEPTION 'member 42 is frozen in iMIS'; END $$")
    column = raised_by("imis", "UPDATE pc_err SET nope = 1")

    assert isinstance(check.__cause__, psycopg.errors.CheckViolation)
    assert isinstance(raised.__cause__, psycopg.errors.RaiseException)
    assert isinstance(column.__cause__, psycopg.errors.UndefinedColumn)
    assert not any(imis.is_transient(e) for e in (check, raised, column))
    assert imis.plain_message(check) == 'new row for relation "pc_err" violates check constraint "pc_err_v_check"'
    assert "DETAIL" in str(check)  # the rest stays out of the message
    refused = translated(raised)
    assert isinstance(refused, imis.ImisRefused) and str(refused) == "member 42 is frozen in iMIS"


# --- SQLite -----------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_table():
    with connections["imis_sqlite"].cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pc_err")
        cursor.execute("CREATE TABLE pc_err (id int PRIMARY KEY, v int CHECK (v >= 0))")
        cursor.execute("INSERT INTO pc_err VALUES (1, 1)")
    yield connections["imis_sqlite"].settings_dict["NAME"]
    with connections["imis_sqlite"].cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pc_err")


def test_sqlite_database_is_locked_is_transient(sqlite_table):
    holder = sqlite3.connect(sqlite_table, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE pc_err SET v = 2")
    try:
        exc = raised_by("imis_sqlite", "PRAGMA busy_timeout = 100", "UPDATE pc_err SET v = 3")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        connections["imis_sqlite"].close()
    assert isinstance(exc.__cause__, sqlite3.OperationalError) and "database is locked" in str(exc)
    assert imis.is_transient(exc)


def test_sqlite_refusals_are_not_transient(sqlite_table):
    with connections["imis_sqlite"].cursor() as cursor:
        cursor.execute(
            "CREATE TRIGGER pc_poison BEFORE UPDATE ON pc_err WHEN NEW.v = 9 "
            "BEGIN SELECT RAISE(ABORT, 'member 1 is frozen in iMIS'); END"
        )
    check = raised_by("imis_sqlite", "UPDATE pc_err SET v = -1")
    trigger = raised_by("imis_sqlite", "UPDATE pc_err SET v = 9")
    column = raised_by("imis_sqlite", f"UPDATE pc_err SET {q('imis_sqlite', 'nope')} = 1")

    assert isinstance(column.__cause__, sqlite3.OperationalError)  # an OperationalError, yet not transient
    assert not any(imis.is_transient(e) for e in (check, trigger, column))
    assert imis.plain_message(trigger) == "member 1 is frozen in iMIS"


# --- SQL Server (mssql-python) ----------------------------------------------------------------------

DRIVER = "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]"


def mssql_error(sqlstate, message):
    """The exception mssql-python raises for this SQLSTATE and server message, as Django hands it over."""
    driver_exc = sqlstate_to_exception(sqlstate, DRIVER + message)
    wrapper = DatabaseErrorWrapper(types.SimpleNamespace(Database=mssql_python, errors_occurred=False))
    with pytest.raises(Exception) as caught, wrapper:
        raise driver_exc
    assert caught.value.__cause__ is driver_exc
    return caught.value


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        (
            "40001",  # 1205
            "Transaction (Process ID 57) was deadlocked on lock resources with another process and has been "
            "chosen as the deadlock victim. Rerun the transaction.",
        ),
        ("HY000", "Lock request time out period exceeded."),  # 1222
        ("HYT00", "Query timeout expired"),
        ("08S01", "TCP Provider: Error code 0x68 (104)"),
        ("08001", "Login timeout expired"),
    ],
)
def test_sql_server_deadlock_lock_timeout_and_lost_connections_are_transient(sqlstate, message):
    exc = mssql_error(sqlstate, message)
    assert imis.is_transient(exc)
    assert isinstance(translated(exc), imis.ImisUnavailable)


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        (
            "23000",  # 547
            'The UPDATE statement conflicted with the CHECK constraint "CK_ud_EmailPrefs". The conflict '
            'occurred in database "imis", table "dbo.ud_EmailPrefs".',
        ),
        ("42000", "The UPDATE permission was denied on the object 'ud_EmailPrefs'."),  # 229
        ("HY000", "Member 42 is frozen in iMIS"),  # RAISERROR in a trigger (50000)
        ("22001", "String or binary data would be truncated."),
    ],
)
def test_sql_server_refusals_are_not_transient_and_read_plainly(sqlstate, message):
    exc = mssql_error(sqlstate, message)
    assert not imis.is_transient(exc)
    refused = translated(exc)
    assert isinstance(refused, imis.ImisRefused) and str(refused) == message  # no [Microsoft] prefixes
