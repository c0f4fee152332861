"""Reads of members and their preferences (HackSoft style: selectors read, services write)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import FilteredRelation, Q

from interests.models import RemoteInterest

from . import tokens
from .models import Subscriber, mailable_q


@dataclass(frozen=True)
class InterestSpec:
    """What the form shows of one interest: the same for every member (cacheable)."""

    id: int
    label: str
    description: str
    group: str

    @property
    def field_name(self):
        return f"interest_{self.id}"

    @property
    def label_shown(self):
        """The text the member saw and agreed to, kept with each change."""
        return f"{self.label}: {self.description}" if self.description else self.label


@dataclass(frozen=True)
class FormState:
    """The interests on the form, in staff order, and this member's current value of each."""

    specs: tuple[InterestSpec, ...]
    values: dict[int, bool]

    @property
    def by_id(self):
        return {spec.id: spec for spec in self.specs}


def subscriber_for_token(token: str) -> Subscriber | None:
    """The active subscriber a genuine, current token belongs to. A forged token costs no query."""
    payload = tokens.read_token(token)
    if payload is None:
        return None
    subscriber = (
        Subscriber.objects.filter(pk=payload.subscriber_id, active=True)
        .only("id", "imis_id", "email", "first_name", "token_version", "active", "exclude_mail")
        .first()
    )
    if subscriber is None or subscriber.token_version != payload.token_version:
        return None
    return subscriber


def form_state(*, subscriber_id: int) -> FormState:
    """The interests on the form (visible and present in iMIS, by position) with the member's values, in
    one query whatever the number of interests. No Preference row reads as unticked."""
    rows = (
        RemoteInterest.objects.filter(visible=True, present_in_imis=True)
        .annotate(mine=FilteredRelation("preferences", condition=Q(preferences__subscriber_id=subscriber_id)))
        .order_by("position", "id")
        .values_list("id", "label", "prompt", "field_name", "description", "group", "mine__value")
    )
    specs, values = [], {}
    for pk, label, prompt, field_name, description, group, value in rows:
        specs.append(InterestSpec(pk, label or prompt or field_name, description, group))
        values[pk] = bool(value)
    return FormState(specs=tuple(specs), values=values)


def mailable_subscribers():
    """Members who may be offered links: active, with an address, not excluded from mail. By iMIS ID."""
    return Subscriber.objects.filter(mailable_q()).order_by("imis_id")


def subscribers_for_address(email: str):
    """Mailable members whose address is `email` (case-insensitively): several may share one."""
    email = (email or "").strip()
    if not email:
        return Subscriber.objects.none()
    return mailable_subscribers().filter(email__iexact=email)


def mask_email(email: str) -> str:
    """j•••@example.org: enough for members to recognise their address, not enough to harvest it."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return (local[:1] + "•••") if local else ""
    return f"{local[:1]}•••@{domain}"
