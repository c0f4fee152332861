from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What operators run the preference center with: health probes, Prometheus metrics, request ids in
    logs (web and worker), and the one-beat lock."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from django.conf import settings

        from . import (
            beat_lock,  # noqa: F401 - connects beat_init
            celery_logging,  # noqa: F401 - redacts tokens in Celery's own handlers
            request_id,  # noqa: F401 - connects the Celery signals that carry the request id
        )

        if settings.LOG_FORMAT == "json":
            from .celery_logging import worker_logging_as_json

            worker_logging_as_json()
