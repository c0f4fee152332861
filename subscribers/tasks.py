from celery import shared_task


@shared_task(ignore_result=True)
def push_changes():
    """Push pending changes to iMIS (the sync engine fills this in)."""
