"""Health probes: /healthz (liveness, no I/O) and /readyz (our database and Redis; iMIS reported only),
against the real PostgreSQL and a private redis-server that the tests kill and freeze."""

import json
import socket

import pytest
import redis
from django.db import connections
from django.test import override_settings

from ops import health
from tests.workers import free_port

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


@pytest.fixture(autouse=True)
def _fresh_imis_answer():
    health._imis_result.clear()
    yield
    health._imis_result.clear()


def _ready(client, **settings):
    with override_settings(**settings):
        response = client.get("/readyz")
        return response, json.loads(response.content)


def test_it_answers_liveness_without_a_query_whatever_the_host_and_scheme(client, django_assert_num_queries):
    with override_settings(SECURE_SSL_REDIRECT=True), django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")  # a load balancer, by address, over HTTP
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


def test_it_is_ready_when_the_database_and_redis_answer(client, redis_server):
    response, body = _ready(client, REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "imis": True,
    }


def test_it_is_not_ready_when_redis_is_down_and_says_no_more_than_which(client, redis_server):
    redis_server.stop()
    response, body = _ready(client, REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url)
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError", "ms": body["checks"]["redis"]["ms"]}
    assert body["checks"]["database"]["ok"] is True
    assert str(redis_server.port) not in response.content.decode()  # no addresses, no URLs


def test_it_gives_up_on_a_hung_redis_at_its_timeout_and_the_next_probes_wait_for_the_same_ping(
    client, redis_server, monkeypatch
):
    # The probe's own client stops waiting when the probe does (its socket timeout is HEALTH_CHECK_TIMEOUT),
    # a race either may win: this one waits as long as Redis takes, so only the probe's timeout ends a probe.
    monkeypatch.setitem(health._redis_clients, redis_server.url, redis.Redis.from_url(redis_server.url))
    hung = {"REDIS_URL": redis_server.url, "CELERY_BROKER_URL": redis_server.url, "HEALTH_CHECK_TIMEOUT": 0.5}
    redis_server.freeze()  # stopped, not dead: connections open, no replies
    try:
        probes = [(*_ready(client, **hung), health._running["redis"]) for _ in range(3)]
    finally:
        redis_server.thaw()
    first_ping = probes[0][2]
    for response, body, ping in probes:
        assert response.status_code == 503 and body["checks"]["database"]["ok"] is True
        assert body["checks"]["redis"] == {"ok": False, "error": "timeout", "ms": 500.0}
        assert ping is first_ping  # the next probes wait for the hung ping: none queues behind it
    first_ping.result(timeout=10)  # Redis answers the hung ping at last, and the next probe is ready again
    assert _ready(client, REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url)[0].status_code == 200


def test_it_says_timeout_for_a_hung_redis_whichever_gives_up_first(client, redis_server):
    # The probe's own Redis client has the probe's timeout as its socket timeout: the probe's deadline and
    # the client's race, and a later probe may find the ping already failed by its client.
    hung = {"REDIS_URL": redis_server.url, "CELERY_BROKER_URL": redis_server.url, "HEALTH_CHECK_TIMEOUT": 0.3}
    redis_server.freeze()
    try:
        answers = [_ready(client, **hung)[1]["checks"]["redis"] for _ in range(6)]
    finally:
        redis_server.thaw()
    assert answers == [{"ok": False, "error": "timeout", "ms": 300.0}] * 6


def test_it_gives_up_on_a_hung_database_at_its_timeout_and_the_next_probes_wait_for_the_same_check(client):
    """A server that takes the connection and never answers (a stopped PostgreSQL keeps its port open)."""
    hung = socket.create_server(("127.0.0.1", 0))  # the kernel completes the handshake; nobody ever answers
    default = connections.settings["default"]
    saved = {key: default.get(key) for key in ("HOST", "PORT")}
    default.update(HOST="127.0.0.1", PORT=str(hung.getsockname()[1]))
    try:
        probes = [(*_ready(client, HEALTH_CHECK_TIMEOUT=0.5), health._running["database"]) for _ in range(3)]
    finally:
        default.update(saved)
        hung.close()  # the hung check fails now, and its thread is free again
    first_check = probes[0][2]
    for response, body, check in probes:
        assert response.status_code == 503
        assert body["checks"]["database"] == {"ok": False, "error": "timeout", "ms": 500.0}
        assert check is first_check  # the next probes wait for the hung check: none queues behind it
    first_check.exception(timeout=10)
    assert _ready(client)[0].status_code == 200


def test_it_stays_ready_while_imis_is_down_and_reports_it(client):
    imis = connections.settings["imis"]
    saved = {key: imis.get(key) for key in ("HOST", "PORT", "OPTIONS")}
    imis.update(HOST="127.0.0.1", PORT=str(free_port()), OPTIONS={"connect_timeout": 1})
    try:
        response, body = _ready(client)
    finally:
        imis.update(saved)
    assert response.status_code == 200
    assert body["checks"]["imis"]["ok"] is False
    assert body["checks"]["imis"]["fails_readiness"] is False
    assert "127.0.0.1" not in response.content.decode() and "password" not in response.content.decode()


def test_it_reuses_the_answer_of_imis_for_a_while(client):
    _ready(client)
    imis = connections.settings["imis"]
    saved = {key: imis.get(key) for key in ("HOST", "PORT", "OPTIONS")}
    imis.update(HOST="127.0.0.1", PORT=str(free_port()), OPTIONS={"connect_timeout": 1})
    try:
        _, body = _ready(client)  # within IMIS_RECHECK_SECONDS: iMIS is not asked again
        assert body["checks"]["imis"]["ok"] is True
        health._imis_result["at"] -= health.IMIS_RECHECK_SECONDS
        _, body = _ready(client)
        assert body["checks"]["imis"]["ok"] is False
    finally:
        imis.update(saved)


def test_it_is_never_rate_limited(client):
    with override_settings(PREFERENCES_RATE_LIMIT="2/m", LOST_LINK_RATE_LIMIT="2/h"):
        statuses = {client.get(path).status_code for path in ["/healthz", "/readyz"] * 10}
    assert statuses == {200}


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_over_rest_it_reports_whether_the_site_answers_not_a_database(client, over_rest):
    """With only IMIS_API_* set the `imis` database is nobody's iMIS: the probe asks the site."""
    _, up = _ready(client)
    over_rest.stop()
    health._imis_result.clear()
    response, down = _ready(client)

    assert up["checks"]["imis"]["ok"] is True
    assert response.status_code == 200 and down["checks"]["imis"]["ok"] is False
    assert over_rest.url not in response.content.decode()
