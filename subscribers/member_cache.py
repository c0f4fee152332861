"""What a member's page needs, kept in the cache (Redis in production) next to the rate-limit counter.

After a mailing, link scanners fetch every personal link and members click in bursts; each page view would
otherwise cost a database query on top of the rate limit's cache round trip. Here one round trip to the
cache counts the request AND reads the member's entry (token version, first name, masked address, ticked
interests) with the versions that say whether it is still true; the interests on the form come from a
per-process copy. Only a miss (first visit, or something changed) reads the database, and stores the
entry for the next request.

Why an entry is never stale:
- it is stored with the member's version, the members' generation and the interests' generation read
  BEFORE the database was, and is used only while all three are unchanged;
- a save through the member's pages (a POST) bumps the member's version, drops the entry and takes a
  short lease in the round trip it makes anyway, BEFORE it writes; while the lease lasts, page views read
  the database and store nothing. The save commits within milliseconds, long before the lease ends; one
  that commits later than half the lease (a lock wait) bumps the version again after its commit. A read
  that raced the save therefore either carries the older version or is not stored. Saves made elsewhere
  (the API) bump the member's version once their transaction commits; the roster pull, link rotation and
  anything else that rewrites many members bump the generation (`members_changed`), interest changes the
  interests' generation (`interests_changed`).
- if the cache cannot be reached when a write commits (Redis down), the entry may outlive the change for
  MEMBER_CACHE_SECONDS at most; reads while it is down go to the database.

Ahead of a mailing (links exported), `member_pages_warm` stores the members' pages the same way, in bulk,
so that the link scanners' first fetches are answered from the cache too.

An entry holds no address: a save that must compare the typed address (PREFERENCES_CONFIRM_EMAIL) reads
it from the database. MEMBER_CACHE_SECONDS = 0 turns caching off (every page reads the database).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from interests.models import RemoteInterest
from interests.signals import interests_changed as interests_changed_in_bulk
from preference_center.cache import counted_round_trip, set_unanswered

from . import selectors, tokens
from .models import Subscriber
from .ratelimits import CACHE_ERRORS, Rate, counter_key, over_rate

logger = logging.getLogger(__name__)

MEMBERS_GENERATION = "pc:members-generation"
INTERESTS_GENERATION = "pc:interests-generation"
# The interests on the form are re-read at least this often even if no change was announced (a change
# made around the app, e.g. in a database shell).
INTERESTS_MAX_AGE = 30
# How long a save's lease keeps the member's page out of the cache (see above). A save's one statement
# takes milliseconds; one that commits after half of this bumps the member's version after its commit.
SAVE_LEASE_SECONDS = 10


def _entry_key(subscriber_id):
    return f"pc:member:{subscriber_id}"


def _version_key(subscriber_id):
    return f"pc:member-version:{subscriber_id}"


def _lease_key(subscriber_id):
    return f"pc:member-saving:{subscriber_id}"


@dataclass(frozen=True)
class MemberPage:
    """A member's page: who (no address) and their form."""

    subscriber_id: int
    token_version: int
    first_name: str
    masked_email: str
    state: selectors.FormState
    # (members' generation, member's version, interests' generation) it was read under; None: not cached
    versions: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Visit:
    over_limit: bool
    link: tokens.LinkPayload | None  # None: a forged or expired token
    page: MemberPage | None  # None: not loaded (see visit), or a rotated or unknown link, or the member is gone
    specs: tuple[selectors.InterestSpec, ...] = ()  # the interests on the form
    # When the save's lease was taken (time.monotonic, just before), for preferences_save; None: not taken
    leased_at: float | None = None


