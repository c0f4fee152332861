"""API keys: created with a random secret shown once, stored as a SHA-256 hash, revoked (never reused);
never able to do more than the staff user who created them may do at the time of each request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from ..models import ApiKey

KEY_PREFIX = "pc"  # every key starts with "pc_": secret scanners and people recognise it
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


def hash_key(raw_key: str) -> str:
    """SHA-256 of the key. Keys carry 192 random bits, so a fast hash is safe (no dictionary to attack)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


# What the creator must be allowed, now, for a key to do each thing: a key never does more than its creator.
READ_PERMISSION = "subscribers.view_subscriber"  # members, their addresses and choices
WRITE_PERMISSION = "subscribers.change_preference"  # set a member's choices
LINKS_PERMISSION = "mailing.export_targetgroup"  # personal links: credentials for members' choices


@dataclass(frozen=True)
class KeyRights:
    read: bool = False
    write: bool = False
    links: bool = False


def _user_rights(user, *, scope: str, links: bool) -> KeyRights:
    if user is None or not user.is_active or not user.is_staff:
        return KeyRights()
    read = user.has_perm(READ_PERMISSION)
    return KeyRights(
        read=read,
        write=read and scope == ApiKey.Scope.READ_WRITE and user.has_perm(WRITE_PERMISSION),
        links=read and links and user.has_perm(LINKS_PERMISSION),
    )


def api_key_rights(api_key: ApiKey) -> KeyRights:
    """What the key may do now: what it was made for, within what its creator may do now (a deactivated or
    demoted creator's keys lose what the creator lost; a key whose creator was deleted does nothing)."""
    if not api_key.active:
        return KeyRights()
    return _user_rights(api_key.created_by, scope=api_key.scope, links=api_key.links)


def api_key_rights_missing(*, user, scope: str, links: bool) -> list[str]:
    """What a key of `scope` / `links` would do that `user` may not do: creating it is refused."""
    wanted = KeyRights(read=True, write=scope == ApiKey.Scope.READ_WRITE, links=links)
    held = _user_rights(user, scope=scope, links=links)
    missing = []
    if wanted.read and not held.read:
        missing.append("read members (“Can view subscriber”)")
    if wanted.write and not held.write:
        missing.append("change members' preferences (“Can change preference”)")
    if wanted.links and not held.links:
        missing.append("read personal links (“Can export target groups”)")
    return missing


class KeyExceedsCreator(PermissionDenied):
    pass


def api_key_create(*, name: str, created_by, scope: str = ApiKey.Scope.READ, links: bool = False) -> tuple[ApiKey, str]:
    """A new key for `created_by`, which may not do more than they may: returns the row and the key itself,
    which is not stored anywhere and cannot be shown again. Format: pc_<8-character prefix>_<32 random
    characters>. KeyExceedsCreator when the key would do more than its creator may."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"unknown scope {scope!r}")
    missing = api_key_rights_missing(user=created_by, scope=scope, links=links)
    if missing:
        raise KeyExceedsCreator("A key cannot do more than you may: you may not " + "; ".join(missing) + ".")
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    api_key = ApiKey.objects.create(
        name=name, scope=scope, links=links, prefix=prefix, key_hash=hash_key(raw_key), created_by=created_by
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
    api_key = ApiKey.objects.filter(key_hash=digest).select_related("created_by").first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record that the key was used (at most one write a minute per key)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
