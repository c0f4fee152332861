"""Admin of saved target groups: create, edit and list named combinations with their sizes, and export
one as CSV with personal links (the target groups' export, same permission)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from interests.selectors import interests_on_form

from . import selectors
from .exports import export_response
from .models import SavedTargetGroup
from .services.target_groups import saved_target_group_save

COMBINATION = ("any_of", "all_of", "none_of")


class SavedTargetGroupForm(forms.ModelForm):
    class Meta:
        model = SavedTargetGroup
        fields = ("name", *COMBINATION)
        widgets = {name: forms.CheckboxSelectMultiple for name in COMBINATION}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in COMBINATION:
            self.fields[name].queryset = interests_on_form()
            self.fields[name].label_from_instance = lambda interest: interest.display_label

    def ids(self):
        return {name: [i.pk for i in self.cleaned_data.get(name) or ()] for name in COMBINATION}

    def clean(self):
        cleaned = super().clean()
        try:
            selectors.target_group_build(**self.ids())
        except selectors.InvalidTargetGroup as exc:
            raise ValidationError(str(exc)) from None
        return cleaned


@admin.register(SavedTargetGroup)
class SavedTargetGroupAdmin(admin.ModelAdmin):
    form = SavedTargetGroupForm
    list_display = ("name", "combination", "size", "export_link")
    search_fields = ("name",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    change_form_template = "admin/mailing/savedtargetgroup/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(*COMBINATION).select_related("created_by")

    @staticmethod
    def _state(obj):
        """The group now (checked and sized), once per row (the list reads them all at once)."""
        if not hasattr(obj, "_state_now"):
            obj._state_now = selectors.saved_target_group_state(saved=obj)
        return obj._state_now

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        on_form = interests_on_form().in_bulk()  # once for the page, not once per row
        for obj in changelist.result_list:
            obj._state_now = selectors.saved_target_group_state(saved=obj, on_form=on_form)
        return changelist

    def _can_export(self, request):
        return request.user.has_perm("mailing.export_targetgroup")

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return columns if self._can_export(request) else [c for c in columns if c != "export_link"]

    @admin.display(description="members with")
    def combination(self, obj):
        """What the combination is, or why it cannot be mailed (an interest it names left the form)."""
        state = self._state(obj)
        if state.spec is None:
            return format_html('<strong class="errornote">{}</strong>', state.problem)
        return state.spec.describe()

    @admin.display(description="mailable members")
    def size(self, obj):
        state = self._state(obj)
        return "-" if state.size is None else state.size

    @admin.display(description="export")
    def export_link(self, obj):
        url = reverse("admin:mailing_savedtargetgroup_export", args=[obj.pk])
        return format_html('<a href="{}">CSV with personal links</a>', url)

    def save_model(self, request, obj, form, change):
        saved_target_group_save(group=obj, user=request.user, **form.ids())

    def save_related(self, request, form, formsets, change):
        pass  # saved_target_group_save set the interests

    def get_urls(self):
        view = self.admin_site.admin_view(self.export_view)
        return [path("<int:pk>/export/", view, name="mailing_savedtargetgroup_export"), *super().get_urls()]

    def export_view(self, request, pk):
        if not self._can_export(request):
            raise PermissionDenied
        state = selectors.saved_target_group_state(saved=get_object_or_404(self.get_queryset(request), pk=pk))
        if state.spec is None:
            self.message_user(request, f"“{state.saved.name}” cannot be exported: {state.problem}", level="error")
            return redirect("admin:mailing_savedtargetgroup_change", pk)
        return export_response(state.spec, name=state.saved.name)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["group_state"] = self._state(obj)
            context["can_export"] = self._can_export(request)
        return super().render_change_form(request, context, add, change, form_url, obj)
