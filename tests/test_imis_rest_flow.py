"""With only IMIS_API_* set, the sync runs over REST against the REST sandbox: discovery, the pull and a
member's save land where the SQL path puts them."""

import logging

import pytest
from django.test import override_settings

from interests.models import RemoteInterest
from subscribers.models import PreferenceChange, Subscriber
from sync.services import push
from sync.services.discovery import interests_discover
from sync.services.roster import roster_pull
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import activities, ud_value
from tests.sync_helpers import member_saves

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)


def paths(sandbox):
    return {path for _method, path in sandbox.requests}


def test_discovery_reads_the_business_objects(over_rest):
    run = interests_discover()

    assert run.ok, run.error
    assert "/api/BOEntityDefinition" in paths(over_rest)
    assert RemoteInterest.objects.filter(table_name="ud_EmailPrefs", field_name="NEWSLETTER").exists()
    assert not RemoteInterest.objects.filter(table_name="ud_Committees").exists()


def test_discovery_lists_the_expected_ud_fields_rest_cannot_reach(over_rest):
    from interests.models import SkippedImisField

    over_rest.without_objects = {"ud_topics"}
    with override_settings(IMIS_API_UD_FIELDS=["UD_Topics", "ud_EmailPrefs.WEBINARS"]):
        run = interests_discover()

    assert run.ok, run.error
    reasons = dict(
        SkippedImisField.objects.filter(field_name__in=["*", "WEBINARS"]).values_list("table_name", "reason")
    )
    assert reasons["UD_Topics"].startswith("no business object for UD table UD_Topics")
    assert reasons["ud_EmailPrefs"].endswith("the business object has no such property")


def test_the_pull_reads_contacts_over_rest(over_rest):
    run = roster_pull()

    assert run.ok, run.error
    assert "/api/CsContact" in paths(over_rest)
    assert Subscriber.objects.filter(imis_id=sandbox_subscriber(3).imis_id).exists()
    assert Subscriber.objects.count() >= 30


def test_a_save_lands_in_the_ud_row_with_one_activity_row(over_rest):
    interest = make_interest()
    member = sandbox_subscriber(3)
    wanted = not ud_value(member.imis_id)

    change = member_saves(member, interest, wanted)
    push.changes_push()

    change.refresh_from_db()
    assert change.state == PreferenceChange.State.DONE, change.last_error
    assert ud_value(member.imis_id) is wanted
    [row] = activities()
    assert (row[1], row[3], row[5]) == (member.imis_id, "NEWSLETTER", str(change.uuid))
    assert change.activity_seqn == row[0]
    assert ("PUT", f"/api/ud_EmailPrefs/{member.imis_id}") in over_rest.requests


def test_health_reports_the_site_the_login_and_missing_business_objects(over_rest):
    from preference_center import imis

    health = imis.health_check(ud_tables=["ud_EmailPrefs", "ud_Retired"])

    assert health.reachable and health.vendor == "imis-rest"
    assert health.missing_tables == ["ud_Retired"]  # listed in iMIS but it has no business object
    assert health.missing_permissions == []


def test_health_says_unreachable_with_a_wrong_password(over_rest):
    from preference_center import imis

    with override_settings(IMIS_API_PASSWORD="wrong"):
        health = imis.health_check()

    assert not health.reachable
    assert "user name or password is incorrect" in health.error


def test_a_fresh_save_costs_three_requests_and_a_retried_one_is_looked_up_first(over_rest):
    interest = make_interest()
    member = sandbox_subscriber(5)
    since = len(over_rest.requests)

    change = member_saves(member, interest, not ud_value(member.imis_id))  # pushed on commit (tasks run eagerly)

    fresh = [(m, p) for m, p in over_rest.requests[since:] if p != "/token"]
    assert fresh == [
        ("GET", f"/api/ud_EmailPrefs/{member.imis_id}"),
        ("PUT", f"/api/ud_EmailPrefs/{member.imis_id}"),
        ("POST", "/api/Activity"),
    ]
    change.refresh_from_db()
    seqn = change.activity_seqn
    # Its worker was lost before it recorded "done": the sweeper puts it back, another worker tries again.
    PreferenceChange.objects.filter(id=change.id).update(state=PreferenceChange.State.PENDING, claimed_at=None)
    since = len(over_rest.requests)

    push.changes_push()

    change.refresh_from_db()
    assert (change.state, change.activity_seqn, change.attempts) == (PreferenceChange.State.DONE, seqn, 2)
    assert [(m, p) for m, p in over_rest.requests[since:] if p != "/token"] == [("GET", "/api/Activity")]
    assert len(activities()) == 1


def api_requests(sandbox, since):
    return [(m, p) for m, p in sandbox.requests[since:] if p != "/token"]


@pytest.mark.parametrize("status", [400, 500])
def test_a_value_written_without_its_activity_gets_it_on_the_retry(over_rest, status):
    interest = make_interest()
    member = sandbox_subscriber(7)
    wanted = not ud_value(member.imis_id)
    over_rest.fail_next(status, path="/api/Activity", method="POST")

    change = member_saves(member, interest, wanted)

    change.refresh_from_db()
    assert change.state == PreferenceChange.State.PENDING and "its Activity row not" in change.last_error
    assert ud_value(member.imis_id) is wanted and activities() == []  # the PUT went through
    PreferenceChange.objects.filter(id=change.id).update(next_attempt_at=None)  # its backoff is over
    since = len(over_rest.requests)

    push.changes_push()

    change.refresh_from_db()
    assert change.state == PreferenceChange.State.DONE, change.last_error
    [row] = activities()
    assert (row[1], row[5]) == (member.imis_id, str(change.uuid)) and change.activity_seqn == row[0]
    assert api_requests(over_rest, since) == [  # looked up, no PUT: the row holds the value already
        ("GET", "/api/Activity"),
        ("GET", f"/api/ud_EmailPrefs/{member.imis_id}"),
        ("POST", "/api/Activity"),
    ]
    assert ud_value(member.imis_id) is wanted


def test_a_batch_refused_part_way_never_writes_the_changes_before_twice(over_rest):
    from django.db import transaction

    interest = make_interest()
    members = [sandbox_subscriber(i) for i in (8, 9, 10)]
    refused = members[1].imis_id
    over_rest.fail_next(400, path=f"/api/ud_EmailPrefs/{refused}", method="PUT")

    with transaction.atomic():  # one push after the commit, for the three changes in one batch
        changes = [member_saves(m, interest, not ud_value(m.imis_id)) for m in members]

    for change in changes:
        change.refresh_from_db()
        assert change.state == PreferenceChange.State.DONE, change.last_error
    rows = activities()
    assert sorted(r[5] for r in rows) == sorted(str(c.uuid) for c in changes)  # one each, none twice
    assert ("PUT", f"/api/ud_EmailPrefs/{refused}") in over_rest.requests


def test_the_logs_name_no_member_at_info(over_rest, caplog):
    """httpx logs each request's URL at INFO, and a push's URLs carry iMIS IDs: the settings keep it quiet."""
    caplog.set_level(logging.INFO)
    interest = make_interest()
    member = sandbox_subscriber(3)
    member_saves(member, interest, not ud_value(member.imis_id))
    push.changes_push()

    assert f"/{member.imis_id}" in " ".join(paths(over_rest))  # the requests did name the member
    assert member.imis_id not in caplog.text
