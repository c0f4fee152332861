"""Celery tasks of the mailing app: thin, they take ids and call services."""

from celery import shared_task

from .services import webhook


@shared_task(bind=True, ignore_result=True, max_retries=None)
def webhook_deliver(self, delivery_id):
    """POST one webhook event; on failure come back after the backoff the service chose."""
    result = webhook.webhook_deliver(delivery_id=delivery_id)
    if result is not None and result.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)


@shared_task(name=webhook.WEBHOOK_SWEEP_TASK, ignore_result=True)
def webhook_sweep():
    """Create deliveries for new changes and send those that are due (beat: every minute; and after a save)."""
    for delivery_id in webhook.webhook_collect():
        webhook_deliver.delay(delivery_id)
