"""Celery tasks of the mailing app: thin, they take ids and call services."""

from celery import shared_task

from subscribers.member_cache import member_pages_warm

from . import selectors
from .services import webhook


@shared_task(bind=True, ignore_result=True, max_retries=None)
def webhook_deliver(self, delivery_id):
    """POST one webhook event; on failure come back after the backoff the service chose."""
    result = webhook.webhook_deliver(delivery_id=delivery_id)
    if result is not None and result.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)


@shared_task(ignore_result=True)
def webhook_sweep():
    """Create deliveries for new changes and send those that are due (beat: every minute; and after a save)."""
    for delivery_id in webhook.webhook_collect():
        webhook_deliver.delay(delivery_id)


@shared_task(ignore_result=True)
def target_group_pages_warm(any_of, all_of, none_of):
    """Cache the pages of a target group's members, whose links were just exported for a mailing."""
    try:
        group = selectors.target_group_build(any_of=any_of, all_of=all_of, none_of=none_of)
    except selectors.InvalidTargetGroup:  # an interest left the form since the export
        return
    member_pages_warm(selectors.target_group_members(group=group).values_list("pk", flat=True).iterator(2000))
