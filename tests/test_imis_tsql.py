"""Every statement the gateway can issue is valid T-SQL, checked without a server.

The statements are rendered with mssql-django's own DatabaseWrapper (its quoting, its `%s` -> `?`
placeholder conversion; version cache pre-seeded so nothing connects) and parsed by sqlglot's T-SQL
dialect."""

import inspect

import pytest
import sqlglot
from mssql.base import DatabaseWrapper

from preference_center.imis.statements import Statements, all_statements

ALIAS = "tsql_check"


@pytest.fixture(scope="module")
def mssql_connection():
    DatabaseWrapper._known_versions[ALIAS] = 2019
    DatabaseWrapper._known_azures[ALIAS] = False
    settings_dict = {
        "ENGINE": "mssql",
        "NAME": "imis",
        "HOST": "sql.example.org",
        "PORT": "1433",
        "USER": "prefcenter",
        "PASSWORD": "",
        "OPTIONS": {"python_driver": "mssql_python"},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    return DatabaseWrapper(settings_dict, ALIAS)


def as_sent_to_sql_server(sql):
    # What mssql-django's cursor sends: pyodbc-style ? placeholders.
    return sql % tuple("?" * sql.count("%s"))


def statements(connection):
    return {name: sql for name, sql in all_statements(Statements(connection)).items()}


def test_the_check_covers_every_statement_builder(mssql_connection):
    builders = {
        name
        for name, member in inspect.getmembers(Statements, inspect.isfunction)
        if not name.startswith("_") and name not in {"q", "cols", "placeholders", "first_rows"}
    }
    covered = set(statements(mssql_connection))
    assert builders <= covered, builders - covered


def assert_valid_tsql(sql):
    """One parseable T-SQL statement, with nothing that only other dialects accept."""
    tsql = as_sent_to_sql_server(sql)
    parsed = sqlglot.parse(tsql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(parsed) == 1 and parsed[0] is not None
    # sqlglot is lenient: it reads LIMIT or "quoted" names and would translate them; SQL Server would not.
    assert " LIMIT " not in tsql.upper(), "LIMIT is not T-SQL"
    assert "`" not in tsql and '"' not in tsql, "identifiers must be quoted [like_this] for SQL Server"


def test_every_statement_parses_as_tsql(mssql_connection):
    for name, sql in statements(mssql_connection).items():
        try:
            assert_valid_tsql(sql)
        except (AssertionError, sqlglot.errors.ParseError) as exc:
            pytest.fail(f"{name}: {exc}\n{sql}")


@pytest.mark.parametrize(
    "broken",
    [
        "UPDATE [x] SET [a] = %s WHERE [ID] IN (%s, %s",
        'SELECT "ID" FROM "Name" WHERE "ID" > %s ORDER BY "ID" LIMIT 10',
        "SELECT [ID] FROM [Name] WHERE",
    ],
)
def test_the_check_rejects_what_sql_server_would_reject(broken):
    with pytest.raises((AssertionError, sqlglot.errors.ParseError)):
        assert_valid_tsql(broken)


def test_identifiers_are_bracket_quoted_and_values_are_parameters(mssql_connection):
    sql = statements(mssql_connection)
    assert sql["ud_update"] == "UPDATE [ud_EmailPrefs] SET [NEWSLETTER] = %s WHERE [ID] IN (%s, %s, %s)"
    assert sql["roster_chunk"].startswith("SELECT TOP (1000) [ID], [EMAIL]")
    assert sql["roster_chunk"].endswith("FROM [Name] WHERE [ID] > %s ORDER BY [ID]")
    assert "LIMIT" not in sql["ud_values_chunk"]
    assert sql["counter_bump"] == (
        "UPDATE [Counter] SET [LAST_VALUE] = [LAST_VALUE] + %s, [LAST_UPDATED] = %s, [UPDATED_BY] = %s "
        "WHERE [COUNTER_NAME] = %s"
    )


def test_a_hostile_identifier_cannot_be_rendered(mssql_connection):
    from preference_center.imis import InvalidIdentifier

    with pytest.raises(InvalidIdentifier):
        Statements(mssql_connection).ud_update("ud_EmailPrefs", "X]; DROP TABLE Name--", 1)
