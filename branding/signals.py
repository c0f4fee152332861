"""A change of the published brand drops this process's copy and the shared cache's at once (this process
reads its own write), and refreshes the cache again once the transaction commits (another process may
have cached the old row in between). The other processes drop their copy within selectors.LOCAL_SECONDS."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import selectors
from .models import Brand


def _refresh():
    selectors.cache_put(selectors.published_fields())
    selectors.forget_local()


@receiver(post_save, sender=Brand)
@receiver(post_delete, sender=Brand)
def brand_changed(sender, instance, **kwargs):
    if instance.state == Brand.State.PUBLISHED:
        selectors.forget_local()
        selectors.cache_forget()
        transaction.on_commit(_refresh)
