"""Django's Redis cache, cheaper where every request counts (the member's pages on a mailing day):

- one redis client per connection pool: Django builds a new `redis.Redis` object for every operation
  (about 0.1 ms with redis-py 8); the pools are shared already, and so can the clients built on them be
  (redis-py clients are thread-safe and notice a fork through their pool);
- `counted_round_trip`: count a request and read, drop, bump and set a few other keys in ONE round trip.
  A round trip to Redis costs about as much as the rest of a cached page; the member's page needs a
  rate-limit count and its cached state, and a save needs to drop the member's entry, bump their version
  and take a lease (subscribers.member_cache);
- `set_unanswered`: a set that waits for no reply (CLIENT REPLY SKIP, where the server honours it): a
  member's page read from the database is kept for the next request without a second round trip in this
  one.

`counted_round_trip(cache, ...)` below gives every other cache (the embedded default's file cache, the
tests' local memory) the same meaning with plain cache calls."""

import contextlib

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# KEYS: the counter, then ARGV[2] keys to read, ARGV[3] keys to delete, ARGV[4] keys to increment, then the
# keys to set. ARGV[1]: the counter's timeout in seconds, set when the counter is created (0: none); from
# ARGV[5] on, a (value, seconds to live) pair per key to set.
_COUNTED_ROUND_TRIP = """
local count = redis.call('INCR', KEYS[1])
if count == 1 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local k = 1
local values = {}
for i = 1, tonumber(ARGV[2]) do k = k + 1; values[i] = redis.call('GET', KEYS[k]) or false end
for i = 1, tonumber(ARGV[3]) do k = k + 1; redis.call('DEL', KEYS[k]) end
for i = 1, tonumber(ARGV[4]) do k = k + 1; redis.call('INCR', KEYS[k]) end
local a = 5
while k < #KEYS do k = k + 1; redis.call('SET', KEYS[k], ARGV[a], 'EX', ARGV[a + 1]); a = a + 2 end
return {count, values}
"""


_PROBE = b"pc-reply-skip-probe"
_PROBE_KEY = "pc:reply-skip-probe"
PROBE_SECONDS = 2


@contextlib.contextmanager
def _connection_of(pool):
    """A connection of `pool`, disconnected if anything fails while it is out: a half-sent command or an
    unread reply must not reach the next user of the connection."""
    connection = pool.get_connection()
    try:
        yield connection
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def _honours_reply_skip(pool) -> bool:
    """An ACL, a proxy or a managed service may refuse CLIENT REPLY SKIP (or pass it on without its meaning),
    and a SKIP not honoured would leave the SET's reply unread, to answer whatever the connection is asked
    next. So the very sequence set_unanswered sends is tried once, followed by a PING: honoured, the PING's
    is the only reply. Every reply is read up to the PING's (or for PROBE_SECONDS, and then the connection
    is dropped): the connection goes back to the pool with nothing left to read."""
    with _connection_of(pool) as connection:
        connection.send_packed_command(
            connection.pack_command("CLIENT", "REPLY", "SKIP")
            + connection.pack_command("SET", _PROBE_KEY, 1, "EX", 60)
            + connection.pack_command("PING", _PROBE)
        )
        replies = 0
        try:
            while True:
                replies += 1
                try:
                    if connection.read_response(timeout=PROBE_SECONDS) == _PROBE:
                        return replies == 1
                except ResponseError:  # CLIENT (or SET) refused
                    pass
        except RedisTimeoutError:  # the PING refused too, or never answered: the plain way, on a new connection
            connection.disconnect()
            return False


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}
        self._skipping = {}  # pool id: whether CLIENT REPLY SKIP is honoured

    def _script(self, client, source):
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts[(id(client), source)] = client.register_script(source)
        return script

    def counted_round_trip(self, counter, timeout, get, delete, incr, set):
        client = self.get_client(counter, write=True)
        args = [timeout or 0, len(get), len(delete), len(incr)]
        for value, seconds in set.values():
            args += [self._serializer.dumps(value), seconds]
        script = self._script(client, _COUNTED_ROUND_TRIP)
        count, values = script(keys=[counter, *get, *delete, *incr, *set], args=args)
        return count, [None if v is None else self._serializer.loads(v) for v in values]

    def set_unanswered(self, key, value, timeout):
        client = self.get_client(key, write=True)
        value = self._serializer.dumps(value)
        if not self._skips_replies(client.connection_pool):
            client.set(key, value, ex=timeout)
            return
        with _connection_of(client.connection_pool) as connection:
            # Redis sends no reply to the SET after CLIENT REPLY SKIP (nor to that command itself): the
            # connection has nothing left to read when it goes back to the pool.
            connection.send_packed_command(
                connection.pack_command("CLIENT", "REPLY", "SKIP")
                + connection.pack_command("SET", key, value, "EX", timeout)
            )

    def _skips_replies(self, pool) -> bool:
        """Whether the server honours CLIENT REPLY SKIP, asked once per pool (see _honours_reply_skip)."""
        known = self._skipping.get(id(pool))
        if known is None:
            known = self._skipping[id(pool)] = _honours_reply_skip(pool)
        return known

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

    def set_unanswered(self, key, value, timeout):
        self._cache.set_unanswered(self.make_key(key), value, int(timeout))

    def counted_round_trip(self, counter, timeout, get=(), delete=(), incr=(), set=None):
        # make_key, not make_and_validate_key: the check is for memcached (a loop over every character).
        key = self.make_key
        count, values = self._cache.counted_round_trip(
            key(counter),
            timeout,
            [key(k) for k in get],
            [key(k) for k in delete],
            [key(k) for k in incr],
            {key(k): v for k, v in (set or {}).items()},
        )
        return count, dict(zip(get, values, strict=True))


def set_unanswered(cache, key: str, value, timeout: int) -> None:
    """cache.set(key, value, timeout) (seconds, > 0), without waiting for Redis's reply: a store that may be
    lost (a cache entry, not data). Connection errors are raised as cache.set raises them."""
    fast = getattr(cache, "set_unanswered", None)
    if fast is None:
        cache.set(key, value, timeout)
    else:
        fast(key, value, timeout)


def counted_round_trip(
    cache, counter: str, timeout: int | None, *, get=(), delete=(), incr=(), set=None
) -> tuple[int, dict]:
    """Add one to the integer at `counter` (created at 1 with `timeout` seconds to live, None: for ever),
    then read the keys of `get`, delete the keys of `delete`, add one to the integers at `incr` (created at
    1, never expiring) and set `set` {key: (value, seconds to live)}: (the new count, {key: value or None}).

    One atomic round trip on ReusingRedisCache; plain cache calls on any other cache."""
    fast = getattr(cache, "counted_round_trip", None)
    if fast is not None:
        return fast(counter, timeout, get, delete, incr, set)
    count = _incr(cache, counter, timeout)
    values = cache.get_many(list(get)) if get else {}
    if delete:
        cache.delete_many(list(delete))
    for key in incr:
        _incr(cache, key, None)
    for key, (value, seconds) in (set or {}).items():
        cache.set(key, value, seconds)
    return count, {key: values.get(key) for key in get}


def _incr(cache, key, timeout) -> int:
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: start again
        cache.set(key, 1, timeout)
        return 1
