"""Members without a UD row: recorded by each pull, reported to staff with the statement iMIS staff run."""

import csv
import io

import pytest
import sqlglot
from django.db import connections
from django.test import override_settings
from django.urls import reverse
from sqlglot import exp

from interests.models import RemoteInterest
from preference_center.imis import InvalidIdentifier
from preference_center.imis.missing_rows import create_missing_ud_rows_sql
from preference_center.imis.sandbox import member_id
from subscribers.models import PreferenceChange, Subscriber
from subscribers.selectors import interests_without_ud_row
from sync.models import MissingUdRow
from sync.services.push import changes_push
from sync.services.roster import roster_pull
from tests.conftest import fetch, q
from tests.factories import staff_user
from tests.sync_helpers import member_saves

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

# The sandbox gives no ud_EmailPrefs row to every 17th member and no UD_Topics row to every 23rd.
NO_EMAILPREFS_ROW = {member_id(16), member_id(33)}
NO_TOPICS_ROW = {member_id(22)}
REPORT = reverse("admin:sync_missingudrow_changelist")


@pytest.fixture
def offered(imis_pg):
    fields = [("ud_EmailPrefs", "NEWSLETTER"), ("ud_EmailPrefs", "EVENTS"), ("UD_Topics", "Policy_Updates")]
    return {
        field: RemoteInterest.objects.create(table_name=table, field_name=field, prompt=field, visible=True, position=n)
        for n, (table, field) in enumerate(fields)
    }


def missing(table):
    return set(MissingUdRow.objects.filter(table_name=table).values_list("subscriber__imis_id", flat=True))


def run_imis(sql, params=()):
    with connections["imis"].cursor() as cursor:
        cursor.execute(sql, params)


def test_it_records_the_members_a_pull_finds_without_a_row_in_each_offered_table(offered):
    run = roster_pull()

    assert run.ok
    assert missing("ud_EmailPrefs") == NO_EMAILPREFS_ROW
    assert missing("UD_Topics") == NO_TOPICS_ROW
    assert run.counts["ud_rows_missing"] == 3
    assert MissingUdRow.objects.count() == 3  # nothing stored for the members who have their rows


@override_settings(IMIS_CHUNK_SIZE=2)  # several chunks of UD rows and of members (20 ids per chunk)
def test_each_pull_brings_the_record_in_line_with_imis(offered):
    roster_pull()
    first_seen = MissingUdRow.objects.get(subscriber__imis_id=member_id(33)).seen_at
    # iMIS staff created one member's row; another member's row was deleted; a third member left iMIS.
    run_imis(f"INSERT INTO {q('imis', 'ud_EmailPrefs')} ({q('imis', 'ID')}) VALUES (%s)", [member_id(16)])
    run_imis(f"DELETE FROM {q('imis', 'ud_EmailPrefs')} WHERE {q('imis', 'ID')} = %s", [member_id(5)])
    run_imis(f"DELETE FROM {q('imis', 'Name')} WHERE {q('imis', 'ID')} = %s", [member_id(22)])

    roster_pull()

    assert missing("ud_EmailPrefs") == {member_id(5), member_id(33)}
    assert missing("UD_Topics") == set()
    assert MissingUdRow.objects.get(subscriber__imis_id=member_id(33)).seen_at == first_seen  # not rewritten


def test_a_table_no_longer_on_the_form_leaves_the_report(offered):
    roster_pull()
    offered["Policy_Updates"].visible = False
    offered["Policy_Updates"].save()

    roster_pull()

    assert missing("UD_Topics") == set() and missing("ud_EmailPrefs") == NO_EMAILPREFS_ROW


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)  # iMIS's errors end no test transaction
def test_a_table_that_could_not_be_read_keeps_what_the_last_pull_found(offered):
    roster_pull()
    run_imis(f"DROP TABLE {q('imis', 'UD_Topics')}")

    assert not roster_pull().ok
    assert missing("UD_Topics") == NO_TOPICS_ROW


def test_the_selector_names_the_interests_on_the_form_that_cannot_reach_imis(offered):
    roster_pull()
    without = Subscriber.objects.get(imis_id=member_id(16))
    with_rows = Subscriber.objects.get(imis_id=member_id(0))
    RemoteInterest.objects.create(table_name="ud_EmailPrefs", field_name="ADVOCACY_ALERT", visible=False)

    assert interests_without_ud_row(subscriber_id=without.pk) == {offered["NEWSLETTER"].pk, offered["EVENTS"].pk}
    assert interests_without_ud_row(subscriber_id=with_rows.pk) == set()
    with override_settings(IMIS_CREATE_MISSING_UD_ROWS=True):  # the push creates the row: the choice gets there
        assert interests_without_ud_row(subscriber_id=without.pk) == set()


