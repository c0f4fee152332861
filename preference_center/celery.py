import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preference_center.settings")

app = Celery("preference_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_insecure_start(**kwargs):
    """A worker or beat with the development SECRET_KEY would sign forgeable links (lost-link mails): stop.
    SystemExit, as Celery logs and ignores any Exception a signal handler raises."""
    from django.core.exceptions import ImproperlyConfigured

    from .checks import refuse_insecure_start

    try:
        refuse_insecure_start()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"Refusing to start: {exc}") from None
