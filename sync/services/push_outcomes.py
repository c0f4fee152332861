"""Recording on our side what iMIS did with each change of a claim (the push's bookkeeping)."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from preference_center.lib.backoff import exponential_backoff
from subscribers.models import Preference, PreferenceChange

logger = logging.getLogger(__name__)

State = PreferenceChange.State


def retry_delay(attempts: int) -> float:
    """Exponential backoff: PUSH_RETRY_BASE_DELAY x 2^(attempts - 1), at most PUSH_RETRY_MAX_DELAY seconds."""
    return exponential_backoff(attempts, base=settings.PUSH_RETRY_BASE_DELAY, cap=settings.PUSH_RETRY_MAX_DELAY)


def note(result, error):
    if error not in result.errors:
        result.errors.append(error)


def mine(claim, changes):
    return PreferenceChange.objects.filter(
        id__in=[c.id for c in changes], state=State.SENDING, claimed_at=claim.claimed_at
    )


def mark_retry(claim, changes, error, result):
    now = timezone.now()
    delays = {c.id: retry_delay(c.attempts) for c in changes}
    with transaction.atomic():
        updated = mine(claim, changes).update(
            state=State.PENDING,
            last_error=error[:1000],
            claimed_at=None,
            next_attempt_at=Case(
                *[When(id=cid, then=Value(now + datetime.timedelta(seconds=d))) for cid, d in delays.items()]
            ),
        )
    result.retry_later += updated
    result.retry_in = min(delays.values())
    result.errors.append(error)
    logger.warning("push: %d changes back to pending, next try in %.0fs: %s", updated, result.retry_in, error)


def mark_failed(claim, changes, error, result):
    with transaction.atomic():
        result.failed += mine(claim, changes).update(state=State.FAILED, last_error=error[:1000], next_attempt_at=None)
    note(result, error)


def mark_refused(claim, change, message, result):
    """iMIS refused this change written alone: failed, with iMIS's message, once it has been tried
    PUSH_MAX_ATTEMPTS times (staff retry it after fixing iMIS); until then, pending after a backoff."""
    tries = settings.PUSH_MAX_ATTEMPTS
    if change.attempts >= tries:
        mark_failed(claim, [change], f"iMIS refused it: {message}", result)
        logger.warning("push: iMIS refused a change %d times; marked failed", change.attempts)
        return
    delay = retry_delay(change.attempts)
    result.refused += mine(claim, [change]).update(
        state=State.PENDING,
        claimed_at=None,
        last_error=f"iMIS refused it (attempt {change.attempts} of {tries}): {message}"[:1000],
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
    )
    note(result, f"iMIS refused a change: {message}")


def by_id(values: dict, output_field):
    """CASE id WHEN ... THEN ... END: one value per row in a single UPDATE. Written out because Django's
    Case(When(...)) costs more to build than the batch costs to write; only placeholders are added."""
    sql = "CASE id " + " ".join(["WHEN %s THEN %s"] * len(values)) + " END"  # noqa: S608
    return RawSQL(sql, [x for pair in values.items() for x in pair], output_field=output_field)


def mark_outcomes(claim, changes, outcomes, result):
    now = timezone.now()
    by_uuid = {c.uuid: c for c in changes}
    written, missing = [], []
    for outcome in outcomes:
        change = by_uuid[outcome.change_id]
        (written if outcome.ok else missing).append((change, outcome))
    with transaction.atomic():
        if written:
            result.done += mine(claim, [c for c, _o in written]).update(
                state=State.DONE,
                synced_at=now,
                next_attempt_at=None,
                last_error="",
                activity_seqn=by_id({c.id: o.seqn for c, o in written}, models.IntegerField()),
            )
            # What iMIS now holds, as far as we know.
            groups = defaultdict(list)
            for change, _outcome in written:
                groups[(change.interest_id, bool(change.new_value))].append(change.subscriber_id)
            for (interest_id, value), subscriber_ids in groups.items():
                Preference.objects.filter(interest_id=interest_id, subscriber_id__in=subscriber_ids).update(
                    imis_value=value
                )
        if missing:
            for change, _outcome in missing:
                table = change.interest.table_name
                error = (
                    f"iMIS has no {table} row for member {change.imis_id}: add it in iMIS, then retry "
                    f"(or set IMIS_CREATE_MISSING_UD_ROWS)"
                )
                result.failed += mine(claim, [change]).update(
                    state=State.FAILED, last_error=error, next_attempt_at=None
                )
            result.errors.append(f"{len(missing)} members have no UD row in iMIS")
