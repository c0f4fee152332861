"""The gateway on both replicas (PostgreSQL and SQLite): discovery, streaming, writing, health."""

import uuid

import pytest
from django.db import connections
from django.test import override_settings

from preference_center import imis
from preference_center.imis.sandbox import member_id
from tests.conftest import ALL_DATABASES, fetch, q

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def change(imis_id, field="NEWSLETTER", value=True, table="ud_EmailPrefs", **kwargs):
    return imis.ValueChange(
        change_id=kwargs.pop("change_id", str(uuid.uuid4())),
        imis_id=imis_id,
        table_name=table,
        field_name=field,
        value=value,
        product_code=kwargs.pop("product_code", field),
        description=kwargs.pop("description", f"Opted {'in' if value else 'out'}: {field}"),
        **kwargs,
    )


def counter(alias):
    return fetch(
        alias,
        f"SELECT {q(alias, 'LAST_VALUE')} FROM {q(alias, 'Counter')} WHERE {q(alias, 'COUNTER_NAME')} = 'Activity'",
    )[0][0]


def ud_value(alias, imis_id, field="NEWSLETTER", table="ud_EmailPrefs"):
    rows = fetch(alias, f"SELECT {q(alias, field)} FROM {q(alias, table)} WHERE {q(alias, 'ID')} = %s", [imis_id])
    return rows[0][0] if rows else "no row"


def activities(alias, source_code):
    return fetch(
        alias,
        f"SELECT {q(alias, 'SEQN')}, {q(alias, 'ID')}, {q(alias, 'ACTIVITY_TYPE')}, {q(alias, 'PRODUCT_CODE')}, "
        f"{q(alias, 'DESCRIPTION')}, {q(alias, 'SOURCE_SYSTEM')} FROM {q(alias, 'Activity')} "
        f"WHERE {q(alias, 'SOURCE_CODE')} = %s",
        [source_code],
    )


class TestDiscovery:
    def test_it_lists_checkbox_fields_of_single_instance_tables(self, imis_replica):
        found = imis.discover_checkbox_fields(using=imis_replica)
        assert [(f.table_name, f.field_name) for f in found.interests] == [
            ("ud_EmailPrefs", "NEWSLETTER"),
            ("ud_EmailPrefs", "EVENTS"),
            ("ud_EmailPrefs", "ADVOCACY_ALERT"),
            ("UD_Topics", "Policy_Updates"),
            ("UD_Topics", "Research_Digest"),
            ("UD_Topics", "CE_Credits"),
            ("UD_Topics", "Volunteering"),
        ]
        newsletter = found.interests[0]
        assert newsletter.prompt == "Monthly newsletter"
        assert newsletter.micro_help.startswith("News from the association")

    def test_it_gives_a_reason_for_every_skipped_field(self, imis_replica):
        skipped = {
            (s.table_name, s.field_name): s.reason for s in imis.discover_checkbox_fields(using=imis_replica).skipped
        }
        assert "multi-instance" in skipped[("ud_Committees", "CHAIR")]
        assert "not a checkbox" in skipped[("ud_EmailPrefs", "PREFERRED_DAY")]
        assert "no such column" in skipped[("ud_EmailPrefs", "WEBINARS")]
        assert "not in the database" in skipped[("ud_Retired", "OLD_FLAG")]

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

        before = counter(imis_replica)
        with pytest.raises(imis.InvalidIdentifier):
            imis.write_changes([change(member_id(0)), change(member_id(1), field=hostile)], using=imis_replica)
        assert counter(imis_replica) == before  # nothing ran, not even the valid change
        assert fetch(imis_replica, f"SELECT COUNT(*) FROM {q(imis_replica, 'Name')}")[0][0] == 40


