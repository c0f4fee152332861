"""Staff text in the member's language: a field `x` holds the default language (LANGUAGE_CODE), `x_fr` its
French; an empty translation falls back to the default language, never to an empty box."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings


def translated(values: Mapping[str, str], field: str, language: str | None) -> str:
    """`values[field]` in `language` (`values[f"{field}_{language}"]` when it is not empty)."""
    if language and language != settings.LANGUAGE_CODE:
        text = values.get(f"{field}_{language}")
        if text:
            return text
    return values.get(field) or ""
