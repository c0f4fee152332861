"""Personal links: a signed token that carries a subscriber id and the subscriber's token version.

No personal data in the URL: the payload is two integers, signed with SECRET_KEY and a salt of its own
(HMAC, django.core.signing), with a timestamp for the optional maximum age. A forged or tampered token
is refused by `read_token` without touching the database; a rotated one (the member's `token_version`
was bumped) is refused by the selector that loads the subscriber.

Logs never show a token: preference_center.lib.redaction takes them out of every log line.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from preference_center.lib.locale import LINK_LANGUAGE_PARAM

SALT = "subscribers.tokens.personal-link"
_signer_cache = {}


@dataclass(frozen=True)
class LinkPayload:
    subscriber_id: int
    token_version: int


def _signer():
    signer = _signer_cache.get(settings.SECRET_KEY)
    if signer is None:
        _signer_cache.clear()
        signer = _signer_cache[settings.SECRET_KEY] = signing.TimestampSigner(salt=SALT)
    return signer


def make_token(subscriber) -> str:
    """A fresh token for the subscriber's current token version."""
    return token_for(subscriber.pk, subscriber.token_version)


def token_for(subscriber_id: int, token_version: int) -> str:
    """make_token from the two numbers alone (exports read them without building model instances)."""
    return _signer().sign_object([subscriber_id, token_version], compress=False)


def read_token(token: str) -> LinkPayload | None:
    """The payload of a genuine, unexpired token; None for anything else. Never touches the database."""
    if not token or len(token) > 200:
        return None
    max_age_days = settings.PREFERENCE_LINK_MAX_AGE_DAYS
    try:
        payload = _signer().unsign_object(token, max_age=max_age_days * 86400 if max_age_days > 0 else None)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in payload)
    ):
        return None
    return LinkPayload(subscriber_id=payload[0], token_version=payload[1])


def language_query(language: str) -> str:
    """What a link adds for the member's language (`?lang=fr`), or nothing when it is unknown: the page then
    speaks the browser's language (preference_center.lib.locale)."""
    return f"?{LINK_LANGUAGE_PARAM}={language}" if language else ""


def preference_url(subscriber) -> str:
    """The absolute URL of the member's preference form, for the mailing's merge field."""
    url = settings.SITE_URL + reverse("preference_form", args=[make_token(subscriber)])
    return url + language_query(subscriber.language)


def one_click_url(subscriber) -> str:
    """The absolute RFC 8058 one-click URL, for the mailing's List-Unsubscribe header."""
    url = settings.SITE_URL + reverse("one_click", args=[make_token(subscriber)])
    return url + language_query(subscriber.language)
