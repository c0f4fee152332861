"""What members make of the interests, shown in the interests admin (which imports no members): how many
have each on, and the member form as it stands (interests.admin.extensions)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from interests.admin import extensions
from interests.selectors import interests_hidden_by_imis

from .. import form_page
from ..selectors import form_specs, interests_with_audience


def preview_view(request, model_admin):
    """The member form as configured now, for staff to look at: nothing here can be submitted."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    context = {
        # The member's page and CSS around the member form's own markup (subscribers.forms), unticked.
        "association_name": settings.ASSOCIATION_NAME,
        "fieldsets": form_page.fieldsets(form_specs(), {}),
        "hidden_by_imis": list(interests_hidden_by_imis()),
        "back_url": reverse("admin:interests_remoteinterest_changelist"),
    }
    return TemplateResponse(request, "admin/interests/remoteinterest/preview.html", context)


extensions.add_column(
    extensions.Column(name="audience", description="members with it on", annotate=interests_with_audience)
)
extensions.add_view(
    extensions.View(route="preview/", name="preview", view=preview_view, label="Preview the member form")
)
