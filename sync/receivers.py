"""How a member's save reaches the sync: subscribers sends `preferences_changed` once the save has
committed, and the sync asks a worker to push the changes. Subscribers knows nothing of pushing."""

from django.dispatch import receiver

from subscribers.signals import preferences_changed

from . import outbox


@receiver(preferences_changed, dispatch_uid="sync.push_on_preferences_changed")
def push_on_preferences_changed(sender, changes, **kwargs):
    outbox.push_soon()  # the signal comes after the commit: the rows are there for the worker
