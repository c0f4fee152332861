"""Manage iMIS Remote Interests: staff choose which iMIS checkbox fields members see, and how.

Order: rows are dragged (django-admin-sortable2) or moved with the ⤒ ▲ ▼ ⤓ buttons, and each move is saved
at once without reloading the page, so labels typed and not yet saved stay on the page. The list reads
as the member form does: groups in the order of their first interest, each group's interests together."""

import json

from adminsortable2.admin import SortableAdminMixin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .. import selectors, services
from ..models import RemoteInterest
from . import extensions
from .places import NO_GROUP, order_payload, places

# (move, symbol, what it does) of the buttons in each row.
MOVE_BUTTONS = (
    ("top", "⤒", "to the top of its group"),
    ("up", "▲", "up one place"),
    ("down", "▼", "down one place"),
    ("bottom", "⤓", "to the bottom of its group"),
)


# Why a drag or a button may move nothing: the list keeps each group together, as the form does.
NOTHING_MOVED = "A group's interests stay together, as on the form: change its group to move it under another heading."


def _log_changes(request, interests, message):
    if interests:
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=interests, action_flag=CHANGE, change_message=message
        )


def _extension_column(column):
    @admin.display(description=column.description, ordering=column.name)
    def show(obj):
        return getattr(obj, column.name)

    show.__name__ = column.name
    return show


def _places(request):
    """Each interest's place on the form, computed once per request (one query)."""
    if not hasattr(request, "_interest_places"):
        request._interest_places = places()
    return request._interest_places


class GroupFilter(admin.SimpleListFilter):
    """By group heading, in the form's order; interests without one are named by the heading members read."""

    title = "group heading"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        groups = dict.fromkeys(RemoteInterest.objects.order_by("position", "id").values_list("group", flat=True))
        return [(group, group or f"none (“{NO_GROUP}”)") for group in groups]

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(group=self.value())


class _ListTemplate(admin.ModelAdmin):
    # sortable2's list template extends the one named here (it adds the drag and drop's settings to it).
    change_list_template = "admin/interests/remoteinterest/change_list.html"


