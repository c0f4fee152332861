"""API keys: created with a random secret shown once, stored as a SHA-256 hash, revoked (never reused)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone

from ..models import ApiKey

KEY_PREFIX = "pc"  # every key starts with "pc_": secret scanners and people recognise it
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


def hash_key(raw_key: str) -> str:
    """SHA-256 of the key. Keys carry 192 random bits, so a fast hash is safe (no dictionary to attack)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, name: str, scope: str = ApiKey.Scope.READ, created_by=None) -> tuple[ApiKey, str]:
    """A new key: returns the row and the key itself, which is not stored anywhere and cannot be shown
    again. Format: pc_<8-character prefix>_<32 random characters>."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"unknown scope {scope!r}")
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    api_key = ApiKey.objects.create(
        name=name, scope=scope, prefix=prefix, key_hash=hash_key(raw_key), created_by=created_by
    )
    return api_key, raw_key


def api_key_revoke(*, api_key_ids) -> int:
    """Revoke keys now: they stop working at the next request. Returns how many were revoked."""
    return ApiKey.objects.filter(pk__in=list(api_key_ids), revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_for(raw_key: str) -> ApiKey | None:
    """The key row for a presented key (revoked or not: the caller tells them apart), or None."""
    raw_key = (raw_key or "").strip()
    if not raw_key.startswith(f"{KEY_PREFIX}_") or len(raw_key) > 100:
        return None
    digest = hash_key(raw_key)
    api_key = ApiKey.objects.filter(key_hash=digest).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record that the key was used (at most one write a minute per key)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
