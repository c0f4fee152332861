from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("mailing.api.urls")),
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics (answered by ops.middleware.ProbeMiddleware)
    path("", include("subscribers.urls")),
]