class TestStreaming:
    def test_it_streams_the_roster_in_id_keyed_chunks(self, imis_replica):
        chunks = list(imis.iter_roster(using=imis_replica, chunk_size=7))
        assert [len(c) for c in chunks] == [7, 7, 7, 7, 7, 5]
        ids = [m.imis_id for c in chunks for m in c]
        assert ids == sorted(ids) and len(set(ids)) == 40
        members = {m.imis_id: m for c in chunks for m in c}
        assert members[member_id(12)].email == ""  # every 13th demo member has no email
        assert members[member_id(0)].email == "member0@example.org"
        assert members[member_id(28)].exclude_mail is True
        assert members[member_id(30)].status == "I"

    def test_it_keeps_ids_as_strings(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            for imis_id in ("00123", "123"):
                cursor.execute(
                    f"INSERT INTO {q(imis_replica, 'Name')} ({q(imis_replica, 'ID')}, {q(imis_replica, 'EMAIL')}) VALUES (%s, %s)",
                    [imis_id, f"{imis_id}@example.org"],
                )
        members = {m.imis_id: m.email for c in imis.iter_roster(using=imis_replica) for m in c}
        assert members["00123"] == "00123@example.org" and members["123"] == "123@example.org"

    def test_it_streams_checkbox_values_reading_null_as_unchecked(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(
                f"UPDATE {q(imis_replica, 'UD_Topics')} SET {q(imis_replica, 'CE_Credits')} = NULL WHERE {q(imis_replica, 'ID')} = %s",
                [member_id(1)],
            )
        rows = [
            r
            for c in imis.iter_checkbox_values(
                "UD_Topics", ["CE_Credits", "Volunteering"], using=imis_replica, chunk_size=10
            )
            for r in c
        ]
        values = {r.imis_id: r.values for r in rows}
        assert values[member_id(1)][0] is False  # CE_Credits, the first field asked for
        assert member_id(22) not in values  # every 23rd member has no UD_Topics row
        assert len(rows) == 39
        assert all(len(r.values) == 2 and all(isinstance(v, bool) for v in r.values) for r in rows)


class TestWriting:
    def test_it_updates_the_value_and_records_an_activity_row(self, imis_replica):
        start = counter(imis_replica)
        a, b = change(member_id(0), value=True, product_code="NEWS"), change(member_id(1), field="EVENTS", value=False)
        outcomes = imis.write_changes([a, b], using=imis_replica)

        assert [(o.status, o.seqn) for o in outcomes] == [(imis.WRITTEN, start + 1), (imis.WRITTEN, start + 2)]
        assert counter(imis_replica) == start + 2
        assert bool(ud_value(imis_replica, member_id(0))) is True
        assert bool(ud_value(imis_replica, member_id(1), "EVENTS")) is False
        [(seqn, imis_id, kind, product, description, source)] = activities(imis_replica, a.change_id)
        assert (seqn, imis_id, kind, product, source) == (start + 1, member_id(0), "iOptout", "NEWS", "PREFCTR")
        assert description == "Opted in: NEWSLETTER"

    def test_it_reports_a_member_without_ud_row_and_creates_nothing(self, imis_replica):
        start = counter(imis_replica)
        missing, present = change(member_id(16)), change(member_id(2))  # every 17th: no ud_EmailPrefs row
        outcomes = imis.write_changes([missing, present], using=imis_replica)
        assert [o.status for o in outcomes] == [imis.NO_UD_ROW, imis.WRITTEN]
        assert outcomes[0].seqn is None and not outcomes[0].ok
        assert ud_value(imis_replica, member_id(16)) == "no row"
        assert activities(imis_replica, missing.change_id) == []
        assert counter(imis_replica) == start + 1

    def test_it_creates_the_missing_row_when_allowed(self, imis_replica):
        outcome = imis.write_changes([change(member_id(16))], using=imis_replica, create_missing_rows=True)[0]
        assert outcome.status == imis.CREATED_ROW and outcome.seqn
        assert bool(ud_value(imis_replica, member_id(16))) is True

    def test_it_never_writes_the_same_change_twice(self, imis_replica):
        c = change(member_id(3))
        first = imis.write_changes([c], using=imis_replica)[0]
        after_first = counter(imis_replica)
        again = imis.write_changes([c, change(member_id(4))], using=imis_replica)
        assert again[0].status == imis.ALREADY_WRITTEN and again[0].seqn == first.seqn
        assert again[1].status == imis.WRITTEN and again[1].seqn == after_first + 1
        assert len(activities(imis_replica, c.change_id)) == 1

    def test_it_rolls_back_the_whole_batch_when_iMIS_refuses(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(f"DELETE FROM {q(imis_replica, 'Counter')}")
        before = ud_value(imis_replica, member_id(5))
        c = change(member_id(5), value=not before)
        with pytest.raises(imis.ImisError, match="Counter"):
            imis.write_changes([c], using=imis_replica)
        assert ud_value(imis_replica, member_id(5)) == before
        assert activities(imis_replica, c.change_id) == []

    def test_it_refuses_two_changes_of_one_field_in_a_batch(self, imis_replica):
        with pytest.raises(imis.ImisError, match="one change per member and field"):
            imis.write_changes([change(member_id(0)), change(member_id(0), value=False)], using=imis_replica)

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
    def test_it_is_healthy_on_a_complete_replica(self, imis_replica):
        health = imis.health_check(using=imis_replica, ud_tables=["ud_EmailPrefs"])
        assert health.ok, health.summary

    def test_it_reports_a_missing_table(self, imis_replica):
        with connections[imis_replica].cursor() as cursor:
            cursor.execute(f"DROP TABLE {q(imis_replica, 'Counter')}")
        health = imis.health_check(using=imis_replica)
        assert health.reachable and not health.ok
        assert health.missing_tables == ["Counter"]
