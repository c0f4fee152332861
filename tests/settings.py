"""Test settings: the real servers of this machine (PostgreSQL for our data and an iMIS replica), plus an
SQLite iMIS replica, so that the gateway suite runs on both dialects.

PC_TEST_DB_SUFFIX keeps parallel runs on one machine out of each other's databases."""

import os

from preference_center.settings import *  # noqa: F403
from preference_center.settings import CACHES as PRODUCTION_CACHES
from preference_center.settings import VAR_DIR, env, postgres_for_our_data

SUFFIX = os.environ.get("PC_TEST_DB_SUFFIX", "")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _postgres(name, **test):
    config = env.db_url_config(POSTGRES_URL)
    config["TEST"] = {"NAME": f"{name}{SUFFIX}", **test}
    return config


DATABASES = {
    "default": postgres_for_our_data(_postgres("test_pc")),
    # iMIS replicas: created empty by the test runner, never migrated, filled by the sandbox fixtures.
    "imis": _postgres("test_pc_imis", MIGRATE=False),
    "imis_sqlite": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / f"test_imis{SUFFIX}.sqlite3"),
        "TEST": {"NAME": str(VAR_DIR / f"test_imis{SUFFIX}.sqlite3"), "MIGRATE": False},
    },
}

# A key of the tests' own: DEBUG is off, and the development key fails the system checks (and would stop the
# gunicorn and Celery processes the tests start).
SECRET_KEY = "tests-only-secret-key-" + "0123456789abcdef" * 4
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "https://prefs.example.org"
# Static files straight from the finders: no collectstatic before the tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True


# A Celery worker started by a test (tests/workers.py) works on the test databases themselves, takes its
# messages from the broker the test gives it, and may reach iMIS through the test's TCP proxy.
if os.environ.get("PC_TEST_WORKER"):
    for _config in DATABASES.values():
        _config["NAME"] = _config["TEST"]["NAME"]
    # A backend whose worker was killed notices at once instead of finishing its statement.
    DATABASES["default"]["OPTIONS"]["options"] = "-c client_connection_check_interval=200"
    if os.environ.get("PC_TEST_IMIS_PORT"):
        DATABASES["imis"]["HOST"] = "127.0.0.1"
        DATABASES["imis"]["PORT"] = os.environ["PC_TEST_IMIS_PORT"]
        DATABASES["imis"]["OPTIONS"] = {"connect_timeout": 3}
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BROKER_URL = os.environ["PC_TEST_BROKER_URL"]
    # A web process started by a fault test (tests/workers.py Gunicorn) caches in that test's Redis, as in
    # production (REDIS_URL).
    if os.environ.get("REDIS_URL"):
        CACHES = PRODUCTION_CACHES
