"""Writing a member's choices: Preference rows, one PreferenceChange (history + outbox) per change, and
`preferences_changed` sent once the transaction commits (the sync pushes the changes to iMIS)."""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ..models import Preference, PreferenceChange, Subscriber
from ..selectors import InterestSpec, form_specs
from ..signals import preferences_changed

USER_AGENT_MAX = PreferenceChange._meta.get_field("user_agent").max_length
IP_POLICIES = ("none", "anonymised", "full")


class NotOnForm(ValueError):
    """A choice for an interest that is not on the member's form (hidden, vanished or unknown)."""


class NotAMember(LookupError):
    """The member has left the roster (inactive), or the link's token version is no longer theirs."""


def ip_for_history(ip: str | None, policy: str | None = None) -> str | None:
    """The IP address as the policy allows the history to keep it: none, anonymised or full."""
    policy = policy or settings.PREFERENCES_IP_POLICY
    if policy not in IP_POLICIES:
        raise ValueError(f"PREFERENCES_IP_POLICY must be one of {', '.join(IP_POLICIES)}")
    if not ip or policy == "none":
        return None
    return _ip_kept(ip, policy)


@functools.lru_cache(maxsize=1024)  # every save asks, and a client saves several times
def _ip_kept(ip, policy):
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if policy == "full":
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def preferences_save(
    *,
    subscriber: Subscriber,
    wanted: Mapping[int, bool],
    source: str,
    user_agent: str = "",
    ip_address: str | None = None,
    specs: Sequence[InterestSpec] | None = None,
    token_version: int | None = None,
    note: str = "",
    changed_by=None,
) -> list[PreferenceChange]:
    """Set the member's choices for the interests in `wanted` ({interest id: value}).

    Only real changes are written, against the values as committed (not as a form or a cache showed
    them): the Preference rows that differ are upserted and one pending PreferenceChange is recorded per
    change (source, time, user agent, IP per PREFERENCES_IP_POLICY, the label shown), atomically; on
    commit it sends `preferences_changed` (the sync pushes the changes). Returns the changes (empty:
    nothing changed, nothing written).

    `specs`: the interests on the form (default: read them); an interest not on it raises NotOnForm, and
    nothing is written. The member must be active, and have `token_version` if one is given (the version
    of the link the request came with): NotAMember otherwise, nothing written.

    `changed_by`: the staff user making the change in the admin (source "admin"), kept in the history.

    A form passes only the boxes the member changed from what their page showed them (see
    subscribers.forms.changed_choices): an interest missing from `wanted` is never written.
    """
    if source not in PreferenceChange.Source.values:
        raise ValueError(f"unknown source {source!r}")
    specs = form_specs() if specs is None else specs
    by_id = {spec.id: spec for spec in specs}
    unknown = set(wanted) - set(by_id)
    if unknown:
        raise NotOnForm(f"not on the form: {sorted(unknown)}")
    history = {  # what every history row of this save shares
        "subscriber_id": subscriber.pk,
        "source": source,
        "created_at": timezone.now(),
        "user_agent": (user_agent or "")[:USER_AGENT_MAX],
        "ip_address": ip_for_history(ip_address),
        "note": note,
        "changed_by_id": getattr(changed_by, "pk", None),
        "state": PreferenceChange.State.PENDING,
    }
    rows = {pk: (bool(value), by_id[pk].label_shown) for pk, value in sorted(wanted.items())}
    # With a link's version, the link is checked even when nothing is to change: a member whose link was
    # rotated is told so, not that their (unchanged) choices were saved.
    changes = _write(history, rows, token_version) if rows or token_version is not None else []
    if changes:
        # Once committed, whoever listens hears of the changes: the sync pushes them, the webhook tells.
        transaction.on_commit(lambda: preferences_changed.send(sender=PreferenceChange, changes=changes))
    return changes


