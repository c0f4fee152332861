"""The push: carries pending PreferenceChange rows (the outbox) into iMIS, exactly once.

A change goes pending -> sending (claimed) -> done (iMIS committed, Activity SEQN recorded), or back to
pending with a backoff when iMIS is unreachable, or failed with a plain reason (no UD row, or iMIS
refused it PUSH_MAX_ATTEMPTS times), or not_needed when a later change of the same member x interest
supersedes it (its history stays; one tried before is first looked up in iMIS, and recorded done if an
attempt committed before its worker was lost).

One change iMIS refuses never holds up the others: a batch iMIS refuses is split in halves, each written
in its own iMIS transaction, down to the change that fails alone (about 2 x log2(batch) transactions for
one such change). Errors worth waiting for (iMIS unreachable, a timeout, a deadlock or lock victim:
imis.is_transient) keep the batch whole and retry it after a backoff.

Exactly once: a change is marked done only after iMIS committed. A worker that dies in between leaves
the change in "sending"; the sweeper puts it back to pending once its claim lapses (claims.py), and the
retry finds the Activity row whose SOURCE_CODE is the change UUID (the gateway reports ALREADY_WRITTEN)
instead of writing a second one.

Order: for one member x interest, only the latest change is ever written, and never while an older one
of the same pair is still in flight (claims take the member's row lock, so two workers cannot both
decide they hold the latest change of a pair).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.db.models import Min
from django.utils import timezone

from interests.models import RemoteInterest
from preference_center import imis
from subscribers.models import PreferenceChange

from ..models import SyncRun
from ..outbox import enqueue_push, send_push
from .claims import (  # noqa: F401 - the push's API: claims are part of it
    SUPERSEDED,
    Claim,
    ClaimHeartbeat,
    changes_claim,
    changes_claim_renew,
    changes_due_count,
    changes_release_stale,
)
from .push_outcomes import (  # noqa: F401 - retry_delay: part of the push's API
    by_id,
    mark_failed,
    mark_outcomes,
    mark_refused,
    mark_retry,
    retry_delay,
)

logger = logging.getLogger(__name__)

State = PreferenceChange.State


@dataclass
class PushResult:
    """What one push run did (SyncRun.counts)."""

    claimed: int = 0
    done: int = 0
    failed: int = 0
    not_needed: int = 0
    retry_later: int = 0  # iMIS unreachable (transient): put back whole, the run stops
    refused: int = 0  # refused alone, put back for another attempt (PUSH_MAX_ATTEMPTS)
    writes: int = 0  # iMIS transactions tried (more than batches when a batch was split)
    retry_in: float | None = None  # seconds until the earliest change put back for later is due
    more: bool = False  # stopped at the batch limit with changes still due
    # Nothing due now, but changes put back by an earlier failure wait for their backoff: seconds until the
    # first is due. The task comes back then, so that they do not wait for the sweeper.
    wake_in: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self):
        return {
            "claimed": self.claimed,
            "done": self.done,
            "failed": self.failed,
            "not_needed": self.not_needed,
            "retry_later": self.retry_later,
            "refused": self.refused,
            "imis_transactions": self.writes,
        }

    def add(self, other: PushResult):
        self.claimed += other.claimed
        self.done += other.done
        self.failed += other.failed
        self.not_needed += other.not_needed
        self.retry_later += other.retry_later
        self.refused += other.refused
        self.writes += other.writes
        if other.retry_in is not None:
            self.retry_in = other.retry_in if self.retry_in is None else min(self.retry_in, other.retry_in)
        self.errors.extend(e for e in other.errors if e not in self.errors)


@dataclass(frozen=True)
class Outgoing:
    """A claimed change as the push needs it (plain values: no model instance per change)."""

    id: int
    uuid: str
    subscriber_id: int
    imis_id: str
    interest: RemoteInterest
    new_value: bool
    created_at: datetime.datetime
    attempts: int

    @property
    def interest_id(self):
        return self.interest.id


def _outgoing(claim) -> list[Outgoing]:
    rows = list(
        PreferenceChange.objects.filter(id__in=claim.change_ids, state=State.SENDING, claimed_at=claim.claimed_at)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "uuid",
            "subscriber_id",
            "subscriber__imis_id",
            "interest_id",
            "new_value",
            "created_at",
            "attempts",
        )
    )
    interests = RemoteInterest.objects.in_bulk({r[4] for r in rows})
    return [
        Outgoing(cid, str(uuid), sid, imis_id, interests[iid], new, created, attempts)
        for cid, uuid, sid, imis_id, iid, new, created, attempts in rows
    ]


def _value_change(change: Outgoing, tried: set = frozenset()) -> imis.ValueChange:
    return imis.ValueChange(
        change_id=change.uuid,
        imis_id=change.imis_id,
        table_name=change.interest.table_name,
        field_name=change.interest.field_name,
        value=bool(change.new_value),
        product_code=change.interest.activity_product_code,
        description=f"Opted {'in' if change.new_value else 'out'}: {change.interest.display_label}",
        transaction_date=change.created_at,
        # Claimed before, or in a batch that failed part way here: iMIS may hold it already.
        tried_before=change.attempts > 1 or change.id in tried,
    )


def _plain(exc):
    return imis.plain_message(exc)


def changes_push_claimed(*, claim: Claim, using=None) -> PushResult:
    """Write the claimed changes to iMIS (one transaction, split when iMIS refuses it), then record each
    outcome on our side. The claim is kept alive while this runs (ClaimHeartbeat)."""
    with ClaimHeartbeat(claim):
        return _push_claimed(claim, using)


def _push_claimed(claim, using):
    result = PushResult(claimed=len(claim.change_ids), not_needed=claim.superseded)
    if claim.verify_ids:
        _settle_superseded(claim, result, using)
    if not claim.change_ids:
        return result
    changes = _outgoing(claim)
    # A field name iMIS could never accept fails on its own instead of taking the batch down with it.
    invalid = [
        c
        for c in changes
        if not (imis.is_valid_identifier(c.interest.table_name) and imis.is_valid_identifier(c.interest.field_name))
    ]
    if invalid:
        mark_failed(claim, invalid, "the interest's iMIS table or field name is not a valid identifier", result)
        changes = [c for c in changes if c not in invalid]
    if changes:
        _write_splitting(claim, changes, result, using)
    return result


def _write_splitting(claim, changes, result, using):
    """Write `changes` in one iMIS transaction; when iMIS refuses it, each half in its own, recursively,
    so that every change succeeds or fails on its own. Outcomes are recorded as each transaction commits.
    A transient error stops it all: what is left goes back to pending, whole, after a backoff."""
    todo = [changes]  # a stack of batches, first batch last: written in order
    tried = set()  # ids of changes whose write raised (a REST write is not one transaction)
    while todo:
        batch = todo.pop()
        result.writes += 1
        try:
            outcomes = imis.write_changes(
                [_value_change(c, tried) for c in batch],
                using=using,
                create_missing_rows=settings.IMIS_CREATE_MISSING_UD_ROWS,
                name_log=settings.IMIS_WRITE_NAME_LOG,
            )
        except Exception as exc:
            tried.update(c.id for c in batch)
            if imis.is_transient(exc):
                left = [c for pending in (batch, *reversed(todo)) for c in pending]
                mark_retry(claim, left, f"iMIS unavailable: {_plain(exc)}", result)
                return
            if not isinstance(exc, imis.ImisError) and batch is changes:
                logger.exception("push: iMIS write failed")  # not iMIS's answer: the logs get the stack
            if len(batch) == 1:
                mark_refused(claim, batch[0], _plain(exc), result)
            else:
                half = len(batch) // 2
                todo += [batch[half:], batch[:half]]
            continue
        mark_outcomes(claim, batch, outcomes, result)


def _settle_superseded(claim, result, using):
    """Superseded changes tried before: done if iMIS holds their Activity row (an attempt committed before
    its worker was lost), not needed otherwise. iMIS unreachable: back to pending, asked again later."""
    rows = list(
        PreferenceChange.objects.filter(
            id__in=claim.verify_ids, state=State.SENDING, claimed_at=claim.claimed_at
        ).values_list("id", "uuid", "subscriber__imis_id")
    )
    mine = PreferenceChange.objects.filter(
        id__in=[r[0] for r in rows], state=State.SENDING, claimed_at=claim.claimed_at
    )
    try:
        found = imis.written_activities([(imis_id, str(uuid)) for _id, uuid, imis_id in rows], using=using)
    except Exception as exc:  # noqa: BLE001 - whatever it is, nothing is decided: asked again later
        error = f"superseded; not known yet whether iMIS holds it: {type(exc).__name__}: {_plain(exc)}"
        delay = retry_delay(1)
        with transaction.atomic():
            result.retry_later += mine.update(
                state=State.PENDING,
                claimed_at=None,
                last_error=error[:1000],
                next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
            )
        result.retry_in = delay if result.retry_in is None else min(result.retry_in, delay)
        result.errors.append(error)
        return
    seqns = {cid: found[str(uuid)] for cid, uuid, _imis_id in rows if str(uuid) in found}
    with transaction.atomic():
        if seqns:
            result.done += mine.filter(id__in=list(seqns)).update(
                state=State.DONE,
                synced_at=timezone.now(),
                next_attempt_at=None,
                last_error=f"written before its worker was lost; {SUPERSEDED}",
                activity_seqn=by_id(seqns, models.IntegerField()),
            )
        result.not_needed += mine.exclude(id__in=list(seqns)).update(
            state=State.NOT_NEEDED, claimed_at=None, next_attempt_at=None, last_error=SUPERSEDED
        )


def changes_push(*, max_batches: int | None = None, using=None) -> PushResult:
    """Claim and push batches until nothing is due (or `max_batches`, PUSH_MAX_BATCHES_PER_RUN, is reached).

    Records a SyncRun of kind "push" when it had something to do."""
    max_batches = max_batches or settings.PUSH_MAX_BATCHES_PER_RUN
    started = timezone.now()
    total = PushResult()
    batches = 0
    more = False
    error = ""
    try:
        while True:
            if batches >= max_batches:
                more = changes_due_count() > 0
                break
            claim = changes_claim()
            if not claim.change_ids and not claim.superseded and not claim.verify_ids:
                break
            batches += 1
            total.add(changes_push_claimed(claim=claim, using=using))
            if total.retry_later:  # iMIS is unreachable: stop hammering it, the retry comes later
                break
    except Exception as exc:
        error = f"{type(exc).__name__}: {_plain(exc)}"
        raise
    finally:
        if batches or error:
            SyncRun.objects.create(
                kind=SyncRun.Kind.PUSH,
                started_at=started,
                finished_at=timezone.now(),
                ok=not error and not total.errors,
                counts={**total.counts, "batches": batches},
                error=error or "; ".join(total.errors)[:2000],
            )
    total.more = more
    if not total.retry_later and not more:
        total.wake_in = _seconds_until_next_waiting_change()
    return total


def _seconds_until_next_waiting_change() -> float | None:
    now = timezone.now()
    first = PreferenceChange.objects.filter(state=State.PENDING, next_attempt_at__gt=now).aggregate(
        first=Min("next_attempt_at")
    )["first"]
    return None if first is None else max((first - now).total_seconds(), 0.0)


def changes_retry(*, change_ids) -> int:
    """Staff retry of failed changes (after fixing iMIS): back to pending, pushed right away."""
    with transaction.atomic():
        count = PreferenceChange.objects.filter(id__in=list(change_ids), state=State.FAILED).update(
            state=State.PENDING, next_attempt_at=None, claimed_at=None
        )
        if count:
            enqueue_push()
    return count


def changes_sweep(*, now=None) -> dict:
    """The safety net (beat, every minute): changes whose worker died go back to pending, and when changes
    are due, push messages are sent again (the one sent on save may have been lost: Redis down, a worker
    killed). Up to PUSH_SWEEP_MESSAGES messages, so that several workers share a backlog."""
    now = now or timezone.now()
    released = changes_release_stale(now=now)
    due = changes_due_count(now=now)
    sent = 0
    if due:
        wanted = -(-due // settings.PUSH_BATCH_SIZE)
        sent = send_push(min(wanted, settings.PUSH_SWEEP_MESSAGES))
    return {"released": released, "due": due, "sent": sent}
