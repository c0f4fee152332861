"""Django's Redis cache, with what the rate limiter of the member's pages needs:

- `count_hit`: add one to a counter and give it a time to live when it is created, in ONE round trip (a
  Lua script), on a Redis connection of its own. Django's own `add` then `incr` cost two round trips (and
  its `incr` a third, to check the key exists), and redis-py's client path (its pool, retries and
  instrumentation) cost a member's page more CPU than the round trip itself (docs/benchmarks.md, "The
  rate limit's count"); every member's page pays this count, so it is paid once and plainly;
- one redis client per connection pool: Django builds a new `redis.Redis` object for every operation; the
  pools are shared already, and so can the clients built on them be (redis-py clients are thread-safe and
  notice a fork through their pool).

`count_hit(cache, ...)` below gives every other cache (the embedded default's file cache, the tests' local
memory) the same meaning with plain cache calls."""

import hashlib
import os
import threading

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import NoScriptError

# KEYS[1]: the counter; ARGV[1]: its time to live in seconds, set when the counter is created (0: none).
_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_COUNT_HIT_SHA = hashlib.sha1(_COUNT_HIT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._counting = threading.local()  # per thread and process: (pid, connection)

    def count_hit(self, key, timeout):
        try:
            return self._count_hit(key, timeout)
        except (NoScriptError, redis.ConnectionError):
            # Redis restarted (the connection it closed is replaced) or its scripts were flushed: once more,
            # with the script loaded again. A second failure is the caller's (lib.breaker).
            connection = self._counting_connection()
            connection.send_command("SCRIPT", "LOAD", _COUNT_HIT)
            connection.read_response()
            return self._count_hit(key, timeout)

    def _count_hit(self, key, timeout):
        # redis-py's Connection drops itself on a timeout or a broken socket, so no late answer is ever read
        # as the next one's; the next command connects again.
        connection = self._counting_connection()
        connection.send_command("EVALSHA", _COUNT_HIT_SHA, 1, key, timeout or 0)
        return connection.read_response()

    def _counting_connection(self):
        pid, connection = getattr(self._counting, "connection", (None, None))
        if pid != os.getpid():  # new, or inherited through a fork: never share a socket with the parent
            connection = self._get_connection_pool(write=True).make_connection()
            self._counting.connection = (os.getpid(), connection)
        return connection

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def count_hit(self, key, timeout):
        # make_key, not make_and_validate_key: the check is for memcached (a loop over every character).
        return self._cache.count_hit(self.make_key(key), timeout)


def count_hit(cache, key: str, timeout: int | None) -> int:
    """Add one to the integer at `key`, created at 1 with `timeout` seconds to live (None: for ever); the new
    count. One round trip on ReusingRedisCache; plain cache calls on any other cache."""
    fast = getattr(cache, "count_hit", None)
    if fast is not None:
        return fast(key, timeout)
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: start again
        cache.set(key, 1, timeout)
        return 1
