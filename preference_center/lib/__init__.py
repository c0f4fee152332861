"""Infrastructure under the apps: the Redis cache and its breaker, the PostgreSQL backend and lookup, the
settings' database configurations, the request guard, gunicorn's logger. Nothing here knows members,
interests or iMIS."""
