"""Middleware of ops: the machines' endpoints ahead of everything, and HTTP metrics per view."""

from __future__ import annotations

import time

from .metrics import HTTP_DURATION, HTTP_REQUESTS
from .urls import urlpatterns

PROBES = {f"/{pattern.pattern}": pattern.callback for pattern in urlpatterns}


class ProbeMiddleware:
    """Answers /healthz, /readyz and /metrics before the host check, the HTTPS redirect and the sessions: a
    load balancer probes each machine by its address over plain HTTP, and none of these pages builds a URL
    from the Host header or reads a cookie. First in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = PROBES.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)


class HttpMetricsMiddleware:
    """Counts requests by view name and status, and times them (ops.metrics)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "other"  # static files, unknown paths
        HTTP_REQUESTS.labels(
            view, request.method if request.method in _METHODS else "other", response.status_code
        ).inc()
        HTTP_DURATION.labels(view).observe(time.perf_counter() - started)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
