"""The member's save as the sync tests start from it (rows come from tests/factories.py, iMIS is read with
tests/imis_helpers.py)."""

from django.db import connections, transaction

from subscribers.models import Preference, PreferenceChange
from sync.outbox import enqueue_push


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


def close_connections():
    for alias in ("default", "imis"):
        connections[alias].close()
