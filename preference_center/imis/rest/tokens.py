"""One bearer token per (site, user), shared by every process through Django's cache.

iMIS expires a user's previous token when a new one is requested, so a login per process (or per request)
would make the processes log each other out. One process at a time renews, under a cache lock
(`cache.add`); the others wait for the token it stores. Without the cache (Redis down) there is no token to
share: iMIS counts as unavailable, and a push retries later rather than log the other processes out."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from ..errors import ImisUnavailable

LOCK_SECONDS = 30
# Renew a little before iMIS expires the token, so that a request does not start with a dying token.
EXPIRY_MARGIN_SECONDS = 60
POLL_SECONDS = 0.05


def _cached(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever the cache raises (Redis down): no token to share
        raise ImisUnavailable(f"the shared iMIS token is out of reach: {type(exc).__name__}: {exc}") from exc


class SharedToken:
    def __init__(self, base_url: str, username: str, login, *, wait_seconds: float = LOCK_SECONDS):
        digest = hashlib.sha256(f"{base_url}\0{username}".encode()).hexdigest()[:24]
        self.key = f"imis-rest-token:{digest}"
        self.lock_key = f"{self.key}:lock"
        self._login = login  # () -> (access_token, expires_in seconds)
        self._wait_seconds = wait_seconds

    def current(self) -> str:
        return _cached(cache.get, self.key) or self.renew(stale=None)

    def renew(self, *, stale: str | None) -> str:
        """A token other than `stale`: the one another process just stored, or a new login by us."""
        deadline = time.monotonic() + self._wait_seconds
        while True:
            if _cached(cache.add, self.lock_key, "1", timeout=LOCK_SECONDS):
                try:
                    token = _cached(cache.get, self.key)
                    if token and token != stale:
                        return token
                    token, expires_in = self._login()
                    _cached(cache.set, self.key, token, timeout=max(1, int(expires_in) - EXPIRY_MARGIN_SECONDS))
                    return token
                finally:
                    _cached(cache.delete, self.lock_key)
            token = _cached(cache.get, self.key)
            if token and token != stale:
                return token
            if time.monotonic() > deadline:
                raise ImisUnavailable("iMIS login: another process held the token lock too long")
            time.sleep(POLL_SECONDS)
