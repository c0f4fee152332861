"""Endpoints for machines (load balancers, Prometheus), answered by ops.middleware.ProbeMiddleware ahead of
the host check and the HTTPS redirect."""

from django.urls import path

from . import health, metrics

urlpatterns = [
    path("healthz", health.liveness, name="healthz"),
    path("readyz", health.readiness, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
