"""The member's form as HTML: rendered once, joined per request.

Rendering the interests' checkboxes through crispy-forms, and the page through the template engine, on
every request would cost more than everything else a page view does (docs/benchmarks.md, "The member
page's rendering"), and the markup is the same for every member: only the ticks and a few values differ.
So each is rendered once per interest configuration, language and variant, with a marker where a tick
goes and a slot where a value goes, and split there; a request joins the pieces. One split and one join
serve both: the whole page (`page`), and the ticked fieldsets for the pages rendered by the template
(`fieldsets`: a failed confirmation, the staff's views of the form).

The tuple of InterestSpec is part of every cache key: a change by staff makes a new key. The slot name is
random per process, so that no staff or member text (escaped anyway) can imitate one.
"""

from __future__ import annotations

import functools
import re
import secrets

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from crispy_forms.utils import render_crispy_form
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from preference_center.lib.csrf import get_token

from . import forms
from .selectors import InterestSpec, mask_email

_SLOT = f"pc-slot-{secrets.token_hex(8)}-"
# A hole is a slot (its name) or the end of an interest's checkbox tag (its id, where " checked" goes).
_HOLES = re.compile(rf'{_SLOT}(\w+)-| data-pc="(\d+)"')


def _split(html: str) -> tuple[tuple[str, ...], tuple[str | int, ...]]:
    parts = _HOLES.split(html)
    holes = tuple(name or int(pk) for name, pk in zip(parts[1::3], parts[2::3], strict=True))
    return tuple(parts[0::3]), holes


def _join(chunks, holes, ticked: dict[int, bool], slots: dict[str, str] | None = None) -> str:
    out = [chunks[0]]
    for hole, chunk in zip(holes, chunks[1:], strict=True):
        if hole.__class__ is int:
            if ticked.get(hole):
                out.append(" checked")
        else:
            out.append(slots[hole])
        out.append(chunk)
    return "".join(out)


# --- the fieldsets ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _fieldsets_markup(specs: tuple[InterestSpec, ...], language: str) -> str:
    """The crispy-rendered fieldsets, unticked, each checkbox's tag ending with its data-pc marker."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(
        *(
            Fieldset(forms.literal(heading), *(spec.field_name for spec in members))
            for heading, members in forms.groups(specs)
        )
    )
    return str(render_crispy_form(forms.form_class(specs)(), helper))


@functools.lru_cache(maxsize=32)
def _fieldsets_pieces(specs: tuple[InterestSpec, ...], language: str):
    return _split(_fieldsets_markup(specs, language))


def fieldsets(specs: tuple[InterestSpec, ...], ticked: dict[int, bool]) -> str:
    """The interests' fieldsets with `ticked` ({interest id: on}) ticked, in the active language."""
    if not specs:
        return ""
    chunks, holes = _fieldsets_pieces(specs, get_language())
    return mark_safe(_join(chunks, holes, ticked))  # noqa: S308 - rendered by crispy-forms from escaped labels


# --- the whole page -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _page_pieces(specs, *, greeting: bool, confirm: bool, brand, language: str):
    """preferences.html in the active language (`language`, part of the key) and its brand (a
    branding.selectors.BrandView in that language), with slots for the values."""
    html = render_to_string(
        "subscribers/preferences.html",
        {
            "brand": brand,
            "fieldsets": mark_safe(_fieldsets_markup(specs, language)) if specs else "",  # noqa: S308 - as above
            "has_interests": bool(specs),
            "masked_email": f"{_SLOT}masked_email-",
            "first_name": f"{_SLOT}first_name-" if greeting else "",
            "confirm_form": forms.ConfirmEmailForm() if confirm else None,
            "csrf_token": f"{_SLOT}csrf_token-",
            "shown": f"{_SLOT}shown-",
            "language_next": f"{_SLOT}path-",
        },
    )
    chunks, holes = _split(html)
    if sorted(h for h in holes if isinstance(h, int)) != sorted(spec.id for spec in specs):
        raise AssertionError("preferences.html must show each interest's checkbox exactly once")
    return chunks, holes


def page(request, *, subscriber, state, shown: str, confirm: bool, brand) -> HttpResponse:
    """The member's form page with their ticks and the signed `shown` field: what preferences.html renders
    for them (tests/test_preference_page.py holds the two to the same bytes)."""
    chunks, holes = _page_pieces(
        state.specs,
        greeting=bool(subscriber.first_name),
        confirm=confirm,
        brand=brand,
        language=get_language(),
    )
    slots = {
        "masked_email": escape(mask_email(subscriber.email)),
        "first_name": escape(subscriber.first_name),
        "csrf_token": get_token(request),  # Django's token, drawn in one call
        "shown": escape(shown),
        "path": escape(request.path),
    }
    return HttpResponse(_join(chunks, holes, state.values, slots))
