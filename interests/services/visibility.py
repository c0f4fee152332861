"""Showing and hiding interests on the member form in bulk."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import RemoteInterest
from ..signals import interests_changed


def interests_set_visible(*, interests: QuerySet[RemoteInterest], visible: bool) -> list[RemoteInterest]:
    """Show or hide `interests`; returns those that actually changed (for the admin log)."""
    changed = list(interests.exclude(visible=visible))
    RemoteInterest.objects.filter(pk__in=[i.pk for i in changed]).update(visible=visible)
    if changed:
        interests_changed.send(sender=RemoteInterest)
    for interest in changed:
        interest.visible = visible
    return changed
