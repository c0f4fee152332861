"""Fixed-window rate limits: django-ratelimit's rate syntax, counted in Redis in one round trip (or in any
other cache), and let through when Redis is down."""

import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from subscribers.ratelimits import over_limit, parse_rate

REDIS_URL = "redis://127.0.0.1:6379/12"
REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}


def fresh_group():
    return f"test-{uuid.uuid4().hex}"  # keys of their own: other runs may share this Redis database


@pytest.mark.parametrize(
    ("rate", "parsed"), [("60/m", (60, 60)), ("10/h", (10, 3600)), ("3/2h", (3, 7200)), ("5/15s", (5, 15))]
)
def test_it_reads_django_ratelimit_rates(rate, parsed):
    assert parse_rate(rate) == parsed


def test_it_refuses_a_rate_it_cannot_read():
    with pytest.raises(ValueError):
        parse_rate("lots")


@override_settings(REDIS_URL=REDIS_URL, CACHES=REDIS_CACHE)
def test_it_counts_in_redis_with_an_expiry_and_limits_over_the_rate():
    group = fresh_group()
    assert [over_limit(group, "192.0.2.1", "3/h") for _ in range(4)] == [False, False, False, True]
    assert over_limit(group, "192.0.2.2", "3/h") is False  # another client
    keys = redis.Redis.from_url(REDIS_URL).keys(f"pc:rl:{group}:*")
    assert len(keys) == 2 and b"192.0.2" not in b"".join(keys)  # no addresses in the keys
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(keys[0]) <= 3601


def test_it_counts_in_any_other_cache():
    caches["default"].clear()
    group = fresh_group()
    assert [over_limit(group, "192.0.2.1", "2/m") for _ in range(3)] == [False, False, True]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0", CACHES=REDIS_CACHE)
def test_it_lets_requests_through_when_redis_is_down():
    assert over_limit(fresh_group(), "192.0.2.1", "1/m") is False