def visit(token: str, *, client: str, group: str, rate: Rate, load: bool = True) -> Visit:
    """Count this request against `rate` for `client` and find the page of the member `token` names.

    `load`: read the page, from the cache or else from the database (and keep it for the next request). A
    save does not load it (preferences_save checks the link and diffs in its one statement): it gets the
    interests, and takes the save's lease in the same round trip (see the module's docstring)."""
    payload = tokens.read_token(token)
    if payload is None:  # a forged token costs no query, and is still counted
        return Visit(over_rate(client, group=group, rate=rate), None, None)
    if settings.MEMBER_CACHE_SECONDS <= 0:
        return _without_cache(token, payload, over_rate(client, group=group, rate=rate), load)
    sid = payload.subscriber_id
    counter = counter_key(group, client, rate)
    leased_at = None if load else time.monotonic()
    try:
        if load:
            reads = [_entry_key(sid), _version_key(sid), MEMBERS_GENERATION, INTERESTS_GENERATION, _lease_key(sid)]
            count, got = counted_round_trip(cache, counter, rate.period, get=reads)
        else:
            count, got = counted_round_trip(
                cache,
                counter,
                rate.period,
                get=[INTERESTS_GENERATION],
                delete=[_entry_key(sid)],
                incr=[_version_key(sid)],
                set={_lease_key(sid): (1, SAVE_LEASE_SECONDS)},
            )
    except CACHE_ERRORS as exc:
        logger.warning("rate limit not counted and member cache not read (%s): request let through", type(exc).__name__)
        return _without_cache(token, payload, False, load)
    if count > rate.limit:
        return Visit(True, payload, None)
    specs = _interests(got[INTERESTS_GENERATION] or 0)
    if not load:
        return Visit(False, payload, None, specs, leased_at)
    # The interests' generation is one of the versions: an entry holds the ticks of the interests then on
    # the form, so one shown again (or added) after it was stored would read as unticked.
    versions = (got[MEMBERS_GENERATION] or 0, got[_version_key(sid)] or 0, got[INTERESTS_GENERATION] or 0)
    entry = got[_entry_key(sid)]
    if entry is not None and tuple(entry[:3]) == versions:
        token_version, first_name, masked_email, ticked = entry[3:]
        if token_version != payload.token_version:
            return Visit(False, payload, None, specs)
        ticked = set(ticked)
        state = selectors.FormState(specs=specs, values={spec.id: spec.id in ticked for spec in specs})
        return Visit(False, payload, MemberPage(sid, token_version, first_name, masked_email, state, versions), specs)
    saving = got[_lease_key(sid)] is not None  # what the database holds may change any moment: not stored
    page = _from_database(token, None if saving else versions)
    return Visit(False, payload, page, page.state.specs if page else specs)


def page_from_database(token: str) -> MemberPage | None:
    """The member's page as committed, not cached (e.g. to show the form again after a refused save)."""
    return _from_database(token, None)


def _without_cache(token, payload, over_limit, load) -> Visit:
    if over_limit:
        return Visit(True, payload, None)
    page = _from_database(token, None) if load else None
    return Visit(False, payload, page, page.state.specs if page else selectors.form_specs())


def _from_database(token, versions) -> MemberPage | None:
    """The page from the database, read under `versions` (read from the cache before the query) and
    stored in the cache for the next request; None: not stored."""
    loaded = selectors.member_form(token)
    if loaded is None:
        return None
    subscriber, state = loaded
    page = MemberPage(
        subscriber.pk,
        subscriber.token_version,
        subscriber.first_name,
        selectors.mask_email(subscriber.email),
        state,
        versions,
    )
    if versions is not None:
        try:
            # Unanswered: an entry that failed to store costs the next request a query, and waiting for
            # Redis to say it stored one cost a page read from the database a second round trip.
            set_unanswered(
                cache,
                _entry_key(page.subscriber_id),
                _entry(page, versions, state.values),
                settings.MEMBER_CACHE_SECONDS,
            )
        except CACHE_ERRORS as exc:
            logger.warning("member page not cached (%s)", type(exc).__name__)
    return page


def _entry(page, versions, values):
    return (
        *versions,
        page.token_version,
        page.first_name,
        page.masked_email,
        sorted(k for k, v in values.items() if v),
    )


# --- ahead of a mailing ---------------------------------------------------------------------------------

WARM_CHUNK = 1000


