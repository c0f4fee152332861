"""Django's CSRF token for a form, with its random characters drawn in one call.

`django.middleware.csrf.get_token` draws each of the 64 characters it needs (a new secret for a browser
without the cookie, and the mask that makes every response's token different, against BREACH) with a
`secrets.choice` of its own: one system call per character. The member's form, which every link scanner
fetches without a cookie, paid that on every view (docs/benchmarks.md, "The CSRF token").

`get_token` here returns the same thing from the same source (os.urandom through `secrets`), every
character equally likely, and leaves the rest to Django: CsrfViewMiddleware sets the cookie from the same
request.META keys, and checks the POST by unmasking the token as Django masks it. tests/test_csrf_token.py
holds it to Django's own check."""

import secrets

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_BASE = len(CSRF_ALLOWED_CHARS)
_INDEX = {char: n for n, char in enumerate(CSRF_ALLOWED_CHARS)}
# Bytes from this one up are dropped: keeping them would make the first 256 % _BASE characters likelier.
_UNBIASED = 256 - 256 % _BASE


def random_chars(count: int) -> str:
    """`count` characters of CSRF_ALLOWED_CHARS, uniformly at random."""
    chars = []
    while len(chars) < count:
        chars += [CSRF_ALLOWED_CHARS[byte % _BASE] for byte in secrets.token_bytes(count + 8) if byte < _UNBIASED]
    return "".join(chars[:count])


def get_token(request) -> str:
    """What django.middleware.csrf.get_token returns, with the same effect on the response's cookie: the
    browser's secret (a new one when it has none), masked afresh."""
    fresh = random_chars(2 * CSRF_SECRET_LENGTH)
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = fresh[CSRF_SECRET_LENGTH:]
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as Django: the cookie is (re)sent, its expiry renewed
    mask = fresh[:CSRF_SECRET_LENGTH]
    cipher = (CSRF_ALLOWED_CHARS[(_INDEX[s] + _INDEX[m]) % _BASE] for s, m in zip(secret, mask, strict=True))
    return mask + "".join(cipher)
