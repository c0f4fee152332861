from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows staff look at but never add, edit or delete: history, deliveries, what iMIS reported."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
