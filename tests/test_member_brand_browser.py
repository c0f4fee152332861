"""The branded member pages in a real browser (Playwright driving Debian's Chromium), in English and French:
at 1280 and 375 px, the language from the link, the browser and the switcher, a save and a one-click in
French, and axe's scan of every member page in both languages."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from subscribers.models import Preference, PreferenceChange
from subscribers.tokens import make_token
from tests.brand_helpers import png, publish
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import values_of
from tests.test_member_browser import browser, serious_violations  # noqa: F401 - the browser fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BRAND_BLUE = "rgb(31, 78, 121)"  # #1f4e79


@pytest.fixture
def brand():
    return publish(
        logo=png(width=160, height=48),
        name="Guild of Testers",
        name_fr="Guilde des testeurs",
        primary_colour="#1f4e79",
        intro="We write to members about what matters to them.",
        intro_fr="Nous écrivons aux membres sur ce qui compte pour eux.",
        contact_email="office@guild.example.org",
        privacy_url="https://guild.example.org/privacy",
        footer="1 Test Street, Ottawa",
        footer_fr="1, rue de l'Essai, Ottawa",
    )


@pytest.fixture
def member(brand):
    newsletter, events, advocacy = make_interests(count=3)
    newsletter.label_fr, newsletter.group_fr = "Infolettre mensuelle", "Nouvelles"
    newsletter.save()
    events.label_fr = "Événements et congrès"
    events.save()
    jeanne = make_subscriber(email="jeanne@example.org", first_name="Jeanne")
    Preference.objects.create(subscriber=jeanne, interest=events, value=True, imis_value=True)
    return jeanne


@pytest.fixture
def open_page(browser):  # noqa: F811
    """A page in a fresh browser context: open_page(width=..., locale=...). Fails the test on a
    Content-Security-Policy violation (the brand's stylesheet and logo come from our own routes)."""
    contexts, violations = [], []

    def opened(width=1280, locale="en-US"):
        cache.clear()
        context = browser.new_context(viewport={"width": width, "height": 800}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
        return page

    yield opened
    for context in contexts:
        context.close()
    assert violations == []


def link(live_server, member, suffix=""):
    return f"{live_server.url}/p/{make_token(member)}/{suffix}"


def assert_branded(page, name, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    logo = page.locator("img.site-logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 160  # served by us, under the CSP
    box = logo.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    expect(page.locator(".site-title")).to_contain_text(name)
    expect(page.locator(".site-title")).to_be_in_viewport()
    save = page.locator("button[value=save]")
    assert save.evaluate("b => getComputedStyle(b).backgroundColor") == BRAND_BLUE  # the brand's stylesheet
    expect(page.locator("footer")).to_contain_text("office@guild.example.org")


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize(
    ("language", "name", "heading", "intro"),
    [
        ("en", "Guild of Testers", "Your email preferences", "We write to members"),
        ("fr", "Guilde des testeurs", "Vos préférences de courriel", "Nous écrivons aux membres"),
    ],
)
def test_the_branded_form_fits_and_speaks_the_links_language(
    live_server, open_page, member, width, language, name, heading, intro
):
    page = open_page(width=width)
    page.goto(link(live_server, member, f"?lang={language}"))
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("main")).to_contain_text(intro)
    assert_branded(page, name, width)


def test_the_browsers_language_is_spoken_without_a_link_language(live_server, open_page, member):
    page = open_page(locale="fr-CA")
    page.goto(link(live_server, member))
    expect(page.get_by_role("heading", name="Vos préférences de courriel")).to_be_visible()
    expect(page.get_by_label("Infolettre mensuelle")).not_to_be_checked()
    expect(page.get_by_label("Événements et congrès")).to_be_checked()
    expect(page.locator("legend").first).to_have_text("Nouvelles")


def test_the_switcher_changes_the_language_and_back(live_server, open_page, member):
    page = open_page(width=375)
    page.goto(link(live_server, member))
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", name="Vos préférences de courriel")).to_be_visible()
    assert_branded(page, "Guilde des testeurs", 375)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Your email preferences")).to_be_visible()


def test_a_member_saves_in_french(live_server, open_page, member):
    page = open_page(width=375)
    page.goto(link(live_server, member, "?lang=fr"))
    page.get_by_label("Infolettre mensuelle").check()
    page.get_by_role("button", name="Enregistrer mes choix").click()
    expect(page.get_by_role("heading", name="Vos choix sont enregistrés")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Vous recevrez désormais")
    expect(page.locator("main ul").first).to_have_text("Infolettre mensuelle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert PreferenceChange.objects.get(subscriber=member).label_shown.startswith("Infolettre mensuelle")


def test_a_member_unsubscribes_in_one_click_in_french(live_server, open_page, member):
    page = open_page()
    page.goto(link(live_server, member, "one-click?lang=fr"))
    expect(page.get_by_role("heading", name="Vous désabonner de tous ces courriels ?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("j•••@example.org")
    expect(page.locator("#stopping")).to_have_text("Événements et congrès")
    page.get_by_role("button", name="Oui, me désabonner").click()
    expect(page.get_by_role("heading", name="Votre désabonnement est confirmé")).to_be_visible()
    assert "/unsubscribed" in page.url
    page.reload()  # a GET: nothing is posted again
    expect(page.get_by_role("heading", name="Votre désabonnement est confirmé")).to_be_visible()
    assert PreferenceChange.objects.filter(subscriber=member, source="one_click").count() == 1
    assert not any(values_of(member).values())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_axe_finds_no_serious_violation_on_any_member_page(live_server, open_page, member, language):
    page = open_page(locale=language)
    pages = {}

    def scan(name):
        pages[name] = serious_violations(page)

    page.goto(link(live_server, member))
    scan("form")
    page.locator("input[type=checkbox]").first.check()
    page.locator("button[value=save]").click()
    expect(page.locator("h1")).to_be_visible()
    scan("saved")
    for name, path in [
        ("one-click", link(live_server, member, "one-click")),
        ("link invalid", link(live_server, member).replace("/p/", "/p/x")),
        ("lost link", f"{live_server.url}/lost-link/"),
        ("lost link sent", f"{live_server.url}/lost-link/sent/"),
        ("not found", f"{live_server.url}/no-such-page/"),
        ("start", f"{live_server.url}/"),
    ]:
        page.goto(path)
        scan(name)
    page.context.clear_cookies()  # another browser than the one that saved
    page.goto(f"{live_server.url}/saved/")
    expect(page.locator("main a.btn[href='/lost-link/']")).to_be_visible()  # not the saved page
    scan("saved elsewhere")
    page.goto(link(live_server, member, "one-click"))
    page.locator("form button[type=submit].btn-danger").click()
    expect(page.locator("h1")).to_be_visible()
    scan("unsubscribed")
    assert pages == dict.fromkeys(pages, [])
    assert len(pages) == 10
