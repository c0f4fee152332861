from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync with iMIS"

    def ready(self):
        # The receiver: a member's save asks for a push. The tasks: the outbox sends the push by name, so
        # every process (the web too, not only workers) must have registered it.
        from . import receivers, tasks  # noqa: F401
