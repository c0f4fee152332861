"""The Celery task the hourly beat schedule runs: discovery by its dotted name, recorded as a SyncRun."""

import pytest

from interests.models import RemoteInterest
from preference_center.celery import app
from sync.models import SyncRun
from sync.tasks import discover_interests

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


def test_it_is_registered_under_the_name_beat_schedules():
    assert discover_interests.name == "interests.tasks.discover_interests"
    assert "interests.tasks.discover_interests" in app.tasks


def test_it_discovers_and_records_the_run(imis_pg):
    run_id = app.tasks["interests.tasks.discover_interests"].apply().get()

    run = SyncRun.objects.get(pk=run_id)
    assert run.kind == SyncRun.Kind.DISCOVER and run.ok and run.counts["added"] == 7
    assert RemoteInterest.objects.count() == 7
