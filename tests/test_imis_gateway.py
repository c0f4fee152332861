"""What only the SQL gateway does, on both replicas (PostgreSQL and SQLite): UD_Field metadata matched to
the catalogue, one transaction per batch, Name_Log rows, the iMIS tables it needs. What both gateways do
is in test_imis_gateway_contract.py."""

import pytest
from django.db import connections
from django.test import override_settings

from preference_center import imis
from preference_center.imis.sandbox import member_id
from tests.conftest import ALL_DATABASES, fetch, q
from tests.imis_helpers import activities, change, ud_value

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


class TestDiscovery:
    def test_it_takes_prompt_and_micro_help_from_ud_field(self, imis_replica):
        newsletter = imis.discover_checkbox_fields(using=imis_replica).interests[0]
        assert (newsletter.table_name, newsletter.field_name) == ("ud_EmailPrefs", "NEWSLETTER")
        assert newsletter.prompt == "Monthly newsletter"
        assert newsletter.micro_help.startswith("News from the association")

    def test_it_matches_metadata_to_the_catalogue_case_insensitively(self, imis_replica):
        # iMIS (SQL Server) compares names case-insensitively: metadata may spell them differently.
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(
                f"UPDATE {q(imis_replica, 'UD_Field')} SET {q(imis_replica, 'FIELD_NAME')} = 'newsletter', "
                f"{q(imis_replica, 'TABLE_NAME')} = 'UD_EMAILPREFS' WHERE {q(imis_replica, 'FIELD_NAME')} = 'NEWSLETTER'"
            )
            cursor.execute(
                f"UPDATE {q(imis_replica, 'UD_Table')} SET {q(imis_replica, 'TABLE_NAME')} = 'UD_EMAILPREFS' "
                f"WHERE {q(imis_replica, 'TABLE_NAME')} = 'ud_EmailPrefs'"
            )
        fields = {(f.table_name, f.field_name) for f in imis.discover_checkbox_fields(using=imis_replica).interests}
        assert ("ud_EmailPrefs", "NEWSLETTER") in fields  # the catalogue's spelling, which quoting needs

    def test_it_refuses_a_hostile_field_name_and_never_executes_it(self, imis_replica):
        hostile = "X; DROP TABLE Name--"
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {q(imis_replica, 'UD_Field')} ({q(imis_replica, 'TABLE_NAME')}, {q(imis_replica, 'FIELD_NAME')}, "
                f"{q(imis_replica, 'FIELD_TYPE')}) VALUES (%s, %s, %s)",
                ["ud_EmailPrefs", hostile, "CheckBox"],
            )
        found = imis.discover_checkbox_fields(using=imis_replica)
        assert hostile not in {f.field_name for f in found.interests}
        reasons = {s.field_name: s.reason for s in found.skipped}
        assert "invalid identifier" in reasons[hostile]


class TestWriting:
    def test_it_rolls_back_the_whole_batch_when_iMIS_refuses(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(f"DELETE FROM {q(imis_replica, 'Counter')}")
        before = ud_value(member_id(5), alias=imis_replica)
        c = change(member_id(5), value=not before)
        with pytest.raises(imis.ImisError, match="Counter"):
            imis.write_changes([c], using=imis_replica)
        assert ud_value(member_id(5), alias=imis_replica) == before
        assert activities(c.change_id, alias=imis_replica) == []

    def test_it_writes_name_log_rows_when_enabled(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(
                f"UPDATE {q(imis_replica, 'ud_EmailPrefs')} SET {q(imis_replica, 'NEWSLETTER')} = %s WHERE {q(imis_replica, 'ID')} = %s",
                [False, member_id(6)],
            )
        with override_settings(IMIS_WRITE_NAME_LOG=True):
            imis.write_changes([change(member_id(6), value=True)], using=imis_replica)
        rows = fetch(
            imis_replica,
            f"SELECT {q(imis_replica, 'ID')}, {q(imis_replica, 'LOG_TEXT')}, {q(imis_replica, 'LOG_TYPE')} FROM {q(imis_replica, 'Name_Log')}",
        )
        assert rows == [(member_id(6), "ud_EmailPrefs.NEWSLETTER: 0 -> 1", "CHANGE")]

    def test_it_writes_no_name_log_by_default(self, imis_replica):
        imis.write_changes([change(member_id(6))], using=imis_replica)
        assert fetch(imis_replica, f"SELECT COUNT(*) FROM {q(imis_replica, 'Name_Log')}")[0][0] == 0


class TestHealth:
    def test_it_reports_a_missing_table(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(f"DROP TABLE {q(imis_replica, 'Counter')}")
        health = imis.health_check(using=imis_replica)
        assert health.reachable and not health.ok
        assert health.missing_tables == ["Counter"]
