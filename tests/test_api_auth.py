"""API authentication, scopes and rate limits: every refusal is JSON that says why."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from mailing.models import ApiKey
from mailing.services.api_keys import api_key_revoke, hash_key
from tests.factories import make_interests, make_subscriber
from tests.mailing_helpers import URLS, api_client

pytestmark = [pytest.mark.django_db, URLS]

INTERESTS = "/api/v1/interests/"


def test_it_refuses_a_request_without_a_key_with_401_json():
    response = Client().get(INTERESTS)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Bearer pc_00000000_notarealkeynotarealkeynotarealk", "Invalid API key."),
        ("Bearer something-else", "Invalid API key."),
        ("Token pc_00000000_x", "Malformed Authorization header: send 'Authorization: Bearer <API key>'."),
        ("Bearer", "Malformed Authorization header: send 'Authorization: Bearer <API key>'."),
    ],
)
def test_it_refuses_a_bad_key_with_401_json(header, detail):
    response = Client(headers={"Authorization": header}).get(INTERESTS)

    assert response.status_code == 401
    assert response.json() == {"status": 401, "code": "authentication_failed", "detail": detail}


def test_it_refuses_a_revoked_key_at_the_next_request():
    client, api_key, _ = api_client()
    assert client.get(INTERESTS).status_code == 200

    api_key_revoke(api_key_ids=[api_key.pk])
    response = client.get(INTERESTS)

    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has been revoked."


def test_it_stores_only_a_hash_of_the_key():
    _, api_key, raw_key = api_client()

    api_key.refresh_from_db()
    stored = [str(value) for value in ApiKey.objects.filter(pk=api_key.pk).values().get().values()]
    assert raw_key not in stored
    assert api_key.key_hash == hash_key(raw_key)
    assert raw_key.startswith(f"pc_{api_key.prefix}_")


def test_it_lets_a_read_only_key_read_but_not_write():
    [interest] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="1")
    client, _, _ = api_client(scope=ApiKey.Scope.READ)

    assert client.get(f"/api/v1/members/{subscriber.imis_id}/").status_code == 200
    response = client.patch(
        f"/api/v1/members/{subscriber.imis_id}/preferences/",
        {"preferences": [{"interest_id": interest.pk, "value": True}]},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "code": "permission_denied",
        "detail": "This API key is read-only: changing preferences needs a read-write key.",
    }
    assert not subscriber.preferences.exists()


def test_it_lets_a_read_only_key_look_members_up_by_email():
    make_subscriber(imis_id="1", email="ann@example.org")
    client, _, _ = api_client(scope=ApiKey.Scope.READ)

    response = client.post("/api/v1/members/lookup/", {"email": "ann@example.org"}, content_type="application/json")

    assert response.status_code == 200
    assert [m["imis_id"] for m in response.json()["results"]] == ["1"]


@override_settings(MAILING_API_RATE_LIMIT="3/minute")
def test_it_limits_requests_per_key_with_429_json():
    cache.clear()
    first, _, _ = api_client(name="first")
    second, _, _ = api_client(name="second")

    statuses = [first.get(INTERESTS).status_code for _ in range(4)]
    response = first.get(INTERESTS)

    assert statuses == [200, 200, 200, 429]
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert second.get(INTERESTS).status_code == 200  # counted per key, not globally


def test_it_records_when_a_key_was_last_used():
    client, api_key, _ = api_client()
    assert api_key.last_used_at is None

    client.get(INTERESTS)

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_it_answers_json_for_an_unknown_api_url():
    response = Client().get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
