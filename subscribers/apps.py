from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Members and preferences"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
