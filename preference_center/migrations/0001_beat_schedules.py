"""The periodic tasks, as django-celery-beat rows (DatabaseScheduler): ops change the intervals in the
admin (Periodic tasks), and nothing here overwrites what they changed."""

from django.db import migrations

SCHEDULES = [
    # (name, task, every, period, description)
    (
        "Discover iMIS interests",
        "interests.tasks.discover_interests",
        1,
        "hours",
        "Checkbox fields of iMIS UD tables: new ones are added hidden, vanished ones are marked.",
    ),
    (
        "Pull the iMIS roster",
        "subscribers.tasks.pull_roster",
        10,
        "minutes",
        "Members and their checkbox values from iMIS; iMIS wins where no local change is pending.",
    ),
    (
        "Sweep pending changes",
        "subscribers.tasks.sweep_changes",
        1,
        "minutes",
        "Safety net of the push: re-sends lost push messages and releases changes of dead workers.",
    ),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period, description in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description, "enabled": True}
        )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_rest in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
