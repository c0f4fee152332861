"""The interests list in a real browser: typed edits survive moves (saved in place, no reload), and the
order a move leaves is the order members see."""

import pytest
from playwright.sync_api import expect

from interests.models import RemoteInterest
from tests.factories import make_interests
from tests.test_member_browser import browser  # noqa: F401 - the browser fixture
from tests.test_staff_browser import staff_page  # noqa: F401 - a signed-in superuser at 1280 px

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(page, field):
    return page.locator("#result_list tbody tr", has=page.locator("th.field-imis_field", has_text=f".{field}"))


def fields_in_list(page):
    return [
        text.split(".")[1].split()[0]
        for text in page.locator("#result_list tbody th.field-imis_field").all_inner_texts()
    ]


def drag(page, handle, onto):
    """A person's drag: press on the handle, move in steps to the upper half of the target, release."""
    start, end = handle.bounding_box(), onto.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 2, steps=12)
    page.mouse.up()


def test_typed_edits_survive_moves_and_the_order_is_kept(staff_page, live_server):  # noqa: F811
    page = staff_page
    make_interests(count=7)
    RemoteInterest.objects.filter(field_name="Volunteering").update(visible=False)
    page.goto(f"{live_server.url}/admin/interests/remoteinterest/")

    volunteering = row(page, "Volunteering")
    volunteering.locator("input[name$='-label']").fill("Volunteer with us")
    volunteering.locator("textarea[name$='-description']").fill("Help at our events")
    volunteering.locator("input[name$='-group']").fill("Learning")
    volunteering.locator("input[name$='-visible']").check()

    row(page, "CE_Credits").get_by_role("button", name="Move Continuing education to the top of its group").click()
    status = page.locator("#order-status")
    expect(status).to_have_text("“Continuing education” is now 1 of 2 under “Learning” (group 3).")
    assert fields_in_list(page).index("CE_Credits") < fields_in_list(page).index("Research_Digest")

    drag(page, row(page, "Policy_Updates").locator(".drag.handle"), row(page, "ADVOCACY_ALERT").locator(".drag.handle"))
    expect(status).to_have_text("“Policy updates” is now 1 of 2 under “Advocacy” (group 2).")
    expected = [
        "NEWSLETTER",
        "EVENTS",
        "Policy_Updates",
        "ADVOCACY_ALERT",
        "CE_Credits",
        "Research_Digest",
        "Volunteering",
    ]
    assert fields_in_list(page) == expected

    # Nothing typed was lost by the moves: it is still on the page, and Save keeps it.
    expect(volunteering.locator("input[name$='-label']")).to_have_value("Volunteer with us")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.reload()

    assert fields_in_list(page) == expected
    volunteering = row(page, "Volunteering")
    expect(volunteering.locator("input[name$='-label']")).to_have_value("Volunteer with us")
    expect(volunteering.locator("input[name$='-visible']")).to_be_checked()
    expect(volunteering.locator(".form-place")).to_have_text("3 of 3")
    saved = RemoteInterest.objects.get(field_name="Volunteering")
    assert (saved.label, saved.description, saved.group, saved.visible) == (
        "Volunteer with us",
        "Help at our events",
        "Learning",
        True,
    )
    assert list(RemoteInterest.objects.values_list("field_name", flat=True)) == expected
