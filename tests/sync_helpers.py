"""The member's save as the sync tests start from it, and iMIS read with the tests' own eyes (rows come from
tests/factories.py)."""

from django.db import connections, transaction

from subscribers.models import Preference, PreferenceChange
from sync.outbox import enqueue_push
from tests.conftest import fetch, q


def member_saves(member, interest, value, *, source=PreferenceChange.Source.FORM):
    """What the form does on Save: the preference and a pending change in one transaction, push on commit."""
    with transaction.atomic():
        pref, _ = Preference.objects.get_or_create(subscriber=member, interest=interest)
        change = PreferenceChange.objects.create(
            subscriber=member,
            interest=interest,
            old_value=pref.value,
            new_value=value,
            source=source,
            label_shown=interest.display_label,
        )
        pref.value = value
        pref.save(update_fields=["value", "updated_at"])
        enqueue_push()
    return change


def ud_value(imis_id, field="NEWSLETTER", table="ud_EmailPrefs", alias="imis"):
    rows = fetch(alias, f"SELECT {q(alias, field)} FROM {q(alias, table)} WHERE {q(alias, 'ID')} = %s", [imis_id])
    return rows[0][0] if rows else "no row"


def activities(where="", params=(), alias="imis"):
    """Our Activity rows (SOURCE_SYSTEM PREFCTR): (SEQN, ID, type, product code, description, source code, date)."""
    cols = ["SEQN", "ID", "ACTIVITY_TYPE", "PRODUCT_CODE", "DESCRIPTION", "SOURCE_CODE", "TRANSACTION_DATE"]
    sql = (
        f"SELECT {', '.join(q(alias, c) for c in cols)} FROM {q(alias, 'Activity')} "
        f"WHERE {q(alias, 'SOURCE_SYSTEM')} = 'PREFCTR' {where} ORDER BY {q(alias, 'SEQN')}"
    )
    return fetch(alias, sql, params)


def close_connections():
    for alias in ("default", "imis"):
        connections[alias].close()
