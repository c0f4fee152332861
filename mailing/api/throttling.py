from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """MAILING_API_RATE_LIMIT requests per key, counted in the cache (Redis in production)."""

    scope = "mailing_api_key"

    def get_rate(self):
        return settings.MAILING_API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
