"""Saved target groups in a real browser: staff combine interests, save the combination under a name, see
its size in the list and export it."""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.factories import make_interests, make_subscriber
from tests.test_member_browser import browser  # noqa: F401 - the browser fixture
from tests.test_staff_browser import fits_the_width, staff_page  # noqa: F401 - a signed-in superuser at 1280 px

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_save_a_combination_and_export_it(staff_page, live_server):  # noqa: F811
    page = staff_page
    news, events, alerts = make_interests(count=3)
    make_subscriber(imis_id="1", on=[news])
    make_subscriber(imis_id="2", on=[news, events])
    make_subscriber(imis_id="3", on=[events, alerts])

    page.goto(f"{live_server.url}/admin/mailing/targetgroup/")
    page.get_by_role("link", name="Combine groups").click()
    wanted = page.locator("fieldset", has=page.get_by_role("heading", name="Members with any of", exact=True))
    wanted.get_by_label("Monthly newsletter").check()
    wanted.get_by_label("Events and conferences").check()
    page.locator("fieldset", has_text="minus members").get_by_label("Advocacy alerts").check()
    page.get_by_role("button", name="Count members").click()
    expect(page.locator(".result")).to_contain_text("2 mailable members")

    page.get_by_role("link", name="Save as a target group").click()
    page.get_by_label("Name").fill("Engaged, no alerts")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tr", has_text="Engaged, no alerts")
    expect(row.locator("td.field-size")).to_have_text("2")
    assert fits_the_width(page)
    with page.expect_download() as download:
        row.get_by_role("link", name="CSV with personal links").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert download.value.suggested_filename.startswith("engaged-no-alerts-")
    assert [r[0] for r in rows] == ["imis_id", "1", "2"]
    assert "/p/" in rows[1][4]  # the member's personal link
