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


def test_it_registers_the_tasks_sent_by_name_in_every_process():
    """The web sends the push, the lost-link mail and the webhook sweep by name: a process that only ran
    django.setup() (gunicorn's, not a worker's) must know them, or a save's push is never sent."""
    import subprocess
    import sys

    from mailing.services.webhook import WEBHOOK_SWEEP_TASK
    from subscribers.services.links import MAIL_LINKS_TASK
    from sync.outbox import PUSH_TASK

    names = [PUSH_TASK, MAIL_LINKS_TASK, WEBHOOK_SWEEP_TASK]
    script = (
        "import django; django.setup(); from preference_center.celery import app; "
        f"print(sorted(set({names!r}) - set(app.tasks)))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
