from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "branding"
    verbose_name = "Member pages' brand"

    def ready(self):
        from . import signals  # noqa: F401 - a published brand refreshes the cache
