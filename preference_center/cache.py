"""Django's Redis cache, cheaper where every request counts (the member's pages on a mailing day):

- one redis client per connection pool: Django builds a new `redis.Redis` object for every operation
  (about 0.1 ms with redis-py 8); the pools are shared already, and so can the clients built on them be
  (redis-py clients are thread-safe and notice a fork through their pool);
- `count_get_delete`: count a request and read and drop a few keys in ONE round trip. A round trip to Redis
  costs about as much as the rest of a cached page; the member's page needs a rate-limit count and its
  cached state, and a save needs to drop the member's entry and bump their version.

`count_get_delete(cache, ...)` below gives every other cache (the embedded default's file cache, the tests'
local memory) the same meaning with plain cache calls."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# KEYS[1]: the counter; then ARGV[2] keys to read, then the keys to delete (the last of them may be set
# instead, see count_get_delete). ARGV[1]: the counter's timeout in seconds, set when the counter is created
# (0: none); ARGV[3]: the count at which the last key is set (0: never) to ARGV[4] for ARGV[5] seconds.
_COUNT_GET_DELETE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local n = tonumber(ARGV[2])
local values = {}
for i = 1, n do values[i] = redis.call('GET', KEYS[i + 1]) or false end
local last = #KEYS
if tonumber(ARGV[3]) > 0 and count == tonumber(ARGV[3]) then
  redis.call('SET', KEYS[last], ARGV[4], 'EX', ARGV[5])
  last = last - 1
end
for i = n + 2, last do redis.call('DEL', KEYS[i]) end
return {count, values}
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}

    def _script(self, client, source):
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts[(id(client), source)] = client.register_script(source)
        return script

    def count_get_delete(self, counter, timeout, get, delete, set_at=None):
        client = self.get_client(counter, write=True)
        args = [timeout or 0, len(get), 0, "", 0]
        if set_at is not None:
            at_count, value, seconds = set_at
            args[2:] = [at_count, self._serializer.dumps(value), seconds]
        script = self._script(client, _COUNT_GET_DELETE)
        count, values = script(keys=[counter, *get, *delete], args=args)
        return count, [None if v is None else self._serializer.loads(v) for v in values]

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

    def count_get_delete(self, counter, timeout, get=(), delete=(), set_at=None):
        # make_key, not make_and_validate_key: the check is for memcached (a loop over every character).
        keys = [self.make_key(k) for k in (counter, *get, *delete)]
        got = keys[1 : 1 + len(get)]
        count, values = self._cache.count_get_delete(keys[0], timeout, got, keys[1 + len(get) :], set_at)
        return count, dict(zip(get, values, strict=True))


def count_get_delete(cache, counter: str, timeout: int | None, get=(), delete=(), set_at=None) -> tuple[int, dict]:
    """Add one to the integer at `counter` (created at 1 with `timeout` seconds to live, None: for ever),
    read the keys of `get` and delete the keys of `delete`: (the new count, {key: value or None}).
    `set_at=(count, value, seconds)`: if the new count is `count`, the last key of `delete` is set to `value`
    for `seconds` instead of being deleted.

    One atomic round trip on ReusingRedisCache; plain cache calls on any other cache."""
    if set_at is not None and not delete:
        raise ValueError("set_at sets the last key of `delete`: give one")
    fast = getattr(cache, "count_get_delete", None)
    if fast is not None:
        return fast(counter, timeout, get, delete, set_at)
    if cache.add(counter, 1, timeout):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between the two calls: this request starts a new count
            cache.set(counter, 1, timeout)
            count = 1
    values = cache.get_many(list(get)) if get else {}
    delete = list(delete)
    if set_at is not None and count == set_at[0]:
        cache.set(delete.pop(), set_at[1], set_at[2])
    if delete:
        cache.delete_many(delete)
    return count, {key: values.get(key) for key in get}
