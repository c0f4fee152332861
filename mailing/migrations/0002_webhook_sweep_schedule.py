"""The webhook sweep on beat (django-celery-beat row): every minute it gives new changes their event and
sends what is due. Ops may change the interval in the admin; nothing here overwrites it."""

from django.db import migrations

NAME = "Send webhook events"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "mailing.tasks.webhook_sweep",
            "interval": interval,
            "enabled": True,
            "description": "Webhook to the mailing system (MAILING_WEBHOOK_URL): events of new changes, retries "
            "that are due. Does nothing while no webhook is configured.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
