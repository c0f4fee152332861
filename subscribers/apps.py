from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Members and preferences"

    def ready(self):
        from . import checks, tasks  # noqa: F401 - the system checks; the tasks, enqueued by name
