"""Enqueueing the push of pending changes. The PreferenceChange rows ARE the outbox: a message lost here
(Redis down, worker killed) loses nothing, because the sweeper re-enqueues pending rows."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def send_push(count=1):
    """Ask `count` workers to push pending changes now. Never raises: returns how many messages went out."""
    from .tasks import push_changes

    sent = 0
    for _ in range(count):
        try:
            push_changes.delay()
        except Exception as exc:  # broker down: the sweeper will find the pending rows
            logger.warning("push not enqueued (%s: %s); the sweeper will pick the changes up", type(exc).__name__, exc)
            break
        sent += 1
    return sent


def enqueue_push():
    """After the current transaction commits, ask a worker to push pending changes. Never raises."""
    transaction.on_commit(send_push)
