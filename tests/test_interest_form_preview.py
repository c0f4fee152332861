"""The admin's preview of the member form: what members see now, which nothing can submit."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_interest, staff_user

pytestmark = pytest.mark.django_db

PREVIEW = reverse("admin:interests_remoteinterest_preview")


def preview_part(response):
    """The member form part of the page (the admin around it has forms of its own, e.g. log out)."""
    html = response.content.decode()
    start = html.index('id="member-form-preview"')
    return html[start : html.index("</main>", start) if "</main>" in html[start:] else len(html)]


@pytest.fixture
def configured():
    return {
        "events": make_interest(
            field_name="EVENTS", prompt="Events", label="Events near you", position=3, group="News"
        ),
        "newsletter": make_interest(
            field_name="NEWSLETTER", label="Newsletter", description="Once a month", position=1, group="News"
        ),
        "policy": make_interest(
            field_name="Policy_Updates", table_name="UD_Topics", label="Policy", position=2, group="Advocacy"
        ),
        "ungrouped": make_interest(field_name="CE_Credits", table_name="UD_Topics", label="CE courses", position=4),
        "hidden": make_interest(field_name="ADVOCACY_ALERT", label="Hidden one", position=5, visible=False),
        "gone": make_interest(field_name="Old_Field", table_name="UD_Topics", label="Gone one", position=6),
    }


def test_it_shows_visible_interests_under_their_headings_in_staff_order(admin_client, configured):
    configured["gone"].present_in_imis = False
    configured["gone"].save(update_fields=["present_in_imis"])

    html = preview_part(admin_client.get(PREVIEW))

    # The member form's own markup (subscribers.forms), so the preview cannot drift from what members see.
    texts = re.findall(
        r"<legend[^>]*>([^<]+)</legend>|<label [^>]*class=\"form-check-label\"[^>]*>([^<]+)</label>", html
    )
    assert [(a or b).strip() for a, b in texts] == [
        "News",
        "Newsletter",
        "Events near you",
        "Advocacy",
        "Policy",
        "Email topics",  # the heading of interests staff gave none
        "CE courses",
    ]
    newsletter = configured["newsletter"].pk
    assert f'<div id="id_interest_{newsletter}_helptext" class="form-text">Once a month</div>' in html
    assert "Hidden one" not in html and "Gone one" not in html


def test_it_warns_about_visible_interests_that_left_imis(admin_client, configured):
    configured["gone"].present_in_imis = False
    configured["gone"].save(update_fields=["present_in_imis"])

    html = admin_client.get(PREVIEW).content.decode()

    assert "no longer in iMIS, so not on the form: UD_Topics.Old_Field" in html


def test_it_offers_checkboxes_that_cannot_be_submitted(admin_client, configured):
    html = preview_part(admin_client.get(PREVIEW))

    assert html.count('type="checkbox"') == 5
    assert "disabled" not in html.split("<button")[0]  # the boxes themselves can be ticked
    assert "<form" not in html and 'type="submit"' not in html


def test_it_is_linked_from_the_changelist(admin_client):
    html = admin_client.get(reverse("admin:interests_remoteinterest_changelist")).content.decode()
    assert f'href="{PREVIEW}"' in html


def test_it_is_open_to_view_only_staff_and_closed_to_others(client, configured):
    client.force_login(staff_user("view_remoteinterest"))
    assert client.get(PREVIEW).status_code == 200
    client.force_login(staff_user())
    assert client.get(PREVIEW).status_code == 403


def test_it_says_so_when_nothing_is_offered(admin_client):
    assert "No topics are offered at the moment." in admin_client.get(PREVIEW).content.decode()


def test_it_is_the_member_page_with_its_styles_not_the_admin(admin_client, configured):
    html = admin_client.get(PREVIEW).content.decode()

    assert "subscribers/site.css" in html and "vendor/bootstrap/bootstrap.min.css" in html
    assert "admin/css/base.css" not in html
    assert "Your email preferences" in html and "csrfmiddlewaretoken" not in html  # no form, no token
