"""A per-process circuit breaker for Redis: after a Redis call fails, the process leaves Redis alone for
REDIS_BREAKER_SECONDS.

A hung or refusing Redis costs every call its timeout (REDIS_TIMEOUT) or its error; without the breaker a
member's save would pay it twice (the rate limit's count, then the push message) on every request, for as
long as Redis is sick. With it, one request per process and per REDIS_BREAKER_SECONDS pays, and the others
go on without Redis: the rate limit lets them through, the push is left to the sweeper (the pending rows
are the outbox). The breaker closes by itself once the time is up: the next call tries Redis again.

No lock: a sync gunicorn worker serves one request at a time, and a race between two threads costs at
most one more try."""

import time

from django.conf import settings


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
