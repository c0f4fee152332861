"""Rate limits: a fixed-window count in the cache (Redis in production, one round trip), and requests let through
when Redis is down."""

import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import RequestFactory, override_settings

from subscribers.ratelimits import over_limit

REDIS_URL = "redis://127.0.0.1:6379/12"
REDIS_CACHE = {"default": {"BACKEND": "preference_center.cache.ReusingRedisCache", "LOCATION": REDIS_URL}}


def request_from(ip):
    return RequestFactory().get("/p/x/", REMOTE_ADDR=ip)


def by_ip(group, request):
    return request.META["REMOTE_ADDR"]


def fresh_group():
    return f"test-{uuid.uuid4().hex}"  # keys of their own: other runs may share this Redis database


@override_settings(CACHES=REDIS_CACHE)
def test_it_counts_in_redis_and_limits_over_the_rate():
    group = fresh_group()
    results = [over_limit(request_from("192.0.2.1"), group=group, key=by_ip, rate="3/h") for _ in range(4)]
    assert results == [False, False, False, True]
    assert over_limit(request_from("192.0.2.2"), group=group, key=by_ip, rate="3/h") is False  # another client
    keys = redis.Redis.from_url(REDIS_URL).keys("*rl:*")
    assert keys and b"192.0.2" not in b"".join(keys)  # no addresses in the keys


def test_it_counts_in_any_other_cache():
    caches["default"].clear()
    group = fresh_group()
    results = [over_limit(request_from("192.0.2.1"), group=group, key=by_ip, rate="2/m") for _ in range(3)]
    assert results == [False, False, True]


@override_settings(CACHES={"default": {**REDIS_CACHE["default"], "LOCATION": "redis://127.0.0.1:1/0"}})
def test_it_lets_requests_through_when_redis_is_down():
    assert over_limit(request_from("192.0.2.1"), group=fresh_group(), key=by_ip, rate="1/m") is False


@pytest.mark.django_db
@override_settings(CACHES={"default": {**REDIS_CACHE["default"], "LOCATION": "redis://127.0.0.1:1/0"}})
def test_a_member_page_still_answers_when_redis_is_down(client):
    assert client.get("/p/not-a-real-token/").status_code == 404  # the friendly page, not a 500


@override_settings(CACHES=REDIS_CACHE)
def test_the_production_cache_keeps_one_client_and_still_works():
    cache = caches["default"]
    key = fresh_group()
    assert cache.add(key, 1, 60) is True and cache.add(key, 1, 60) is False
    assert cache.incr(key) == 2 and cache.get(key) == 2
    assert cache._cache.get_client(key) is cache._cache.get_client(key, write=True)


@override_settings(CACHES=REDIS_CACHE)
def test_the_production_cache_refuses_to_incr_a_missing_key_like_django():
    with pytest.raises(ValueError):
        caches["default"].incr(fresh_group())


def test_a_rate_that_does_not_parse_stops_the_start(settings):
    from django.core import checks

    settings.PREFERENCES_RATE_LIMIT = "sixty a minute"
    errors = [m for m in checks.run_checks() if m.id == "subscribers.E001"]
    assert len(errors) == 1 and "PREFERENCES_RATE_LIMIT" in errors[0].msg
    settings.PREFERENCES_RATE_LIMIT = "5/15m"
    assert not [m for m in checks.run_checks() if m.id == "subscribers.E001"]
