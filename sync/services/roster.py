"""The roster pull: Subscriber and Preference filled from iMIS, with flat memory for any roster size.

Two passes, each streaming ID-keyed chunks from the gateway and writing one chunk per transaction:

1. members (`Name`): new ones created, changed ones updated, returning ones reactivated, each marked
   seen by this pull; once the whole roster has streamed, active members the pull did not see are gone
   from iMIS and deactivated (never deleted: their history stays). Marking, rather than comparing ID
   ranges, holds whatever order iMIS's collation gives the IDs.
2. checkbox values of the interests on the form, per UD table. The two-way rule: `imis_value` is the
   last value seen in or written to iMIS. Where iMIS now differs from it:
   - no local change pending (pending, sending or failed): iMIS wins, `value` follows, and a history row
     (source imis, state not_needed) records old -> new when the member's value really changed;
   - a local change pending: the member's choice is kept (it is on its way to iMIS) and a history row
     (source imis, state not_needed) with a note says what iMIS held and why it was not taken, so that
     staff investigating "my choice did not stick" see both sides.
   Rows are sparse: a member x interest without a Preference row is off here and off in iMIS, so a
   pull stores rows only for values that are on (100,000 members x 60 fields would otherwise be 6
   million rows, most of them "off", and their insertion alone longer than a pull may take). A value
   found on without a row is a change made in iMIS (history row) once the interest's values have been
   pulled before and the member is not new; otherwise it is a first sight, stored without history.
   A member without a row in a UD table has nothing on there: no Preference row either (a save for them
   fails in the push with a plain reason, "no UD row").
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.utils import timezone

from interests.models import RemoteInterest
from preference_center import imis
from preference_center.lib.bulk_insert import insert_new
from preference_center.lib.locale import member_language
from subscribers.models import Preference, PreferenceChange, Subscriber, mailable_q, on_off

from ..models import SyncRun
from .ud_rows import UdRowsSeen, missing_ud_rows_forget, missing_ud_rows_record

logger = logging.getLogger(__name__)

LOCK_KEY = "subscribers:roster-pull"
OPEN_STATES = (PreferenceChange.State.PENDING, PreferenceChange.State.SENDING, PreferenceChange.State.FAILED)
MEMBER_FIELDS = ("email", "first_name", "last_name", "full_name", "status", "is_company", "exclude_mail", "language")
_MAX = {
    name: Subscriber._meta.get_field(name).max_length
    for name in MEMBER_FIELDS
    if name not in ("is_company", "exclude_mail", "language")
}
BATCH = 500

Progress = Callable[[str, int], None]


class PullRefused(imis.ImisError):
    """The pull would do harm (e.g. an empty roster would deactivate every member)."""


def roster_pull(*, using: str | None = None, progress: Progress | None = None) -> SyncRun:
    """Pull members and their checkbox values from iMIS. Returns the SyncRun (kind pull) with counts; a
    failure is recorded in it (ok False, error), not raised. `progress(stage, n)` is called after each
    chunk with the stage ("members" or a UD table name) and the number of rows in the chunk."""
    started = timezone.now()
    run = SyncRun.objects.create(kind=SyncRun.Kind.PULL, started_at=started)
    counts: Counter = Counter()
    if not cache.add(LOCK_KEY, run.pk, timeout=settings.IMIS_PULL_LOCK_SECONDS):
        run.error = "another pull is running"
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        return run
    try:
        _pull_members(using, started, counts, progress)
        interests = list(RemoteInterest.objects.on_form().order_by("table_name", "id"))
        by_table = defaultdict(list)
        for interest in interests:
            by_table[interest.table_name].append(interest)
        errors = []
        for table, table_interests in by_table.items():
            try:
                with_row = UdRowsSeen()
                _pull_values(using, table, table_interests, started, counts, progress, with_row=with_row)
                counts["ud_rows_missing"] += missing_ud_rows_record(table_name=table, seen=with_row, seen_at=started)
            except imis.ImisUnavailable:
                raise
            except (imis.InvalidIdentifier, imis.ImisError, DatabaseError) as exc:
                # One broken UD table (renamed, dropped) must not stop the others.
                errors.append(f"{table}: {type(exc).__name__}: {imis.plain_message(exc)}")
        missing_ud_rows_forget(keep_tables=by_table)
        counts["mailable"] = Subscriber.objects.filter(mailable_q()).count()
        run.ok = not errors
        run.error = "\n".join(errors)
    except imis.ImisError as exc:
        run.error = f"{type(exc).__name__}: {exc}"
        logger.warning("roster pull failed: %s", type(exc).__name__)
    finally:
        if cache.get(LOCK_KEY) == run.pk:
            cache.delete(LOCK_KEY)
        run.counts = dict(sorted(counts.items()))
        run.finished_at = timezone.now()
        run.save(update_fields=["ok", "error", "counts", "finished_at"])
    return run


def _member_values(member: imis.Member) -> dict:
    values = {name: getattr(member, name) for name in MEMBER_FIELDS}
    values["language"] = member_language(member.language)
    for name, size in _MAX.items():
        values[name] = (values[name] or "")[:size]
    return values


def _pull_members(using, now, counts, progress):
    seen_any = False
    for chunk in imis.iter_roster(using=using):
        ids = [member.imis_id for member in chunk]
        # Tuples, not model instances: most members have not changed since the last pull.
        existing = {
            imis_id: (pk, active, tuple(values))
            for imis_id, pk, active, *values in Subscriber.objects.filter(imis_id__any=ids).values_list(
                "imis_id", "id", "active", *MEMBER_FIELDS
            )
        }
        new, changed = [], []
        for member in chunk:
            values = _member_values(member)
            known = existing.get(member.imis_id)
            if known is None:
                new.append((member.imis_id, *values.values()))
                continue
            pk, active, known_values = known
            if active and known_values == tuple(values.values()):
                continue
            if not active:
                counts["members_reactivated"] += 1
            changed.append(Subscriber(id=pk, imis_id=member.imis_id, active=True, updated_at=now, **values))
        with transaction.atomic():
            # A member another pull created meanwhile is skipped: that pull marked them seen.
            created = insert_new(
                Subscriber, ("imis_id", *MEMBER_FIELDS), new,
                active=True, last_seen_in_imis_at=now, token_version=TOKEN_VERSION, created_at=now, updated_at=now,
            )  # fmt: skip
            Subscriber.objects.bulk_update(changed, [*MEMBER_FIELDS, "active", "updated_at"], batch_size=BATCH)
            # Never back in time: a later pull running meanwhile may have marked them already.
            Subscriber.objects.filter(imis_id__any=list(existing)).filter(
                Q(last_seen_in_imis_at__lt=now) | Q(last_seen_in_imis_at__isnull=True)
            ).update(last_seen_in_imis_at=now)
        counts["members_seen"] += len(chunk)
        counts["members_created"] += created
        counts["members_updated"] += len(changed)
        seen_any = True
        if progress:
            progress("members", len(chunk))
    if not seen_any:
        raise PullRefused(
            "iMIS returned no members: nothing was changed (are IMIS_DATABASE_URL or IMIS_API_URL right?)"
        )
    # The whole roster streamed without error: whoever this pull did not see has left iMIS. "Not seen" is
    # "last seen before this pull started": a later pull that ran meanwhile (this one outlived its lock)
    # marked the members it saw with its own, later time, and they are still there.
    gone = Subscriber.objects.filter(active=True).filter(
        Q(last_seen_in_imis_at__lt=now) | Q(last_seen_in_imis_at__isnull=True)
    )
    deactivated = gone.update(active=False, updated_at=now)
    counts["members_deactivated"] += deactivated


def _pull_values(using, table, interests, now, counts, progress, with_row=None):
    by_field = {interest.field_name: interest for interest in interests}
    interest_ids = [interest.pk for interest in interests]
    # Per field, in the order the gateway returns each row's values: the interest, and whether its values
    # have been pulled before.
    fields = [(interest.pk, interest.values_pulled_at is not None) for interest in by_field.values()]
    chunks = imis.iter_checkbox_values(table, list(by_field), using=using)
    while True:
        read_at = timezone.now()  # before the chunk is read: a push that wrote since is newer than it
        chunk = next(chunks, None)
        if chunk is None:
            break
        members = _chunk_members(chunk, now)
        if with_row is not None:  # who has a row here: the others are reported (MissingUdRow)
            with_row.mark(subscriber_id for subscriber_id, _new in members.values())
        current, last_seen = _stored_values(members, fields)
        creates, differing, turned_on = _compare_values(chunk, members, fields, current, last_seen, counts)
        with transaction.atomic():
            # A row the member created meanwhile (through the form) is theirs: conflicts are skipped.
            counts["preferences_created"] += insert_new(
                Preference, ("subscriber_id", "interest_id"), creates, value=True, imis_value=True, updated_at=now
            )
            if turned_on:
                labels = {interest.pk: interest.display_label for interest in interests}
                PreferenceChange.objects.bulk_create(
                    [_imis_history(_Pair(s, i), False, True, labels, "changed in iMIS") for s, i in turned_on],
                    batch_size=BATCH,
                )
                counts["preferences_changed_in_imis"] += len(turned_on)
            if differing:
                _apply_imis_values(dict(differing), by_field, now, counts, read_at=read_at)
        if progress:
            progress(table, len(chunk))
    # Every member's values of these fields have been read once: from now on, "on" without a row is news.
    RemoteInterest.objects.filter(pk__in=interest_ids, values_pulled_at__isnull=True).update(values_pulled_at=now)


def _chunk_members(chunk, now):
    """{imis_id: (subscriber_id, created by this pull)} of the members a chunk of values is about."""
    is_new = ExpressionWrapper(Q(created_at__gte=now), output_field=BooleanField())
    return {
        imis_id: (subscriber_id, new)
        for imis_id, subscriber_id, new in Subscriber.objects.filter(imis_id__any=[row.imis_id for row in chunk])
        .annotate(is_new=is_new)
        .values_list("imis_id", "id", "is_new")
    }


def _stored_values(members, fields):
    """What our rows say iMIS held at the last pull: {(member, interest): (Preference id, imis_value)}, and
    per member the imis_values in the gateway's order of `fields` (no row: off)."""
    position = {interest_id: n for n, (interest_id, _pulled_before) in enumerate(fields)}
    # Members this pull created have no rows yet: nothing to read for them (on a first import, nobody).
    # One that a member's save made meanwhile is theirs: the insert skips it.
    known_ids = [subscriber_id for subscriber_id, new in members.values() if not new]
    current, last_seen = {}, {}
    if not known_ids:
        return current, last_seen
    # Tuples, not model instances: a pull reads every member's every row, and building instances of them
    # was most of a pull with nothing changed. The interests as a filter (interest_id + 0), not an index
    # condition: PostgreSQL would otherwise look up every (member, interest) pair in unique_preference.
    rows = Preference.objects.alias(interest_filter=F("interest_id") + 0).filter(
        subscriber_id__any=known_ids, interest_filter__any=list(position)
    )
    for pk, subscriber_id, interest_id, imis_value in rows.values_list(
        "id", "subscriber_id", "interest_id", "imis_value"
    ):
        current[subscriber_id, interest_id] = (pk, imis_value)
        seen = last_seen.get(subscriber_id) or last_seen.setdefault(subscriber_id, [False] * len(fields))
        seen[position[interest_id]] = imis_value
    return current, last_seen


