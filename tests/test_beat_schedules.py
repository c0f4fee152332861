"""The periodic tasks beat runs come from the database (django-celery-beat), created by a migration."""

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from preference_center.celery import app

pytestmark = pytest.mark.django_db


def test_it_schedules_discovery_hourly_the_pull_every_ten_minutes_and_the_sweeps_every_minute():
    schedules = {
        t.task: (t.interval.every, t.interval.period, t.enabled)
        for t in PeriodicTask.objects.select_related("interval").exclude(name="celery.backend_cleanup")
    }
    assert schedules == {
        "interests.tasks.discover_interests": (1, "hours", True),
        "subscribers.tasks.pull_roster": (10, "minutes", True),
        "subscribers.tasks.sweep_changes": (1, "minutes", True),
        "mailing.tasks.webhook_sweep": (1, "minutes", True),
    }


def test_it_lets_beat_read_the_schedules_from_the_database():
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    scheduler = DatabaseScheduler(app=app, lazy=True)
    entries = scheduler.all_as_schedule()
    assert entries["Sweep pending changes"].schedule.run_every.total_seconds() == 60
    assert entries["Sweep pending changes"].task == "subscribers.tasks.sweep_changes"


def test_it_runs_every_scheduled_task_by_a_name_the_worker_knows():
    """The sync's tasks moved to `sync.tasks` and kept their old names: beat's rows and messages queued
    before an upgrade still reach them."""
    import sync.tasks

    app.loader.import_default_modules()
    for task in PeriodicTask.objects.exclude(name="celery.backend_cleanup").values_list("task", flat=True):
        assert task in app.tasks, task
    for name in ("pull_roster", "sweep_changes", "push_changes"):
        task = app.tasks[f"subscribers.tasks.{name}"]
        assert task.run.__module__ == "sync.tasks" and task.name == getattr(sync.tasks, name).name
