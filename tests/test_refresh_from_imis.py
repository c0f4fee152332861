"""The "Refresh from iMIS" button of the interests changelist: discovery now, with a message saying what it did."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from interests.models import RemoteInterest, SkippedImisField
from sync.models import SyncRun
from tests.factories import make_interest, staff_user
from tests.interests_helpers import unreachable_imis

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

REFRESH = reverse("admin:interests_remoteinterest_refresh")
CHANGELIST = reverse("admin:interests_remoteinterest_changelist")


def messages_of(response):
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_it_discovers_and_says_what_changed(admin_client, imis_pg):
    response = admin_client.post(REFRESH)

    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert RemoteInterest.objects.count() == 7 and SkippedImisField.objects.count() == 6
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert text == (
        "Refreshed from iMIS: 7 checkbox fields found: 7 added, 0 updated, 0 back in iMIS, "
        "0 no longer in iMIS, 6 fields skipped."
    )


def test_it_is_a_csrf_protected_form_on_the_changelist(client, imis_pg):
    client.force_login(staff_user("view_remoteinterest", "change_remoteinterest"))
    html = client.get(CHANGELIST).content.decode()
    assert f'action="{REFRESH}"' in html and "csrfmiddlewaretoken" in html

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user("view_remoteinterest", "change_remoteinterest"))
    assert strict.post(REFRESH).status_code == 403
    assert RemoteInterest.objects.count() == 0


def test_it_shows_the_last_run_and_links_the_skipped_fields(admin_client, imis_pg):
    admin_client.post(REFRESH)

    html = admin_client.get(CHANGELIST).content.decode()

    assert "7 checkbox fields in iMIS." in html
    assert reverse("admin:interests_skippedimisfield_changelist") in html
    assert "6 iMIS fields not offered: see why" in html
    skipped = admin_client.get(reverse("admin:interests_skippedimisfield_changelist")).content.decode()
    assert "multi-instance table (ALLOW_MULTIPLE_INSTANCES = 1)" in skipped


def test_it_reports_imis_down_and_changes_nothing(admin_client, settings, django_db_blocker):
    existing = make_interest(field_name="NEWSLETTER")
    with unreachable_imis() as alias, django_db_blocker.unblock():
        settings.IMIS_DB_ALIAS = alias
        response = admin_client.post(REFRESH)

    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("iMIS could not be read: ") and text.endswith("Nothing was changed.")
    assert list(RemoteInterest.objects.all()) == [existing]
    assert RemoteInterest.objects.get().present_in_imis is True
    assert SyncRun.objects.get().ok is False
    html = admin_client.get(CHANGELIST).content.decode()
    assert "failed: iMIS could not be read" in html


def test_it_is_only_for_staff_who_may_change_interests(client, imis_pg):
    client.force_login(staff_user("view_remoteinterest"))
    assert client.post(REFRESH).status_code == 403
    client.force_login(staff_user())
    assert client.post(REFRESH).status_code == 403
    assert RemoteInterest.objects.count() == 0 and not SyncRun.objects.exists()


def test_it_refuses_get(admin_client, imis_pg):
    assert admin_client.get(REFRESH).status_code == 405
    assert not SyncRun.objects.exists()
