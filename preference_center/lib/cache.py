"""Django's Redis cache, with what the rate limiter of the member's pages needs:

- `count_hit`: add one to a counter and give it a time to live when it is created, in ONE round trip (a
  Lua script). Django's own `add` then `incr` cost two (and its `incr` a third, to check the key exists);
  every member's page pays this count, so it is paid once;
- one redis client per connection pool: Django builds a new `redis.Redis` object for every operation; the
  pools are shared already, and so can the clients built on them be (redis-py clients are thread-safe and
  notice a fork through their pool).

`count_hit(cache, ...)` below gives every other cache (the embedded default's file cache, the tests' local
memory) the same meaning with plain cache calls."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# KEYS[1]: the counter; ARGV[1]: its time to live in seconds, set when the counter is created (0: none).
_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}

    def count_hit(self, key, timeout):
        client = self.get_client(key, write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(_COUNT_HIT)
        return script(keys=[key], args=[timeout or 0])

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
