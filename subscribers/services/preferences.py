"""Writing a member's choices: Preference rows, one PreferenceChange (history + outbox) per change, and
the push to iMIS enqueued once the transaction commits."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ..member_cache import member_changed, members_changed
from ..models import Preference, PreferenceChange, Subscriber
from ..outbox import enqueue_push
from ..selectors import FormState, form_state
from ..signals import preferences_changed

USER_AGENT_MAX = PreferenceChange._meta.get_field("user_agent").max_length
IP_POLICIES = ("none", "anonymised", "full")


class NotOnForm(ValueError):
    """A choice for an interest that is not on the member's form (hidden, vanished or unknown)."""


def ip_for_history(ip: str | None, policy: str | None = None) -> str | None:
    """The IP address as the policy allows the history to keep it: none, anonymised or full."""
    policy = policy or settings.PREFERENCES_IP_POLICY
    if policy not in IP_POLICIES:
        raise ValueError(f"PREFERENCES_IP_POLICY must be one of {', '.join(IP_POLICIES)}")
    if not ip or policy == "none":
        return None
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
    state: FormState | None = None,
    note: str = "",
) -> list[PreferenceChange]:
    """Set the member's choices for the interests in `wanted` ({interest id: value}).

    Only real changes are written: in one transaction, the Preference rows (upserted in one statement) and
    one pending PreferenceChange per change (source, time, user agent, IP per PREFERENCES_IP_POLICY, the
    label shown); the push is enqueued on commit. Returns the changes (empty: nothing changed, nothing
    written). `state` is the form as the member saw it (saves a query); interests not on it raise NotOnForm.
    """
    if source not in PreferenceChange.Source.values:
        raise ValueError(f"unknown source {source!r}")
    if state is None:
        state = form_state(subscriber_id=subscriber.pk)
    specs = state.by_id
    unknown = set(wanted) - set(specs)
    if unknown:
        raise NotOnForm(f"not on the form: {sorted(unknown)}")

    diff = sorted(
        ((specs[pk], bool(value)) for pk, value in wanted.items() if state.values.get(pk, False) != bool(value)),
        key=lambda d: d[0].id,
    )
    if not diff:
        return []
    template = PreferenceChange(
        subscriber_id=subscriber.pk,
        source=source,
        created_at=timezone.now(),
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        ip_address=ip_for_history(ip_address),
        note=note,
        state=PreferenceChange.State.PENDING,
    )
    changes = _write(template, [(spec.id, value, uuid.uuid4(), spec.label_shown) for spec, value in diff])
    if changes:
        member_changed(subscriber.pk)
        enqueue_push()
        transaction.on_commit(lambda: preferences_changed.send(sender=PreferenceChange, changes=changes))
    return changes


# --- the write ----------------------------------------------------------------------------------------
#
# The diff above is against the form the member saw, which another save (a second tab, the API) or the
# pull may have changed since. The upsert decides: a row changes only where its committed value differs
# from the wanted one (ON CONFLICT ... DO UPDATE ... WHERE sees the latest committed row, and locks it),
# so a value already as wanted is left alone and writes no history, and the old value of every row it
# returns is the opposite of the new one. Rows are taken in interest order, as the pull locks them: no
# deadlock. A member x interest without a row is off here and in iMIS (the pull stores rows sparsely): a
# row made now starts from that known iMIS value; an existing row keeps its imis_value; "off" for a pair
# without a row changes nothing and makes no row.

# What differs from one change to the next; every other column comes from the template instance.
_PER_CHANGE = ("interest_id", "old_value", "new_value", "uuid", "label_shown")


def _write(template: PreferenceChange, wanted: list[tuple]) -> list[PreferenceChange]:
    """Apply `wanted` [(interest id, value, uuid, label shown)] and record a pending PreferenceChange per
    real change. Returns the changes, in interest order. On PostgreSQL one statement (a data-modifying
    WITH): a save costs one round trip. Elsewhere the same upsert, then the history rows, in a transaction
    (SQLite, the embedded default, runs one writer at a time anyway)."""
    by_interest = {w[0]: w for w in wanted}
    if connection.vendor == "postgresql":
        sql, params = _write_sql(template, wanted)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [_change(template, by_interest[interest_id], new_value, pk) for pk, interest_id, new_value in rows]
    with transaction.atomic():
        sql, params = _upsert_sql(template.subscriber_id, template.created_at, wanted)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            changed = sorted(cursor.fetchall())
        return PreferenceChange.objects.bulk_create(
            [_change(template, by_interest[interest_id], bool(new_value)) for interest_id, new_value in changed]
        )


