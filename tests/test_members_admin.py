"""The Subscriber admin: search, filters, the member page with choices and history."""

import pytest

from subscribers.models import Preference, PreferenceChange
from subscribers.services.preferences import preferences_save
from tests.factories import make_interests, make_subscriber

pytestmark = pytest.mark.django_db


def test_it_finds_members_by_imis_id_or_email(admin_client):
    make_subscriber(imis_id="100042", email="grace@example.org")
    make_subscriber(imis_id="100043", email="ada@example.org")
    by_id = admin_client.get("/admin/subscribers/subscriber/", {"q": "100042"}).content.decode()
    assert "grace@example.org" in by_id and "ada@example.org" not in by_id
    by_email = admin_client.get("/admin/subscribers/subscriber/", {"q": "ada@example"}).content.decode()
    assert "ada@example.org" in by_email and "grace@example.org" not in by_email


def test_it_filters_mailable_members(admin_client):
    make_subscriber(email="yes@example.org")
    make_subscriber(email="no@example.org", exclude_mail=True)
    html = admin_client.get("/admin/subscribers/subscriber/", {"mailable": "yes"}).content.decode()
    assert "yes@example.org" in html and "no@example.org" not in html
    html = admin_client.get("/admin/subscribers/subscriber/", {"mailable": "no"}).content.decode()
    assert "no@example.org" in html and "yes@example.org" not in html


def test_it_shows_choices_and_history_newest_first(admin_client):
    member = make_subscriber()
    newsletter, events = make_interests(count=2)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    preferences_save(subscriber=member, wanted={newsletter.pk: True}, source="form", note="older-change-xq")
    preferences_save(subscriber=member, wanted={newsletter.pk: False}, source="form", note="newer-change-xq")
    response = admin_client.get(f"/admin/subscribers/subscriber/{member.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Events and conferences" in html
    assert html.index("newer-change-xq") < html.index("older-change-xq")
    assert PreferenceChange.objects.count() == 2
