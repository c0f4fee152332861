"""The staff start page (admin index): the next setup step, and the sync at a glance."""

import datetime
import re

import pytest
from django.utils import timezone

from subscribers.models import PreferenceChange
from subscribers.services.preferences import preferences_save
from sync.models import SyncRun
from tests.factories import make_interests, make_subscriber, staff_user

pytestmark = pytest.mark.django_db


def start_page(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_installation_is_told_to_connect_imis_first(admin_client):
    html = start_page(admin_client)
    assert "Next step: Connect iMIS" in html and "IMIS_DATABASE_URL" in html


def test_it_leads_through_the_setup_steps_in_order(admin_client):
    now = timezone.now()
    SyncRun.objects.create(kind="discover", started_at=now, finished_at=now, ok=True, counts={})
    (hidden,) = make_interests(count=1, visible=False)
    assert "Next step: Show some interests on the form" in start_page(admin_client)
    make_interests(count=1, start=1)
    assert "Next step: Pull the members" in start_page(admin_client)
    make_subscriber()
    assert "Next step" not in start_page(admin_client)


def test_it_shows_the_sync_at_a_glance(admin_client):
    (newsletter,) = make_interests(count=1)
    for _ in range(3):
        preferences_save(subscriber=make_subscriber(), wanted={newsletter.pk: True}, source="form")
    PreferenceChange.objects.filter(pk=PreferenceChange.objects.first().pk).update(state="failed")
    PreferenceChange.objects.update(created_at=timezone.now() - datetime.timedelta(hours=3))
    now = timezone.now()
    SyncRun.objects.create(kind="pull", started_at=now - datetime.timedelta(minutes=5), finished_at=now, ok=True)
    html = start_page(admin_client)
    assert "2 pending</a>" in html and "1 failed</a>" in html
    assert "Oldest waiting since 3\xa0hours" in html
    assert "Last pull: 5\xa0minutes ago (ok)" in html and "Last discovery: never" in html


def test_staff_who_may_not_see_the_changes_get_no_sync_figures(client):
    client.force_login(staff_user("view_subscriber"))
    html = start_page(client)
    assert 'id="sync-health"' not in html and "Subscribers" in html


def test_it_links_the_screens_no_app_list_shows(admin_client):
    html = start_page(admin_client)
    assert 'href="/admin/subscribers/preferencechange/dashboard/">Sync dashboard' in html
    assert 'href="/admin/interests/remoteinterest/preview/">Preview the member form' in html
    assert "Missing UD rows</a>" in html


def test_shortcuts_are_only_those_the_user_may_open(client):
    client.force_login(staff_user("view_remoteinterest"))
    html = start_page(client)
    assert "Preview the member form" in html and "Sync dashboard" not in html and "Missing UD rows" not in html


def test_a_shortcut_shows_for_whoever_its_screen_lets_in(client):
    # The missing UD rows screen opens for staff who may change members, without view_subscriber.
    client.force_login(staff_user("change_subscriber"))
    assert client.get("/admin/sync/missingudrow/").status_code == 200
    shortcuts = re.search(r'<section id="shortcuts".*?</section>', start_page(client), re.S)
    assert shortcuts and 'href="/admin/sync/missingudrow/">Missing UD rows</a>' in shortcuts[0]


@pytest.mark.django_db(databases=["default", "imis"])  # the dashboard asks iMIS for its health
def test_beat_s_schedules_are_off_the_start_page_and_reached_from_the_sync_dashboard(admin_client):
    html = start_page(admin_client)
    assert "Periodic tasks" not in html and "django_celery_beat" not in html
    assert admin_client.get("/admin/django_celery_beat/").status_code == 404  # no app page either

    dashboard = admin_client.get("/admin/subscribers/preferencechange/dashboard/").content.decode()
    schedules = "/admin/django_celery_beat/periodictask/"
    assert f'href="{schedules}"' in dashboard
    assert "Discover iMIS interests" in admin_client.get(schedules).content.decode()
    for gone in ("crontabschedule", "solarschedule", "clockedschedule"):
        assert admin_client.get(f"/admin/django_celery_beat/{gone}/").status_code == 404
