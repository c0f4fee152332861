"""Staff preview the draft brand on the member's form as a member would see it: a sample member, the real
interests, in the language of the link (?lang=fr), the draft's logo, colour, intro and footer. Nothing is
saved from here, and members never reach it."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from branding.selectors import brand_draft

from . import form_page, selectors
from .views import protect

SAMPLE_FIRST_NAME = "Jane"
SAMPLE_MASKED_EMAIL = "j•••@example.org"


@require_GET
@staff_member_required
def brand_preview(request):
    if not request.user.has_perm("branding.view_brand"):
        raise PermissionDenied
    specs = selectors.form_specs()
    context = {
        "brand": brand_draft(get_language()),
        "fieldsets": form_page.fieldsets(specs, {}),
        "has_interests": bool(specs),
        "masked_email": SAMPLE_MASKED_EMAIL,
        "first_name": SAMPLE_FIRST_NAME,
        "shown": "",
    }
    return protect(render(request, "subscribers/preferences.html", context))
