"""The member's path in a real browser: Playwright driving Debian's Chromium against the live server."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import expect, sync_playwright

from interests.models import RemoteInterest
from subscribers.models import Preference, PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import values_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    cache.clear()
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def member():
    member = make_subscriber(email="jane.doe@example.org", first_name="Jane")
    interests = make_interests(count=5)
    Preference.objects.create(subscriber=member, interest=interests[1], value=True, imis_value=True)
    return member


def link(live_server, member, suffix=""):
    return f"{live_server.url}/p/{make_token(member)}/{suffix}"


def serious_violations(page):
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_it_saves_choices_and_shows_them_after_a_reload(live_server, page, member):
    url = link(live_server, member)
    page.goto(url)
    expect(page.get_by_role("heading", name="Your email preferences")).to_be_visible()
    expect(page.get_by_text("j•••@example.org")).to_be_visible()
    newsletter = page.get_by_label("Monthly newsletter")
    events = page.get_by_label("Events and conferences")
    expect(newsletter).not_to_be_checked()
    expect(events).to_be_checked()

    newsletter.check()
    events.uncheck()
    page.get_by_role("button", name="Save my choices").click()

    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You will now receive")
    expect(page.locator("main")).to_contain_text("You will no longer receive")
    page.goto(url)
    expect(page.get_by_label("Monthly newsletter")).to_be_checked()
    expect(page.get_by_label("Events and conferences")).not_to_be_checked()
    assert PreferenceChange.objects.filter(subscriber=member, source="form").count() == 2


def test_it_works_with_the_keyboard_alone(live_server, page, member):
    page.goto(link(live_server, member))
    checkbox = page.get_by_label("Monthly newsletter")
    for _ in range(20):
        page.keyboard.press("Tab")
        if checkbox.evaluate("el => el === document.activeElement"):
            break
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    save = page.get_by_role("button", name="Save my choices")
    for _ in range(30):
        page.keyboard.press("Tab")
        if save.evaluate("el => el === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    newsletter = RemoteInterest.objects.get(field_name="NEWSLETTER")
    assert values_of(member)[newsletter.pk] is True


def test_it_unticks_all_without_javascript(live_server, browser, member):
    cache.clear()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(link(live_server, member))
    page.get_by_role("button", name="Unsubscribe from all of these").click()
    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    context.close()
    assert set(values_of(member).values()) == {False}


def test_it_shows_a_friendly_page_for_a_tampered_link(live_server, page, member):
    response = page.goto(link(live_server, member).replace("/p/", "/p/x"))
    assert response.status == 404
    expect(page.get_by_role("heading", name="This link does not work any more")).to_be_visible()
    page.get_by_label("Your email address").fill("jane.doe@example.org")
    page.get_by_role("button", name="Email me my link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def test_it_asks_for_the_address_in_confirm_mode(live_server, page, member, settings):
    settings.PREFERENCES_CONFIRM_EMAIL = True
    page.goto(link(live_server, member))
    page.get_by_label("Monthly newsletter").check()
    page.get_by_label("The email address this message was sent to").fill("forwarded.to@example.org")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#form-error")).to_contain_text("Nothing was saved")
    assert not PreferenceChange.objects.exists()
    expect(page.get_by_label("Monthly newsletter")).to_be_checked()  # the ticks are kept for the retry
    page.get_by_label("The email address this message was sent to").fill("JANE.DOE@example.org")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    assert PreferenceChange.objects.filter(source="form").count() == 1


def test_it_unsubscribes_with_the_one_click_confirmation(live_server, page, member):
    page.goto(link(live_server, member, "one-click"))
    expect(page.get_by_role("heading", name="Unsubscribe from all of these emails?")).to_be_visible()
    assert values_of(member) == {Preference.objects.get(subscriber=member).interest_id: True}  # GET wrote nothing
    page.get_by_role("button", name="Yes, unsubscribe me").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert set(values_of(member).values()) == {False}
    assert PreferenceChange.objects.get().source == "one_click"


def test_it_has_no_serious_accessibility_violations(live_server, page, member):
    page.goto(link(live_server, member))
    assert serious_violations(page) == []
    page.get_by_label("Monthly newsletter").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    assert serious_violations(page) == []
    page.goto(link(live_server, member).replace("/p/", "/p/x"))
    assert serious_violations(page) == []


def test_it_is_usable_320_px_wide(live_server, browser, member):
    cache.clear()
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(link(live_server, member))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scrolling
    save = page.get_by_role("button", name="Save my choices")
    box = save.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320 and box["height"] >= 44
    page.get_by_label("Monthly newsletter").tap()
    save.tap()
    expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def test_it_keeps_a_change_made_in_another_tab_when_an_older_tab_saves(live_server, browser, member):
    cache.clear()
    context = browser.new_context()
    old_tab, new_tab = context.new_page(), context.new_page()
    url = link(live_server, member)
    old_tab.goto(url)  # events ticked, newsletter not
    new_tab.goto(url)
    new_tab.get_by_label("Events and conferences").uncheck()
    new_tab.get_by_role("button", name="Save my choices").click()
    expect(new_tab.get_by_role("heading", name="Your choices are saved")).to_be_visible()

    old_tab.get_by_label("Monthly newsletter").check()  # the only box changed in this tab
    old_tab.get_by_role("button", name="Save my choices").click()
    expect(old_tab.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    expect(old_tab.locator("main")).not_to_contain_text("You will no longer receive")
    context.close()

    newsletter, events = (RemoteInterest.objects.get(field_name=f) for f in ("NEWSLETTER", "EVENTS"))
    assert values_of(member)[newsletter.pk] is True
    assert values_of(member)[events.pk] is False  # the other tab's change stands