# --- the write ----------------------------------------------------------------------------------------
#
# Which rows change is decided against the committed values: a wanted value equal to the member's
# committed one is left alone and writes no history. The upsert makes it safe against a concurrent save
# (a second tab, the API) or the pull: ON CONFLICT ... DO UPDATE ... WHERE sees the latest committed row,
# and locks it, so a row changes only if it still differs, and the old value of every row it returns is
# the opposite of the new one. Rows are taken in interest order, as the pull locks them: no deadlock.
# A member x interest without a row is off here and in iMIS (the pull stores rows sparsely): a row made
# now starts from that known iMIS value; an existing row keeps its imis_value; "off" for a pair without a
# row changes nothing and makes no row.


def _write(history: dict, rows: dict[int, tuple[bool, str]], token_version) -> list[PreferenceChange]:
    """Apply `rows` {interest id: (value, label shown)} for an active member (with `token_version`, if
    given) and record a pending PreferenceChange per real change; the changes, in interest order.

    On PostgreSQL one statement (data-modifying WITH queries): a save costs one round trip and needs no
    read before it. Elsewhere (SQLite, the embedded default, which runs one writer at a time) the same
    steps in a transaction."""
    sid = history["subscriber_id"]
    updated_at = _prep("updated_at", history["created_at"], Preference)
    if connection.vendor == "postgresql":
        # The rows as one JSON object: one parameter whatever their number (docs/benchmarks.md, "The
        # member's save: one statement").
        wanted = json.dumps({str(pk): [value, label] for pk, (value, label) in rows.items()})
        params = [wanted, sid, token_version, token_version, sid, updated_at, *_history_params(history)]
        with connection.cursor() as cursor:
            cursor.execute(_write_sql(), params)
            result = cursor.fetchall()
        if not result:
            raise NotAMember(f"member {sid} is not active with this link")
        return [
            _change(history, interest_id, new_value, rows[interest_id][1], pk=pk, change_uuid=change_uuid)
            for _member, pk, interest_id, new_value, change_uuid in result
            if pk is not None
        ]
    with transaction.atomic():
        versions = Subscriber.objects.filter(pk=sid, active=True).values_list("token_version", flat=True)
        current_version = versions.first()
        if current_version is None or token_version not in (None, current_version):
            raise NotAMember(f"member {sid} is not active with this link")
        committed = dict(
            Preference.objects.filter(subscriber_id=sid, interest_id__in=list(rows)).values_list("interest_id", "value")
        )
        todo = [(pk, value) for pk, (value, _label) in rows.items() if value != committed.get(pk, False)]
        if not todo:
            return []
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(len(todo)), [*(p for row in todo for p in row), sid, updated_at])
            changed = sorted(cursor.fetchall())
        return PreferenceChange.objects.bulk_create(
            [_change(history, pk, bool(value), rows[pk][1]) for pk, value in changed]
        )


def _change(history, interest_id, new_value, label_shown, *, pk=None, change_uuid=None) -> PreferenceChange:
    extra = {} if pk is None else {"id": pk, "uuid": change_uuid}
    change = PreferenceChange(
        **history, **extra, interest_id=interest_id, old_value=not new_value, new_value=new_value,
        label_shown=label_shown,
    )  # fmt: skip
    if pk is not None:
        change._state.adding, change._state.db = False, connection.alias
    return change


def _prep(attname, value, model=PreferenceChange):
    return model._meta.get_field(attname).get_db_prep_save(value, connection)


def _upsert(source: str) -> str:
    """INSERT INTO preference the (interest_id, new_value) rows of `source`, RETURNING those that changed.
    Parameters: the member's id, the time."""
    table = connection.ops.quote_name(Preference._meta.db_table)
    # The names come from the models and are quoted; every value is a parameter. "WHERE true": without a
    # WHERE, SQLite reads the ON CONFLICT of an INSERT ... SELECT as part of the SELECT.
    return (
        f"INSERT INTO {table} (subscriber_id, interest_id, value, imis_value, updated_at) "  # noqa: S608
        f"SELECT %s, t.interest_id, t.new_value, false, %s FROM {source} t WHERE true ORDER BY t.interest_id "
        "ON CONFLICT (subscriber_id, interest_id) DO UPDATE "
        "SET value = excluded.value, updated_at = excluded.updated_at "
        f"WHERE {table}.value <> excluded.value "
        "RETURNING interest_id, value"
    )


