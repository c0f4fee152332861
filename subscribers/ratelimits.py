"""Rate limits on the member's pages, counted by django-ratelimit in Django's cache (Redis in production).

One rule of our own on top: when the cache cannot be reached, the request is let through and logged. A
member must be able to save their choices while Redis is down (the push to iMIS has its own recovery, the
outbox); django-ratelimit would raise, and every member page would answer 500.
"""

from __future__ import annotations

import logging

import redis
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


def over_limit(request, *, group: str, key, rate: str) -> bool:
    """Count this request in `group` under `key(group, request)`; True when it is over `rate` ("60/m")."""
    try:
        return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
    except (redis.RedisError, OSError) as exc:
        logger.warning("rate limit not counted (%s): request let through", type(exc).__name__)
        return False
