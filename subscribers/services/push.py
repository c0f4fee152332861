"""The push: carries pending PreferenceChange rows (the outbox) into iMIS, exactly once.

A change goes pending -> sending (claimed) -> done (iMIS committed, Activity SEQN recorded), or back to
pending with a backoff when iMIS is unreachable, or failed with a plain reason (no UD row, iMIS refused),
or not_needed when a later change of the same member x interest supersedes it (its history stays; one
tried before is first looked up in iMIS, and recorded done if an attempt committed before its worker was
lost).

Exactly once: a change is marked done only after iMIS committed. A worker that dies in between leaves
the change in "sending"; the sweeper puts it back to pending after PUSH_CLAIM_TIMEOUT, and the retry finds
the Activity row whose SOURCE_CODE is the change UUID (the gateway reports ALREADY_WRITTEN) instead of
writing a second one.

Order: for one member x interest, only the latest change is ever written, and never while an older one
of the same pair is still in flight (claims take the member's row lock, so two workers cannot both
decide they hold the latest change of a pair).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, Exists, F, Min, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from interests.models import RemoteInterest
from preference_center import imis

from ..models import Preference, PreferenceChange, Subscriber, SyncRun

logger = logging.getLogger(__name__)

State = PreferenceChange.State
SUPERSEDED = "superseded by a later change of the same interest"


@dataclass
class PushResult:
    """What one push run did (SyncRun.counts)."""

    claimed: int = 0
    done: int = 0
    failed: int = 0
    not_needed: int = 0
    retry_later: int = 0
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
        }

    def add(self, other: PushResult):
        self.claimed += other.claimed
        self.done += other.done
        self.failed += other.failed
        self.not_needed += other.not_needed
        self.retry_later += other.retry_later
        if other.retry_in is not None:
            self.retry_in = other.retry_in if self.retry_in is None else min(self.retry_in, other.retry_in)
        self.errors.extend(e for e in other.errors if e not in self.errors)


@dataclass(frozen=True)
class Claim:
    """Changes one worker holds in state "sending", stamped with the claim time (its token)."""

    claimed_at: datetime.datetime
    change_ids: list[int]
    superseded: int = 0
    # Superseded changes an earlier, lost attempt may have written: iMIS is asked before they are recorded
    # done (its Activity row exists) or not needed.
    verify_ids: tuple[int, ...] = ()


def retry_delay(attempts: int) -> float:
    """Exponential backoff: PUSH_RETRY_BASE_DELAY x 2^(attempts - 1), at most PUSH_RETRY_MAX_DELAY seconds."""
    base, cap = settings.PUSH_RETRY_BASE_DELAY, settings.PUSH_RETRY_MAX_DELAY
    return float(min(cap, base * 2 ** max(0, min(attempts - 1, 30))))


def _due(now):
    return Q(state=State.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def changes_due_count(*, now=None) -> int:
    return PreferenceChange.objects.filter(_due(now or timezone.now())).count()


def changes_claim(*, limit: int | None = None, now=None) -> Claim:
    """Claim up to `limit` due pending changes for this worker: state "sending", attempts + 1.

    Safe with several workers at once: candidate rows are locked with SKIP LOCKED (workers take disjoint
    sets), then the members' rows are locked (in id order) while deciding, per member x interest, which
    change is the latest: older pending ones become not_needed; a pair with a change of another worker
    still in flight is left pending for a later round, so the newer value is never overwritten by an
    older one. The final UPDATE is conditional on state = pending and the claim time is the token: the
    ids returned are the rows this worker really got."""
    limit = limit or settings.PUSH_BATCH_SIZE
    now = now or timezone.now()
    in_flight = PreferenceChange.objects.filter(
        state=State.SENDING, subscriber_id=OuterRef("subscriber_id"), interest_id=OuterRef("interest_id")
    )
    with transaction.atomic():
        candidates = list(
            PreferenceChange.objects.filter(_due(now))
            .exclude(Exists(in_flight))
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("created_at", "id")
            .values_list("id", "subscriber_id", "interest_id", "created_at", "attempts")[:limit]
        )
        if not candidates:
            return Claim(now, [])
        subscriber_ids = sorted({c[1] for c in candidates})
        list(Subscriber.objects.filter(id__in=subscriber_ids).select_for_update().order_by("id").values_list("id"))

        # Every change of these members, as committed now (we hold their locks): the latest per pair, and
        # the pairs another worker is still sending. The pull's history rows (source imis: what iMIS held,
        # never pushed) are not changes to write: they must not supersede the member's pending one.
        latest, busy = {}, set()
        mine = {c[0] for c in candidates}
        for change_id, subscriber_id, interest_id, created_at, state in (
            PreferenceChange.objects.filter(
                subscriber_id__in=subscriber_ids, interest_id__in={c[2] for c in candidates}
            )
            .exclude(source=PreferenceChange.Source.IMIS)
            .values_list("id", "subscriber_id", "interest_id", "created_at", "state")
        ):
            pair = (subscriber_id, interest_id)
            if pair not in latest or (created_at, change_id) > latest[pair]:
                latest[pair] = (created_at, change_id)
            if state == State.SENDING and change_id not in mine:
                busy.add(pair)

        claim_ids, superseded, verify = [], [], []
        for change_id, subscriber_id, interest_id, _created_at, attempts in candidates:
            pair = (subscriber_id, interest_id)
            if latest[pair][1] != change_id:
                # Tried before (its worker was lost, maybe after iMIS committed): ask iMIS first.
                (verify if attempts else superseded).append(change_id)
            elif pair not in busy:
                claim_ids.append(change_id)
        if superseded:
            PreferenceChange.objects.filter(id__in=superseded, state=State.PENDING).update(
                state=State.NOT_NEEDED,
                next_attempt_at=None,
                last_error=SUPERSEDED,
            )
        if verify:
            PreferenceChange.objects.filter(id__in=verify, state=State.PENDING).update(
                state=State.SENDING, claimed_at=now
            )
            verify = sorted(
                PreferenceChange.objects.filter(id__in=verify, state=State.SENDING, claimed_at=now).values_list(
                    "id", flat=True
                )
            )
        if claim_ids:
            PreferenceChange.objects.filter(id__in=claim_ids, state=State.PENDING).update(
                state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
            # What we really got (a row another claimer took first is not ours).
            claim_ids = sorted(
                PreferenceChange.objects.filter(id__in=claim_ids, state=State.SENDING, claimed_at=now).values_list(
                    "id", flat=True
                )
            )
    return Claim(now, claim_ids, superseded=len(superseded), verify_ids=tuple(verify))


@dataclass(frozen=True)
class Outgoing:
    """A claimed change as the push needs it (plain values: no model instance per change)."""

    id: int
    uuid: str
    subscriber_id: int
    imis_id: str
    interest: RemoteInterest
    old_value: bool | None
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
            "old_value",
            "new_value",
            "created_at",
            "attempts",
        )
    )
    interests = RemoteInterest.objects.in_bulk({r[4] for r in rows})
    return [
        Outgoing(cid, str(uuid), sid, imis_id, interests[iid], old, new, created, attempts)
        for cid, uuid, sid, imis_id, iid, old, new, created, attempts in rows
    ]


def _value_change(change: Outgoing) -> imis.ValueChange:
    return imis.ValueChange(
        change_id=change.uuid,
        imis_id=change.imis_id,
        table_name=change.interest.table_name,
        field_name=change.interest.field_name,
        value=bool(change.new_value),
        product_code=change.interest.activity_product_code,
        description=f"Opted {'in' if change.new_value else 'out'}: {change.interest.display_label}",
        transaction_date=change.created_at,
        old_value=change.old_value,
    )


def _plain(exc):
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:500]


def changes_push_claimed(*, claim: Claim, using=None) -> PushResult:
    """Write the claimed changes to iMIS in ONE transaction, then record each outcome on our side."""
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
        _mark_failed(claim, invalid, "the interest's iMIS table or field name is not a valid identifier", result)
        changes = [c for c in changes if c not in invalid]
    if not changes:
        return result
    try:
        outcomes = imis.write_changes(
            [_value_change(c) for c in changes],
            using=using,
            create_missing_rows=settings.IMIS_CREATE_MISSING_UD_ROWS,
            name_log=settings.IMIS_WRITE_NAME_LOG,
        )
    except imis.ImisUnavailable as exc:
        _mark_retry(claim, changes, f"iMIS unavailable: {_plain(exc)}", result)
        return result
    except imis.ImisError as exc:
        _mark_failed(claim, changes, f"iMIS refused the batch: {_plain(exc)}", result)
        return result
    except Exception as exc:  # unknown: keep the changes, retry later, tell the logs
        logger.exception("push batch failed")
        _mark_retry(claim, changes, f"{type(exc).__name__}: {_plain(exc)}", result)
        return result
    _mark_outcomes(claim, changes, outcomes, result)
    return result


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
                activity_seqn=_by_id(seqns, models.IntegerField()),
            )
        result.not_needed += mine.exclude(id__in=list(seqns)).update(
            state=State.NOT_NEEDED, claimed_at=None, next_attempt_at=None, last_error=SUPERSEDED
        )


def _mine(claim, changes):
    return PreferenceChange.objects.filter(
        id__in=[c.id for c in changes], state=State.SENDING, claimed_at=claim.claimed_at
    )


def _mark_retry(claim, changes, error, result):
    now = timezone.now()
    delays = {c.id: retry_delay(c.attempts) for c in changes}
    with transaction.atomic():
        updated = _mine(claim, changes).update(
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


def _mark_failed(claim, changes, error, result):
    with transaction.atomic():
        result.failed += _mine(claim, changes).update(state=State.FAILED, last_error=error[:1000], next_attempt_at=None)
    result.errors.append(error)


def _by_id(values: dict, output_field):
    """CASE id WHEN ... THEN ... END: one value per row in a single UPDATE. Written out because Django's
    Case(When(...)) costs more to build than the batch costs to write; only placeholders are added."""
    sql = "CASE id " + " ".join(["WHEN %s THEN %s"] * len(values)) + " END"  # noqa: S608
    return RawSQL(sql, [x for pair in values.items() for x in pair], output_field=output_field)


def _mark_outcomes(claim, changes, outcomes, result):
    now = timezone.now()
    by_uuid = {c.uuid: c for c in changes}
    written, missing = [], []
    for outcome in outcomes:
        change = by_uuid[outcome.change_id]
        (written if outcome.ok else missing).append((change, outcome))
    with transaction.atomic():
        if written:
            result.done += _mine(claim, [c for c, _o in written]).update(
                state=State.DONE,
                synced_at=now,
                next_attempt_at=None,
                last_error="",
                activity_seqn=_by_id({c.id: o.seqn for c, o in written}, models.IntegerField()),
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
                result.failed += _mine(claim, [change]).update(
                    state=State.FAILED, last_error=error, next_attempt_at=None
                )
            result.errors.append(f"{len(missing)} members have no UD row in iMIS")


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


def changes_release_stale(*, now=None) -> int:
    """Put changes claimed longer than PUSH_CLAIM_TIMEOUT ago (their worker died) back to pending."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.PUSH_CLAIM_TIMEOUT)
    released = PreferenceChange.objects.filter(state=State.SENDING, claimed_at__lt=cutoff).update(
        state=State.PENDING,
        claimed_at=None,
        next_attempt_at=None,
        last_error="claim expired (the worker was lost); retried",
    )
    if released:
        logger.warning("push: %d changes stuck in sending went back to pending", released)
    return released


def changes_retry(*, change_ids) -> int:
    """Staff retry of failed changes (after fixing iMIS): back to pending, pushed right away."""
    from ..outbox import enqueue_push

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
    from ..outbox import send_push

    now = now or timezone.now()
    released = changes_release_stale(now=now)
    due = changes_due_count(now=now)
    sent = 0
    if due:
        wanted = -(-due // settings.PUSH_BATCH_SIZE)
        sent = send_push(min(wanted, settings.PUSH_SWEEP_MESSAGES))
    return {"released": released, "due": due, "sent": sent}
