"""Exactly one beat: a second `celery beat` on the same database refuses to run.

Two beats would each send every scheduled task (the pull, discovery, the sweepers twice as often). The tasks
would cope (the pull takes a lock, pushes claim their changes), but nothing needs the doubled traffic and an
operator should hear of the mistake. So beat takes a PostgreSQL advisory lock at start, on a connection of its
own held for its whole life, and stops with an error when another beat holds it. The lock dies with its
session: a beat that is killed (or its machine) frees it at once for the next one. On SQLite (the embedded
default, one machine, no beat) there is nothing to take.
"""

from __future__ import annotations

import logging

from celery.signals import beat_init
from django.db import connections

logger = logging.getLogger(__name__)

# pg_try_advisory_lock's key: any constant of ours ("beat" in ASCII). Advisory locks are per database, so two
# deployments on one PostgreSQL server with their own databases do not meet.
LOCK_KEY = 0x62656174
_held = []  # the connection that holds the lock, kept for the life of the process


class AnotherBeatRuns(SystemExit):
    pass


def beat_lock_take() -> bool:
    """Take the one-beat lock on a connection of its own; False when another process holds it."""
    connection = connections.create_connection("default")
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        taken = cursor.fetchone()[0]
    if taken:
        _held.append(connection)
    else:
        connection.close()
    return taken


@beat_init.connect(dispatch_uid="ops.beat_lock")
def _one_beat_only(sender=None, **kwargs):
    if not beat_lock_take():
        logger.critical("another celery beat runs on this database: this one stops (run exactly one beat)")
        raise AnotherBeatRuns(1)