def test_the_statement_is_quoted_for_sql_server():
    assert create_missing_ud_rows_sql("ud_EmailPrefs", ["00012", "O'B"]) == [
        "INSERT INTO [dbo].[ud_EmailPrefs] ([ID]) SELECT [n].[ID] FROM [dbo].[Name] AS [n] "
        "WHERE [n].[ID] IN ('00012', 'O''B') "
        "AND NOT EXISTS (SELECT 1 FROM [dbo].[ud_EmailPrefs] AS [u] WHERE [u].[ID] = [n].[ID]);"
    ]
    chunked = create_missing_ud_rows_sql("ud_EmailPrefs", [str(i) for i in range(5)], per_statement=2)
    assert len(chunked) == 3 and "IN ('4')" in chunked[2]
    for statement in chunked:
        assert len(sqlglot.parse(statement, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)) == 1
    with pytest.raises(InvalidIdentifier):
        create_missing_ud_rows_sql("ud_x]; DROP TABLE Name; --", ["1"])
    assert create_missing_ud_rows_sql("ud_EmailPrefs", []) == []


def test_the_statement_creates_exactly_the_missing_rows(offered):
    """Run on the replica (translated from T-SQL by sqlglot, without the dbo schema): the rows exist after."""
    roster_pull()
    hostile = "X'); --"
    for statement in create_missing_ud_rows_sql("ud_EmailPrefs", [*sorted(NO_EMAILPREFS_ROW), hostile], 1):
        tree = sqlglot.parse_one(statement, read="tsql")
        for table in tree.find_all(exp.Table):
            table.set("db", None)
        run_imis(tree.sql(dialect="postgres", identify=True))
    rows = fetch("imis", f"SELECT {q('imis', 'ID')} FROM {q('imis', 'ud_EmailPrefs')}")
    assert len(rows) == 40 - 2 + 2  # every member has a row now, and only members

    roster_pull()
    assert missing("ud_EmailPrefs") == set()


def test_staff_who_may_view_members_get_the_report_the_csv_and_the_statement(client, offered):
    roster_pull()
    client.force_login(staff_user("view_subscriber"))

    page = client.get(REPORT)
    assert page.status_code == 200
    assert dict(page.context["tables"]) == {"UD_Topics": 1, "ud_EmailPrefs": 2}
    html = page.content.decode()
    assert member_id(16) in html and "member16@example.org" in html

    listing = client.get(REPORT, {"table_name__exact": "ud_EmailPrefs"}).content.decode()
    assert member_id(16) in listing and member_id(22) not in listing

    download = client.get(reverse("admin:sync_missingudrow_csv", args=["ud_EmailPrefs"]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["imis_id", "full_name", "first_name", "last_name", "email"]
    assert {row[0] for row in rows[1:]} == NO_EMAILPREFS_ROW
    assert "member16@example.org" in {row[4] for row in rows[1:]}

    statement = client.get(reverse("admin:sync_missingudrow_sql", args=["ud_EmailPrefs"]))
    expected = create_missing_ud_rows_sql("ud_EmailPrefs", sorted(NO_EMAILPREFS_ROW))[0]
    assert statement.context["statements"] == [expected]
    sql_file = client.get(reverse("admin:sync_missingudrow_sql", args=["ud_EmailPrefs"]), {"download": 1})
    assert sql_file.content.decode() == expected + "\n"
    assert client.get(reverse("admin:sync_missingudrow_sql", args=["bad-name"])).status_code == 404


def test_staff_who_may_not_view_members_get_none_of_it(client, offered):
    roster_pull()
    client.force_login(staff_user("view_preferencechange", "view_missingudrow"))

    assert client.get(REPORT).status_code == 403
    assert client.get(reverse("admin:sync_missingudrow_csv", args=["ud_EmailPrefs"])).status_code == 403
    assert client.get(reverse("admin:sync_missingudrow_sql", args=["ud_EmailPrefs"])).status_code == 403


def test_the_dashboard_shows_the_count_and_links_the_report(admin_client, offered):
    roster_pull()

    html = admin_client.get(reverse("admin:sync_dashboard")).content.decode()

    assert "ud_EmailPrefs: 2 members" in html and "UD_Topics: 1 member<" in html
    assert f'href="{REPORT}"' in html


def test_a_change_that_failed_for_want_of_a_ud_row_links_to_the_report(admin_client, offered):
    roster_pull()
    member_saves(Subscriber.objects.get(imis_id=member_id(16)), offered["NEWSLETTER"], True)
    PreferenceChange.objects.create(
        subscriber=Subscriber.objects.get(imis_id=member_id(0)),
        interest=offered["EVENTS"],
        new_value=True,
        source="form",
        state="failed",
        last_error="iMIS refused it: something else",
    )

    changes_push()

    failed = PreferenceChange.objects.get(subscriber__imis_id=member_id(16))
    assert failed.state == PreferenceChange.State.FAILED
    html = admin_client.get(reverse("admin:subscribers_preferencechange_changelist")).content.decode()
    assert html.count(f'href="{REPORT}?table_name__exact=ud_EmailPrefs"') == 1  # not for the other failure
