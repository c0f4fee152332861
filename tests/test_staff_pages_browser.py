"""Every staff page in a real browser at 1280 and 1024 px: no sideways scrolling, and no serious or
critical accessibility violation (axe-core)."""

import pytest

from tests.factories import STAFF_PASSWORD, staff_user
from tests.test_member_browser import browser, serious_violations  # noqa: F401 - the browser fixture
from tests.test_staff_pages import STAFF_PAGES, staff_data, staff_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "imis"])]

# The staff views of member pages: the member's page and CSS, read-only.
MEMBER_STYLED = [
    ("form preview", "admin:interests_remoteinterest_preview", None),
    ("member's page", "admin:subscribers_subscriber_as_member", "member"),
]
PAGES = STAFF_PAGES + MEMBER_STYLED
WIDTHS = (1280, 1024)


@pytest.fixture
def signed_in(browser, live_server):  # noqa: F811
    user = staff_user(superuser=True, username="desk", first_name="Pat")
    objects = staff_data(user)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    yield page, objects
    context.close()


def overflow(page):
    """How far the page scrolls sideways, and which lists scroll inside their own box (Django's .results)."""
    return page.evaluate(
        "[document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth,"
        " [...document.querySelectorAll('.results')].filter(b => b.scrollWidth > b.clientWidth).length]"
    )


def test_no_staff_page_scrolls_sideways_at_1280_or_1024_px(signed_in, live_server):
    page, objects = signed_in
    too_wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for name, url_name, arg in PAGES:
            page.goto(live_server.url + staff_url(url_name, arg, objects))
            sideways, lists = overflow(page)
            if sideways > 0 or lists:
                too_wide.append((width, name, sideways, lists))
    assert too_wide == []


def test_no_staff_page_has_a_serious_accessibility_violation(signed_in, live_server):
    page, objects = signed_in
    found = {}
    for name, url_name, arg in PAGES:
        page.goto(live_server.url + staff_url(url_name, arg, objects))
        if violations := serious_violations(page):
            found[name] = violations
    assert found == {}
