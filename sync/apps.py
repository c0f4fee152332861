from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync with iMIS"

    def ready(self):
        # The receiver: a member's save asks for a push. The tasks: the outbox sends the push by name, so
        # every process (the web too, not only workers) must have registered it.
        # The readiness probe reports iMIS as the gateway reaches it (the database, or the REST API).
        from ops import health
        from preference_center import imis

        from . import receivers, tasks  # noqa: F401

        health.imis_probe_set(imis.ping)
