"""The discovery's part of the interests admin (which imports no sync, interests.admin.extensions): the
last run, and the "Refresh from iMIS" button."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from interests.admin import extensions

from ..selectors import discovery_last_run
from ..services.discovery import interests_discover


def refresh_view(request, model_admin):
    """The "Refresh from iMIS" button: run discovery now and say what it did."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    run = interests_discover()
    if run.ok:
        model_admin.message_user(request, f"Refreshed from iMIS: {run.outcome.summary}.", messages.SUCCESS)
    else:
        model_admin.message_user(request, f"{run.error}. Nothing was changed.", messages.ERROR)
    return HttpResponseRedirect(reverse("admin:interests_remoteinterest_changelist"))


def discovery_context(request, model_admin):
    return {
        "discovery_status_template": "admin/sync/discovery_status.html",
        "last_discovery": discovery_last_run(),
        "refresh_url": reverse("admin:interests_remoteinterest_refresh"),
    }


extensions.add_view(extensions.View(route="refresh/", name="refresh", view=refresh_view))
extensions.add_changelist_context(discovery_context)
