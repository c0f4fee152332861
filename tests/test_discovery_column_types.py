"""Discovery checks the physical type of a CheckBox field's column: only bit (boolean) columns are offered."""

import pyodbc
import pytest
from mssql.introspection import DatabaseIntrospection as SqlServerIntrospection

from interests.models import RemoteInterest, SkippedImisField
from interests.selectors import interests_on_form
from preference_center.imis.columns import SQL_SERVER_TYPES, ColumnType, column_type
from preference_center.imis.sandbox import build_sandbox
from sync.services.discovery import interests_discover
from tests.conftest import ALL_DATABASES, q
from tests.interests_helpers import add_ud_field, drop_ud_field, execute

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def add_legacy_field(alias, table="ud_EmailPrefs", field="LEGACY_OPTIN", column_sql="varchar(1)", value="Y"):
    """A field UD_Field calls a CheckBox, on a column of another type (a legacy table holding 'Y')."""
    execute(alias, f"ALTER TABLE {q(alias, table)} ADD COLUMN {q(alias, field)} {column_sql}")
    execute(alias, f"UPDATE {q(alias, table)} SET {q(alias, field)} = %s", [value])
    add_ud_field(alias, table, field, prompt="Legacy opt-in", column=False)


def skipped_reason(table, field):
    return SkippedImisField.objects.filter(table_name=table, field_name=field).values_list("reason", flat=True).first()


def test_it_skips_a_checkbox_field_whose_column_is_not_bit(imis_replica):
    add_legacy_field(imis_replica)

    run = interests_discover(using=imis_replica)

    assert run.ok and run.counts["found"] == 7
    assert not RemoteInterest.objects.filter(field_name="LEGACY_OPTIN").exists()
    assert skipped_reason("ud_EmailPrefs", "LEGACY_OPTIN") == "column is varchar(1), not bit"
    assert RemoteInterest.objects.filter(field_name="NEWSLETTER").exists()  # bit columns are still offered


def test_it_names_other_column_types_in_the_reason(imis_replica):
    add_legacy_field(imis_replica, field="OPTIN_INT", column_sql="integer", value=1)

    interests_discover(using=imis_replica)

    assert skipped_reason("ud_EmailPrefs", "OPTIN_INT") == "column is integer, not bit"


def test_it_takes_an_offered_interest_off_the_form_when_its_column_is_not_bit(imis_replica):
    add_ud_field(imis_replica, "ud_EmailPrefs", "LEGACY_OPTIN", prompt="Legacy opt-in")
    interests_discover(using=imis_replica)
    RemoteInterest.objects.filter(field_name="LEGACY_OPTIN").update(visible=True)
    assert [i.field_name for i in interests_on_form()] == ["LEGACY_OPTIN"]

    # iMIS staff rebuilt the table: the column now holds 'Y' / 'N'.
    drop_ud_field(imis_replica, "ud_EmailPrefs", "LEGACY_OPTIN")
    add_legacy_field(imis_replica)
    run = interests_discover(using=imis_replica)

    legacy = RemoteInterest.objects.get(field_name="LEGACY_OPTIN")
    assert legacy.visible and not legacy.present_in_imis  # staff settings kept, as for a vanished field
    assert run.counts["missing"] == 1
    assert list(interests_on_form()) == []
    assert skipped_reason("ud_EmailPrefs", "LEGACY_OPTIN") == "column is varchar(1), not bit"


def test_it_offers_a_column_an_sqlite_replica_declares_bit():
    build_sandbox("imis_sqlite", members=5)
    add_legacy_field("imis_sqlite", field="COPIED_DDL", column_sql="BIT", value=1)  # DDL copied from SQL Server

    interests_discover(using="imis_sqlite")

    assert RemoteInterest.objects.filter(field_name="COPIED_DDL").exists()
    assert column_type("sqlite", "boolean").is_boolean  # what the sandbox declares
    assert column_type("sqlite", "VARCHAR( 1 )") == ColumnType("varchar( 1 )", False)


def test_it_reads_postgresql_type_oids():
    assert column_type("postgresql", 16).is_boolean
    assert column_type("postgresql", 1043, 1).name == "varchar(1)"
    assert not column_type("postgresql", 1043, 1).is_boolean
    assert column_type("postgresql", 1042, 1).name == "char(1)"


def test_it_reads_sql_server_columns_as_mssql_django_describes_them():
    """mssql-django's type codes are ODBC SQL types: bit is the one it maps to BooleanField."""
    for code, field_type in SqlServerIntrospection.data_types_reverse.items():
        if code in SQL_SERVER_TYPES:
            assert column_type("microsoft", code).is_boolean == (field_type == "BooleanField"), code
    assert column_type("microsoft", pyodbc.SQL_BIT, 1).name == "bit"
    assert column_type("microsoft", pyodbc.SQL_VARCHAR, 1).name == "varchar(1)"
    assert not column_type("microsoft", pyodbc.SQL_VARCHAR, 1).is_boolean
    assert not column_type("microsoft", pyodbc.SQL_TINYINT, 3).is_boolean
    assert column_type("microsoft", pyodbc.SQL_CHAR, 1).name == "char(1)"
    # nvarchar(1): mssql-django reports short nvarchar as SQL_WCHAR.
    assert column_type("microsoft", pyodbc.SQL_WCHAR, 1).name == "nvarchar(1)"
    assert column_type("microsoft", 12345).name == "type 12345"
