"""Admin of members: Subscriber with preferences and history inline, link actions."""

from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.utils import timezone

from ..models import Preference, PreferenceChange, Subscriber, mailable_q
from ..services.links import links_csv_lines
from ..services.preferences import subscribers_rotate_tokens


class MailableFilter(admin.SimpleListFilter):
    title = "mailable"
    parameter_name = "mailable"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Yes: may be sent links"),
            ("no", "No: inactive, no email, excluded, or a status LINK_STATUSES leaves out"),
        ]

    def queryset(self, request, queryset):
        mailable = mailable_q()
        if self.value() == "yes":
            return queryset.filter(mailable)
        if self.value() == "no":
            return queryset.exclude(mailable)
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PreferenceInline(ReadOnlyInline):
    model = Preference
    fields = ("interest", "value", "imis_value", "updated_at")
    readonly_fields = fields
    verbose_name_plural = "current choices (value here, and the last value seen in or written to iMIS)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("interest").order_by("interest__position", "interest_id")


class PreferenceChangeInline(ReadOnlyInline):
    model = PreferenceChange
    fields = (
        "created_at",
        "interest",
        "old_value",
        "new_value",
        "source",
        "state",
        "label_shown",
        "note",
        "ip_address",
    )
    readonly_fields = fields
    verbose_name_plural = "history (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("interest").order_by("-created_at", "-id")


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("imis_id", "email", "full_name", "status", "active", "is_mailable", "updated_at")
    list_filter = ("active", MailableFilter, "exclude_mail", "status")
    search_fields = ("=imis_id", "email")
    search_help_text = "iMIS ID (exact) or email address"
    ordering = ("imis_id",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = (
        "imis_id",
        "email",
        "first_name",
        "last_name",
        "full_name",
        "status",
        "is_company",
        "exclude_mail",
        "active",
        "token_version",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = [PreferenceInline, PreferenceChangeInline]
    actions = ["rotate_links", "export_links"]

    def has_add_permission(self, request):
        return False  # members come from iMIS

    def has_delete_permission(self, request, obj=None):
        return False  # deactivated, never deleted: their history stays

    @admin.display(boolean=True, description="mailable")
    def is_mailable(self, obj):
        return obj.mailable

    @admin.action(description="Rotate personal links (old links stop working)", permissions=["change"])
    def rotate_links(self, request, queryset):
        rotated = subscribers_rotate_tokens(subscriber_ids=queryset.values_list("pk", flat=True))
        for subscriber in queryset:
            self.log_change(request, subscriber, "Rotated the personal link (token version bumped).")
        self.message_user(request, f"{rotated} link(s) rotated: send these members a new link.", messages.SUCCESS)

    def has_export_permission(self, request):
        # Personal links are credentials: the same permission as the target groups' export.
        return request.user.has_perm("mailing.export_targetgroup")

    @admin.action(description="Export personal links (CSV, mailable members only)", permissions=["export"])
    def export_links(self, request, queryset):
        response = StreamingHttpResponse(links_csv_lines(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="personal-links-{timezone.now():%Y%m%d-%H%M}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
