from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..models import ApiKey


class ApiKeyScope(BasePermission):
    """Any valid key reads; only a read-write key writes. Views mark read-only POSTs (a look-up) with
    `read_only = True`."""

    message = "This API key is read-only: changing preferences needs a read-write key."

    def has_permission(self, request, view):
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False  # DRF answers 401: no credentials were given
        if request.method in SAFE_METHODS or getattr(view, "read_only", False):
            return True
        return api_key.can_write
