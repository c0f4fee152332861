"""The staff site: Django's admin, branded "Preference Center" and the association's name."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class PreferenceCenterAdminSite(admin.AdminSite):
    index_title = "Start"
    # "View site" led to a bare page: members reach their pages only through their personal links.
    site_url = None

    @property
    def site_title(self):
        return _branded("Preference Center staff")

    @property
    def site_header(self):
        return _branded("Preference Center")


def _branded(name: str) -> str:
    # Read on each request: the association's name is a setting, and tests change settings.
    association = settings.ASSOCIATION_NAME
    return f"{name} · {association}" if association else name


class PreferenceCenterAdminConfig(AdminConfig):
    default_site = "preference_center.admin_site.PreferenceCenterAdminSite"
