"""The staff site: Django's admin, branded "Preference Center" and the association's name."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse


class PreferenceCenterAdminSite(admin.AdminSite):
    index_title = "Start"
    index_template = "admin/start.html"
    # "View site" led to a bare page: members reach their pages only through their personal links.
    site_url = None
    # The sidebar took a quarter of 1280 px from every list (periodic tasks' models filled half of it); the
    # start page lists every screen.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        """The start page: the next setup step while setup is incomplete, the sync at a glance, then the
        apps (what each staff user may see)."""
        from sync.selectors import setup_next_step, setup_steps, sync_overview_get  # the apps load after this

        steps = setup_steps()
        context = {"setup_steps": steps, "setup_next": setup_next_step(steps)}
        context["shortcuts"] = self._shortcuts(request)
        if request.user.has_perm("subscribers.view_preferencechange"):
            context["overview"] = sync_overview_get(check_imis=False)  # no iMIS round trip on every visit
        return super().index(request, {**context, **(extra_context or {})})

    def _shortcuts(self, request) -> list[tuple[str, str]]:
        """The SHORTCUTS this user may open: whom each screen's model admin lets view it (the screens check
        the same has_view_permission, so the link and the screen cannot disagree)."""
        from django.apps import apps

        return [
            (label, reverse(name))
            for label, name, model in SHORTCUTS
            if self._registry[apps.get_model(model)].has_view_permission(request)
        ]

    @property
    def site_title(self):
        return _branded("Preference Center staff")

    @property
    def site_header(self):
        return _branded("Preference Center")


# The custom screens no app list shows: (label, admin URL name, the model whose admin serves the screen).
SHORTCUTS = [
    ("Sync dashboard", "admin:sync_dashboard", "subscribers.PreferenceChange"),
    ("Preview the member form", "admin:interests_remoteinterest_preview", "interests.RemoteInterest"),
    ("Missing UD rows", "admin:sync_missingudrow_changelist", "sync.MissingUdRow"),
]


def _branded(name: str) -> str:
    # The name members see: the published brand's (in the default language, the staff site's), else the
    # ASSOCIATION_NAME setting. Read on each request from the brand's cached read (no query while cached),
    # so a brand published in one web process heads every staff page within seconds.
    from branding.selectors import brand_published  # the apps load after this module

    association = brand_published(None).name
    return f"{name} · {association}" if association else name


class PreferenceCenterAdminConfig(AdminConfig):
    default_site = "preference_center.admin_site.PreferenceCenterAdminSite"