def _compare_values(chunk, members, fields, current, last_seen, counts):
    """What iMIS holds now against what it held: the (member, interest) pairs turned on without a row
    (`creates`; `turned_on` those of them that are news), and the (Preference id, value) that differ."""
    creates, differing, turned_on = [], [], []
    for row in chunk:
        member = members.get(row.imis_id)
        if member is None:
            counts["values_without_member"] += 1
            continue
        subscriber_id, new = member
        seen = last_seen.get(subscriber_id)
        if (seen is None and not any(row.values)) or (seen is not None and tuple(seen) == row.values):
            continue  # iMIS holds what it held at the last pull (most members, most nights)
        for (interest_id, pulled_before), value in zip(fields, row.values, strict=True):
            known = current.get((subscriber_id, interest_id))
            if known is None:
                if not value:
                    continue  # no row: off here and off in iMIS already
                creates.append((subscriber_id, interest_id))
                if pulled_before and not new:
                    turned_on.append((subscriber_id, interest_id))
            elif known[1] != value:
                differing.append((known[0], value))
    return creates, differing, turned_on


class _Pair:
    """The (member, interest) a history row is about, where there is no Preference row to name it."""

    def __init__(self, subscriber_id, interest_id):
        self.subscriber_id, self.interest_id = subscriber_id, interest_id


