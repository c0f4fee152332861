from django.apps import AppConfig


class PreferenceCenterConfig(AppConfig):
    name = "preference_center"
    verbose_name = "Preference center"
