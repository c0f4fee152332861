"""API keys in `Authorization: Bearer <key>`; a clear 401 for a missing, unknown or revoked key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from ..services.api_keys import api_key_for, api_key_rights, api_key_touch

KEYWORD = b"bearer"


class ApiClient:
    """request.user of an API request: the mailing system, known by its key (not a Django user)."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.rights = api_key_rights(api_key)  # once per request: the creator's permissions as they are now

    def __str__(self):
        return f"API key {self.api_key.prefix}"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts:
            return None  # NotAuthenticated: 401 "API key missing"
        if parts[0].lower() != KEYWORD or len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send 'Authorization: Bearer <API key>'."
            )
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        api_key = api_key_for(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not api_key.active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        api_key_touch(api_key=api_key)
        return ApiClient(api_key), api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key created in the admin (Mailing system › API keys), shown once at creation.",
        }
