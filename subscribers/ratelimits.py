"""Fixed-window rate limits (django-ratelimit's rate syntax and counting), in one Redis round trip.

django-ratelimit counts through Django's Redis cache: ADD, then EXISTS and INCR, three round trips, each
through a redis client object built afresh by the cache backend. On the member's page, which a mailing day
hammers, that cost as much as loading the member and their choices. Here a process keeps one client (and
its connection pool) and sends INCR and EXPIRE in one pipeline. With another cache (the embedded default,
the tests) the counting goes through the cache API: add, then incr.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_clients: dict[str, redis.Redis] = {}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/m" -> (60, 60), "3/2h" -> (3, 7200): the limit and the window in seconds."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"not a rate: {rate!r} (e.g. 60/m, 10/h, 5/15m)")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNITS[unit]


def _redis() -> redis.Redis | None:
    if not settings.REDIS_URL or not isinstance(caches["default"], RedisCache):
        return None
    client = _clients.get(settings.REDIS_URL)
    if client is None:
        client = _clients[settings.REDIS_URL] = redis.Redis.from_url(settings.REDIS_URL)
    return client


def over_limit(group: str, ident: str, rate: str) -> bool:
    """Count one request of `ident` (e.g. a client IP) in `group`; True when it is over `rate`.

    If Redis cannot be reached the request is let through (and logged): a member must be able to save
    their choices while the cache is down, and the push to iMIS has its own recovery (the outbox)."""
    limit, period = parse_rate(rate)
    window = int(time.time()) // period
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no IP addresses in the cache's keys
    key = f"pc:rl:{group}:{period}:{window}:{digest}"
    client = _redis()
    try:
        if client is not None:
            pipe = client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, period + 1)
            count = pipe.execute()[0]
        else:
            cache = caches["default"]
            cache.add(key, 0, period + 1)
            count = cache.incr(key)
    except (redis.RedisError, OSError, ValueError) as exc:
        logger.warning("rate limit not counted (%s): request let through", type(exc).__name__)
        return False
    return count > limit
