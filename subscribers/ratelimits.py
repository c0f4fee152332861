"""Rate limits on the member's pages: a count per client (or per address asked for) in a fixed window, kept
in Django's cache (Redis in production).

Every member's page counts its request in ONE Redis round trip (preference_center.lib.cache.count_hit). That
is why this is not django-ratelimit (which needs two: add, then incr). The rules are the same: "60/m",
"10/h", "5/15m"; the keys hold a hash of the client, never an address.

When the cache cannot be reached the request is let through and logged: a member must be able to save
their choices while Redis is down (the push to iMIS has its own recovery, the outbox)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import time
from dataclasses import dataclass

from django.core.cache import cache

from preference_center.lib.breaker import unless_redis_is_sick
from preference_center.lib.cache import count_hit

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@functools.lru_cache(maxsize=32)
def parse_rate(rate: str) -> Rate:
    """ "60/m" -> 60 per 60 s; "5/15m" -> 5 per 900 s. ValueError for anything else."""
    match = _RATE.match(rate.strip())
    if not match:
        raise ValueError(f"not a rate: {rate!r} (write e.g. 60/m, 10/h, 5/15m)")
    limit, multiple, unit = match.groups()
    return Rate(int(limit), int(multiple or 1) * _UNITS[unit])


@functools.lru_cache(maxsize=1024)
def client_bucket(value: str) -> str:
    """What one client is counted as: an IPv4 address itself, an IPv6 address by its /64 (one subscriber's
    network hands out its addresses freely: each would otherwise start a fresh budget), an IPv4 address
    written as IPv6 (::ffff:a.b.c.d) as that IPv4 address. Anything else (a hash of an address asked for)
    is counted as it is."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return value


def counter_key(group: str, value: str, rate: Rate, now: float | None = None) -> str:
    """The counter of `value` (a client_bucket) in `group` for the current window (the key holds a hash)."""
    window = int((time.time() if now is None else now) // rate.period)
    digest = hashlib.sha256(f"{group}:{client_bucket(value)}".encode()).hexdigest()[:32]
    return f"rl:{group}:{digest}:{window}"


def over_limit(request, *, group: str, key, rate: str) -> bool:
    """Count this request in `group` under `key(group, request)`; True when it is over `rate` ("60/m")."""
    return over_rate(key(group, request), group=group, rate=parse_rate(rate))


def over_rate(value: str, *, group: str, rate: Rate) -> bool:
    """Count a request of `value` (a client) in `group`; True when it is over `rate`. Fails open, and stays
    open while the process's Redis breaker is (a sick Redis must not cost every request its timeout)."""
    count = unless_redis_is_sick(
        count_hit,
        cache,
        counter_key(group, value, rate),
        rate.period,
        default=0,
        warning="rate limit not counted (%s): request let through",
    )
    return count > rate.limit
