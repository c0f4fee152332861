"""The REST write path over the REST sandbox: GET, PUT with the one property, POST Activity; a retry
finds its Activity row and writes nothing twice; a member without a row is reported, or created."""

import uuid

import pytest

from preference_center import imis
from preference_center.imis.errors import ImisUnavailable
from preference_center.imis.rest import writes
from preference_center.imis.sandbox import member_id
from tests.conftest import fetch, q

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)

NO_EMAIL_PREFS_ROW = member_id(16)


def change(imis_id, value, field="NEWSLETTER", table="ud_EmailPrefs"):
    return imis.ValueChange(
        change_id=str(uuid.uuid4()),
        imis_id=imis_id,
        table_name=table,
        field_name=field,
        value=value,
        product_code=field,
        description=f"Opted {'in' if value else 'out'}: {field}",
    )


def stored(imis_id, field="NEWSLETTER"):
    return fetch(
        "imis", f"SELECT {q('imis', field)} FROM {q('imis', 'ud_EmailPrefs')} WHERE {q('imis', 'ID')} = %s", (imis_id,)
    )


def activities(change_id):
    return fetch(
        "imis",
        f"SELECT {q('imis', 'SEQN')}, {q('imis', 'ID')}, {q('imis', 'PRODUCT_CODE')} FROM {q('imis', 'Activity')}"
        f" WHERE {q('imis', 'SOURCE_CODE')} = %s",
        (change_id,),
    )


def test_it_writes_the_value_and_one_activity_row(rest_sandbox, rest_client):
    imis_id = member_id(4)
    (before,) = stored(imis_id)
    c = change(imis_id, not before[0])

    (outcome,) = writes.write_changes([c], client=rest_client)

    assert outcome.status == imis.WRITTEN
    assert stored(imis_id) == [(not before[0],)]
    assert activities(c.change_id) == [(outcome.seqn, imis_id, "NEWSLETTER")]
    assert stored(imis_id, "EVENTS") == fetch(  # the other properties stay as they were
        "imis",
        f"SELECT {q('imis', 'EVENTS')} FROM {q('imis', 'ud_EmailPrefs')} WHERE {q('imis', 'ID')} = %s",
        (imis_id,),
    )


def test_it_never_writes_a_second_activity_row_on_a_retry(rest_sandbox, rest_client):
    c = change(member_id(5), True)
    (first,) = writes.write_changes([c], client=rest_client)

    (again,) = writes.write_changes([c], client=rest_client)

    assert (again.status, again.seqn) == (imis.ALREADY_WRITTEN, first.seqn)
    assert len(activities(c.change_id)) == 1
    assert writes.written_activities([(c.imis_id, c.change_id)], client=rest_client) == {c.change_id: first.seqn}


def test_it_reports_a_member_without_a_row_and_writes_nothing(rest_sandbox, rest_client):
    c = change(NO_EMAIL_PREFS_ROW, True)

    (outcome,) = writes.write_changes([c], client=rest_client, create_missing_rows=False)

    assert outcome.status == imis.NO_UD_ROW
    assert stored(NO_EMAIL_PREFS_ROW) == []
    assert activities(c.change_id) == []


def test_it_creates_the_missing_row_when_asked(rest_sandbox, rest_client):
    c = change(NO_EMAIL_PREFS_ROW, True)

    (outcome,) = writes.write_changes([c], client=rest_client, create_missing_rows=True)

    assert outcome.status == imis.CREATED_ROW
    assert stored(NO_EMAIL_PREFS_ROW) == [(True,)]
    assert len(activities(c.change_id)) == 1


def test_it_writes_no_activity_when_the_put_fails(rest_sandbox, rest_client):
    imis_id = member_id(6)
    (before,) = stored(imis_id)
    c = change(imis_id, not before[0])
    rest_sandbox.fail_next(500, path=f"/api/ud_EmailPrefs/{imis_id}", method="PUT")
    rest_client.get_json("api/CsContact", {"limit": 1})  # logged in before the fault

    with pytest.raises(ImisUnavailable, match="500 to PUT"):
        writes.write_changes([c], client=rest_client)

    assert activities(c.change_id) == []
    assert stored(imis_id) == [before]
