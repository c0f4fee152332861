from django.apps import AppConfig


class MailingConfig(AppConfig):
    name = "mailing"
    verbose_name = "Mailing system"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the webhook to new PreferenceChange rows)
