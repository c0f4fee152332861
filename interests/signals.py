"""Sent after the interests on the member form may have changed in bulk (QuerySet.update, bulk_update,
bulk_create: no post_save). Listeners: the member pages' copy of the form (subscribers.member_cache)."""

from django.dispatch import Signal

interests_changed = Signal()
