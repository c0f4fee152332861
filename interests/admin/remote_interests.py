"""Manage iMIS Remote Interests: staff choose which iMIS checkbox fields members see, and how."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from subscribers import form_page
from subscribers.selectors import form_specs, interests_with_audience
from sync.selectors import discovery_last_run
from sync.services.discovery import interests_discover

from .. import selectors, services
from ..models import RemoteInterest

# (move, symbol, what it does) of the buttons in each row.
MOVE_BUTTONS = (
    ("top", "⤒", "to the top"),
    ("up", "▲", "up one place"),
    ("down", "▼", "down one place"),
    ("bottom", "⤓", "to the bottom"),
)
# Revealed by static/interests/admin_reorder.js: without the script it would do nothing.
DRAG_HANDLE = mark_safe(
    '<span class="drag-handle" hidden title="Drag to move" aria-hidden="true" style="cursor:move">☰</span> '
)


def _log_changes(request, interests, message):
    if interests:
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=interests, action_flag=CHANGE, change_message=message
        )


@admin.register(RemoteInterest)
class RemoteInterestAdmin(admin.ModelAdmin):
    list_display = [
        "imis_field",
        "visible",
        "label",
        "description",
        "group",
        "product_code",
        "audience",
    ]
    list_display_links = ["imis_field"]
    list_editable = ["label", "description", "group", "visible", "product_code"]
    list_filter = ["visible", "present_in_imis", "table_name", "group"]
    search_fields = ["table_name", "field_name", "prompt", "label", "description", "group", "product_code"]
    ordering = ["position", "id"]
    list_per_page = 200
    actions = ["show_on_form", "hide_from_form", "move_to_top", "move_up", "move_down", "move_to_bottom"]
    fieldsets = [
        ("In iMIS", {"fields": ["table_name", "field_name", "prompt", "micro_help", "present_in_imis"]}),
        ("On the member form", {"fields": ["label", "description", "group", "position", "visible"]}),
        ("In French", {"fields": ["label_fr", "description_fr", "group_fr"]}),
        ("Activity rows", {"fields": ["product_code"]}),
        ("Discovery", {"fields": ["discovered_at", "last_seen_at"]}),
    ]
    readonly_fields = [
        "table_name",
        "field_name",
        "prompt",
        "micro_help",
        "present_in_imis",
        "discovered_at",
        "last_seen_at",
    ]

    class Media:
        js = ["interests/admin_reorder.js"]

    changelist_widgets = {
        # Narrow enough for the list to fit 1280 px; the change page has the room for long texts.
        "label": forms.TextInput(attrs={"size": 14}),
        "description": forms.Textarea(attrs={"rows": 2, "cols": 16}),
        "group": forms.TextInput(attrs={"size": 8}),
        "product_code": forms.TextInput(attrs={"size": 6}),
    }

    # --- what is shown ----------------------------------------------------------------------------

    def get_queryset(self, request):
        return interests_with_audience(super().get_queryset(request))

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.has_change_permission(request):
            columns.append(self._order_column(request))
        return columns

    def get_changelist_formset(self, request, **kwargs):
        return super().get_changelist_formset(request, widgets=self.changelist_widgets, **kwargs)

    @admin.display(description="field and prompt in iMIS", ordering="table_name")
    def imis_field(self, obj):
        # "Present in iMIS" is said here only when it is not: one column fewer for the list to fit 1280 px.
        gone = "" if obj.present_in_imis else mark_safe('<br><strong class="errornote">gone from iMIS</strong>')
        return format_html("{}<br><small>{}</small>{}", obj.imis_name, obj.prompt, gone)

    @admin.display(description="members with it on", ordering="audience")
    def audience(self, obj):
        return obj.audience

    def _order_column(self, request):
        """The ⤒ ▲ ▼ ⤓ buttons of each row: submit buttons of the changelist form that post it to the move
        view (formaction), so they need no script; the filters of the page come back after the move."""
        back = urlencode({"_changelist_filters": request.GET.urlencode()}) if request.GET else ""

        @admin.display(description="order")
        def order(obj):
            return DRAG_HANDLE + format_html_join(
                " ",
                '<button type="submit" class="button" formaction="{}{}" title="Move {}" aria-label="Move {} {}">'
                "{}</button>",
                (
                    (
                        reverse("admin:interests_remoteinterest_move", args=[obj.pk, move]),
                        f"?{back}" if back else "",
                        title,
                        obj,
                        title,
                        symbol,
                    )
                    for move, symbol, title in MOVE_BUTTONS
                ),
            )

        return order

    # --- who may do what ----------------------------------------------------------------------------

    def has_add_permission(self, request):
        return False  # interests come from iMIS through discovery only

    def has_delete_permission(self, request, obj=None):
        return False  # never deleted: their history refers to them

    # --- bulk actions -------------------------------------------------------------------------------

    def _set_visible(self, request, queryset, visible):
        changed = services.interests_set_visible(interests=queryset, visible=visible)
        _log_changes(request, changed, [{"changed": {"fields": ["visible"]}}])
        where = "shown on" if visible else "hidden from"
        self.message_user(request, f"{len(changed)} interest(s) {where} the member form.", messages.SUCCESS)

    @admin.action(description="Show on the member form", permissions=["change"])
    def show_on_form(self, request, queryset):
        self._set_visible(request, queryset, True)

    @admin.action(description="Hide from the member form", permissions=["change"])
    def hide_from_form(self, request, queryset):
        self._set_visible(request, queryset, False)

    def _move(self, request, ids, move):
        changed = services.interests_move(interest_ids=ids, move=move)
        _log_changes(request, changed, [{"changed": {"fields": ["position"]}}])
        return changed

    @admin.action(description="Move to the top", permissions=["change"])
    def move_to_top(self, request, queryset):
        self._move(request, queryset.values_list("pk", flat=True), "top")

    @admin.action(description="Move up one place", permissions=["change"])
    def move_up(self, request, queryset):
        self._move(request, queryset.values_list("pk", flat=True), "up")

    @admin.action(description="Move down one place", permissions=["change"])
    def move_down(self, request, queryset):
        self._move(request, queryset.values_list("pk", flat=True), "down")

    @admin.action(description="Move to the bottom", permissions=["change"])
    def move_to_bottom(self, request, queryset):
        self._move(request, queryset.values_list("pk", flat=True), "bottom")

    # --- extra views --------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("refresh/", wrap(self.refresh_view), name="interests_remoteinterest_refresh"),
            path("preview/", wrap(self.preview_view), name="interests_remoteinterest_preview"),
            path("reorder/", wrap(self.reorder_view), name="interests_remoteinterest_reorder"),
            path(
                "<int:pk>/move/<str:move>/",
                wrap(self.move_view),
                name="interests_remoteinterest_move",
            ),
            *super().get_urls(),
        ]

    def _changelist_url(self, request):
        """Back to the changelist with the staff's filters kept."""
        url = reverse("admin:interests_remoteinterest_changelist")
        filters = request.GET.get("_changelist_filters", "")
        return f"{url}?{filters}" if filters else url

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "last_discovery": discovery_last_run(),
            "skipped_count": selectors.skipped_fields().count(),
            "may_refresh": self.has_change_permission(request),
            "title": "Manage iMIS Remote Interests",
        }
        return super().changelist_view(request, extra_context)

    @staticmethod
    def _refresh_message(run):
        return f"Refreshed from iMIS: {run.outcome.summary}."

    def refresh_view(self, request):
        """The "Refresh from iMIS" button: run discovery now and say what it did."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = interests_discover()
        if run.ok:
            self.message_user(request, self._refresh_message(run), messages.SUCCESS)
        else:
            self.message_user(request, f"{run.error}. Nothing was changed.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:interests_remoteinterest_changelist"))

    def move_view(self, request, pk, move):
        """The ▲ ▼ buttons of a row."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if move not in services.MOVES or not RemoteInterest.objects.filter(pk=pk).exists():
            self.message_user(request, "No such interest or move: nothing was changed.", messages.ERROR)
        else:
            self._move(request, [pk], move)
        return HttpResponseRedirect(self._changelist_url(request))

    def reorder_view(self, request):
        """Drag and drop (static/interests/admin_reorder.js): `order` = the dragged page's ids, comma-separated."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            ids = [int(i) for i in request.POST.get("order", "").split(",") if i.strip()]
            changed = services.interests_reorder(interest_ids=ids)
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        _log_changes(request, changed, [{"changed": {"fields": ["position"]}}])
        return JsonResponse({"moved": len(changed)})

    def preview_view(self, request):
        """The member form as configured now, for staff to look at: nothing here can be submitted."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Preview of the member form",
            # The member form's own markup (subscribers.forms), unticked: what members see, exactly.
            "fieldsets": form_page.fieldsets(form_specs(), {}),
            "hidden_by_imis": list(selectors.interests_hidden_by_imis()),
        }
        return TemplateResponse(request, "admin/interests/remoteinterest/preview.html", context)
