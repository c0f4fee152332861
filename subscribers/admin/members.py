"""Admin of members: Subscriber with preferences and history inline, staff changing a member's choices,
link actions."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import form_page
from ..models import Preference, PreferenceChange, Subscriber, mailable_q
from ..selectors import form_state, mask_email
from ..services.links import links_csv_lines
from ..services.preferences import subscribers_rotate_tokens
from . import history
from .choices import NOTE_FIELD, choices_fieldnames, choices_form_class, choices_save


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
    fields = ("created_at", "interest", "change", "source", "who", "note", "state", "ip")
    readonly_fields = fields
    verbose_name_plural = "history (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("interest", "changed_by").order_by("-created_at", "-id")

    @admin.display(description="change")
    def change(self, obj):
        return history.change_text(obj)

    @admin.display(description="who")
    def who(self, obj):
        return history.who_text(obj)

    @admin.display(description="IP address")
    def ip(self, obj):
        return history.ip_text(obj.ip_address)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("imis_id", "email", "full_name", "status", "active", "is_mailable", "updated_at")
    list_filter = ("active", MailableFilter, "exclude_mail", "status")
    search_fields = ("=imis_id", "email", "last_name", "first_name", "full_name")
    search_help_text = "Searches the iMIS ID (exact), email address, first and last name (or part of them)."
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
    inlines = [PreferenceInline, PreferenceChangeInline]
    actions = ["rotate_links", "export_links"]

    def has_add_permission(self, request):
        return False  # members come from iMIS

    def has_delete_permission(self, request, obj=None):
        return False  # deactivated, never deleted: their history stays

    def get_urls(self):
        view = self.admin_site.admin_view(require_GET(self.as_member_view))
        return [path("<int:object_id>/as-member/", view, name="subscribers_subscriber_as_member"), *super().get_urls()]

    def as_member_view(self, request, object_id):
        """The member's page as they see it, with their choices now: read-only, and no link (token) made."""
        member = get_object_or_404(Subscriber, pk=object_id)
        if not self.has_view_permission(request, member):
            raise PermissionDenied
        state = form_state(subscriber_id=member.pk)
        context = {
            "imis_id": member.imis_id,
            "first_name": member.first_name,
            "masked_email": mask_email(member.email),
            "fieldsets": form_page.fieldsets(state.specs, state.values),
            "back_url": reverse("admin:subscribers_subscriber_change", args=[member.pk]),
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/as_member.html", context)

    def has_change_permission(self, request, obj=None):
        # The only change staff make on a member is to their choices (the rest comes from iMIS); a member
        # who left the roster is not changed. Without it the page is read-only, with no Save button.
        allowed = request.user.has_perm("subscribers.change_preference")
        return allowed and (obj is None or obj.active)

    def _choices(self, request, obj):
        """The member's choices as the form offers them, read once per request."""
        cached = getattr(request, "_member_choices", None)
        if cached is None or cached[0] != obj.pk:
            cached = request._member_choices = (obj.pk, form_state(subscriber_id=obj.pk))
        return cached[1]

    def get_fieldsets(self, request, obj=None):
        member = (None, {"fields": self.readonly_fields})
        if obj is None or not self.has_change_permission(request, obj):
            return [member]
        choices = {
            "fields": choices_fieldnames(self._choices(request, obj)),
            "description": "A member's request (by phone or mail): tick their choices, say why, and save. "
            "The change goes to iMIS and into the history below with your name.",
        }
        return [member, ("Change the member's choices", choices)]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and self.has_change_permission(request, obj):
            kwargs["form"] = choices_form_class(self._choices(request, obj))
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        # The member's own fields are iMIS's (read-only here): only the choices are saved.
        changes = choices_save(form=form, state=self._choices(request, obj), subscriber=obj, user=request.user)
        if changes:
            self.message_user(request, f"{len(changes)} choice(s) changed; on their way to iMIS.", messages.SUCCESS)
        else:
            self.message_user(request, "Nothing changed: the member's choices were already so.", messages.INFO)

    def construct_change_message(self, request, form, formsets, add=False):
        labels = [str(form.fields[name].label) for name in form.changed_data if name != NOTE_FIELD]
        return f"Changed choices: {', '.join(labels) or 'none'} (note: {form.cleaned_data[NOTE_FIELD]})."

    @admin.display(boolean=True, description="mailable")
    def is_mailable(self, obj):
        return obj.mailable

    def has_rotate_permission(self, request):
        return request.user.has_perm("subscribers.change_subscriber")

    @admin.action(description="Rotate personal links (old links stop working)", permissions=["rotate"])
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
