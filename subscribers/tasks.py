from celery import shared_task


@shared_task(ignore_result=True)
def push_changes():
    """Push pending changes to iMIS (the sync engine fills this in)."""


@shared_task(ignore_result=True)
def pull_roster():
    """Pull members and their checkbox values from iMIS (scheduled on beat). Returns the SyncRun id."""
    from .services.roster import roster_pull

    return roster_pull().pk
