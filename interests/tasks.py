from celery import shared_task

from .services import interests_discover


@shared_task(ignore_result=True)
def discover_interests():
    """Hourly (django-celery-beat): bring the interests in line with iMIS. Returns the SyncRun id.

    No retry: a failed run records its error, and the next hour's run is the retry."""
    return interests_discover().pk
