from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..models import ApiKey

CREATOR_CANNOT = (
    "The staff user who created this API key may no longer {what} (deactivated, or a permission was "
    "withdrawn): ask for a new key."
)


def _rights(request):
    client = request.user
    return client.rights if isinstance(request.auth, ApiKey) else None


class ApiKeyScope(BasePermission):
    """A key reads while its creator may read members; only a read-write key writes, while its creator may
    change preferences. Views mark read-only POSTs (a look-up) with `read_only = True`."""

    message = "This API key is read-only: changing preferences needs a read-write key."

    def has_permission(self, request, view):
        rights = _rights(request)
        if rights is None:
            return False  # DRF answers 401: no credentials were given
        if not rights.read:
            self.message = CREATOR_CANNOT.format(what="read members")
            return False
        if request.method in SAFE_METHODS or getattr(view, "read_only", False):
            return True
        if request.auth.scope != ApiKey.Scope.READ_WRITE:
            return False
        if not rights.write:
            self.message = CREATOR_CANNOT.format(what="change members' preferences")
        return rights.write


class LinksScope(BasePermission):
    """Personal links (the CSV exports) need a key made to read them, whose creator may still export."""

    message = (
        "This API key may not read personal links: create a key with “may read personal links” (needs the "
        "“Can export target groups” permission)."
    )

    def has_permission(self, request, view):
        rights = _rights(request)
        return rights is not None and rights.links


def links_allowed(request) -> bool:
    """Whether personal links may be shown in this request's answers (see serializers.LinksMixin)."""
    rights = _rights(request)
    return rights is not None and rights.links
