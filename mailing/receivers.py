"""Signal receivers: new PreferenceChange rows send their webhook events on commit, whether saved one by
one (post_save) or by preferences_save (form, one-click, API: its preferences_changed signal). Anything
else (the roster pull's history rows) the beat sweep (`mailing.tasks.webhook_sweep`, every minute) finds."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from subscribers.models import PreferenceChange
from subscribers.signals import preferences_changed

from .services.webhook import webhook_enqueue_on_commit


@receiver(post_save, sender=PreferenceChange, dispatch_uid="mailing.webhook_on_change")
def send_webhook_on_change(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhook_enqueue_on_commit()


@receiver(preferences_changed, dispatch_uid="mailing.webhook_on_preferences_changed")
def send_webhook_on_preferences_changed(sender, changes, **kwargs):
    if changes:
        webhook_enqueue_on_commit()
