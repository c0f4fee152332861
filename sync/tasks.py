"""Celery tasks of the sync: thin, they call services. The schedules live in django-celery-beat (data
migration preference_center 0001: discovery hourly, pull every 10 minutes, sweep every minute).

The names are the ones these tasks had when they lived in `subscribers` and `interests`: messages
already queued and the beat's PeriodicTask rows name them so."""

from celery import shared_task

from .outbox import PUSH_TASK, send_push
from .services import discovery, push, roster


@shared_task(name=PUSH_TASK, bind=True, ignore_result=True, max_retries=None)
def push_changes(self):
    """Push due pending changes to iMIS. iMIS unreachable, or changes still waiting for their backoff: this
    task comes back when the first of them is due."""
    result = push.changes_push()
    if self.request.is_eager:
        pass  # in the web process (no broker): the next save or the sweeper pushes what is left
    elif result.retry_later:
        raise self.retry(countdown=result.retry_in)
    elif result.wake_in is not None:
        raise self.retry(countdown=result.wake_in)  # changes still waiting for their backoff
    if result.more:
        send_push()  # the rest in a new message, so that other tasks get their turn
    return result.counts


@shared_task(name="subscribers.tasks.pull_roster", ignore_result=True)
def pull_roster():
    """Pull members and their checkbox values from iMIS (scheduled on beat). Returns the SyncRun id."""
    return roster.roster_pull().pk


@shared_task(name="subscribers.tasks.sweep_changes", ignore_result=True)
def sweep_changes():
    """Safety net on beat: release changes of dead workers, re-send lost push messages."""
    return push.changes_sweep()


@shared_task(name="interests.tasks.discover_interests", ignore_result=True)
def discover_interests():
    """Hourly (django-celery-beat): bring the interests in line with iMIS. Returns the SyncRun id.

    No retry: a failed run records its error, and the next hour's run is the retry."""
    return discovery.interests_discover().pk