def _apply_imis_values(new_values: dict[int, bool], by_field, now, counts, read_at=None):
    """Preferences whose iMIS value changed: lock them, then decide with the pending changes in view.

    A pair a push wrote after `read_at` (when the chunk was read) is left alone: the value read is older
    than what the push wrote and recorded in imis_value; the next pull sees iMIS as it is."""
    locked = list(
        Preference.objects.select_for_update()
        .filter(pk__in=list(new_values))
        .order_by("subscriber_id", "interest_id")  # one lock order with the saves: no deadlock
        .only("id", "subscriber_id", "interest_id", "value", "imis_value")
    )
    pushed_since = _pushed_since(locked, read_at) if read_at is not None else set()
    pending = _open_changes(locked)
    labels = {interest.pk: interest.display_label for interest in by_field.values()}

    updates, history = [], []
    for preference in locked:
        value = new_values[preference.pk]
        if preference.imis_value == value:
            continue  # written meanwhile
        if (preference.subscriber_id, preference.interest_id) in pushed_since:
            counts["preferences_pushed_meanwhile"] += 1
            continue
        local = pending.get((preference.subscriber_id, preference.interest_id))
        if local is not None:
            source, created_at = local
            note = (
                f"iMIS now holds {on_off(value)}; not applied: the member's change "
                f"({source}, {created_at:%Y-%m-%d %H:%M} UTC) to {on_off(preference.value)} is "
                "waiting to be written to iMIS and wins"
            )
            history.append(_imis_history(preference, preference.imis_value, value, labels, note))
            counts["preferences_local_kept"] += 1
        else:
            if preference.value != value:
                history.append(_imis_history(preference, preference.value, value, labels, "changed in iMIS"))
                counts["preferences_changed_in_imis"] += 1
            preference.value = value
        preference.imis_value = value
        preference.updated_at = now
        updates.append(preference)
    Preference.objects.bulk_update(updates, ["value", "imis_value", "updated_at"], batch_size=BATCH)
    PreferenceChange.objects.bulk_create(history, batch_size=BATCH)


