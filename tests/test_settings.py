"""Settings come from the environment: the embedded default needs nothing, production values pass
`check --deploy`, and the iMIS alias is configured for SQL Server from a URL or from parts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections, router

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "SECRET_KEY": "x" * 20 + "-production-secret-key-that-is-long-enough-" + "y" * 20,
    "ALLOWED_HOSTS": "prefs.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_COOKIES": "true",
    "DATABASE_URL": "postgres://prefs@127.0.0.1:5432/prefs",
    "IMIS_DATABASE_URL": "mssql://prefcenter:secret@sql.example.org:1433/imis",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def settings_in_subprocess(env, tmp_path):
    code = (
        "import json, django; from django.conf import settings as s; django.setup();"
        "print(json.dumps({'imis': s.DATABASES['imis'], 'default': s.DATABASES['default']['ENGINE'],"
        "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("IMIS_", "DATABASE_URL", "REDIS_URL"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(tmp_path), **env})
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_it_runs_on_sqlite_with_an_imis_sandbox_and_eager_tasks_by_default(tmp_path):
    s = settings_in_subprocess({}, tmp_path)
    assert s["default"] == "django.db.backends.sqlite3"
    assert s["imis"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["imis"]["NAME"].endswith("imis_sandbox.sqlite3")
    assert s["eager"] is True


def test_it_configures_sql_server_with_the_python_driver_from_a_url(tmp_path):
    s = settings_in_subprocess(
        {"IMIS_DATABASE_URL": PRODUCTION["IMIS_DATABASE_URL"], "REDIS_URL": "redis://r:6379/1"}, tmp_path
    )
    imis = s["imis"]
    assert (imis["ENGINE"], imis["HOST"], imis["NAME"], imis["USER"]) == (
        "mssql",
        "sql.example.org",
        "imis",
        "prefcenter",
    )
    assert imis["OPTIONS"]["python_driver"] == "mssql_python"
    assert "Encrypt=yes" in imis["OPTIONS"]["extra_params"]
    assert s["eager"] is False and s["broker"] == "redis://r:6379/1"


def test_it_configures_sql_server_from_parts(tmp_path):
    env = {
        "IMIS_HOST": "sql.internal",
        "IMIS_NAME": "imis_prod",
        "IMIS_USER": "pc",
        "IMIS_PASSWORD": "p@ss",
        "IMIS_TRUST_SERVER_CERTIFICATE": "true",
    }
    imis = settings_in_subprocess(env, tmp_path)["imis"]
    assert (imis["ENGINE"], imis["HOST"], imis["PORT"], imis["NAME"]) == ("mssql", "sql.internal", 1433, "imis_prod")
    assert imis["PASSWORD"] == "p@ss"
    assert "TrustServerCertificate=yes" in imis["OPTIONS"]["extra_params"]


def test_it_passes_check_deploy_with_production_values(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(tmp_path), **PRODUCTION}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_never_migrates_the_imis_database():
    assert router.allow_migrate("imis", "subscribers") is False
    assert router.allow_migrate("default", "subscribers") is True


@pytest.mark.django_db(databases=["default", "imis"])
def test_it_left_no_django_table_in_the_imis_test_database():
    with connections["imis"].cursor() as cursor:
        tables = connections["imis"].introspection.table_names(cursor)
    assert [t for t in tables if t.startswith(("django_", "auth_", "subscribers_", "interests_"))] == []


def test_it_refuses_to_migrate_a_real_imis(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(tmp_path)}
    env.update(IMIS_DATABASE_URL=PRODUCTION["IMIS_DATABASE_URL"], SECRET_KEY=PRODUCTION["SECRET_KEY"])
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--database", "imis"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "migrate never touches the SQL Server database" in result.stderr
