"""Prometheus metrics at /metrics, behind a bearer token (METRICS_TOKEN; unset: the endpoint answers 404).

Two kinds of figures, each counted where it stays true however many processes and machines run:
- The sync's figures (changes waiting, the lag to iMIS, runs, webhook backlog) are read from PostgreSQL at
  scrape time by SyncCollector. The database is the one place that knows them whatever worker or machine did
  the work, and a worker that dies takes nothing with it; any web process answers the same.
- HTTP requests are counted in the web process that served them: with PROMETHEUS_MULTIPROC_DIR set (gunicorn's
  several workers) each worker writes its counters to a file there and a scrape sums them all; without it
  (one process) they live in memory. Each web machine is scraped on its own; Prometheus sums machines.
"""

from __future__ import annotations

import datetime
import hmac
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

from . import selectors

PREFIX = "prefcenter"
RECENT = datetime.timedelta(minutes=15)  # how far back the lag and the push outcomes look

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests", "HTTP requests answered, by view and status.", ["view", "method", "status"]
)
HTTP_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _gauge(name, doc, labels=(), samples=()):
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels) if labels else None)
    for label_values, value in samples:
        family.add_metric(list(label_values), value)
    return family


class SyncCollector:
    """The sync's state, read from the database at each scrape (see the module's docstring)."""

    def describe(self):
        return []  # nothing read at registration: the figures come at scrape time

    def collect(self):
        f = selectors.sync_figures_get(window=RECENT)
        yield _gauge("changes", "Changes by outbox state.", ["state"], (((s,), n) for s, n in f.changes.items()))
        yield _gauge(
            "oldest_pending_change_age_seconds",
            "Age of the oldest change not yet in iMIS (pending or sending); 0 when none.",
            samples=[((), f.oldest_waiting_age)],
        )
        lag = GaugeHistogramMetricFamily(
            f"{PREFIX}_save_to_imis_lag_seconds",
            f"Save -> iMIS lag of the changes that reached iMIS in the last {int(RECENT.total_seconds() // 60)} min.",
            buckets=[(floatToGoString(b), n) for b, n in f.lag_buckets],
            gsum_value=f.lag_sum,
        )
        yield lag
        yield _gauge(
            "push_changes_recent",
            f"Changes the pushes of the last {int(RECENT.total_seconds() // 60)} min settled, by outcome.",
            ["outcome"],
            (((o,), n) for o, n in f.push_outcomes.items()),
        )
        yield from self._runs(f)
        yield _gauge(
            "webhook_deliveries", "Webhook deliveries by state.", ["state"], (((s,), n) for s, n in f.webhook.items())
        )
        yield _gauge(
            "webhook_oldest_pending_age_seconds",
            "Age of the oldest webhook delivery not yet acknowledged; 0 when none.",
            samples=[((), f.webhook_oldest_pending_age)],
        )
        yield _gauge(
            "members_without_ud_row",
            "Members the last pull found without a row in an offered UD table (their choices cannot reach iMIS).",
            ["table"],
            (((t,), n) for t, n in f.missing_ud_rows.items()),
        )

    @staticmethod
    def _runs(f):
        done = {kind: run for kind, run in f.last_success.items() if run is not None}
        yield _gauge(
            "sync_last_success_timestamp_seconds",
            "When the last successful run of each kind (discover, pull, push) finished (Unix time).",
            ["kind"],
            (((kind,), run.finished_at.timestamp()) for kind, run in done.items()),
        )
        yield _gauge(
            "sync_last_success_duration_seconds",
            "How long the last successful run of each kind took.",
            ["kind"],
            (((kind,), run.duration) for kind, run in done.items()),
        )


def _registry():
    """A registry for one scrape: this machine's HTTP figures (every gunicorn worker's in multiprocess mode)
    and the sync's figures from the database."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(SyncCollector())
    return registry


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view(request):
    """Prometheus's text format; 404 without METRICS_TOKEN, 401 without the right bearer token."""
    if not settings.METRICS_TOKEN:
        raise Http404("metrics are off")
    if not _authorized(request):
        response = HttpResponse("a bearer token is needed\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
