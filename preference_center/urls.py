from django.contrib import admin
from django.urls import include, path

# A plain 400 page: Django's own runs the CSRF check again, which reads the faulty body again (a 500).
handler400 = "preference_center.lib.request_guard.bad_request"
handler500 = "preference_center.error_pages.server_error"

urlpatterns = [
    # The member's pages first: a mailing day sends every link scanner and member there, and each pattern
    # tried before costs every request its match.
    path("", include("subscribers.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the member pages' language switcher
    path("api/", include("mailing.api.urls")),
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics (answered by ops.middleware.ProbeMiddleware)
    path("", include("branding.urls")),  # the brand's stylesheet and logo
]
