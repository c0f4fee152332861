"""Selectors of the sync: what the dashboard, the missing-UD-rows report and the interests admin (the last
discovery) show (reads only)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.utils import timezone

from interests.models import RemoteInterest
from preference_center import imis
from subscribers.models import PreferenceChange, Subscriber

from .models import MissingUdRow, SyncRun

State = PreferenceChange.State


@dataclass
class SyncOverview:
    counts: dict[str, int]
    oldest_pending_at: datetime.datetime | None
    oldest_pending_age: datetime.timedelta | None
    next_retry_at: datetime.datetime | None
    last_runs: list[tuple[str, SyncRun | None]]
    health: imis.Health | None = None
    failing_reasons: list[tuple[str, int]] = field(default_factory=list)
    missing_ud_rows: list[tuple[str, int]] = field(default_factory=list)  # (UD table, members without a row)


def sync_overview_get(*, now=None, check_imis=True) -> SyncOverview:
    """Changes per state, how long the oldest pending change has waited, the last run of each kind (with
    its duration), the most frequent reasons of failed changes, and iMIS health."""
    now = now or timezone.now()
    counts = {state: 0 for state in State.values}
    counts.update(dict(PreferenceChange.objects.order_by().values_list("state").annotate(n=Count("id"))))
    waiting = PreferenceChange.objects.filter(state__in=[State.PENDING, State.SENDING]).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    next_retry = PreferenceChange.objects.filter(state=State.PENDING, next_attempt_at__gt=now).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    last_runs = [(label, SyncRun.objects.filter(kind=kind).first()) for kind, label in SyncRun.Kind.choices]
    reasons = list(
        PreferenceChange.objects.filter(state=State.FAILED)
        .order_by()
        .values_list("last_error")
        .annotate(n=Count("id"))
        .order_by("-n")[:5]
    )
    health = None
    if check_imis:
        tables = RemoteInterest.objects.filter(visible=True).values_list("table_name", flat=True).distinct()
        health = imis.health_check(ud_tables=list(tables))
    return SyncOverview(
        counts=counts,
        oldest_pending_at=waiting,
        oldest_pending_age=(now - waiting) if waiting else None,
        next_retry_at=next_retry,
        last_runs=last_runs,
        health=health,
        failing_reasons=reasons,
        missing_ud_rows=missing_ud_row_counts(),
    )


def missing_ud_row_counts() -> list[tuple[str, int]]:
    """(UD table, members without a row in it) for each offered table where some are missing, by table."""
    return list(
        MissingUdRow.objects.order_by("table_name")
        .values_list("table_name")
        .annotate(n=Count("id"))
        .values_list("table_name", "n")
    )


def missing_ud_row_members(*, table_name: str):
    """The members without a row in `table_name` (as the last pull found them), by iMIS ID."""
    return Subscriber.objects.filter(missing_ud_rows__table_name=table_name).order_by("imis_id")


def discovery_last_run() -> SyncRun | None:
    return SyncRun.objects.filter(kind=SyncRun.Kind.DISCOVER).order_by("-started_at", "-id").first()


@dataclass(frozen=True)
class SetupStep:
    title: str
    how: str
    done: bool
    url_name: str = ""  # an admin URL name where staff take the step


def setup_steps() -> list[SetupStep]:
    """The first steps of a new installation, in order, each done or not (the staff start page)."""
    connected = SyncRun.objects.filter(ok=True).exists()
    return [
        SetupStep(
            "Connect iMIS",
            "Set IMIS_DATABASE_URL (or IMIS_HOST and its parts), or IMIS_API_URL for iMIS Cloud (see the README), "
            "then refresh the interests.",
            connected,
        ),
        SetupStep(
            "Refresh the interests from iMIS",
            "“Refresh from iMIS” reads the checkbox fields of your UD tables (hourly on its own).",
            RemoteInterest.objects.exists(),
            "admin:interests_remoteinterest_changelist",
        ),
        SetupStep(
            "Show some interests on the form",
            "New fields start hidden: tick Visible, give them a label, a description and a group.",
            RemoteInterest.objects.on_form().exists(),
            "admin:interests_remoteinterest_changelist",
        ),
        SetupStep(
            "Pull the members",
            "Every 10 minutes on its own, or `manage.py imis_pull` now.",
            Subscriber.objects.exists(),
            "admin:subscribers_subscriber_changelist",
        ),
    ]


def setup_next_step(steps: list[SetupStep]) -> SetupStep | None:
    """The first of `steps` not done yet; None once set up (then staff export the links for their mailing)."""
    return next((step for step in steps if not step.done), None)
