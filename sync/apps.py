from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync with iMIS"

    def ready(self):
        from . import receivers  # noqa: F401 - a member's save asks for a push
