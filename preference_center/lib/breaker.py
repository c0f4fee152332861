"""A per-process circuit breaker for Redis: after a Redis call fails, the process leaves Redis alone for
REDIS_BREAKER_SECONDS.

A hung or refusing Redis costs every call its timeout (REDIS_TIMEOUT) or its error; without the breaker a
member's save would pay it twice (the rate limit's count, then the push message) on every request, for as
long as Redis is sick. With it, one request per process and per REDIS_BREAKER_SECONDS pays, and the others
go on without Redis: the rate limit lets them through, the push is left to the sweeper (the pending rows
are the outbox). The breaker closes by itself once the time is up: the next call tries Redis again.

No lock: a sync gunicorn worker serves one request at a time, and a race between two threads costs at
most one more try."""

import logging
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# What a sick Redis raises: its client's errors, and the socket's.
REDIS_ERRORS = (redis.RedisError, OSError)


class Breaker:
    def __init__(self):
        self._failed_at = None  # time.monotonic() of the last failure

    def closed(self) -> bool:
        """Whether Redis may be tried now."""
        failed_at = self._failed_at
        return failed_at is None or time.monotonic() >= failed_at + settings.REDIS_BREAKER_SECONDS

    def trip(self) -> None:
        """A Redis call failed: stay away for REDIS_BREAKER_SECONDS."""
        self._failed_at = time.monotonic()

    def reset(self) -> None:
        self._failed_at = None


redis_breaker = Breaker()


def unless_redis_is_sick(call, *args, default=None, warning: str):
    """`call(*args)`, or `default` while the breaker is open or when the call fails; a failure trips the
    breaker and logs `warning` (a %s for the error's class, never its text: it may name hosts)."""
    if not redis_breaker.closed():
        return default
    try:
        return call(*args)
    except REDIS_ERRORS as exc:
        redis_breaker.trip()
        logger.warning(warning, type(exc).__name__)
        return default