@admin.register(RemoteInterest)
class RemoteInterestAdmin(SortableAdminMixin, _ListTemplate):
    list_display = ["imis_field", "visible", "label", "description", "group", "product_code"]
    list_display_links = ["imis_field"]
    list_editable = ["label", "description", "group", "visible", "product_code"]
    list_filter = ["visible", "present_in_imis", "table_name", GroupFilter]
    search_fields = ["table_name", "field_name", "prompt", "label", "description", "group", "product_code"]
    ordering = ["position", "id"]
    list_per_page = 200
    actions = ["show_on_form", "hide_from_form", "move_to_top", "move_up", "move_down", "move_to_bottom"]
    fieldsets = [
        ("In iMIS", {"fields": ["table_name", "field_name", "prompt", "micro_help", "present_in_imis"]}),
        ("On the member form", {"fields": ["label", "description", "group", "place", "visible"]}),
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
        "place",
        "discovered_at",
        "last_seen_at",
    ]

    class Media:
        js = ["interests/admin_order.js"]
        css = {"all": ["interests/admin_order.css"]}

    changelist_widgets = {
        # Narrow enough for the list to fit 1280 px; the change page has the room for long texts.
        "label": forms.TextInput(attrs={"size": 12}),
        "description": forms.Textarea(attrs={"rows": 2, "cols": 14}),
        "group": forms.TextInput(attrs={"size": 8}),
        "product_code": forms.TextInput(attrs={"size": 5}),
    }

    # --- what is shown ----------------------------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for column in extensions.columns:
            queryset = column.annotate(queryset)
        return queryset

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))  # sortable2 puts its drag handle first
        columns[columns.index("_reorder_")] = self._order_column(request, self.has_change_permission(request))
        return columns + [_extension_column(column) for column in extensions.columns]

    def get_changelist_form(self, request, **kwargs):
        row_form = super().get_changelist_form(request, **kwargs)

        class NamedRow(row_form):
            """Each field of a row says whose it is to a screen reader, e.g. "label of Monthly newsletter"."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    field.widget.attrs["aria-label"] = f"{field.label} of {self.instance}"

        return NamedRow

    def get_changelist_formset(self, request, **kwargs):
        return super().get_changelist_formset(request, widgets=self.changelist_widgets, **kwargs)

    @admin.display(description="field and prompt in iMIS", ordering="table_name")
    def imis_field(self, obj):
        # "Present in iMIS" is said here only when it is not: one column fewer for the list to fit 1280 px.
        gone = "" if obj.present_in_imis else mark_safe('<br><strong class="errornote">gone from iMIS</strong>')
        return format_html("{}.<wbr>{}<br><small>{}</small>{}", obj.table_name, obj.field_name, obj.prompt, gone)

    @admin.display(description="place on the member form")
    def place(self, obj):
        return places()[obj.pk].html() if obj.pk else "-"

    def _order_column(self, request, may_move):
        """Where the row is on the member form, with sortable2's drag handle and the ⤒ ▲ ▼ ⤓ buttons:
        admin_order.js reveals and runs the buttons, saves each move at once and puts the rows in their
        new order, so nothing typed in the list is lost."""

        @admin.display(description="order on the form", ordering="position")
        def order(obj):
            place = format_html('<span class="form-place">{}</span>', _places(request)[obj.pk].html())
            if not may_move:
                return place
            buttons = format_html_join(
                "",
                '<button type="button" class="button move-button" hidden data-url="{}" '
                'title="Move {}" aria-label="Move {} {}">{}</button>',
                (
                    (reverse("admin:interests_remoteinterest_move", args=[obj.pk, move]), title, obj, title, symbol)
                    for move, symbol, title in MOVE_BUTTONS
                ),
            )
            return format_html('{}{}<span class="move-buttons">{}</span>', self._reorder_(obj), place, buttons)

        return order

    # --- who may do what ----------------------------------------------------------------------------

    def has_add_permission(self, request):
        return False  # interests come from iMIS through discovery only

    def has_delete_permission(self, request, obj=None):
        return False  # never deleted: their history refers to them

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "group" in form.changed_data:  # the group now sits where its first interest is
            services.interests_regroup()

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

    def _move_action(self, request, queryset, move, done):
        changed = self._move(request, list(queryset.values_list("pk", flat=True)), move)
        self.message_user(
            request, f"{queryset.count()} interest(s) moved {done}; {len(changed)} changed place.", messages.SUCCESS
        )

    @admin.action(description="Move to the top of their group", permissions=["change"])
    def move_to_top(self, request, queryset):
        self._move_action(request, queryset, "top", "to the top of their group")

    @admin.action(description="Move up one place", permissions=["change"])
    def move_up(self, request, queryset):
        self._move_action(request, queryset, "up", "up one place")

    @admin.action(description="Move down one place", permissions=["change"])
    def move_down(self, request, queryset):
        self._move_action(request, queryset, "down", "down one place")

    @admin.action(description="Move to the bottom of their group", permissions=["change"])
    def move_to_bottom(self, request, queryset):
        self._move_action(request, queryset, "bottom", "to the bottom of their group")

    # --- extra views --------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            *(
                path(
                    v.route, wrap(lambda request, v=v: v.view(request, self)), name=f"interests_remoteinterest_{v.name}"
                )
                for v in extensions.views
            ),
            path("<int:pk>/move/<str:move>/", wrap(self.move_view), name="interests_remoteinterest_move"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = {
            "skipped_count": selectors.skipped_fields().count(),
            "may_change": self.has_change_permission(request),
            "title": "Manage iMIS Remote Interests",
            "extension_links": [
                (v.label, reverse(f"admin:interests_remoteinterest_{v.name}")) for v in extensions.views if v.label
            ],
        }
        for provider in extensions.changelist_context:
            context.update(provider(request, self))
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def _json_post(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return None

    def _moved_answer(self, request, pk, changed):
        _log_changes(request, changed, [{"changed": {"fields": ["position"]}}])
        interest = RemoteInterest.objects.filter(pk=pk).first()
        if interest is None:
            message = f"{len(changed)} interest(s) changed place."
        else:
            message = places()[interest.pk].sentence(interest.display_label, moved=bool(changed)) + "."
            if not changed:
                message = f"Nothing moved: {message} {NOTHING_MOVED}"
        return JsonResponse(order_payload(message))

    def move_view(self, request, pk, move):
        """A ⤒ ▲ ▼ ⤓ button of a row (admin_order.js): the move, saved; the list's new order as JSON."""
        if refused := self._json_post(request):
            return refused
        if move not in services.MOVES or not RemoteInterest.objects.filter(pk=pk).exists():
            return JsonResponse({"error": "No such interest or move: nothing was changed."}, status=400)
        return self._moved_answer(request, pk, services.interests_move(interest_ids=[pk], move=move))

    def update_order(self, request):
        """A drag and drop (sortable2's script posts the rows it renumbered, as [[id, new position], ...]);
        the rows keep the places they held, in their new order, then each group gathers where its first
        interest is. Answers the list's new order as JSON (admin_order.js puts the rows in it)."""
        if refused := self._json_post(request):
            return refused
        try:
            items = json.loads(request.body)["updatedItems"]
            ids = [int(pk) for pk, _ in sorted(items, key=lambda item: int(item[1]))]
            changed = services.interests_reorder(interest_ids=ids)
        except (ValueError, KeyError, TypeError) as exc:
            return JsonResponse(
                {"error": f"The new order was not understood ({exc}): nothing was changed."}, status=400
            )
        moved = request.headers.get("X-Moved-Interest", "")
        return self._moved_answer(request, int(moved) if moved.isdigit() else None, changed)
