"""Referrer-Policy strict-origin, in Chromium: the page's own static requests and the links it leads to
carry the site's origin only, never the personal page's path (its token); the save's POST still carries
its Origin header, so the CSRF check passes and the choices are saved."""

import os

import pytest
from django.core.cache import cache
from playwright.sync_api import expect, sync_playwright

from subscribers.models import Preference, PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import values_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]


@pytest.fixture
def page():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    cache.clear()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser.new_context().new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_requests_from_a_personal_page_carry_no_path_and_the_save_still_works(live_server, page):
    member = make_subscriber(first_name="Jane")
    interests = make_interests(count=2)
    Preference.objects.create(subscriber=member, interest=interests[1], value=True, imis_value=True)
    token = make_token(member)
    sent = []
    page.on("request", lambda request: sent.append((request.method, request.url, request.all_headers())))

    page.goto(f"{live_server.url}/p/{token}/")
    page.get_by_label("Monthly newsletter").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    page.get_by_role("link", name="Change my choices").click()
    expect(page.get_by_label("Monthly newsletter")).to_be_checked()

    origin = f"{live_server.url}/"
    static = [headers.get("referer") for method, url, headers in sent if "/static/" in url]
    [post] = [headers for method, url, headers in sent if method == "POST"]
    followed = [
        headers.get("referer") for method, url, headers in sent if method == "GET" and url.endswith(f"/p/{token}/")
    ]
    assert static and set(static) == {origin}  # the origin only: no path, no token
    assert post["origin"] == live_server.url and post["referer"] == origin
    assert followed[-1] == origin  # the link back from the saved page
    assert values_of(member)[interests[0].pk] is True
    assert PreferenceChange.objects.filter(subscriber=member, source="form").count() == 1