def member_pages_warm(subscriber_ids: Iterable[int]) -> int:
    """Cache the pages of these members before they are visited: a mailing is about to reach them, and the
    link scanners of their mail servers fetch every link within minutes. Returns how many were stored.

    As a page view does it: the versions and the members' save leases are read from the cache first and the
    database after; a member whose save is under way is left out; each entry carries the versions read
    first, so one that a change overtook is never used. Entries live MEMBER_CACHE_SECONDS."""
    if settings.MEMBER_CACHE_SECONDS <= 0:
        return 0
    stored = 0
    ids = iter(subscriber_ids)
    while chunk := list(itertools.islice(ids, WARM_CHUNK)):
        try:
            stored += _warm(chunk)
        except CACHE_ERRORS as exc:
            logger.warning("member pages not cached ahead (%s)", type(exc).__name__)
            break
    return stored


def _warm(ids) -> int:
    got = cache.get_many([MEMBERS_GENERATION, INTERESTS_GENERATION, *map(_version_key, ids), *map(_lease_key, ids)])
    generation, interests_generation = got.get(MEMBERS_GENERATION, 0), got.get(INTERESTS_GENERATION, 0)
    free = [sid for sid in ids if _lease_key(sid) not in got]
    states = selectors.form_states(subscriber_ids=free, specs=_interests(interests_generation))
    entries = {}
    for sid, token_version, first_name, email in Subscriber.objects.filter(pk__any=free, active=True).values_list(
        "id", "token_version", "first_name", "email"
    ):
        versions = (generation, got.get(_version_key(sid), 0), interests_generation)
        page = MemberPage(sid, token_version, first_name, selectors.mask_email(email), states[sid], versions)
        entries[_entry_key(sid)] = _entry(page, versions, page.state.values)
    cache.set_many(entries, settings.MEMBER_CACHE_SECONDS)
    return len(entries)


# --- the interests on the form, per process -------------------------------------------------------------

_interests_copy: dict = {}


def _interests(generation) -> tuple[selectors.InterestSpec, ...]:
    copy = _interests_copy.get("copy")
    if copy is None or copy[0] != generation or time.monotonic() - copy[1] > INTERESTS_MAX_AGE:
        copy = _interests_copy["copy"] = (generation, time.monotonic(), selectors.form_specs())
    return copy[2]


# --- invalidation: called by every write path ---------------------------------------------------------


def member_changed(subscriber_id: int, *, leased_at: float | None = None) -> None:
    """The member's choices changed (preferences_save): after the commit, bump their version, unless the
    save took its lease (`leased_at`, see visit) and committed within half of it."""

    def bump():
        if leased_at is None or time.monotonic() - leased_at > SAVE_LEASE_SECONDS / 2:
            _bump(_version_key(subscriber_id), drop=[_entry_key(subscriber_id)])

    transaction.on_commit(bump)


def members_changed() -> None:
    """Many members changed (roster pull, link rotation): after the commit, every entry is out of date."""
    transaction.on_commit(lambda: _bump(MEMBERS_GENERATION))


def interests_changed() -> None:
    """The interests on the form changed: after the commit, every process re-reads them."""
    _interests_copy.clear()
    transaction.on_commit(lambda: (_interests_copy.clear(), _bump(INTERESTS_GENERATION)))


@receiver(post_save, sender=RemoteInterest, dispatch_uid="member_cache.interest_saved")
@receiver(post_delete, sender=RemoteInterest, dispatch_uid="member_cache.interest_deleted")
@receiver(interests_changed_in_bulk, dispatch_uid="member_cache.interests_changed")
def _on_interests_changed(sender, **kwargs):
    interests_changed()


def _bump(counter, drop=()):
    # Versions and generations never expire: a counter that started again could come back to a value an
    # entry still carries. (Redis must not evict them either: README, "Running in production".)
    try:
        counted_round_trip(cache, counter, None, delete=drop)
    except CACHE_ERRORS as exc:
        logger.warning(
            "member cache not told of a change (%s): pages may show it up to %s s late",
            type(exc).__name__,
            settings.MEMBER_CACHE_SECONDS,
        )
