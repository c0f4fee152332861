import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from preference_center.lib.breaker import redis_breaker
from subscribers.ratelimits import CACHE_ERRORS

from ..models import ApiKey

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """MAILING_API_RATE_LIMIT requests per key, counted in the cache (Redis in production). Fails open, as
    the member pages' rate limit does: a sick Redis must not turn every API request into an error, nor cost
    each one its timeout (the process's Redis breaker)."""

    scope = "mailing_api_key"

    def get_rate(self):
        return settings.MAILING_API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view):
        if not redis_breaker.closed():
            return True
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            redis_breaker.trip()
            logger.warning("API rate limit not counted (%s): request let through", type(exc).__name__)
            return True
