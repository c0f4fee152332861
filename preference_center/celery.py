import logging
import os

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preference_center.settings")

logger = logging.getLogger(__name__)

app = Celery("preference_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class SweepOnConnect(bootsteps.StartStopStep):
    """Each time a worker (re)connects to the broker, it asks for a sweep: after Redis comes back (empty, if
    it was restarted), changes saved meanwhile go out at once, not at beat's next sweep."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer):
        try:
            app.send_task("subscribers.tasks.sweep_changes")
        except Exception as exc:  # the broker went again: beat's sweep follows
            logger.warning("sweep not enqueued on connect (%s: %s)", type(exc).__name__, exc)


app.steps["consumer"].add(SweepOnConnect)


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_insecure_start(**kwargs):
    """A worker or beat with the development SECRET_KEY would sign forgeable links (lost-link mails): stop.
    SystemExit, as Celery logs and ignores any Exception a signal handler raises."""
    from django.core.exceptions import ImproperlyConfigured

    from .checks import refuse_insecure_start

    try:
        refuse_insecure_start()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"Refusing to start: {exc}") from None
