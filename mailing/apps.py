from django.apps import AppConfig


class MailingConfig(AppConfig):
    name = "mailing"
    verbose_name = "Mailing system"

    def ready(self):
        # receivers: the webhook hears of new PreferenceChange rows; tasks: enqueued by name, registered here
        from . import receivers, tasks  # noqa: F401
