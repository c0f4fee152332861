"""The member's form gets its CSRF token from preference_center.lib.csrf, not from Django: it must be a token
Django's own check accepts, for the cookie Django sets, masked afresh on every page."""

import re
from collections import Counter

import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CsrfViewMiddleware
from django.middleware.csrf import get_token as django_get_token
from django.test import Client, RequestFactory

from preference_center.lib.csrf import get_token, random_chars
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import shown_in, values_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_check(token, cookie):
    """What Django's CsrfViewMiddleware says of a POST carrying `token` with the cookie `cookie`: None when it
    lets the POST through, its 403 otherwise."""
    request = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    request.COOKIES["csrftoken"] = cookie
    middleware = CsrfViewMiddleware(lambda r: None)
    middleware.process_request(request)
    return middleware.process_view(request, lambda r: None, (), {})


def test_it_makes_a_new_secret_for_a_browser_without_one_and_django_accepts_the_token():
    request = RequestFactory().get("/")
    token = get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True  # CsrfViewMiddleware sends the cookie
    assert len(secret) == 32 and len(token) == 64 and set(secret + token) <= set(CSRF_ALLOWED_CHARS)
    assert csrf_check(token, secret) is None
    assert csrf_check(token, random_chars(32)).status_code == 403  # another browser's cookie
    assert csrf_check(token[:32] + token[32:][::-1], secret).status_code == 403  # tampered


def test_it_keeps_the_browsers_secret_and_masks_it_afresh_each_time():
    request = RequestFactory().get("/")
    secret = request.META["CSRF_COOKIE"] = random_chars(32)
    first, second, djangos = get_token(request), get_token(request), django_get_token(request)
    assert request.META["CSRF_COOKIE"] == secret
    assert len({first, second, djangos}) == 3  # a new mask per page: nothing for a BREACH attack to compare
    assert (
        csrf_check(first, secret) is None and csrf_check(second, secret) is None and csrf_check(djangos, secret) is None
    )


def test_it_draws_every_character_equally_often():
    # Keeping the bytes above 247 would make the first 8 characters a quarter likelier than the others:
    # 2,500 in 124,000 instead of 2,000 (a standard deviation is 44).
    counts = Counter(random_chars(len(CSRF_ALLOWED_CHARS) * 2000))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    assert all(1700 < count < 2300 for count in counts.values()), counts.most_common(3)


def test_it_lets_a_member_save_with_the_token_and_cookie_of_their_page():
    interest = make_interests(count=1)[0]
    member = make_subscriber()
    browser = Client(enforce_csrf_checks=True)
    path = f"/p/{make_token(member)}/"
    page = browser.get(path).content.decode()
    cookie = browser.cookies["csrftoken"].value
    data = {"csrfmiddlewaretoken": FORM_TOKEN.search(page)[1], "shown": shown_in(page), f"interest_{interest.pk}": "on"}

    before = values_of(member)
    assert Client(enforce_csrf_checks=True).post(path, data).status_code == 403  # the token without the cookie
    assert values_of(member) == before
    assert browser.post(path, data).status_code == 302
    assert values_of(member) == {interest.pk: True}
    # The next page keeps the browser's cookie and gives a new token for it.
    again = browser.get(path).content.decode()
    assert browser.cookies["csrftoken"].value == cookie
    assert FORM_TOKEN.search(again)[1] != data["csrfmiddlewaretoken"]
