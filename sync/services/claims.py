"""Claims: which worker holds which changes while it writes them to iMIS, and for how long.

A worker claims due pending changes (state "sending", stamped with the claim time, its token). While it
holds them, `next_attempt_at` is when its claim lapses: PUSH_CLAIM_TIMEOUT after the claim, renewed every
third of that by a heartbeat thread for as long as the worker is writing, however long iMIS takes. A
killed worker's heartbeat dies with it: its claim lapses within PUSH_CLAIM_TIMEOUT and the sweeper (every
minute) puts the changes back to pending, so that they reach iMIS within about two minutes.

Why a heartbeat rather than a deadline on the writing: a batch is several statements, each bounded by
IMIS_QUERY_TIMEOUT on SQL Server (and by nothing on a replica), so no short claim timeout can be longer
than the longest live write. A claim renewed while the worker lives is never taken from a live worker,
whatever iMIS does; only a worker that cannot reach our database for PUSH_CLAIM_TIMEOUT could lose it
(the sweeper needs that database too; and the retry finds the change's Activity row by its SOURCE_CODE
before writing it again).
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from subscribers.models import PreferenceChange, Subscriber

logger = logging.getLogger(__name__)

State = PreferenceChange.State
SUPERSEDED = "superseded by a later change of the same interest"


@dataclass(frozen=True)
class Claim:
    """Changes one worker holds in state "sending", stamped with the claim time (its token)."""

    claimed_at: datetime.datetime
    change_ids: list[int]
    superseded: int = 0
    # Superseded changes an earlier, lost attempt may have written: iMIS is asked before they are recorded
    # done (its Activity row exists) or not needed.
    verify_ids: tuple[int, ...] = ()


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
    with transaction.atomic():
        candidates = _lock_candidates(limit=limit, now=now)
        if not candidates:
            return Claim(now, [])
        latest, busy = _latest_and_busy(candidates)
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
        verify = _take(verify, now=now)
        claim_ids = _take(claim_ids, now=now, attempts=F("attempts") + 1)
    return Claim(now, claim_ids, superseded=len(superseded), verify_ids=tuple(verify))


def _lock_candidates(*, limit, now):
    """The due pending changes no other worker holds (SKIP LOCKED), oldest first, with their members' rows
    locked in id order: [(id, subscriber_id, interest_id, created_at, attempts)]."""
    in_flight = PreferenceChange.objects.filter(
        state=State.SENDING, subscriber_id=OuterRef("subscriber_id"), interest_id=OuterRef("interest_id")
    )
    candidates = list(
        PreferenceChange.objects.filter(_due(now))
        .exclude(Exists(in_flight))
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("created_at", "id")
        .values_list("id", "subscriber_id", "interest_id", "created_at", "attempts")[:limit]
    )
    if candidates:
        subscriber_ids = sorted({c[1] for c in candidates})
        list(Subscriber.objects.filter(id__in=subscriber_ids).select_for_update().order_by("id").values_list("id"))
    return candidates


def _latest_and_busy(candidates):
    """Every change of these members, as committed now (we hold their locks): the latest per pair
    ({(subscriber_id, interest_id): (created_at, id)}), and the pairs another worker is still sending. The
    pull's history rows (source imis: what iMIS held, never pushed) are not changes to write: they must not
    supersede the member's pending one."""
    latest, busy = {}, set()
    mine = {c[0] for c in candidates}
    for change_id, subscriber_id, interest_id, created_at, state in (
        PreferenceChange.objects.filter(
            subscriber_id__in={c[1] for c in candidates}, interest_id__in={c[2] for c in candidates}
        )
        .exclude(source=PreferenceChange.Source.IMIS)
        .values_list("id", "subscriber_id", "interest_id", "created_at", "state")
    ):
        pair = (subscriber_id, interest_id)
        if pair not in latest or (created_at, change_id) > latest[pair]:
            latest[pair] = (created_at, change_id)
        if state == State.SENDING and change_id not in mine:
            busy.add(pair)
    return latest, busy


def _take(change_ids, *, now, **also):
    """Move these changes from pending to "sending" under the claim made at `now`; the ids this worker
    really got, sorted (a row another claimer took first is not ours). While "sending", next_attempt_at is
    when the claim lapses: the next attempt may start then if its worker stopped renewing it (see
    ClaimHeartbeat)."""
    if not change_ids:
        return []
    lapses_at = now + datetime.timedelta(seconds=settings.PUSH_CLAIM_TIMEOUT)
    PreferenceChange.objects.filter(id__in=change_ids, state=State.PENDING).update(
        state=State.SENDING, claimed_at=now, next_attempt_at=lapses_at, **also
    )
    return sorted(
        PreferenceChange.objects.filter(id__in=change_ids, state=State.SENDING, claimed_at=now).values_list(
            "id", flat=True
        )
    )


def changes_claim_renew(*, claim: Claim, now=None) -> int:
    """Push the lapse of this claim PUSH_CLAIM_TIMEOUT ahead. Rows the worker is recording an outcome of
    right now (locked) are skipped, never waited for: they leave "sending" anyway."""
    now = now or timezone.now()
    ids = [*claim.change_ids, *claim.verify_ids]
    with transaction.atomic():
        held = list(
            PreferenceChange.objects.filter(id__in=ids, state=State.SENDING, claimed_at=claim.claimed_at)
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)
        )
        return PreferenceChange.objects.filter(id__in=held).update(
            next_attempt_at=now + datetime.timedelta(seconds=settings.PUSH_CLAIM_TIMEOUT)
        )


class ClaimHeartbeat:
    """`with ClaimHeartbeat(claim):` renews the claim every PUSH_CLAIM_TIMEOUT / 3 seconds in a thread of
    its own (with its own connection to our database) until the block ends."""

    def __init__(self, claim: Claim):
        self.claim = claim
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="push-claim-heartbeat", daemon=True)

    def __enter__(self):
        if self.claim.change_ids or self.claim.verify_ids:
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        return False

    def _beat(self):
        try:
            while not self._stop.wait(max(settings.PUSH_CLAIM_TIMEOUT / 3, 0.5)):
                try:
                    changes_claim_renew(claim=self.claim)
                except Exception:  # our database out of reach for a moment: the next beat tries again
                    logger.warning("push: could not renew a claim", exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only


def changes_release_stale(*, now=None) -> int:
    """Put changes whose claim lapsed (their worker died: no heartbeat for PUSH_CLAIM_TIMEOUT) back to
    pending. A claim of a worker older than the heartbeat (no lapse time) lapses PUSH_CLAIM_TIMEOUT after
    it was made."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.PUSH_CLAIM_TIMEOUT)
    lapsed = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=now)
    released = PreferenceChange.objects.filter(lapsed, state=State.SENDING, claimed_at__lt=cutoff).update(
        state=State.PENDING,
        claimed_at=None,
        next_attempt_at=None,
        last_error="claim expired (the worker was lost); retried",
    )
    if released:
        logger.warning("push: %d changes stuck in sending went back to pending", released)
    return released
