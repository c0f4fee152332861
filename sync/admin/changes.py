"""Admin of the sync: the changes list (outbox and history, read-only), sync runs, the dashboard."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator

from preference_center.admin_base import ReadOnlyAdmin
from subscribers.admin import history
from subscribers.models import PreferenceChange

from ..models import SyncRun
from ..selectors import sync_overview_get
from ..services import push
from .labels import counts_text, state_label


@admin.register(PreferenceChange)
class PreferenceChangeAdmin(ReadOnlyAdmin):
    # Fits 1280 px: the outbox's state, attempts, SEQN and next attempt read as one "in iMIS" column.
    list_display = ("created_at", "member", "interest", "change", "source", "in_imis", "error")
    list_filter = ("state", "source", "interest")
    search_fields = ("=subscriber__imis_id", "subscriber__email")
    search_help_text = "iMIS ID (exact) or email"
    list_select_related = ("subscriber", "interest")
    date_hierarchy = "created_at"
    actions = ["retry"]
    change_list_template = "admin/sync/preferencechange/change_list.html"
    fields = (
        "uuid",
        "subscriber",
        "interest",
        "old_value",
        "new_value",
        "source",
        "created_at",
        "label_shown",
        "note",
        "changed_by",
        "user_agent",
        "ip",
        "state",
        "attempts",
        "last_error",
        "claimed_at",
        "next_attempt_at",
        "synced_at",
        "activity_seqn",
    )

    readonly_fields = ("ip",)

    @admin.display(description="IP address")
    def ip(self, obj):
        return history.ip_text(obj.ip_address)

    @admin.display(description="member", ordering="subscriber__imis_id")
    def member(self, obj):
        return obj.subscriber.imis_id

    @admin.display(description="change")
    def change(self, obj):
        return history.change_text(obj)

    @admin.display(description="in iMIS", ordering="state")
    def in_imis(self, obj):
        return history.outbox_text(obj)

    @admin.display(description="last error")
    def error(self, obj):
        text = Truncator(obj.last_error).chars(60)
        table = obj.interest.table_name
        if obj.state == PreferenceChange.State.FAILED and obj.last_error.startswith(f"iMIS has no {table} row"):
            # The push's "no UD row" failure: the report gives iMIS staff the statement that fixes it.
            url = reverse("admin:sync_missingudrow_changelist") + "?" + urlencode({"table_name__exact": table})
            return format_html('{} <a href="{}">Missing UD rows</a>', text, url)
        return text

    def has_retry_permission(self, request):
        return request.user.has_perm("subscribers.change_preferencechange")

    @admin.action(description="Retry the selected failed changes (after fixing iMIS)", permissions=["retry"])
    def retry(self, request, queryset):
        selected = queryset.count()
        retried = push.changes_retry(change_ids=list(queryset.values_list("id", flat=True)))
        if retried:
            self.message_user(request, f"{retried} failed changes are pending again and being pushed.")
        if selected > retried:
            self.message_user(
                request, f"{selected - retried} selected changes had not failed: left alone.", messages.WARNING
            )

    def get_urls(self):
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="sync_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        overview = sync_overview_get()
        context = {
            **self.admin_site.each_context(request),
            "title": "Sync dashboard",
            "opts": self.model._meta,
            "overview": overview,
            # What staff read: the states' and the runs' counts' labels, not the raw keys.
            "state_rows": [(state, state_label(state), n) for state, n in overview.counts.items()],
            "run_rows": [(label, run, counts_text(run.counts) if run else "") for label, run in overview.last_runs],
        }
        return TemplateResponse(request, "admin/sync/sync_dashboard.html", context)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("kind", "started_at", "duration_display", "ok", "summary", "short_error")
    list_filter = ("kind", "ok")
    date_hierarchy = "started_at"

    @admin.display(description="counts")
    def summary(self, obj):
        return counts_text(obj.counts)

    @admin.display(description="error")
    def short_error(self, obj):
        return format_html("<span title='{}'>{}</span>", obj.error, Truncator(obj.error).chars(80))
