"""Drives Chromium through the demo that bin/screenshots serves, and writes the README's screenshots:
viewport shots (not whole pages) of the staff screens at 1280 px and the member pages, with the demo's
brand, at 1280 and 375 px in English and French. Run by bin/screenshots, which sets up the demo and its
environment."""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preference_center.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from interests.models import RemoteInterest  # noqa: E402
from mailing.models import SavedTargetGroup  # noqa: E402
from mailing.services.target_groups import saved_target_group_save  # noqa: E402
from subscribers.selectors import mailable_subscribers  # noqa: E402
from subscribers.tokens import language_query, make_token  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
STAFF = {"width": 1280, "height": 800}
SIZES = {"1280": {"width": 1280, "height": 800}, "375": {"width": 375, "height": 812}}


def demo_data():
    """What the shots show besides the demo: a saved target group; the member whose pages are shown."""
    on_form = {i.field_name: i.pk for i in RemoteInterest.objects.on_form()}
    if not SavedTargetGroup.objects.exists():
        saved_target_group_save(
            group=SavedTargetGroup(name="Engaged, no advocacy"),
            any_of=[on_form["NEWSLETTER"], on_form["EVENTS"]],
            none_of=[on_form["ADVOCACY_ALERT"]],
        )
    members = mailable_subscribers().exclude(first_name="").exclude(last_name="")
    return members[0], members[1]


def staff_shots(browser, out, member):
    page = browser.new_context(viewport=STAFF).new_page()
    page.goto(f"{settings.SITE_URL}/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill((settings.VAR_DIR / "admin-password.txt").read_text().strip())
    page.get_by_role("button", name="Log in").click()
    page.screenshot(path=out / "staff-start.png")

    page.goto(f"{settings.SITE_URL}/admin/interests/remoteinterest/")
    page.screenshot(path=out / "staff-interests.png")

    # A member phones in: found by last name, one choice changed with a note, the history row shown.
    page.goto(f"{settings.SITE_URL}/admin/subscribers/subscriber/?q={member.last_name}")
    page.get_by_role("link", name=member.imis_id, exact=True).first.click()
    choices = page.locator("fieldset", has_text="Change the member's choices")
    choices.get_by_role("checkbox").first.click()
    page.get_by_label("Note").fill("Phoned in: wants the newsletter again")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto(f"{settings.SITE_URL}/admin/subscribers/subscriber/{member.pk}/change/")
    page.locator("fieldset", has_text="Change the member's choices").scroll_into_view_if_needed()
    page.screenshot(path=out / "staff-member.png")
    page.locator("#changes-group").scroll_into_view_if_needed()
    page.screenshot(path=out / "staff-member-history.png")

    page.goto(f"{settings.SITE_URL}/admin/subscribers/preferencechange/dashboard/")
    page.screenshot(path=out / "staff-sync-dashboard.png")
    page.goto(f"{settings.SITE_URL}/admin/mailing/targetgroup/")
    page.screenshot(path=out / "staff-target-groups.png")
    page.goto(f"{settings.SITE_URL}/admin/mailing/savedtargetgroup/")
    page.screenshot(path=out / "staff-saved-target-groups.png")
    brand_shots(page, out)
    page.context.close()


def brand_shots(page, out):
    """The brand's draft with a change members do not see yet (a sentence more in the intro), and its
    preview, which shows it under the preview's banner."""
    page.goto(f"{settings.SITE_URL}/admin/branding/brand/")
    news = {
        "#id_intro": "New this year: a quarterly research digest.",
        "#id_intro_fr": "Nouveau cette année\u00a0: une synthèse trimestrielle de la recherche.",
    }
    for field, sentence in news.items():
        page.locator(field).fill(f"{page.locator(field).input_value()} {sentence}")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#brand-state")).to_contain_text("This draft has changes members do not see yet")
    page.screenshot(path=out / "staff-brand.png")
    page.goto(settings.SITE_URL + reverse("brand_preview"))
    expect(page.locator("#brand-preview")).to_be_visible()
    expect(page.locator("main")).to_contain_text(news["#id_intro"])
    page.screenshot(path=out / "staff-brand-preview.png")


def member_url(name, member, language=None):
    """A personal page's URL, in `language` as a mailing that knows the member's would link it."""
    url = settings.SITE_URL + reverse(name, args=[make_token(member)])
    return url + language_query(language or "")


def member_page(browser, size, language):
    return browser.new_context(viewport=SIZES[size], locale=language).new_page()


def member_shots(browser, out, member):
    for language in ("en", "fr"):
        for size in SIZES:
            page = member_page(browser, size, language)
            page.goto(member_url("preference_form", member, language))
            expect(page.locator("img.site-logo")).to_be_visible()
            page.screenshot(path=out / f"member-form-{language}-{size}.png")
            page.context.close()

    page = member_page(browser, "1280", "en")
    page.goto(member_url("preference_form", member))
    page.locator("form.preferences input[type=checkbox]").first.click()
    page.get_by_role("button", name="Save my choices").click()
    expect(page).to_have_url(f"{settings.SITE_URL}/saved/")
    page.screenshot(path=out / "member-saved.png")
    page.goto(member_url("one_click", member))
    page.screenshot(path=out / "member-one-click.png")
    page.context.close()

    # One click from a mailing read on a phone, in French: the confirmation (nothing is unsubscribed).
    page = member_page(browser, "375", "fr")
    page.goto(member_url("one_click", member, "fr"))
    expect(page.get_by_role("button", name="Oui, me désabonner")).to_be_visible()
    page.screenshot(path=out / "member-one-click-fr-375.png")
    page.context.close()


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staff_member, member = demo_data()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread; the ORM is done
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        staff_shots(browser, out, staff_member)
        member_shots(browser, out, member)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
