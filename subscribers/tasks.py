"""Celery tasks of the members: thin, they call services (the sync's tasks are in sync.tasks)."""

from celery import shared_task

from .services import links


@shared_task(name=links.MAIL_LINKS_TASK, ignore_result=True)
def mail_links(subscriber_ids, language=None):
    """Mail fresh personal links to members who asked for them (ids only: no address in the message), in the
    language of the page they asked from."""
    return links.links_mail(subscriber_ids=subscriber_ids, language=language)
