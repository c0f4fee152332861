"""The brand as the member pages and the link email show it.

Members see the published row only. Every member page needs it, so it is read from a copy held by this
process for a few seconds, else from the shared cache (Redis in production), else from the database, which
decides: a cache that misses, is cleared or is down costs one query, never a wrong brand (and a database
that fails gives the default brand: a page that needs no database still answers). Publishing
refreshes the shared copy (signals.py): every host shows the new brand within LOCAL_SECONDS."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.urls import reverse

from preference_center.lib.breaker import unless_redis_is_sick
from preference_center.lib.translated import translated

from .models import TEXT_FIELDS, Brand

logger = logging.getLogger(__name__)

CACHE_KEY = "branding:published:v1"
# A refresh lost while Redis was down heals after this long.
CACHE_SECONDS = 300
LOCAL_SECONDS = 5
FIELDS = (*TEXT_FIELDS, "logo_sha256")  # all the pages need: the logo itself is read by its route

# What this process last read: (the published row's fields as sorted pairs, monotonic time it expires).
_local: list = [None, 0.0]


@dataclass(frozen=True)
class BrandView:
    """The brand in one language, as templates use it. Hashable: it keys the member form's cached pieces."""

    name: str
    logo_url: str = ""
    stylesheet_url: str = ""
    intro: str = ""
    contact_email: str = ""
    privacy_url: str = ""
    footer: str = ""
    preview: bool = False

    @property
    def has_footer(self) -> bool:
        return bool(self.contact_email or self.privacy_url or self.footer)


def brand_published(language: str | None, *, database: bool = True) -> BrandView:
    """The brand members see, in `language`. `database=False` (the 500 page, whose fault may be the
    database): the brand this process or the cache holds, else the default."""
    data = _published_data(database=database)
    return _view(data or (), language, settings.ASSOCIATION_NAME, preview=False)


def brand_draft(language: str | None) -> BrandView:
    """The draft staff are editing, as the preview shows it (read from the database, never cached)."""
    row = Brand.objects.filter(state=Brand.State.DRAFT).values(*FIELDS).first()
    return _view(_pairs(row or {}), language, settings.ASSOCIATION_NAME, preview=True)


def brand_logo(digest: str, *, staff: bool) -> tuple[bytes, str, bool] | None:
    """(bytes, content type, published) of the logo whose SHA-256 is `digest`: a published one for anyone,
    the draft's for staff only. None otherwise."""
    rows = Brand.objects.filter(logo_sha256=digest).values_list("state", "logo", "logo_content_type")
    found = {state: (bytes(content), content_type) for state, content, content_type in rows if content}
    if Brand.State.PUBLISHED in found:
        return (*found[Brand.State.PUBLISHED], True)
    if staff and Brand.State.DRAFT in found:
        return (*found[Brand.State.DRAFT], False)
    return None


def published_fields() -> tuple:
    """The published row's FIELDS as sorted (name, value) pairs, from the database; () without one."""
    return _pairs(Brand.objects.filter(state=Brand.State.PUBLISHED).values(*FIELDS).first() or {})


def _pairs(row: dict) -> tuple:
    return tuple(sorted(row.items()))


def _published_data(*, database: bool) -> tuple | None:
    data, expires = _local
    if data is not None and time.monotonic() < expires:
        return data
    data = _cache_get()
    if data is None:
        if not database:
            return None
        try:
            data = published_fields()
        except DatabaseError as exc:  # the brand is decoration: a page that needs no database still answers
            logger.warning("brand not read from the database (%s): the default brand", type(exc).__name__)
            return None
        cache_put(data)
    _local[:] = [data, time.monotonic() + LOCAL_SECONDS]
    return data


def _cache_get() -> tuple | None:
    warning = "brand not read from the cache (%s): read from the database"
    return unless_redis_is_sick(cache.get, CACHE_KEY, warning=warning)


def cache_put(data: tuple) -> None:
    """Keep `data` as the published brand in the shared cache (best effort: the database decides)."""
    _cache_write(cache.set, CACHE_KEY, data, CACHE_SECONDS)


def cache_forget() -> None:
    _cache_write(cache.delete, CACHE_KEY)


def _cache_write(call, *args) -> None:
    unless_redis_is_sick(call, *args, warning="brand cache not written (%s)")


def forget_local() -> None:
    """Drop this process's copy: the next page reads the shared cache or the database."""
    _local[:] = [None, 0.0]


@functools.lru_cache(maxsize=64)
def _view(data: tuple, language: str | None, default_name: str, *, preview: bool) -> BrandView:
    values = dict(data)
    colour = (values.get("primary_colour") or "").lstrip("#").lower()
    digest = values.get("logo_sha256") or ""
    return BrandView(
        name=translated(values, "name", language) or default_name,
        logo_url=reverse("brand_logo", args=[digest]) if digest else "",
        stylesheet_url=reverse("brand_stylesheet", args=[colour]) if colour else "",
        intro=translated(values, "intro", language),
        contact_email=values.get("contact_email") or "",
        privacy_url=values.get("privacy_url") or "",
        footer=translated(values, "footer", language),
        preview=preview,
    )
