"""Enqueueing the push of pending changes. The PreferenceChange rows ARE the outbox: a message lost here
(Redis down, worker killed) loses nothing, because the sweeper re-enqueues pending rows.

So a member's save never waits for a sick Redis: its message is sent once, without Celery's publish
retries, within REDIS_TIMEOUT (settings), and not at all while the process's Redis breaker is open
(preference_center.lib.breaker) after a failure."""

import logging
import threading
import time

from django.conf import settings
from django.db import transaction

from preference_center.celery import app
from preference_center.lib.breaker import redis_breaker

logger = logging.getLogger(__name__)

# The push task's name since before the sync app existed: messages already queued carry it. Sent by name:
# sync.tasks imports this module (a push with more to do asks for another), so this one does not import it.
PUSH_TASK = "subscribers.tasks.push_changes"


def _push_task():
    return app.tasks[PUSH_TASK]


def send_push(count=1, countdown=None, *, retry=True):
    """Ask `count` workers to push pending changes (after `countdown` seconds). Never raises: returns how
    many messages went out. `retry`: Celery's publish retries (task_publish_retry_policy); a failure trips
    the process's Redis breaker."""
    sent = 0
    for _ in range(count):
        try:
            _push_task().apply_async(countdown=countdown, retry=retry)
        except Exception as exc:  # broker down: the sweeper will find the pending rows
            redis_breaker.trip()
            logger.warning("push not enqueued (%s: %s); the sweeper will pick the changes up", type(exc).__name__, exc)
            break
        sent += 1
    return sent


def push_soon():
    """Ask for a push of what just committed, one message per PUSH_COALESCE_SECONDS at most per process.

    On a mailing day thousands of members save within minutes: one message per save costs each save a
    broker round trip and floods the queue with pushes that find nothing left to do. The first save of a
    window in this process opens it and sends one push due when the window closes; saves inside the window
    only commit. Their rows are pending before the window closes, hence before that push starts, so it
    takes them all. Each web process keeps its own window (no round trip to share one): a few messages per
    window at most, one per process. A push that could not be sent (broker down) closes the window again and
    trips the Redis breaker: the first save after the breaker closes tries again; the sweeper finds the
    rows meanwhile."""
    if app.conf.task_always_eager:
        send_push()
        return
    if not redis_breaker.closed():  # Redis failed a moment ago: the sweeper sends this push
        return
    window = settings.PUSH_COALESCE_SECONDS
    if window <= 0:
        send_push(retry=False)
        return
    now = time.monotonic()
    with _window_lock:
        first = now >= _window["closes"]
        if first:
            _window["closes"] = now + window
    if first and not send_push(countdown=window, retry=False):
        _window["closes"] = 0.0


_window = {"closes": 0.0}  # when this process's window closes (time.monotonic)
_window_lock = threading.Lock()


def enqueue_push():
    """After the current transaction commits, ask a worker to push pending changes. Never raises."""
    transaction.on_commit(push_soon)
