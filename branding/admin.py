"""Staff set the brand of the member pages: they edit a draft, preview it as a member page, and publish it.
Members never see the draft."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt

from . import services
from .colours import colour_normalised, colour_problem
from .images import MAX_LOGO_BYTES, NotAnImage, logo_read
from .models import TEXT_FIELDS, Brand
from .upload import logo_form_read


class BrandForm(forms.ModelForm):
    privacy_url = forms.URLField(label="Privacy policy link", required=False, assume_scheme="https")

    class Meta:
        model = Brand
        fields = list(TEXT_FIELDS)
        widgets = {
            "primary_colour": forms.TextInput(attrs={"placeholder": "#1f4e79", "size": 9}),
            "intro": forms.Textarea(attrs={"rows": 3}),
            "intro_fr": forms.Textarea(attrs={"rows": 3}),
            "footer": forms.Textarea(attrs={"rows": 3}),
            "footer_fr": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_primary_colour(self):
        colour = colour_normalised(self.cleaned_data["primary_colour"])
        if colour and (problem := colour_problem(colour)):
            raise forms.ValidationError(problem, code="contrast")
        return colour


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    form = BrandForm
    change_form_template = "admin/branding/brand/change_form.html"
    fieldsets = [
        ("Name", {"fields": ["name", "name_fr"]}),
        ("Logo and colour", {"fields": ["logo_shown", "primary_colour"]}),
        ("The member's form", {"fields": ["intro", "intro_fr"]}),
        ("Footer of every page", {"fields": ["contact_email", "privacy_url", "footer", "footer_fr"]}),
    ]
    readonly_fields = ["logo_shown"]

    def has_add_permission(self, request):
        return False  # one draft, made on the first visit

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(state=Brand.State.DRAFT)  # members' row: by publishing only

    def get_urls(self):
        logo = self.admin_site.admin_view(csrf_exempt(self.logo_view))  # CSRF checked once the body is read
        return [path("logo/", logo, name="branding_brand_logo"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("admin:branding_brand_change", services.brand_draft_get().pk)

    @admin.display(description="logo")
    def logo_shown(self, obj):
        change = reverse("admin:branding_brand_logo")
        if not obj.logo_sha256:
            return format_html('No logo. <a href="{}">Upload one</a>', change)
        url = reverse("brand_logo", args=[obj.logo_sha256])
        return format_html(
            '<img src="{}" alt="The draft\'s logo" height="48"> <a href="{}">Change or remove the logo</a>', url, change
        )

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            services.brand_publish(user=request.user)
            self.message_user(request, "Published: members see this brand now.", messages.SUCCESS)
            return redirect("admin:branding_brand_change", obj.pk)
        if "_preview" in request.POST:
            return redirect("brand_preview")
        return super().response_change(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        published = Brand.objects.filter(state=Brand.State.PUBLISHED).select_related("updated_by").first()
        context = {
            "published": published,
            "draft_differs": services.brand_draft_differs(),
            "preview_url": reverse("brand_preview"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def logo_view(self, request):
        """The draft's logo: upload (PNG, JPEG or WebP, verified by content) or remove."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        error = None
        if request.method == "POST":
            try:
                fields, content = logo_form_read(request)
            except NotAnImage as exc:  # too big to read: refused before the CSRF check, nothing written
                fields, content, error = None, b"", str(exc)
            if fields is not None:
                request._post = fields  # what the CSRF check reads
                rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                if rejected is not None:
                    return rejected
                error = self._logo_save(request, remove=fields.get("action") == "remove", content=content)
            if error is None:
                return redirect("admin:branding_brand_change", services.brand_draft_get().pk)
        draft = services.brand_draft_get()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "The logo of the member pages",
            "error": error,
            "logo_url": reverse("brand_logo", args=[draft.logo_sha256]) if draft.logo_sha256 else "",
            "max_kb": MAX_LOGO_BYTES // 1024,
            "draft": draft,
        }
        template = "admin/branding/brand/logo.html"
        return TemplateResponse(request, template, context, status=400 if error else 200)

    def _logo_save(self, request, *, remove, content):
        if remove:
            services.brand_logo_set(logo=None, user=request.user)
            self.message_user(request, "The draft has no logo now. Publish it for members to see.")
            return None
        try:
            logo = logo_read(content)
        except NotAnImage as exc:
            return str(exc)
        services.brand_logo_set(logo=logo, user=request.user)
        self.message_user(request, "The logo is on the draft. Preview it, then publish it for members to see.")
        return None