@functools.lru_cache(maxsize=64)
def _upsert_sql(rows: int) -> str:
    """The upsert of `rows` (interest id, value) rows that differ from the committed values."""
    values = ", ".join(["(%s, %s)"] * rows)
    return f"WITH wanted (interest_id, new_value) AS (VALUES {values}) {_upsert('wanted')}"


# Columns of a history row that differ from one change to the next; the others are the save's.
_PER_CHANGE = {
    "uuid": "gen_random_uuid()",
    "interest_id": "c.interest_id",
    "old_value": "NOT c.value",
    "new_value": "c.value",
    "label_shown": "w.label_shown",
}


@functools.cache
def _shared_fields():
    return [f for f in PreferenceChange._meta.concrete_fields if not f.primary_key and f.attname not in _PER_CHANGE]


@functools.cache
def _defaults() -> dict:
    return {f.attname: _prep(f.attname, f.get_default()) for f in _shared_fields()}


def _history_params(history) -> list:
    defaults = _defaults()
    return [_prep(a, history[a]) if a in history else defaults[a] for a in (f.attname for f in _shared_fields())]


@functools.cache
def _write_sql() -> str:
    """PostgreSQL: the member's check, the diff against the committed values, the upsert and the history
    rows, in one statement. One row per change (member id, change id, interest id, new value, uuid), or one
    row of (member id, NULLs) if nothing changed, or no row if the member is not active with this link.
    Parameters: the rows as JSON {interest id: [value, label shown]}, the member's id, the token version
    twice, the upsert's two, then one per _shared_fields()."""
    quote = connection.ops.quote_name
    subscriber, preference = quote(Subscriber._meta.db_table), quote(Preference._meta.db_table)
    fields = [f for f in PreferenceChange._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    shared = {f.attname for f in _shared_fields()}
    selected = ", ".join("%s" if f.attname in shared else _PER_CHANGE[f.attname] for f in fields)
    # The names come from the models and are quoted; every value is a parameter.
    return (
        "WITH wanted AS (SELECT key::bigint AS interest_id, (value->>0)::boolean AS new_value, "  # noqa: S608
        "value->>1 AS label_shown FROM jsonb_each(%s::jsonb)), "
        f"member AS (SELECT id FROM {subscriber} WHERE id = %s AND active "
        "AND (%s::integer IS NULL OR token_version = %s::integer)), "
        "todo AS (SELECT w.interest_id, w.new_value FROM wanted w, member m "
        f"WHERE w.new_value <> COALESCE((SELECT p.value FROM {preference} p "
        "WHERE p.subscriber_id = m.id AND p.interest_id = w.interest_id), false)), "
        f"changed AS ({_upsert('todo')}), "
        f"inserted AS (INSERT INTO {quote(PreferenceChange._meta.db_table)} ({columns}) "
        f"SELECT {selected} FROM changed c JOIN wanted w ON w.interest_id = c.interest_id "
        "ORDER BY c.interest_id RETURNING id, interest_id, new_value, uuid) "
        "SELECT m.id, i.id, i.interest_id, i.new_value, i.uuid FROM member m LEFT JOIN inserted i ON true"
    )


def preferences_unsubscribe_all(
    *,
    subscriber: Subscriber,
    source: str = PreferenceChange.Source.ONE_CLICK,
    user_agent: str = "",
    ip_address: str | None = None,
    specs: Sequence[InterestSpec] | None = None,
    token_version: int | None = None,
) -> list[PreferenceChange]:
    """Turn every interest on the form off (RFC 8058 one-click, "untick all")."""
    specs = form_specs() if specs is None else specs
    return preferences_save(
        subscriber=subscriber,
        wanted=dict.fromkeys((spec.id for spec in specs), False),
        source=source,
        user_agent=user_agent,
        ip_address=ip_address,
        specs=specs,
        token_version=token_version,
    )


def subscribers_rotate_tokens(*, subscriber_ids) -> int:
    """Invalidate every link these members were sent (bump their token version); the next links carry the
    new version. Returns how many members were rotated."""
    return Subscriber.objects.filter(pk__in=list(subscriber_ids)).update(
        token_version=F("token_version") + 1, updated_at=timezone.now()
    )
