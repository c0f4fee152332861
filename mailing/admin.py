"""Admin of the mailing system's side: API keys (shown once), webhook deliveries, target groups with
sizes, combinations, CSV export and charts."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from preference_center.admin_base import ReadOnlyAdmin

from . import selectors
from .exports import export_response
from .forms import ChartForm, CombinationForm
from .models import ApiKey, TargetGroup, WebhookDelivery
from .services.api_keys import api_key_create, api_key_revoke, api_key_rights_missing
from .services.webhook import webhook_retry


class ApiKeyForm(forms.ModelForm):
    """A new key may not do more than the staff user creating it may (the API checks again at each use)."""

    creator = None  # set per request by ApiKeyAdmin.get_form

    class Meta:
        model = ApiKey
        fields = ("name", "scope", "links")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            missing = api_key_rights_missing(
                user=self.creator, scope=cleaned.get("scope") or ApiKey.Scope.READ, links=bool(cleaned.get("links"))
            )
            if missing:
                raise ValidationError("A key cannot do more than you may: you may not " + "; ".join(missing) + ".")
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix_shown", "scope", "links", "created_by", "created_at", "last_used_at", "status")
    list_filter = ("scope", "links", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    fields = ("name", "scope", "links", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # What a key may do is settled when it is made, against its creator: another key for other rights.
        return self.readonly_fields + (("scope", "links") if obj is not None else ())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.creator = request.user
        return form

    @admin.display(description="key starts with")
    def prefix_shown(self, obj):
        return f"pc_{obj.prefix}_…"

    @admin.display(description="status")
    def status(self, obj):
        return "active" if obj.active else f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}"

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the list keeps who had access

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        created, raw_key = api_key_create(name=obj.name, scope=obj.scope, links=obj.links, created_by=request.user)
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
        obj._state = created._state
        request._mailing_new_api_key = raw_key

    def response_add(self, request, obj, post_url_continue=None):
        """Show the key once, in this response only: it is stored nowhere (not in a message cookie)."""
        raw_key = getattr(request, "_mailing_new_api_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/mailing/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "api_key": obj,
                "raw_key": raw_key,
                "title": "API key created",
                "changelist_url": reverse("admin:mailing_apikey_changelist"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected keys (they stop working at once)", permissions=["change"])
    def revoke(self, request, queryset):
        count = api_key_revoke(api_key_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} key(s) revoked.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("change_uuid", "state", "attempts", "last_status", "last_error", "next_attempt_at", "delivered_at")
    list_filter = ("state",)
    list_select_related = ("change",)
    actions = ["retry"]

    @admin.display(description="event id (change UUID)")
    def change_uuid(self, obj):
        return obj.change.uuid

    def has_retry_permission(self, request):
        # Read-only rows, but sending events again is a change: it needs the change permission.
        return request.user.has_perm("mailing.change_webhookdelivery")

    @admin.action(description="Send the selected events again now", permissions=["retry"])
    def retry(self, request, queryset):
        count = webhook_retry(delivery_ids=queryset.values_list("pk", flat=True))
        from .tasks import webhook_sweep

        try:
            webhook_sweep.apply_async(retry=False)
        except Exception:  # broker down: the beat sweep sends them
            pass
        self.message_user(request, f"{count} event(s) will be sent again.", messages.SUCCESS)


def _save_url(request, group):
    """The "add a saved target group" form, filled with this combination (the admin reads comma-separated ids)."""
    if group is None or not request.user.has_perm("mailing.add_savedtargetgroup"):
        return ""
    query = {name: ",".join(map(str, ids)) for name, ids in group.parts().items() if ids}
    return reverse("admin:mailing_savedtargetgroup_add") + "?" + urlencode(query)


@admin.register(TargetGroup)
class TargetGroupAdmin(ReadOnlyAdmin):
    """Each interest on the form as a target group: sizes, export; combinations and charts pages."""

    list_display = ("display_label", "group", "size", "export_link")
    list_display_links = None
    search_fields = ("label", "prompt", "field_name")
    change_list_template = "admin/mailing/targetgroup/change_list.html"

    def get_queryset(self, request):
        return selectors.target_groups_with_sizes()

    @admin.display(description="interest", ordering="position")
    def display_label(self, obj):
        return obj.display_label

    @admin.display(description="mailable members", ordering="size")
    def size(self, obj):
        return obj.size

    @admin.display(description="export")
    def export_link(self, obj):
        url = reverse("admin:mailing_targetgroup_export") + f"?any_of={obj.pk}"
        return format_html('<a href="{}">CSV with personal links</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("combine/", view(self.combine_view), name="mailing_targetgroup_combine"),
            path("export/", view(self.export_view), name="mailing_targetgroup_export"),
            path("charts/", view(self.charts_view), name="mailing_targetgroup_charts"),
            *super().get_urls(),
        ]

    def _can_export(self, request):
        return request.user.has_perm("mailing.export_targetgroup")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self._can_export(request), "title": "Target groups"}
        return super().changelist_view(request, extra_context)

    def combine_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = CombinationForm(request.GET or None)
        group = size = error = None
        if form.is_bound and form.is_valid():
            try:
                group = selectors.target_group_build(**form.cleaned_data)
            except selectors.InvalidTargetGroup as exc:
                error = str(exc)
            else:
                size = selectors.target_group_members(group=group).aggregate(n=Count("pk"))["n"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Combine target groups",
            "form": form,
            "group": group,
            "size": size,
            "error": error,
            "can_export": self._can_export(request),
            "export_url": reverse("admin:mailing_targetgroup_export") + "?" + group.query_string() if group else "",
            "save_url": _save_url(request, group),
        }
        return TemplateResponse(request, "admin/mailing/targetgroup/combine.html", context)

    def export_view(self, request):
        if not self._can_export(request):
            raise PermissionDenied
        form = CombinationForm(request.GET)
        if not form.is_valid():
            messages.error(request, "Pick interests on the form to export.")
            return self._back_to_combine(request)
        try:
            group = selectors.target_group_build(**form.cleaned_data)
        except selectors.InvalidTargetGroup as exc:
            messages.error(request, str(exc))
            return self._back_to_combine(request)
        return export_response(group)

    def _back_to_combine(self, request):
        from django.shortcuts import redirect

        return redirect("admin:mailing_targetgroup_combine")

    def charts_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ChartForm(request.GET or None)
        period, days = "day", 90
        if form.is_bound and form.is_valid():
            period = form.cleaned_data["period"] or "day"
            days = form.cleaned_data["days"] or 90
        chart = selectors.opt_in_out_chart(period=period, days=days)
        sizes = list(selectors.target_groups_with_sizes())
        data = {
            "period": chart.period,
            "buckets": [bucket.isoformat() for bucket in chart.buckets],
            "series": [{"label": x.label, "opt_ins": x.opt_ins, "opt_outs": x.opt_outs} for x in chart.series],
            "sizes": {"labels": [i.display_label for i in sizes], "values": [i.size for i in sizes]},
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Target groups: opt-ins, opt-outs and sizes",
            "form": form,
            "chart_data": data,
            "totals": [
                {"label": x.label, "opt_ins": sum(x.opt_ins), "opt_outs": sum(x.opt_outs)} for x in chart.series
            ],
        }
        return TemplateResponse(request, "admin/mailing/targetgroup/charts.html", context)


from . import saved_groups_admin  # noqa: E402, F401 - saved target groups, in a module of their own
