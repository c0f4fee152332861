"""The sync dashboard (admin, staff only): counts, the oldest pending change, last runs, iMIS health."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from subscribers.models import PreferenceChange
from sync.models import SyncRun
from tests.factories import make_interest, sandbox_subscriber, staff_user

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

DASHBOARD = reverse("admin:sync_dashboard")


@pytest.fixture
def history(imis_pg):
    interest = make_interest()
    for i, state in enumerate(["pending", "pending", "failed", "done", "done", "done"]):
        PreferenceChange.objects.create(
            subscriber=sandbox_subscriber(i), interest=interest, new_value=True, source="form", state=state
        )
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    PreferenceChange.objects.filter(subscriber__imis_id=sandbox_subscriber(0).imis_id).update(created_at=two_hours_ago)
    started = timezone.now() - datetime.timedelta(minutes=3)
    SyncRun.objects.create(
        kind="push",
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=42),
        ok=True,
        counts={"done": 3},
    )
    SyncRun.objects.create(
        kind="pull", started_at=started, finished_at=None, ok=False, counts={}, error="iMIS unavailable: timeout"
    )


def test_it_shows_counts_the_oldest_pending_change_the_last_runs_and_imis_health(admin_client, history):
    response = admin_client.get(DASHBOARD)

    assert response.status_code == 200
    overview = response.context["overview"]
    assert {k: v for k, v in overview.counts.items() if v} == {"pending": 2, "failed": 1, "done": 3}
    assert datetime.timedelta(hours=2) <= overview.oldest_pending_age < datetime.timedelta(hours=3)
    runs = dict(overview.last_runs)
    assert list(runs) == ["discovery", "pull", "push"]  # the kinds something records: no always-empty row
    assert runs["push"].duration == datetime.timedelta(seconds=42)
    assert runs["discovery"] is None
    assert overview.health.ok
    html = response.content.decode()
    assert 'class="count-pending">2<' in html
    assert "2\xa0hours ago" in html
    assert "42.0 s" in html and "iMIS unavailable: timeout" in html and "running" in html
    assert "postgresql: ok" in html


def test_it_is_linked_from_the_changes_list(admin_client, history):
    page = admin_client.get(reverse("admin:subscribers_preferencechange_changelist"))
    assert DASHBOARD in page.content.decode()


def test_it_is_for_staff_only(client, history):
    assert client.get(DASHBOARD).status_code == 302  # to the admin login
    client.force_login(User.objects.create_user("member"))
    assert client.get(DASHBOARD).status_code == 302
    client.force_login(staff_user())  # without rights
    assert client.get(DASHBOARD).status_code == 403
