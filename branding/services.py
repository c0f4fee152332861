"""Writes of the brand: staff edit a draft, then publish it (HackSoft style: services write)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction

from .images import Logo
from .models import LOGO_FIELDS, TEXT_FIELDS, Brand

# What publishing copies from the draft: everything staff edit.
COPIED = TEXT_FIELDS + LOGO_FIELDS


def _log(brand: Brand, user, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[brand], action_flag=CHANGE, change_message=message, single_object=True
    )


def brand_draft_get() -> Brand:
    """The draft staff edit, created from the published brand (or the default name) the first time."""
    draft = Brand.objects.filter(state=Brand.State.DRAFT).first()
    if draft is not None:
        return draft
    published = Brand.objects.filter(state=Brand.State.PUBLISHED).first()
    draft = Brand(state=Brand.State.DRAFT, name=settings.ASSOCIATION_NAME)
    if published is not None:
        for field in COPIED:
            setattr(draft, field, getattr(published, field))
    draft.save()
    return draft


@transaction.atomic
def brand_logo_set(*, logo: Logo | None, user) -> Brand:
    """Put `logo` on the draft (None: no logo). Members see it once the draft is published."""
    draft = brand_draft_get()
    draft.logo = logo.content if logo else None
    draft.logo_content_type = logo.content_type if logo else ""
    draft.logo_sha256 = logo.sha256 if logo else ""
    draft.updated_by = user
    draft.save()
    _log(draft, user, "Uploaded a new logo to the draft." if logo else "Removed the logo from the draft.")
    return draft


@transaction.atomic
def brand_publish(*, user) -> Brand:
    """Copy the draft onto the published brand, the one members see (its cache is refreshed on commit)."""
    draft = Brand.objects.select_for_update().get(state=Brand.State.DRAFT)
    published = Brand.objects.select_for_update().filter(state=Brand.State.PUBLISHED).first()
    published = published or Brand(state=Brand.State.PUBLISHED)
    for field in COPIED:
        setattr(published, field, getattr(draft, field))
    published.updated_by = user
    published.save()
    _log(published, user, "Published the draft brand: members see it now.")
    return published


def brand_draft_differs() -> bool:
    """Whether the draft has changes members do not see yet."""
    rows = {row.pop("state"): row for row in Brand.objects.values("state", *COPIED)}
    draft, published = rows.get(Brand.State.DRAFT), rows.get(Brand.State.PUBLISHED)
    if draft is None:
        return False
    if published is None:
        return True
    return any(_same(draft[f]) != _same(published[f]) for f in COPIED)


def _same(value):
    return bytes(value) if isinstance(value, memoryview) else value
