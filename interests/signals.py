"""Sent after the interests on the member form may have changed in bulk (QuerySet.update, bulk_update,
bulk_create: no post_save), for whatever keeps a copy of the form. None does at present: the member's
pages read the interests from the database on every request."""

from django.dispatch import Signal

interests_changed = Signal()
