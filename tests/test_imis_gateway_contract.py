"""The contract of the iMIS gateway, whichever implementation runs: the same tests on the SQL gateway
(PostgreSQL and SQLite replicas) and on the REST gateway (the REST sandbox, an HTTP server, over the
PostgreSQL replica). Each test calls `preference_center.imis` as the sync does and looks at the replica with
its own eyes. What only one implementation does (Name_Log, one transaction per batch, UD_Field metadata)
is tested in test_imis_gateway.py and test_imis_rest_*.py."""

import threading
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import override_settings

from preference_center import imis
from preference_center.imis.rest.reads import close_clients
from preference_center.imis.rest.sandbox_server import RestSandbox
from preference_center.imis.sandbox import build_sandbox, member_id
from tests.conftest import ALL_DATABASES, fetch, q
from tests.imis_helpers import activities, change, counter, ud_value

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)


@dataclass
class Site:
    kind: str  # "sql" or "rest"
    alias: str  # the replica behind it, where the test looks


@pytest.fixture(params=["sql-postgresql", "sql-sqlite", "rest"])
def site(request):
    """A fresh 40-member iMIS, reached the way the parameter says; the settings choose the gateway."""
    alias = "imis_sqlite" if request.param == "sql-sqlite" else "imis"
    build_sandbox(alias, members=40)
    if request.param != "rest":
        with override_settings(IMIS_API_URL=""):
            yield Site("sql", alias)
        return
    cache.clear()  # no token of an earlier sandbox
    sandbox = RestSandbox(alias).start()
    try:
        with override_settings(IMIS_API_URL=sandbox.url, IMIS_API_USER="SANDBOX", IMIS_API_PASSWORD="sandbox"):
            yield Site("rest", alias)
    finally:
        close_clients()
        sandbox.stop()


def flat(chunks):
    return [row for chunk in chunks for row in chunk]


class TestDiscovery:
    def test_it_lists_checkbox_fields_of_single_instance_tables(self, site):
        found = imis.discover_checkbox_fields(using=site.alias)
        assert [(f.table_name, f.field_name, f.prompt) for f in found.interests] == [
            ("ud_EmailPrefs", "NEWSLETTER", "Monthly newsletter"),
            ("ud_EmailPrefs", "EVENTS", "Events and conferences"),
            ("ud_EmailPrefs", "ADVOCACY_ALERT", "Advocacy alerts"),
            ("UD_Topics", "Policy_Updates", "Policy updates"),
            ("UD_Topics", "Research_Digest", "Research digest"),
            ("UD_Topics", "CE_Credits", "Continuing education"),
            ("UD_Topics", "Volunteering", "Volunteer opportunities"),
        ]

    def test_it_gives_a_reason_for_every_skipped_field(self, site):
        # Over REST nothing lists the UD tables: the association names those it expects.
        with override_settings(IMIS_API_UD_FIELDS=["ud_EmailPrefs.WEBINARS", "ud_Retired.OLD_FLAG"]):
            found = imis.discover_checkbox_fields(using=site.alias)
        skipped = {(s.table_name, s.field_name): s.reason for s in found.skipped}
        assert "multi-instance" in skipped[("ud_Committees", "CHAIR")]
        assert "not a checkbox" in skipped[("ud_EmailPrefs", "PREFERRED_DAY")]
        assert "has no such" in skipped[("ud_EmailPrefs", "WEBINARS")]  # column / property
        missing_table = {"sql": "not in the database", "rest": "no business object for UD table ud_Retired"}
        assert missing_table[site.kind] in skipped[("ud_Retired", "OLD_FLAG")]


