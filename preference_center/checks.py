"""The secret key signs every personal link: without a real one, anybody can forge any member's link.

`check_secret_key` is a system check (`manage.py check --deploy`, `migrate` and every command that runs
checks); `refuse_insecure_start` runs it where Django runs none: the web's WSGI application (gunicorn) and
the Celery worker and beat (preference_center.celery)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# The development key in settings.py: known to everyone who has read the source.
DEVELOPMENT_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
MIN_LENGTH = 50  # Django's own deployment check asks for as much
MIN_UNIQUE_CHARACTERS = 5


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot sign personal links in production, or None when it can."""
    if not key or key == DEVELOPMENT_KEY or key.startswith("django-insecure-"):
        return "SECRET_KEY is not set (the development key is in use)"
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY is too short or too simple (at least {MIN_LENGTH} characters, varied)"
    return None


@checks.register(checks.Tags.security)
def check_secret_key(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    problem = secret_key_problem(settings.SECRET_KEY)
    if problem is None:
        return []
    return [
        checks.Error(
            f"{problem}: anybody could forge any member's personal link.",
            hint='Set SECRET_KEY to a long random value, e.g. python -c "import secrets; print(secrets.token_urlsafe(50))".',
            id="preference_center.E001",
        )
    ]


def refuse_insecure_start():
    """Raise instead of serving (or working) with a key that lets anybody forge links."""
    errors = check_secret_key()
    if errors:
        raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")
