from django.contrib import admin

from preference_center.admin_base import ReadOnlyAdmin

from ..models import SkippedImisField


@admin.register(SkippedImisField)
class SkippedImisFieldAdmin(ReadOnlyAdmin):
    """Read-only: what the last discovery did not offer, and why. Discovery alone writes it."""

    list_display = ["table_name", "field_name", "reason", "seen_at"]
    list_filter = ["table_name"]
    search_fields = ["table_name", "field_name", "reason"]

    def _may_see_interests(self, request):
        # Whoever may see the interests may see why a field is not among them.
        return request.user.has_perm("interests.view_remoteinterest") or request.user.has_perm(
            "interests.change_remoteinterest"
        )

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._may_see_interests(request)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._may_see_interests(request)
