"""What a member's page needs, kept in the cache (Redis in production) next to the rate-limit counter.

After a mailing, link scanners fetch every personal link and members click in bursts; each page view would
otherwise cost a database query on top of the rate limit's cache round trip. Here one round trip to the
cache counts the request AND reads the member's entry (token version, first name, masked address, ticked
interests) with the versions that say whether it is still true; the interests on the form come from a
per-process copy. Only a miss (first visit, or something changed) reads the database, and stores the
entry for the next request.

Why an entry is never stale:
- it is stored with the member's version and the members' generation read BEFORE the database was, and
  is used only while both are unchanged;
- preferences_save bumps the member's version (and drops the entry) once its transaction commits; the
  roster pull, link rotation and anything else that rewrites many members bump the generation
  (`members_changed`), interest changes bump the interests' generation (`interests_changed`). A read
  that raced a write therefore carries the older version and is never used.
- if the cache cannot be reached when a write commits (Redis down), the entry may outlive the change for
  MEMBER_CACHE_SECONDS at most; reads while it is down go to the database.

An entry holds no address: a save that must compare the typed address (PREFERENCES_CONFIRM_EMAIL) reads
it from the database. MEMBER_CACHE_SECONDS = 0 turns caching off (every page reads the database).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from interests.models import RemoteInterest
from interests.signals import interests_changed as interests_changed_in_bulk
from preference_center.cache import count_get_delete

from . import selectors, tokens
from .ratelimits import CACHE_ERRORS, Rate, counter_key

logger = logging.getLogger(__name__)

MEMBERS_GENERATION = "pc:members-generation"
INTERESTS_GENERATION = "pc:interests-generation"
# The interests on the form are re-read at least this often even if no change was announced (a change
# made around the app, e.g. in a database shell).
INTERESTS_MAX_AGE = 30


def _entry_key(subscriber_id):
    return f"pc:member:{subscriber_id}"


def _version_key(subscriber_id):
    return f"pc:member-version:{subscriber_id}"


@dataclass(frozen=True)
class MemberPage:
    """A member's page: who (no address) and their form."""

    subscriber_id: int
    token_version: int
    first_name: str
    masked_email: str
    state: selectors.FormState


@dataclass(frozen=True)
class Visit:
    over_limit: bool
    page: MemberPage | None  # None: forged, rotated or unknown link, or the member is gone


def visit(token: str, *, client: str, group: str, rate: Rate) -> Visit:
    """Count this request against `rate` for `client` and load the page of the member `token` names."""
    payload = tokens.read_token(token)
    counter = counter_key(group, client, rate)
    if payload is None:  # a forged token costs no query, and is still counted
        return Visit(_count(counter, rate) > rate.limit, None)
    sid = payload.subscriber_id
    ttl = settings.MEMBER_CACHE_SECONDS
    reads = [_entry_key(sid), _version_key(sid), MEMBERS_GENERATION, INTERESTS_GENERATION] if ttl > 0 else []
    try:
        count, got = count_get_delete(cache, counter, rate.period, get=reads)
    except CACHE_ERRORS as exc:
        logger.warning("rate limit not counted and member cache not read (%s): request let through", type(exc).__name__)
        return Visit(False, _from_database(token, None))
    if count > rate.limit:
        return Visit(True, None)
    if not reads:
        return Visit(False, _from_database(token, None))
    versions = (got[MEMBERS_GENERATION] or 0, got[_version_key(sid)] or 0)
    entry = got[_entry_key(sid)]
    if entry is not None and tuple(entry[:2]) == versions:
        token_version, first_name, masked_email, ticked = entry[2:]
        if token_version != payload.token_version:
            return Visit(False, None)
        specs = _interests(got[INTERESTS_GENERATION] or 0)
        ticked = set(ticked)
        state = selectors.FormState(specs=specs, values={spec.id: spec.id in ticked for spec in specs})
        return Visit(False, MemberPage(sid, token_version, first_name, masked_email, state))
    return Visit(False, _from_database(token, versions))


def _count(counter, rate) -> int:
    try:
        return count_get_delete(cache, counter, rate.period)[0]
    except CACHE_ERRORS as exc:
        logger.warning("rate limit not counted (%s): request let through", type(exc).__name__)
        return 0


def _from_database(token, versions) -> MemberPage | None:
    """The page from the database; stored in the cache under `versions` (read before the query)."""
    loaded = selectors.member_form(token)
    if loaded is None:
        return None
    subscriber, state = loaded
    page = MemberPage(
        subscriber.pk, subscriber.token_version, subscriber.first_name, selectors.mask_email(subscriber.email), state
    )
    if versions is not None:
        ticked = sorted(pk for pk, value in state.values.items() if value)
        entry = (*versions, page.token_version, page.first_name, page.masked_email, ticked)
        try:
            cache.set(_entry_key(page.subscriber_id), entry, settings.MEMBER_CACHE_SECONDS)
        except CACHE_ERRORS as exc:
            logger.warning("member page not cached (%s)", type(exc).__name__)
    return page


# --- the interests on the form, per process -------------------------------------------------------------

_interests_copy: dict = {}


def _interests(generation) -> tuple[selectors.InterestSpec, ...]:
    copy = _interests_copy.get("copy")
    if copy is None or copy[0] != generation or time.monotonic() - copy[1] > INTERESTS_MAX_AGE:
        copy = _interests_copy["copy"] = (generation, time.monotonic(), selectors.form_specs())
    return copy[2]


# --- invalidation: called by every write path ---------------------------------------------------------


def member_changed(subscriber_id: int) -> None:
    """The member's choices or details changed (preferences_save): after the commit, bump their version."""
    transaction.on_commit(lambda: _bump(_version_key(subscriber_id), drop=[_entry_key(subscriber_id)]))


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
    # A member's version lives longer than any entry stored under it: it cannot come back to a value an
    # entry still carries. The generations never expire.
    timeout = 2 * settings.MEMBER_CACHE_SECONDS + 60 if counter.startswith("pc:member-version:") else None
    try:
        count_get_delete(cache, counter, timeout, delete=drop)
    except CACHE_ERRORS as exc:
        logger.warning(
            "member cache not told of a change (%s): pages may show it up to %s s late",
            type(exc).__name__,
            settings.MEMBER_CACHE_SECONDS,
        )
