from django.apps import AppConfig


class PreferenceCenterConfig(AppConfig):
    name = "preference_center"
    verbose_name = "Preference center"

    def ready(self):
        from . import lookups  # noqa: F401 - registers field__any
