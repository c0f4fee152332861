"""The REST write path over the REST sandbox: GET, PUT with the one property, POST Activity; a retry
finds its Activity row and writes nothing twice; a member without a row is reported, or created."""

import dataclasses

import pytest

from preference_center import imis
from preference_center.imis.errors import ImisRefused, ImisUnavailable
from preference_center.imis.rest import writes
from preference_center.imis.sandbox import member_id
from tests.imis_helpers import activities, change, ud_value

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)

NO_EMAIL_PREFS_ROW = member_id(16)


def test_it_writes_the_value_and_one_activity_row(rest_sandbox, rest_client):
    imis_id = member_id(4)
    before = ud_value(imis_id)
    events_before = ud_value(imis_id, "EVENTS")
    c = change(imis_id, value=not before)

    (outcome,) = writes.write_changes([c], client=rest_client)

    assert outcome.status == imis.WRITTEN
    assert ud_value(imis_id) == (not before)
    [(seqn, written_id, _type, product_code, *_)] = activities(c.change_id)
    assert (seqn, written_id, product_code) == (outcome.seqn, imis_id, "NEWSLETTER")
    assert ud_value(imis_id, "EVENTS") == events_before  # the other properties stay as they were


def test_it_never_writes_a_second_activity_row_on_a_retry(rest_sandbox, rest_client):
    c = change(member_id(5), value=True)
    (first,) = writes.write_changes([c], client=rest_client)

    (again,) = writes.write_changes([c], client=rest_client)

    assert (again.status, again.seqn) == (imis.ALREADY_WRITTEN, first.seqn)
    assert len(activities(c.change_id)) == 1
    assert writes.written_activities([(c.imis_id, c.change_id)], client=rest_client) == {c.change_id: first.seqn}


def test_it_reports_a_member_without_a_row_and_writes_nothing(rest_sandbox, rest_client):
    c = change(NO_EMAIL_PREFS_ROW, value=True)

    (outcome,) = writes.write_changes([c], client=rest_client, create_missing_rows=False)

    assert outcome.status == imis.NO_UD_ROW
    assert ud_value(NO_EMAIL_PREFS_ROW) == "no row"
    assert activities(c.change_id) == []


def test_it_creates_the_missing_row_when_asked(rest_sandbox, rest_client):
    c = change(NO_EMAIL_PREFS_ROW, value=True)

    (outcome,) = writes.write_changes([c], client=rest_client, create_missing_rows=True)

    assert outcome.status == imis.CREATED_ROW
    assert ud_value(NO_EMAIL_PREFS_ROW) is True
    assert len(activities(c.change_id)) == 1


def test_it_writes_no_activity_when_the_put_fails(rest_sandbox, rest_client):
    imis_id = member_id(6)
    before = ud_value(imis_id)
    c = change(imis_id, value=not before)
    rest_sandbox.fail_next(500, path=f"/api/ud_EmailPrefs/{imis_id}", method="PUT")
    rest_client.get_json("api/CsContact", {"limit": 1})  # logged in before the fault

    with pytest.raises(ImisUnavailable, match="500 to PUT"):
        writes.write_changes([c], client=rest_client)

    assert activities(c.change_id) == []
    assert ud_value(imis_id) == before


def api_requests(sandbox, since):
    """(method, path) of the API requests the sandbox served after the `since`-th (logins left out)."""
    return [(m, p) for m, p in sandbox.requests[since:] if p != "/token"]


def test_it_makes_three_requests_per_fresh_change(rest_sandbox, rest_client):
    ids = [member_id(i) for i in range(20, 30) if i != 16]
    fresh = [change(i, value=not ud_value(i), tried_before=False) for i in ids]
    since = len(rest_sandbox.requests)

    outcomes = writes.write_changes(fresh, client=rest_client)

    assert {o.status for o in outcomes} == {imis.WRITTEN}
    served = api_requests(rest_sandbox, since)
    assert len(served) == 3 * len(fresh)
    assert {m for m, _p in served[0::3]} == {"GET"} and {p for _m, p in served[2::3]} == {"/api/Activity"}
    assert all(len(activities(c.change_id)) == 1 for c in fresh)


def test_it_looks_up_a_change_tried_before_and_finds_its_activity_row(rest_sandbox, rest_client):
    imis_id = member_id(31)
    first_try = change(imis_id, value=not ud_value(imis_id), tried_before=False)
    (written,) = writes.write_changes([first_try], client=rest_client)
    since = len(rest_sandbox.requests)

    (again,) = writes.write_changes([dataclasses.replace(first_try, tried_before=True)], client=rest_client)

    assert (again.status, again.seqn) == (imis.ALREADY_WRITTEN, written.seqn)
    assert api_requests(rest_sandbox, since) == [("GET", "/api/Activity")]
    assert len(activities(first_try.change_id)) == 1


def test_it_refuses_to_call_a_change_written_when_the_site_ignores_the_activity_filter(
    rest_sandbox, rest_client, monkeypatch
):
    c = change(member_id(4), value=True)
    # A site that does not filter Activity by PartyId and SOURCE_CODE answers some other row.
    monkeypatch.setattr(writes, "activity_filter", lambda imis_id, change_id: {"limit": 1})

    with pytest.raises(ImisRefused, match="does not filter Activity by PartyId and SOURCE_CODE"):
        writes.write_changes([c], client=rest_client)

    assert activities(c.change_id) == []


def test_it_reports_no_row_and_writes_no_activity_when_the_row_goes_before_the_put(rest_sandbox, rest_client):
    imis_id = member_id(8)
    c = change(imis_id, value=not ud_value(imis_id), tried_before=False)
    rest_sandbox.fail_next(404, path=f"/api/ud_EmailPrefs/{imis_id}", method="PUT")

    (outcome,) = writes.write_changes([c], client=rest_client)

    assert outcome.status == imis.NO_UD_ROW
    assert activities(c.change_id) == []


def test_it_writes_a_field_whatever_the_case_of_its_name(rest_sandbox, rest_client):
    """An interest discovered over SQL may spell its field otherwise than the business object's property."""
    imis_id = member_id(5)
    before = ud_value(imis_id)
    c = change(imis_id, "newsletter", value=not before)

    (outcome,) = writes.write_changes([c], client=rest_client)

    assert outcome.status == imis.WRITTEN
    assert ud_value(imis_id) == (not before)