class TestReading:
    def test_it_streams_the_roster_in_id_order_in_chunks(self, site):
        chunks = list(imis.iter_roster(using=site.alias, chunk_size=7))
        assert [len(c) for c in chunks] == [7, 7, 7, 7, 7, 5]
        ids = [m.imis_id for c in chunks for m in c]
        assert ids == sorted(ids) and len(set(ids)) == 40
        members = {m.imis_id: m for c in chunks for m in c}
        assert members[member_id(12)].email == ""  # every 13th demo member has no email
        assert members[member_id(0)].email == "member0@example.org"
        assert members[member_id(28)].exclude_mail is True
        assert members[member_id(30)].status == "I"

    def test_it_keeps_ids_as_strings(self, site):
        with connections[site.alias].cursor() as cursor:
            for imis_id in ("00123", "123"):
                cursor.execute(
                    f"INSERT INTO {q(site.alias, 'Name')} ({q(site.alias, 'ID')}, {q(site.alias, 'EMAIL')}) "
                    "VALUES (%s, %s)",
                    [imis_id, f"{imis_id}@example.org"],
                )
        members = {m.imis_id: m.email for m in flat(imis.iter_roster(using=site.alias))}
        assert members["00123"] == "00123@example.org" and members["123"] == "123@example.org"

    def test_it_streams_checkbox_values_reading_null_as_unchecked(self, site):
        with connections[site.alias].cursor() as cursor:
            cursor.execute(
                f"UPDATE {q(site.alias, 'UD_Topics')} SET {q(site.alias, 'CE_Credits')} = NULL "
                f"WHERE {q(site.alias, 'ID')} = %s",
                [member_id(1)],
            )
        fields = ["CE_Credits", "Volunteering"]
        rows = flat(imis.iter_checkbox_values("UD_Topics", fields, using=site.alias, chunk_size=10))
        values = {r.imis_id: r.values for r in rows}
        assert values[member_id(1)][0] is False  # CE_Credits, the first field asked for
        assert member_id(22) not in values  # every 23rd member has no UD_Topics row
        assert len(rows) == 39
        assert all(len(r.values) == 2 and all(isinstance(v, bool) for v in r.values) for r in rows)
        stored = fetch(
            site.alias,
            f"SELECT {q(site.alias, 'ID')}, {q(site.alias, 'Volunteering')} FROM {q(site.alias, 'UD_Topics')}",
        )
        assert {i: bool(v) for i, v in stored} == {i: v[1] for i, v in values.items()}


