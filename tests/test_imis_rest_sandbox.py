"""The REST sandbox answers in the documented iMIS REST shapes, from the SQL replica, over HTTP."""

import subprocess
import sys

import httpx
import pytest

from preference_center.imis.rest import shapes
from preference_center.imis.rest.sandbox_server import RestSandbox
from preference_center.imis.sandbox import member_id
from tests.conftest import fetch, q
from tests.imis_helpers import counter, ud_value

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)

NO_EMAIL_PREFS_ROW = member_id(16)  # the sandbox skips ud_EmailPrefs for every 17th member


def login(sandbox, password=None):
    response = httpx.post(
        sandbox.url + "token",
        data={"grant_type": "password", "username": sandbox.username, "password": password or sandbox.password},
    )
    return response


def api(sandbox, method, path, token, **kwargs):
    return httpx.request(method, sandbox.url + path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


@pytest.fixture
def token(rest_sandbox):
    return login(rest_sandbox).json()["access_token"]


def test_it_expires_a_token_when_the_same_user_logs_in_again(rest_sandbox):
    first = login(rest_sandbox).json()
    assert api(rest_sandbox, "GET", "api/CsContact", first["access_token"]).status_code == 200
    second = login(rest_sandbox).json()

    assert api(rest_sandbox, "GET", "api/CsContact", first["access_token"]).status_code == 401
    assert api(rest_sandbox, "GET", "api/CsContact", second["access_token"]).status_code == 200
    assert first["token_type"] == "bearer" and first["expires_in"] == rest_sandbox.token_seconds


def test_it_expires_tokens_after_their_lifetime():
    from preference_center.imis.sandbox import build_sandbox

    build_sandbox("imis", members=5)
    sandbox = RestSandbox("imis", token_seconds=0).start()  # a token lives no time at all
    try:
        token = login(sandbox).json()["access_token"]
        assert api(sandbox, "GET", "api/CsContact", token).status_code == 401
    finally:
        sandbox.stop()


def test_it_refuses_a_wrong_password(rest_sandbox):
    response = login(rest_sandbox, password="wrong")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_it_describes_the_ud_tables_as_business_objects_with_boolean_bit_properties(rest_sandbox, token):
    page = api(rest_sandbox, "GET", "api/BOEntityDefinition", token, params={"limit": 500}).json()
    definitions = {d["EntityTypeName"]: d for d in shapes.values(page["Items"])}

    assert set(definitions) == {"ud_EmailPrefs", "UD_Topics", "ud_Committees"}  # ud_Retired has no table
    prefs = definitions["ud_EmailPrefs"]
    assert (prefs["ObjectTypeName"], prefs["PrimaryParentEntityTypeName"]) == ("Single", "Party")
    assert definitions["ud_Committees"]["ObjectTypeName"] == "Multi"
    properties = {p["Name"]: p for p in shapes.values(prefs["Properties"])}
    assert set(properties) == {"ID", "NEWSLETTER", "EVENTS", "ADVOCACY_ALERT", "PREFERRED_DAY"}
    assert properties["NEWSLETTER"]["PropertyTypeName"] == "Boolean"
    assert properties["NEWSLETTER"]["ExtendedPropertyInformation"]["DbDataType"] == "Bit"
    assert properties["NEWSLETTER"]["Caption"] == "Monthly newsletter"
    assert properties["PREFERRED_DAY"]["PropertyTypeName"] == "String"


def test_it_serves_contacts_paged_from_the_name_table(rest_sandbox, token):
    page = api(rest_sandbox, "GET", "api/CsContact", token, params={"limit": 10, "offset": 30}).json()

    assert (page["Offset"], page["Limit"], page["Count"], page["TotalCount"]) == (30, 10, 10, 40)
    assert (page["HasNext"], page["NextOffset"]) == (False, 0)
    first = shapes.properties(shapes.values(page["Items"])[0])
    (row,) = fetch(
        "imis",
        f"SELECT {q('imis', 'FULL_NAME')}, {q('imis', 'EMAIL')}, {q('imis', 'EXCLUDE_MAIL')} FROM {q('imis', 'Name')}"
        f" WHERE {q('imis', 'ID')} = %s",
        (member_id(30),),
    )
    assert (first["ID"], first["FullName"], first["Email"], first["ExcludeMail"]) == (member_id(30), *row)


def test_it_caps_a_page_at_500(rest_sandbox, token):
    page = api(rest_sandbox, "GET", "api/CsContact", token, params={"limit": 5000}).json()

    assert page["Limit"] == 500


def test_it_answers_404_for_a_member_without_a_ud_row(rest_sandbox, token):
    entity = shapes.generic_entity("ud_EmailPrefs", NO_EMAIL_PREFS_ROW, [shapes.property_item("NEWSLETTER", True)])

    assert api(rest_sandbox, "GET", f"api/ud_EmailPrefs/{NO_EMAIL_PREFS_ROW}", token).status_code == 404
    assert api(rest_sandbox, "PUT", f"api/ud_EmailPrefs/{NO_EMAIL_PREFS_ROW}", token, json=entity).status_code == 404


def test_it_writes_a_put_row_back_to_the_replica(rest_sandbox, token):
    imis_id = member_id(3)
    row = api(rest_sandbox, "GET", f"api/ud_EmailPrefs/{imis_id}", token).json()
    current = shapes.as_bool(shapes.properties(row)["EVENTS"])

    answer = api(
        rest_sandbox,
        "PUT",
        f"api/ud_EmailPrefs/{imis_id}",
        token,
        json=shapes.set_property(row, "EVENTS", shapes.wrap_bool(not current)),
    )

    assert answer.status_code == 200
    assert ud_value(imis_id, "EVENTS") == (not current)


def test_it_adds_an_activity_row_with_the_next_counter_value(rest_sandbox, token):
    before = counter()
    items = [
        shapes.property_item("PartyId", member_id(2)),
        shapes.property_item("ACTIVITY_TYPE", "iOptout"),
        shapes.property_item("PRODUCT_CODE", "NEWSLETTER"),
        shapes.property_item("SOURCE_CODE", "change-uuid-1"),
    ]

    answer = api(
        rest_sandbox,
        "POST",
        "api/Activity",
        token,
        json=shapes.generic_entity("Activity", member_id(2), items, keyed=False),
    )

    assert answer.status_code == 201
    assert shapes.properties(answer.json())["SEQN"] == before + 1
    rows = fetch(
        "imis",
        f"SELECT {q('imis', 'SEQN')}, {q('imis', 'ID')}, {q('imis', 'ACTIVITY_TYPE')} FROM {q('imis', 'Activity')}"
        f" WHERE {q('imis', 'SOURCE_CODE')} = 'change-uuid-1'",
    )
    assert rows == [(before + 1, member_id(2), "iOptout")]


def test_it_refuses_an_activity_without_a_type_in_the_validation_shape(rest_sandbox, token):
    entity = shapes.generic_entity(
        "Activity", member_id(2), [shapes.property_item("PartyId", member_id(2))], keyed=False
    )

    answer = api(rest_sandbox, "POST", "api/Activity", token, json=entity)

    assert answer.status_code == 400
    assert "ACTIVITY_TYPE" in shapes.values(answer.json()["Errors"])[0]["Message"]


def test_it_injects_faults_asked_for_over_its_control_api(rest_sandbox, token):
    httpx.post(rest_sandbox.url + "_sandbox/faults", json={"status": 429, "retry_after": 7, "path": "/api/CsContact"})

    throttled = api(rest_sandbox, "GET", "api/CsContact", token)

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    assert api(rest_sandbox, "GET", "api/CsContact", token).status_code == 200


def test_its_dry_run_validates_a_row_and_writes_nothing(rest_sandbox, token):
    imis_id = member_id(3)
    row = api(rest_sandbox, "GET", f"api/ud_EmailPrefs/{imis_id}", token).json()
    current = shapes.as_bool(shapes.properties(row)["EVENTS"])
    changed = shapes.set_property(row, "EVENTS", shapes.wrap_bool(not current))

    valid = api(rest_sandbox, "POST", "api/ud_EmailPrefs/_validate", token, json=changed)
    unknown = api(
        rest_sandbox, "POST", "api/ud_EmailPrefs/_validate", token, json=shapes.set_property(row, "NOPE", "1")
    )

    assert (valid.status_code, valid.json()["IsValid"]) == (200, True)
    assert unknown.status_code == 400
    assert "NOPE" in shapes.values(unknown.json()["Errors"])[0]["Message"]
    assert ud_value(imis_id, "EVENTS") == current


def test_a_read_only_user_reads_and_may_not_write(rest_sandbox, token):
    httpx.post(rest_sandbox.url + "_sandbox/read-only", json={"read_only": True})
    imis_id = member_id(3)
    row = api(rest_sandbox, "GET", f"api/ud_EmailPrefs/{imis_id}", token)

    put = api(rest_sandbox, "PUT", f"api/ud_EmailPrefs/{imis_id}", token, json=row.json())
    dry_run = api(rest_sandbox, "POST", "api/Activity/_validate", token, json={})

    assert row.status_code == 200
    assert (put.status_code, dry_run.status_code) == (403, 403)
    assert put.json()["Message"].startswith("SecurityFault")


def test_it_reads_checkbox_values_wrapped_or_bare():
    assert shapes.as_bool({"$type": "System.Boolean", "$value": True}) is True
    assert shapes.as_bool({"$type": "System.Boolean", "$value": False}) is False
    assert shapes.as_bool(True) is True
    assert shapes.as_bool("True") is True
    assert shapes.as_bool(None) is False


def test_the_management_command_serves_the_sandbox(rest_sandbox):
    process = subprocess.Popen(
        [sys.executable, "manage.py", "imis_rest_sandbox", "--port", "0", "--settings=tests.settings"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "iMIS REST sandbox on http://127.0.0.1:" in line
        url = line.split(" on ")[1].split(" ")[0]
        response = httpx.post(
            url + "token", data={"grant_type": "password", "username": "SANDBOX", "password": "sandbox"}
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(10)