def _of_these_pairs(preferences):
    return {
        "subscriber_id__in": {p.subscriber_id for p in preferences},
        "interest_id__in": {p.interest_id for p in preferences},
    }


def _pushed_since(preferences, read_at):
    """The (member, interest) pairs among these a push wrote to iMIS after `read_at`."""
    return set(
        PreferenceChange.objects.filter(
            state=PreferenceChange.State.DONE, synced_at__gte=read_at, **_of_these_pairs(preferences)
        ).values_list("subscriber_id", "interest_id")
    )


def _open_changes(preferences):
    """{(member, interest): (source, created_at)} of the latest change among these still to reach iMIS."""
    return {
        (subscriber_id, interest_id): (source, created_at)
        for subscriber_id, interest_id, source, created_at in PreferenceChange.objects.filter(
            state__in=OPEN_STATES, **_of_these_pairs(preferences)
        )
        .order_by("created_at")
        .values_list("subscriber_id", "interest_id", "source", "created_at")
    }


def _imis_history(preference, old_value, new_value, labels, note):
    """A history row for what the pull saw in iMIS: nothing to push (state not_needed)."""
    return PreferenceChange(
        subscriber_id=preference.subscriber_id,
        interest_id=preference.interest_id,
        old_value=old_value,
        new_value=new_value,
        source=PreferenceChange.Source.IMIS,
        state=PreferenceChange.State.NOT_NEEDED,
        label_shown=labels[preference.interest_id],
        note=note[:255],
    )


TOKEN_VERSION = Subscriber._meta.get_field("token_version").get_default()