def _change(template, wanted_row, new_value, pk=None) -> PreferenceChange:
    interest_id, _value, change_uuid, label_shown = wanted_row
    values = {f.attname: getattr(template, f.attname) for f in PreferenceChange._meta.concrete_fields}
    values.update(
        id=pk, interest_id=interest_id, old_value=not new_value, new_value=new_value, uuid=change_uuid,
        label_shown=label_shown,
    )  # fmt: skip
    change = PreferenceChange(**values)
    change._state.adding = pk is None
    return change


def _upsert_sql(subscriber_id, now, wanted) -> tuple[str, list]:
    """WITH wanted (...) INSERT INTO preference ... RETURNING the changed rows' (interest id, new value)."""
    quote = connection.ops.quote_name
    table = quote(Preference._meta.db_table)
    uuid_field = PreferenceChange._meta.get_field("uuid")
    params = [
        p
        for interest_id, value, change_uuid, label in wanted
        for p in (interest_id, value, uuid_field.get_db_prep_save(change_uuid, connection), label)
    ]
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(wanted))
    updated_at = Preference._meta.get_field("updated_at").get_db_prep_save(now, connection)
    # The names come from the models and are quoted; every value is a parameter.
    sql = (
        f"WITH wanted (interest_id, new_value, uuid, label_shown) AS (VALUES {rows}) "  # noqa: S608
        f"INSERT INTO {table} (subscriber_id, interest_id, value, imis_value, updated_at) "
        "SELECT %s, w.interest_id, w.new_value, %s, %s FROM wanted w "
        f"WHERE w.new_value OR EXISTS (SELECT 1 FROM {table} p "
        "WHERE p.subscriber_id = %s AND p.interest_id = w.interest_id) "
        "ORDER BY w.interest_id "
        "ON CONFLICT (subscriber_id, interest_id) DO UPDATE "
        "SET value = excluded.value, updated_at = excluded.updated_at "
        f"WHERE {table}.value <> excluded.value "
        "RETURNING interest_id, value"
    )
    return sql, [*params, subscriber_id, False, updated_at, subscriber_id]


def _write_sql(template, wanted) -> tuple[str, list]:
    """PostgreSQL: the upsert as a WITH query that feeds the INSERT of the history rows (RETURNING ids)."""
    quote = connection.ops.quote_name
    upsert, params = _upsert_sql(template.subscriber_id, template.created_at, wanted)
    with_wanted, insert = upsert.split(" INSERT INTO ", 1)
    columns, selected, constants = [], [], []
    for field in PreferenceChange._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.attname == "interest_id":
            selected.append("c.interest_id")
        elif field.attname == "old_value":
            selected.append("NOT c.value")
        elif field.attname == "new_value":
            selected.append("c.value")
        elif field.attname in _PER_CHANGE:
            selected.append(f"w.{field.attname}")
        else:
            selected.append("%s")
            constants.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    sql = (
        f"{with_wanted}, changed AS (INSERT INTO {insert}) "  # noqa: S608
        f"INSERT INTO {quote(PreferenceChange._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM changed c JOIN wanted w ON w.interest_id = c.interest_id "
        "ORDER BY c.interest_id "
        "RETURNING id, interest_id, new_value"
    )
    return sql, [*params, *constants]


def preferences_unsubscribe_all(
    *,
    subscriber: Subscriber,
    source: str = PreferenceChange.Source.ONE_CLICK,
    user_agent: str = "",
    ip_address: str | None = None,
    state: FormState | None = None,
) -> list[PreferenceChange]:
    """Turn every interest on the form off (RFC 8058 one-click, "untick all")."""
    if state is None:
        state = form_state(subscriber_id=subscriber.pk)
    return preferences_save(
        subscriber=subscriber,
        wanted=dict.fromkeys(state.by_id, False),
        source=source,
        user_agent=user_agent,
        ip_address=ip_address,
        state=state,
    )


def subscribers_rotate_tokens(*, subscriber_ids) -> int:
    """Invalidate every link these members were sent (bump their token version); the next links carry the
    new version. Returns how many members were rotated."""
    rotated = Subscriber.objects.filter(pk__in=list(subscriber_ids)).update(
        token_version=F("token_version") + 1, updated_at=timezone.now()
    )
    if rotated:
        members_changed()
    return rotated
