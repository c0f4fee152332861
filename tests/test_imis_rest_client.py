"""The iMIS REST client against the REST sandbox over HTTP: shared token, renewal on 401, throttling,
errors as ImisUnavailable / ImisRefused, streamed paging."""

import threading
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import override_settings

from preference_center.imis.errors import ImisRefused, ImisUnavailable
from preference_center.imis.rest import client as client_module
from preference_center.imis.rest import shapes
from preference_center.imis.rest.client import RestClient
from preference_center.imis.sandbox import build_sandbox, member_id
from tests.conftest import fetch, q

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)

CONTACTS = "api/CsContact"


def contact_requests(sandbox):
    return [r for r in sandbox.requests if r[1] == "/" + CONTACTS]


def test_it_logs_in_once_for_two_threads_that_start_together(rest_sandbox):
    cache.clear()
    rest_sandbox.slow_next(0.5, path="/token")  # both threads find no token while the first login runs
    results, errors = [], []

    def worker():
        client = RestClient(rest_sandbox.url, rest_sandbox.username, rest_sandbox.password)
        try:
            results.append(client.get_json(CONTACTS, {"limit": 1}))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 2
    assert rest_sandbox.logins() == 1
    assert [r for r in rest_sandbox.requests if r[1] == "/" + CONTACTS] == [("GET", "/" + CONTACTS)] * 2


def test_it_renews_the_token_once_and_replays_the_request_on_a_401(rest_sandbox, rest_client):
    rest_client.get_json(CONTACTS, {"limit": 1})
    rest_sandbox.expire_tokens()  # as a restart or "Purge System Cache" does

    page = rest_client.get_json(CONTACTS, {"limit": 1})

    assert page["Count"] == 1
    assert rest_sandbox.logins() == 2
    assert rest_sandbox.requests[-3:] == [("GET", "/" + CONTACTS), ("POST", "/token"), ("GET", "/" + CONTACTS)]


def test_it_refuses_after_a_second_401_without_logging_in_again(rest_sandbox, rest_client):
    rest_client.get_json(CONTACTS, {"limit": 1})
    rest_sandbox.fail_next(401, count=2, path="/" + CONTACTS)

    with pytest.raises(ImisRefused, match="401"):
        rest_client.get_json(CONTACTS, {"limit": 1})
    assert rest_sandbox.logins() == 2


def test_it_waits_as_long_as_retry_after_says_on_a_429(rest_sandbox, rest_client, monkeypatch):
    rest_client.get_json(CONTACTS, {"limit": 1})
    rest_sandbox.fail_next(429, retry_after=7, path="/" + CONTACTS)
    waits = []
    monkeypatch.setattr(client_module, "time", SimpleNamespace(sleep=waits.append))

    page = rest_client.get_json(CONTACTS, {"limit": 1})

    assert page["Count"] == 1
    assert waits == [7]
    assert len(contact_requests(rest_sandbox)) == 3


def test_it_gives_up_as_unavailable_when_throttling_outlasts_the_retries(rest_sandbox, rest_client):
    rest_sandbox.fail_next(503, count=20, retry_after=0, path="/" + CONTACTS)

    with pytest.raises(ImisUnavailable, match="503"):
        rest_client.get_json(CONTACTS)
    assert len(contact_requests(rest_sandbox)) == 5  # the first try and 4 retries


def test_it_raises_unavailable_on_a_500_and_never_replays_a_post(rest_sandbox, rest_client):
    rest_sandbox.fail_next(500, count=5, path="/api/Activity")
    body = shapes.generic_entity("Activity", member_id(0), [shapes.property_item("ACTIVITY_TYPE", "iOptout")])

    with pytest.raises(ImisUnavailable, match="500"):
        rest_client.request("POST", "api/Activity", json=body)
    assert [r for r in rest_sandbox.requests if r[1] == "/api/Activity"] == [("POST", "/api/Activity")]


def test_it_raises_unavailable_when_imis_answers_too_slowly(rest_sandbox):
    cache.clear()
    client = RestClient(rest_sandbox.url, rest_sandbox.username, rest_sandbox.password, read_timeout=0.3)
    client.get_json(CONTACTS, {"limit": 1})
    rest_sandbox.slow_next(1.5, path="/" + CONTACTS)

    with pytest.raises(ImisUnavailable, match="in time"):
        client.get_json(CONTACTS, {"limit": 1})


def test_it_raises_unavailable_when_nothing_listens():
    cache.clear()
    client = RestClient("http://127.0.0.1:9/", "SANDBOX", "sandbox", connect_timeout=1)

    with pytest.raises(ImisUnavailable, match="unreachable"):
        client.get_json(CONTACTS)


def test_it_refuses_with_imis_own_message_on_a_400(rest_sandbox, rest_client):
    body = shapes.generic_entity("ud_EmailPrefs", member_id(0), [shapes.property_item("BOGUS", True)])

    with pytest.raises(ImisRefused, match="Property 'BOGUS' is not defined on ud_EmailPrefs"):
        rest_client.request("PUT", f"api/ud_EmailPrefs/{member_id(0)}", json=body)


def test_it_refuses_a_wrong_password_with_the_login_message(rest_sandbox):
    cache.clear()
    client = RestClient(rest_sandbox.url, rest_sandbox.username, "wrong")

    with pytest.raises(ImisRefused, match="user name or password is incorrect"):
        client.get_json(CONTACTS)


def test_it_streams_every_member_in_pages_of_at_most_500_in_a_stable_order(rest_sandbox, rest_client):
    build_sandbox("imis", members=1200)
    expected = [row[0] for row in fetch("imis", f"SELECT {q('imis', 'ID')} FROM {q('imis', 'Name')} ORDER BY 1")]

    pages = rest_client.iter_pages(CONTACTS, page_size=1000)
    first = next(pages)
    assert len(contact_requests(rest_sandbox)) == 1  # a generator: one page fetched at a time
    rest = list(pages)

    ids = [shapes.properties(item)["ID"] for page in [first, *rest] for item in page]
    assert [len(page) for page in [first, *rest]] == [500, 500, 200]
    assert ids == expected
    assert len(expected) == 1200


def test_it_sends_no_more_requests_at_once_than_the_setting_allows(rest_sandbox):
    cache.clear()
    client = RestClient(rest_sandbox.url, rest_sandbox.username, rest_sandbox.password, max_in_flight=2)
    client.get_json(CONTACTS, {"limit": 1})
    rest_sandbox.slow_next(0.3, count=6, path="/" + CONTACTS)
    rest_sandbox.in_flight_peak = 0

    threads = [threading.Thread(target=client.get_json, args=(CONTACTS, {"limit": 1})) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert rest_sandbox.in_flight_peak == 2
    assert len(contact_requests(rest_sandbox)) == 7


def test_it_counts_imis_unavailable_while_the_shared_token_cache_is_down(rest_sandbox, redis_server):
    redis_cache = {"BACKEND": "preference_center.lib.cache.ReusingRedisCache", "LOCATION": redis_server.url}
    with override_settings(CACHES={"default": {**redis_cache, "OPTIONS": {"socket_connect_timeout": 0.5}}}):
        client = RestClient(rest_sandbox.url, rest_sandbox.username, rest_sandbox.password)
        assert client.get_json("api/CsContact", {"limit": 1})["Count"] == 1
        redis_server.stop()

        with pytest.raises(ImisUnavailable, match="shared iMIS token is out of reach"):
            client.get_json("api/CsContact", {"limit": 1})
        client.close()