class TestWriting:
    def test_it_updates_the_value_and_records_one_activity_row(self, site):
        start = counter(site.alias)
        a = change(member_id(0), value=True, product_code="NEWS")
        b = change(member_id(1), field="EVENTS", value=False)

        outcomes = imis.write_changes([a, b], using=site.alias)

        assert [(o.status, o.seqn) for o in outcomes] == [(imis.WRITTEN, start + 1), (imis.WRITTEN, start + 2)]
        assert counter(site.alias) == start + 2
        assert bool(ud_value(member_id(0), alias=site.alias)) is True
        assert bool(ud_value(member_id(1), "EVENTS", alias=site.alias)) is False
        # activities() reads only rows of SOURCE_SYSTEM PREFCTR: the row is found only if it names us.
        [(seqn, imis_id, kind, product, description, source_code, _date)] = activities(a.change_id, alias=site.alias)
        assert (seqn, imis_id, kind, product, source_code) == (start + 1, member_id(0), "iOptout", "NEWS", a.change_id)
        assert description == "Opted in: NEWSLETTER"

    def test_it_writes_unchecked_over_a_null(self, site):
        with connections[site.alias].cursor() as cursor:
            cursor.execute(
                f"UPDATE {q(site.alias, 'ud_EmailPrefs')} SET {q(site.alias, 'NEWSLETTER')} = NULL "
                f"WHERE {q(site.alias, 'ID')} = %s",
                [member_id(7)],
            )

        imis.write_changes([change(member_id(7), value=False, tried_before=False)], using=site.alias)

        assert ud_value(member_id(7), alias=site.alias) in (False, 0)  # not left NULL

    def test_it_reports_a_member_without_ud_row_and_creates_nothing(self, site):
        start = counter(site.alias)
        missing, present = change(member_id(16)), change(member_id(2))  # every 17th: no ud_EmailPrefs row

        outcomes = imis.write_changes([missing, present], using=site.alias)

        assert [o.status for o in outcomes] == [imis.NO_UD_ROW, imis.WRITTEN]
        assert outcomes[0].seqn is None and not outcomes[0].ok
        assert ud_value(member_id(16), alias=site.alias) == "no row"
        assert activities(missing.change_id, alias=site.alias) == []
        assert counter(site.alias) == start + 1

    def test_it_creates_the_missing_row_when_allowed(self, site):
        c = change(member_id(16))

        outcome = imis.write_changes([c], using=site.alias, create_missing_rows=True)[0]

        assert outcome.status == imis.CREATED_ROW and outcome.seqn
        assert bool(ud_value(member_id(16), alias=site.alias)) is True
        assert len(activities(c.change_id, alias=site.alias)) == 1

    def test_it_never_writes_the_same_change_twice_and_finds_what_was_written(self, site):
        c = change(member_id(3))
        first = imis.write_changes([c], using=site.alias)[0]
        after_first = counter(site.alias)

        again = imis.write_changes([c, change(member_id(4))], using=site.alias)

        assert again[0].status == imis.ALREADY_WRITTEN and again[0].seqn == first.seqn
        assert again[1].status == imis.WRITTEN and again[1].seqn == after_first + 1
        assert len(activities(c.change_id, alias=site.alias)) == 1
        unknown = str(uuid.uuid4())
        pairs = [(member_id(3), c.change_id), (member_id(3), unknown), (member_id(5), c.change_id)]
        assert imis.written_activities(pairs, using=site.alias) == {c.change_id: first.seqn}

    def test_it_refuses_a_batch_with_two_changes_of_one_field(self, site):
        with pytest.raises(imis.ImisError, match="one change per member and field"):
            imis.write_changes([change(member_id(0)), change(member_id(0), value=False)], using=site.alias)

    def test_it_refuses_a_hostile_field_name_before_writing_anything(self, site):
        before = counter(site.alias)
        batch = [change(member_id(0)), change(member_id(1), field="X; DROP TABLE Name--")]

        with pytest.raises(imis.InvalidIdentifier):
            imis.write_changes(batch, using=site.alias)

        assert counter(site.alias) == before  # nothing ran, not even the valid change
        assert activities(batch[0].change_id, alias=site.alias) == []


class TestHealth:
    def test_it_is_healthy_on_a_complete_site(self, site):
        health = imis.health_check(using=site.alias, ud_tables=["ud_EmailPrefs"])
        assert health.ok, health.summary

    def test_it_reports_an_offered_table_it_cannot_find(self, site):
        health = imis.health_check(using=site.alias, ud_tables=["ud_EmailPrefs", "ud_Retired"])
        assert health.reachable and not health.ok
        assert health.missing_tables == ["ud_Retired"]


ROUNDS = 25


@pytest.mark.parametrize("site", ["sql-postgresql", "rest"], indirect=True)
def test_two_concurrent_writers_never_share_an_activity_seqn(site):
    build_sandbox(site.alias, members=200)
    start = counter(site.alias)
    barrier = threading.Barrier(2)
    errors, written = [], []

    def writer(offset):
        try:
            barrier.wait()
            for r in range(ROUNDS):
                ids = [member_id(offset + 4 * r + k) for k in range(2)]
                batch = [change(i, table="UD_Topics", field="CE_Credits", value=bool(r % 2)) for i in ids]
                written.extend(o for o in imis.write_changes(batch, using=site.alias) if o.ok)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in (0, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    seqns = [o.seqn for o in written]
    assert len(seqns) == len(set(seqns)), "two writers got the same SEQN"
    rows = fetch(
        site.alias,
        f"SELECT {q(site.alias, 'SEQN')} FROM {q(site.alias, 'Activity')} WHERE {q(site.alias, 'SEQN')} > %s",
        [start],
    )
    assert sorted(r[0] for r in rows) == sorted(seqns)
    assert counter(site.alias) == start + len(seqns)
    # Members without a UD_Topics row are reported, the rest all arrive.
    assert len(seqns) == sum(1 for i in range(4 * ROUNDS) if i % 23 != 22)
