"""Rate limits: a fixed-window count in the cache (Redis in production, one round trip), and requests let through
when Redis is down."""

import json
import os
import time
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import RequestFactory, override_settings

from preference_center.lib.cache import ReusingRedisCache, count_hit
from subscribers.ratelimits import over_limit
from tests.factories import make_interests
from tests.members_helpers import checked_ids, form_url, post, values_of

REDIS_URL = "redis://127.0.0.1:6379/12"
REDIS_CACHE = {"default": {"BACKEND": "preference_center.lib.cache.ReusingRedisCache", "LOCATION": REDIS_URL}}


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


# --- count_hit: the counter, on Redis and on any other cache --------------------------------------------


@pytest.fixture(params=["redis", "local-memory"])
def raw_cache(request):
    """A cache instance of each kind, with keys of this test's own."""
    if request.param == "redis":
        prefix = f"test-count-hit-{uuid.uuid4().hex}"
        the_cache = ReusingRedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
        yield the_cache
        the_cache.delete_many(["counter", "forever"])
    else:
        yield LocMemCache(f"test-count-hit-{uuid.uuid4().hex}", {})


def seconds_to_live(the_cache, key):
    """The key's remaining time to live in seconds, -1 if it never expires."""
    full_key = the_cache.make_key(key)
    if isinstance(the_cache, ReusingRedisCache):
        with redis.Redis.from_url(REDIS_URL) as raw:
            return raw.ttl(full_key)
    expires = the_cache._expire_info[full_key]
    return -1 if expires is None else expires - time.time()


def test_it_counts_from_one_and_sets_the_timeout_when_the_counter_is_created(raw_cache):
    assert [count_hit(raw_cache, "counter", 60) for _ in range(3)] == [1, 2, 3]
    assert raw_cache.get("counter") == 3
    assert 0 < seconds_to_live(raw_cache, "counter") <= 60
    assert count_hit(raw_cache, "forever", None) == 1
    assert seconds_to_live(raw_cache, "forever") == -1


def test_it_counts_in_one_round_trip_to_redis(monkeypatch):
    the_cache = ReusingRedisCache(REDIS_URL, {"KEY_PREFIX": f"test-count-hit-{uuid.uuid4().hex}"})
    count_hit(the_cache, "counter", 60)  # the first call loads the script
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    assert count_hit(the_cache, "counter", 60) == 2
    assert len(sent) == 1
    the_cache.delete("counter")


def test_it_counts_on_after_redis_restarts_and_forgets_its_scripts(redis_server):
    the_cache = ReusingRedisCache(redis_server.url, {"KEY_PREFIX": "restart"})
    assert [count_hit(the_cache, "counter", 60) for _ in range(2)] == [1, 2]
    redis_server.stop()  # no persistence: the counter and the script go with it
    redis_server.start()
    assert count_hit(the_cache, "counter", 60) == 1  # the closed connection replaced, the script loaded again
    with redis.Redis.from_url(redis_server.url) as raw:
        raw.script_flush()
    assert count_hit(the_cache, "counter", 60) == 2
    assert 0 < seconds_to_live_at(redis_server.url, the_cache.make_key("counter")) <= 60


def test_a_forked_process_counts_on_a_connection_of_its_own():
    """gunicorn forks its workers: on a socket shared with the parent, each would read the other's answers."""
    options = {"KEY_PREFIX": f"test-count-hit-{uuid.uuid4().hex}", "OPTIONS": {"socket_timeout": 2}}
    the_cache = ReusingRedisCache(REDIS_URL, options)
    assert count_hit(the_cache, "parent", 60) == 1  # the parent's connection, open before the fork
    the_cache.set("child", 1000)  # the child's answers cannot pass for the parent's
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its counts (or what went wrong), through the pipe
        try:
            report = [count_hit(the_cache, "child", 60) for _ in range(200)]
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            report = repr(exc)
        finally:
            os.write(write, json.dumps(report).encode())
            os._exit(0)
    try:
        parent = [count_hit(the_cache, "parent", 60) for _ in range(200)]
    except redis.RedisError as exc:
        parent = repr(exc)
    finally:
        os.waitpid(pid, 0)
        child = json.loads(os.read(read, 65536))
        os.close(read), os.close(write)
    assert (parent, child) == (list(range(2, 202)), list(range(1001, 1201)))
    the_cache.delete_many(["parent", "child"])


def seconds_to_live_at(url, full_key):
    with redis.Redis.from_url(url) as raw:
        return raw.ttl(full_key)


# --- the member's pages with Redis down ----------------------------------------------------------------


@pytest.mark.django_db
@override_settings(CACHES={"default": {**REDIS_CACHE["default"], "LOCATION": "redis://127.0.0.1:1/0"}})
def test_a_member_can_read_and_save_their_page_when_redis_is_down(client, member, caplog):
    newsletter, events = make_interests(count=2)
    url = form_url(member)
    assert client.get(url).status_code == 200
    assert post(client, url, [events]).status_code == 302
    assert values_of(member) == {events.pk: True}
    assert checked_ids(client.get(url).content.decode()) == {events.pk}
    assert "rate limit not counted" in caplog.text
