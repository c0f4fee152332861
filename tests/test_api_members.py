"""API: a member's preferences and personal links, by iMIS ID or email; setting preferences through the
same service and outbox as the member's form."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailing.models import ApiKey
from subscribers.models import Preference, PreferenceChange
from tests.factories import make_interests, make_subscriber
from tests.mailing_helpers import URLS, api_client
from tests.members_helpers import values_of

pytestmark = [pytest.mark.django_db, URLS]


def patch(client, imis_id, choices):
    return client.patch(
        f"/api/v1/members/{imis_id}/preferences/",
        {"preferences": [{"interest_id": pk, "value": value} for pk, value in choices]},
        content_type="application/json",
        headers={"User-Agent": "MailerSync/2.1"},
    )


def test_it_shows_a_member_s_preferences_and_links_by_imis_id():
    news, events = make_interests(count=2)
    subscriber = make_subscriber(imis_id="00123", on=[news], exclude_mail=True)
    client, _, _ = api_client()

    body = client.get("/api/v1/members/00123/").json()

    assert body["imis_id"] == "00123" and body["email"] == subscriber.email and body["mailable"] is False
    assert body["preferences"] == [
        {"interest_id": news.pk, "label": "Monthly newsletter", "value": True},
        {"interest_id": events.pk, "label": "Events and conferences", "value": False},
    ]
    # Excluded from mail: no personal links (tests/test_link_statuses.py has a member who gets them).
    assert body["preference_url"] is None and body["one_click_url"] is None


def test_it_404s_for_an_unknown_or_departed_member():
    make_subscriber(imis_id="1", active=False)
    client, _, _ = api_client()

    for imis_id in ("1", "2"):
        response = client.get(f"/api/v1/members/{imis_id}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_it_finds_every_member_sharing_an_address_case_insensitively():
    make_subscriber(imis_id="1", email="Family@Example.org")
    make_subscriber(imis_id="2", email="family@example.org")
    make_subscriber(imis_id="3", email="other@example.org")
    client, _, _ = api_client()

    found = client.post("/api/v1/members/lookup/", {"email": " family@EXAMPLE.org "}, content_type="application/json")
    nobody = client.post("/api/v1/members/lookup/", {"email": "nobody@example.org"}, content_type="application/json")

    assert [m["imis_id"] for m in found.json()["results"]] == ["1", "2"]
    assert nobody.status_code == 200 and nobody.json() == {"results": []}


def test_it_looks_up_a_shared_address_in_as_many_queries_for_two_members_as_for_six():
    news, events = make_interests(count=2)
    client, _, _ = api_client()

    def lookup(email):
        with CaptureQueriesContext(connection) as queries:
            body = client.post("/api/v1/members/lookup/", {"email": email}, content_type="application/json").json()
        return body["results"], len(queries)

    for n in range(2):
        make_subscriber(imis_id=f"a{n}", email="two@example.org", on=[news] if n else [])
    for n in range(6):
        make_subscriber(imis_id=f"b{n}", email="six@example.org", on=[events] if n % 2 else [news, events])
    lookup("nobody@example.org")  # the key's first use of the run records it: not what is measured
    two, two_queries = lookup("two@example.org")
    six, six_queries = lookup("six@example.org")

    assert two_queries == six_queries
    assert [[p["value"] for p in m["preferences"]] for m in two] == [[False, False], [True, False]]
    assert [[p["value"] for p in m["preferences"]] for m in six] == [[True, True], [False, True]] * 3


def test_it_refuses_a_lookup_without_an_address():
    client, _, _ = api_client()

    response = client.post("/api/v1/members/lookup/", {}, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == "email: This field is required."
    assert response.json()["errors"] == {"email": ["This field is required."]}


def test_it_saves_an_api_write_like_a_form_write_with_history_from_source_api(
    django_capture_on_commit_callbacks, pushes_recorded
):
    news, events, alerts = make_interests(count=3)
    subscriber = make_subscriber(imis_id="7", on=[events])
    client, api_key, _ = api_client(scope=ApiKey.Scope.READ_WRITE, name="Mailer")

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(client, "7", [(news.pk, True), (events.pk, False), (alerts.pk, False)])

    assert response.status_code == 200
    assert sorted(response.json()["changed"]) == sorted([news.pk, events.pk])  # alerts was off already
    assert values_of(subscriber) == {news.pk: True, events.pk: False}
    changes = PreferenceChange.objects.filter(subscriber=subscriber).order_by("interest_id")
    assert [(c.interest_id, c.old_value, c.new_value, c.source, c.state) for c in changes] == [
        (news.pk, False, True, "api", "pending"),
        (events.pk, True, False, "api", "pending"),
    ]
    assert {(c.user_agent, c.note, c.label_shown) for c in changes} >= {
        (
            "MailerSync/2.1",
            f"API key {api_key.prefix} (Mailer)",
            "Monthly newsletter: News from the association, once a month",
        )
    }
    assert pushes_recorded == [True]  # the push to iMIS was asked for once, on commit, like the form's
    assert {p["interest_id"]: p["value"] for p in response.json()["member"]["preferences"]}[news.pk] is True


def test_it_writes_nothing_when_nothing_changes():
    [news] = make_interests(count=1)
    make_subscriber(imis_id="7", on=[news])
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)

    response = patch(client, "7", [(news.pk, True)])

    assert response.status_code == 200 and response.json()["changed"] == []
    assert not PreferenceChange.objects.exists()


def test_it_refuses_an_unknown_interest_and_saves_nothing():
    news, hidden = make_interests(count=2)
    hidden.visible = False
    hidden.save()
    subscriber = make_subscriber(imis_id="7")
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)

    response = patch(client, "7", [(news.pk, True), (hidden.pk, True), (999999, False)])

    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"preferences: Not an interest on the form: {hidden.pk}, 999999. Nothing was saved."
    )
    assert not Preference.objects.filter(subscriber=subscriber).exists()
    assert not PreferenceChange.objects.exists()


@pytest.mark.parametrize(
    "body, detail",
    [
        ({}, "preferences: This field is required."),
        ({"preferences": []}, "preferences: This list may not be empty."),
        ({"preferences": [{"interest_id": 1}]}, "preferences[0].value: This field is required."),
        (
            {"preferences": [{"interest_id": "x", "value": True}]},
            "preferences[0].interest_id: A valid integer is required.",
        ),
        ({"preferences": "yes"}, 'preferences: Expected a list of items but got type "str".'),
    ],
)
def test_it_explains_a_malformed_body(body, detail):
    make_subscriber(imis_id="7")
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)

    response = client.patch("/api/v1/members/7/preferences/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"] == detail


def test_it_refuses_an_interest_listed_twice():
    [news] = make_interests(count=1)
    make_subscriber(imis_id="7")
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)

    response = patch(client, "7", [(news.pk, True), (news.pk, False)])

    assert response.status_code == 400
    assert response.json()["detail"] == f"preferences: Interest {news.pk} is listed more than once."
    assert not PreferenceChange.objects.exists()


def test_it_refuses_json_that_is_not_json():
    make_subscriber(imis_id="7")
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)

    response = client.patch("/api/v1/members/7/preferences/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db(databases=["default", "imis"])
def test_it_pushes_an_api_write_to_imis_like_a_form_write(imis_pg, django_capture_on_commit_callbacks):
    from preference_center.imis.sandbox import member_id
    from tests.conftest import fetch, q
    from tests.imis_helpers import activities, ud_value

    [news] = make_interests(count=1)  # ud_EmailPrefs.NEWSLETTER, a field of the sandbox
    imis_id = member_id(3)
    subscriber = make_subscriber(imis_id=imis_id)
    fetch(  # iMIS holds "off", as does our side (no Preference row yet): the API turns it on
        "imis",
        f"UPDATE {q('imis', 'ud_EmailPrefs')} SET {q('imis', 'NEWSLETTER')} = FALSE WHERE {q('imis', 'ID')} = %s "
        f"RETURNING {q('imis', 'ID')}",
        [imis_id],
    )
    wanted = True
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)

    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the push runs on commit
        assert patch(client, imis_id, [(news.pk, wanted)]).status_code == 200

    assert bool(ud_value(imis_id)) is wanted
    change = PreferenceChange.objects.get(subscriber=subscriber)
    assert change.state == PreferenceChange.State.DONE and change.source == "api"
    [(seqn, written_id, _type, product_code, *_)] = activities(str(change.uuid))
    assert (seqn, written_id, product_code) == (change.activity_seqn, imis_id, "NEWSLETTER")


def test_answers_with_personal_links_are_never_cached():
    news, _ = make_interests(count=2)
    make_subscriber(imis_id="00123", on=[news])
    client, _, _ = api_client()

    answers = [
        client.get("/api/v1/members/00123/"),
        client.post("/api/v1/members/lookup/", {"email": "m00123@example.org"}, content_type="application/json"),
        client.get(f"/api/v1/target-groups/{news.pk}/members/"),
        client.get(f"/api/v1/target-groups/combined/members/?any_of={news.pk}"),
    ]

    for response in answers:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
