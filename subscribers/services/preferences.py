"""Writing a member's choices: Preference rows, one PreferenceChange (history + outbox) per change, and
the push to iMIS enqueued once the transaction commits."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

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

    diff = [(specs[pk], bool(value)) for pk, value in wanted.items() if state.values.get(pk, False) != bool(value)]
    if not diff:
        return []
    now = timezone.now()
    ip = ip_for_history(ip_address)
    user_agent = (user_agent or "")[:USER_AGENT_MAX]
    with transaction.atomic():
        # The diff above is against what the member saw, which another save (a second tab, the API) or the
        # pull may have changed since: with the member locked, keep only what still changes, and record
        # as old value what was committed.
        committed = _lock_member_and_read(subscriber.pk, [spec.id for spec, _value in diff])
        diff = sorted(
            ((spec, value) for spec, value in diff if committed.get(spec.id, False) != value), key=lambda d: d[0].id
        )
        if not diff:
            return []
        # A member x interest without a row is off here and in iMIS (the pull stores rows sparsely): a row
        # made now starts from that known iMIS value; an existing row keeps the one it has.
        Preference.objects.bulk_create(
            [
                Preference(
                    subscriber_id=subscriber.pk, interest_id=spec.id, value=value, imis_value=False, updated_at=now
                )
                for spec, value in diff
            ],
            update_conflicts=True,
            unique_fields=["subscriber", "interest"],
            update_fields=["value", "updated_at"],
        )
        changes = PreferenceChange.objects.bulk_create(
            [
                PreferenceChange(
                    subscriber_id=subscriber.pk,
                    interest_id=spec.id,
                    old_value=committed.get(spec.id, False),
                    new_value=value,
                    source=source,
                    user_agent=user_agent,
                    ip_address=ip,
                    label_shown=spec.label_shown,
                    note=note,
                    state=PreferenceChange.State.PENDING,
                )
                for spec, value in diff
            ]
        )
        enqueue_push()
        transaction.on_commit(lambda: preferences_changed.send(sender=PreferenceChange, changes=changes))
    return changes


def _lock_member_and_read(subscriber_id, interest_ids) -> dict[int, bool]:
    """Lock the member's row until the transaction ends (the saves of one member queue up behind it) and
    read their committed values of these interests, in one statement. SQLite has no row locks: a no-op
    write first takes its write lock, so that the read never has to upgrade ("database is locked")."""
    member = Subscriber.objects.filter(pk=subscriber_id)
    if not connection.features.has_select_for_update:
        member.update(token_version=F("token_version"))
    rows = (
        member.annotate(mine=FilteredRelation("preferences", condition=Q(preferences__interest_id__in=interest_ids)))
        .select_for_update(of=("self",))
        .values_list("id", "mine__interest_id", "mine__value")  # "id": FOR UPDATE OF names the member's table
    )
    return {interest_id: value for _id, interest_id, value in rows if interest_id is not None}


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
    return Subscriber.objects.filter(pk__in=list(subscriber_ids)).update(
        token_version=F("token_version") + 1, updated_at=timezone.now()
    )
