from django.apps import AppConfig


class PreferenceCenterConfig(AppConfig):
    name = "preference_center"
    verbose_name = "Preference center"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .lib import lookups  # noqa: F401 - registers field__any
