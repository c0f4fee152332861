from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from preference_center.lib.breaker import unless_redis_is_sick

from ..models import ApiKey


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
        allow = super().allow_request
        warning = "API rate limit not counted (%s): request let through"
        return unless_redis_is_sick(allow, request, view, default=True, warning=warning)
