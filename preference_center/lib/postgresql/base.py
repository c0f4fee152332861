"""Django's PostgreSQL backend for our data, with a health check that costs no round trip.

CONN_HEALTH_CHECKS makes Django check a persistent connection before the first query of each request, so
that a connection the server closed (a restart, an idle timeout) is replaced instead of failing that
request. Django checks with SELECT 1: a round trip on every request that touches the database, a cost the
member's save can measure (docs/benchmarks.md). Between requests a healthy connection
has nothing to read; one the server closed has its termination notice or end-of-file waiting. So a
connection is usable when its socket has nothing to read, without waiting; anything readable (even a
harmless notice) only costs a reconnection."""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable
