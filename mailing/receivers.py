"""Signal receivers: a new PreferenceChange saved one by one (`.create()`, `.save()`) sends its webhook
event on commit. Changes written with bulk_create (preferences_save) send no post_save: the API view asks
for the event itself, and the beat sweep (`mailing.tasks.webhook_sweep`, every minute) finds the rest."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from subscribers.models import PreferenceChange

from .services.webhook import webhook_enqueue_on_commit


@receiver(post_save, sender=PreferenceChange, dispatch_uid="mailing.webhook_on_change")
def send_webhook_on_change(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhook_enqueue_on_commit()
