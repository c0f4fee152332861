"""The Redis breaker in one process, against a port where no Redis listens (connections refused): after one
failure, neither the rate limit nor a save's push asks Redis again until REDIS_BREAKER_SECONDS have passed.
(tests/test_faults_redis.py runs the same through gunicorn against a frozen and a killed redis-server.)"""

import logging

import pytest
from django.test import override_settings

from subscribers.ratelimits import Rate, over_rate
from sync.outbox import push_soon
from tests.workers import free_port, publishing_to

RATE = Rate(limit=1, period=60)


@pytest.fixture
def refused_url():
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def refusing_cache(refused_url):
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": refused_url}
    with override_settings(CACHES={"default": backend}):
        yield


@pytest.fixture
def refusing_broker(refused_url):
    with publishing_to(refused_url):
        yield


def warnings(caplog, text):
    return sum(text in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_the_rate_limit_asks_a_refusing_redis_once_and_lets_requests_through(refusing_cache, caplog):
    assert [over_rate("client", group="page", rate=RATE) for _ in range(5)] == [False] * 5
    assert warnings(caplog, "rate limit not counted") == 1

    with override_settings(REDIS_BREAKER_SECONDS=0):  # the breaker's time is up: Redis is tried again
        over_rate("client", group="page", rate=RATE)
    assert warnings(caplog, "rate limit not counted") == 2


@override_settings(PUSH_COALESCE_SECONDS=0)
def test_saves_leave_their_push_to_the_sweeper_after_a_failed_send(refusing_broker, caplog):
    for _ in range(5):
        push_soon()
    assert warnings(caplog, "push not enqueued") == 1

    with override_settings(REDIS_BREAKER_SECONDS=0):
        push_soon()
    assert warnings(caplog, "push not enqueued") == 2


@pytest.mark.django_db
def test_the_api_answers_while_redis_refuses_and_asks_it_once(refusing_cache, caplog):
    from tests.mailing_helpers import api_client

    client, _key, _raw = api_client()

    statuses = [client.get("/api/v1/interests/").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert warnings(caplog, "API rate limit not counted") == 1
