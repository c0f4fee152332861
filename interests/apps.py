from django.apps import AppConfig


class InterestsConfig(AppConfig):
    name = "interests"
    verbose_name = "iMIS remote interests"
