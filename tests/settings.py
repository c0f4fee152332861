"""Test settings: the real servers of this machine (PostgreSQL for our data and an iMIS replica), plus an
SQLite iMIS replica, so that the gateway suite runs on both dialects.

PC_TEST_DB_SUFFIX keeps parallel runs on one machine out of each other's databases."""

import os

from preference_center.settings import *  # noqa: F403
from preference_center.settings import VAR_DIR, env

SUFFIX = os.environ.get("PC_TEST_DB_SUFFIX", "")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _postgres(name, **test):
    config = env.db_url_config(POSTGRES_URL)
    config["TEST"] = {"NAME": f"{name}{SUFFIX}", **test}
    return config


DATABASES = {
    "default": _postgres("test_pc"),
    # iMIS replicas: created empty by the test runner, never migrated, filled by the sandbox fixtures.
    "imis": _postgres("test_pc_imis", MIGRATE=False),
    "imis_sqlite": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / f"test_imis{SUFFIX}.sqlite3"),
        "TEST": {"NAME": str(VAR_DIR / f"test_imis{SUFFIX}.sqlite3"), "MIGRATE": False},
    },
}

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
