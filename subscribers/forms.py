"""The member's form: its fields and what a POST of it means (its HTML: form_page)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django import forms
from django.core import signing
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from .selectors import FormState, InterestSpec

DEFAULT_GROUP = _("Email topics")
SHOWN_FIELD = "shown"
SHOWN_SALT = "subscribers.forms.shown"
# How long a form may stay open and still save: a page older than this is most likely forgotten in a tab,
# and the member is asked to reload it rather than have it decide what they changed.
SHOWN_MAX_AGE = 7 * 86400
# Posted keys a genuine form may carry besides the interests.
FORM_KEYS = {"csrfmiddlewaretoken", "action", "confirm_email", SHOWN_FIELD}
INTEREST_KEY = re.compile(r"^interest_(\d+)$")
CHECKBOX_ON = {"on", "1", "true"}


class StrictCheckboxField(forms.BooleanField):
    """A checkbox that accepts what browsers send ("on") or nothing: anything else is garbage."""

    default_error_messages = {"invalid": _("This choice was not understood.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        checked = checkbox_value(value)
        if checked is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return checked


def checkbox_value(value) -> bool | None:
    """What a posted checkbox means: ticked, unticked (not posted), or None for garbage."""
    if value in (None, "", False):
        return False
    if value is True or (isinstance(value, str) and value.lower() in CHECKBOX_ON):
        return True
    return None


class StrictCheckboxInput(forms.CheckboxInput):
    def value_from_datadict(self, data, files, name):
        # Keep the raw value so that the field can refuse garbage (CheckboxInput would make it True).
        return data.get(name)


class BasePreferenceForm(forms.Form):
    """Validates a POST against the interests on the form: one subclass per configuration adds a field per
    interest (see form_class)."""

    specs: tuple[InterestSpec, ...] = ()


class ConfirmEmailForm(forms.Form):
    """PREFERENCES_CONFIRM_EMAIL: a forwarded mailing must not let its reader change the member's choices,
    so saving needs the address the mailing was sent to (compared case-insensitively)."""

    confirm_email = forms.CharField(
        label=_("The email address this message was sent to"),
        help_text=_("So that a forwarded email cannot change your choices, type your address to save them."),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, expected_email="", **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_email = expected_email

    def clean_confirm_email(self):
        typed = self.cleaned_data["confirm_email"].strip()
        if not self.expected_email or typed.casefold() != self.expected_email.strip().casefold():
            raise forms.ValidationError(
                _("This is not the address this message was sent to. Nothing was saved."), code="mismatch"
            )
        return typed


class LostLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def literal(text: str) -> str:
    """Staff and iMIS text as inert HTML: crispy outputs help texts with |safe and renders legends as
    templates, so escape it and neutralise template braces."""
    return str(escape(text)).replace("{", "&#123;").replace("}", "&#125;")


def unknown_keys(data: Iterable[str], specs: Iterable[InterestSpec]) -> list[str]:
    """Posted keys that a genuine form could not have sent, e.g. an interest that is not on the form."""
    allowed = FORM_KEYS | {spec.field_name for spec in specs}
    return sorted(key for key in data if key not in allowed)


@functools.lru_cache(maxsize=16)
def form_class(specs: tuple[InterestSpec, ...]) -> type[BasePreferenceForm]:
    """The form class of one interest configuration (built once)."""
    fields = {
        spec.field_name: StrictCheckboxField(
            label=spec.label,
            help_text=literal(spec.description),
            widget=StrictCheckboxInput(attrs={"data-pc": str(spec.id)}),
        )
        for spec in specs
    }
    return type("PreferenceForm", (BasePreferenceForm,), {**fields, "specs": specs})


def groups(specs: Iterable[InterestSpec]) -> list[tuple[str, list[InterestSpec]]]:
    """Interests under their headings: groups in the order of their first interest, staff order inside."""
    grouped: dict[str, list[InterestSpec]] = {}
    for spec in specs:
        grouped.setdefault(spec.group or DEFAULT_GROUP, []).append(spec)
    return list(grouped.items())


def posted_choices(data, specs: Iterable[InterestSpec]) -> dict[int, bool] | None:
    """{interest id: value} for every interest on the form, from a POST, as form_class(specs)(data) would
    clean it; None if a checkbox carries garbage. The member's POST takes this path: instantiating the form
    copies every field, which costs more than the rest of the validation."""
    wanted = {}
    for spec in specs:
        value = checkbox_value(data.get(spec.field_name))
        if value is None:
            return None
        wanted[spec.id] = value
    return wanted


# --- what the page showed -----------------------------------------------------------------------------
#
# A save applies only the boxes the member changed from what their page showed them: a value changed
# elsewhere while the page was open (another tab, staff, the iMIS pull) is never overwritten by a box the
# member did not touch. The page carries what it showed in a signed hidden field, bound to the member and
# their link's version, so that it cannot be forged or moved to another member.


@dataclass(frozen=True)
class Shown:
    """The interests a member's page showed, and which of them were ticked."""

    ids: frozenset[int]
    ticked: frozenset[int]


def shown_sign(*, subscriber_id: int, token_version: int, state: FormState) -> str:
    """The hidden field's value for a page showing `state` to this member."""
    ticked = [spec.id for spec in state.specs if state.values.get(spec.id)]
    return signing.dumps([subscriber_id, token_version, [spec.id for spec in state.specs], ticked], salt=SHOWN_SALT)


def shown_read(value: str, *, subscriber_id: int, token_version: int) -> Shown | None:
    """What the page showed, from its hidden field; None if missing, forged, too old (SHOWN_MAX_AGE), or
    signed for another member or link version."""
    try:
        member, version, ids, ticked = signing.loads(value or "", salt=SHOWN_SALT, max_age=SHOWN_MAX_AGE)
        shown = Shown(frozenset(map(int, ids)), frozenset(map(int, ticked)))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if (member, version) != (subscriber_id, token_version):
        return None
    return shown


def changed_choices(posted: Mapping[int, bool], shown: Shown) -> dict[int, bool]:
    """{interest id: new value} of the boxes the member changed: on the page, and not as it showed them."""
    return {pk: value for pk, value in posted.items() if pk in shown.ids and value != (pk in shown.ticked)}
