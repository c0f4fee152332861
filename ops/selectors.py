"""The sync's figures for the metrics, read from the database at scrape time. The only module of `ops` that
imports the sync's models: when they move, only these imports change."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, DurationField, F, Min, Q, Sum
from django.utils import timezone

from mailing.models import WebhookDelivery
from subscribers.models import PreferenceChange
from sync.models import MissingUdRow, SyncRun

State = PreferenceChange.State
# Buckets of the save -> iMIS lag, in seconds: a save reaches iMIS within seconds when all is well; the
# sweeper's minute and iMIS outages make the tail.
LAG_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
PUSH_OUTCOMES = ("done", "failed", "not_needed", "retry_later")
WATCHED_STATES = (State.PENDING, State.SENDING, State.FAILED)
RUN_KINDS = (SyncRun.Kind.DISCOVER, SyncRun.Kind.PULL, SyncRun.Kind.PUSH)


@dataclass
class LastSuccess:
    finished_at: datetime.datetime
    duration: float


@dataclass
class SyncFigures:
    changes: dict[str, int]
    oldest_waiting_age: float  # pending or sending; 0 when none
    lag_buckets: list[tuple[float, int]]  # cumulative counts per upper bound, then +Inf
    lag_sum: float
    push_outcomes: dict[str, int]
    last_success: dict[str, LastSuccess | None]
    webhook: dict[str, int]
    webhook_oldest_pending_age: float
    missing_ud_rows: dict[str, int]


def _age(now, since):
    return max((now - since).total_seconds(), 0.0) if since else 0.0


def _changes(now):
    counts = dict.fromkeys(WATCHED_STATES, 0)
    rows = PreferenceChange.objects.filter(state__in=WATCHED_STATES).order_by().values_list("state")
    counts.update(dict(rows.annotate(n=Count("id"))))
    oldest = PreferenceChange.objects.filter(state__in=[State.PENDING, State.SENDING]).aggregate(at=Min("created_at"))
    return counts, _age(now, oldest["at"])


def _lag(since):
    """Cumulative bucket counts of created_at -> synced_at for the changes that reached iMIS since `since`,
    counted by the database (a mailing day syncs thousands of changes in a window)."""
    synced = PreferenceChange.objects.filter(state=State.DONE, synced_at__gte=since)
    buckets = {
        f"le_{i}": Count("id", filter=Q(synced_at__lte=F("created_at") + datetime.timedelta(seconds=bound)))
        for i, bound in enumerate(LAG_BUCKETS)
    }
    figures = synced.aggregate(
        total=Count("id"), lag=Sum(F("synced_at") - F("created_at"), output_field=DurationField()), **buckets
    )
    cumulative = [(bound, figures[f"le_{i}"]) for i, bound in enumerate(LAG_BUCKETS)]
    lag = figures["lag"]
    return [*cumulative, (float("inf"), figures["total"])], lag.total_seconds() if lag else 0.0


def _push_outcomes(since):
    totals = dict.fromkeys(PUSH_OUTCOMES, 0)
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.PUSH, started_at__gte=since).values_list("counts", flat=True)
    for counts in runs:
        for outcome in PUSH_OUTCOMES:
            totals[outcome] += int(counts.get(outcome, 0) or 0)
    return totals


def _last_success(kind):
    run = SyncRun.objects.filter(kind=kind, ok=True, finished_at__isnull=False).order_by("-finished_at").first()
    if run is None:
        return None
    return LastSuccess(finished_at=run.finished_at, duration=run.duration.total_seconds())


def _webhook(now):
    counts = WebhookDelivery.objects.aggregate(
        pending=Count("id", filter=Q(state=WebhookDelivery.State.PENDING)),
        failed=Count("id", filter=Q(state=WebhookDelivery.State.FAILED)),
        oldest=Min("created_at", filter=Q(state=WebhookDelivery.State.PENDING)),
    )
    oldest = counts.pop("oldest")
    return counts, _age(now, oldest)


def sync_figures_get(*, window: datetime.timedelta, now=None) -> SyncFigures:
    """What the metrics show; `window`: how far back the lag and the push outcomes look."""
    now = now or timezone.now()
    changes, oldest = _changes(now)
    lag_buckets, lag_sum = _lag(now - window)
    webhook, webhook_oldest = _webhook(now)
    missing = MissingUdRow.objects.order_by().values_list("table_name").annotate(n=Count("id"))
    return SyncFigures(
        changes={str(state): n for state, n in changes.items()},
        oldest_waiting_age=oldest,
        lag_buckets=lag_buckets,
        lag_sum=lag_sum,
        push_outcomes=_push_outcomes(now - window),
        last_success={str(kind): _last_success(kind) for kind in RUN_KINDS},
        webhook=webhook,
        webhook_oldest_pending_age=webhook_oldest,
        missing_ud_rows=dict(missing),
    )
