"""The discovery run: read iMIS's checkbox fields through the gateway, let interests apply them, record the
run (SyncRun, kind "discover"). Hourly on beat (sync.tasks), the "Refresh from iMIS" button, imis_discover."""

from __future__ import annotations

import logging

from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from interests.services import interests_apply_discovery
from preference_center import imis

from ..models import SyncRun

logger = logging.getLogger(__name__)


def interests_discover(*, using=None) -> SyncRun:
    """Read the checkbox fields from iMIS and apply them; record the run (kind "discover").

    Returns the SyncRun, with the run's `outcome` (a DiscoveryOutcome, names of what changed) attached
    when it succeeded. iMIS unreachable or refusing: the run records the error and nothing else changes."""
    run = SyncRun.objects.create(kind=SyncRun.Kind.DISCOVER, started_at=timezone.now())
    run.outcome = None
    try:
        discovery = imis.discover_checkbox_fields(using=using)
    except (imis.ImisError, DatabaseError) as exc:
        run.error = f"iMIS could not be read: {imis.plain_message(exc)}"
        logger.warning("discovery failed: %s", run.error)
    else:
        try:
            outcome = interests_apply_discovery(discovery=discovery, seen_at=run.started_at)
        except IntegrityError:
            # Another discovery (the hourly one, the button) inserted the same field meanwhile: its rows
            # are committed now, so a second pass only updates.
            outcome = interests_apply_discovery(discovery=discovery, seen_at=run.started_at)
        run.ok, run.counts, run.outcome = True, outcome.counts, outcome
        logger.info(
            "discovery: %s; added %s; updated %s; back %s; missing %s",
            outcome.summary,
            outcome.added,
            outcome.updated,
            outcome.returned,
            outcome.missing,
        )
    run.finished_at = timezone.now()
    run.save(update_fields=["ok", "counts", "error", "finished_at"])
    return run
