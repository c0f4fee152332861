"""System checks of the settings (`manage.py check`, and every management command)."""

from django.conf import settings
from django.core import checks


@checks.register()
def check_push_settings(app_configs=None, **kwargs):
    """A push retry waits up to PUSH_RETRY_MAX_DELAY seconds as a Celery countdown, held unacknowledged by a
    worker; Redis hands an unacknowledged message to another worker after the visibility timeout. A
    timeout no longer than the delay makes every long retry run again (and again) before it is due."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return []
    visibility = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get("visibility_timeout", 3600)
    if visibility > settings.PUSH_RETRY_MAX_DELAY:
        return []
    return [
        checks.Warning(
            f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) is not longer than PUSH_RETRY_MAX_DELAY "
            f"({settings.PUSH_RETRY_MAX_DELAY:g} s): Redis will redeliver push retries before they are due.",
            hint="Raise CELERY_VISIBILITY_TIMEOUT well above PUSH_RETRY_MAX_DELAY (default 7200 and 600).",
            id="subscribers.W001",
        )
    ]


@checks.register()
def check_rate_limits(app_configs=None, **kwargs):
    """A rate that does not parse would answer every member page with an error: refuse it at start-up."""
    from .ratelimits import parse_rate

    errors = []
    for name in ("PREFERENCES_RATE_LIMIT", "LOST_LINK_RATE_LIMIT", "LOST_LINK_EMAIL_RATE_LIMIT"):
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            errors.append(checks.Error(f"{name}: {exc}", id="subscribers.E001"))
    return errors
