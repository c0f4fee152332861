"""With DEBUG off, a missing, short or development SECRET_KEY (with which anybody can forge any member's
link) stops every process before it serves or works: `check --deploy`, `migrate`, gunicorn, the Celery
worker and beat. The embedded default (bin/run) makes a key of its own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from preference_center.checks import DEVELOPMENT_KEY

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOOD_KEY = "k3y-" + "abcdefghij" * 6


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "REDIS_URL", "DATABASE_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(tmp_path), **extra})
    return env


def _run(args, env, timeout=60):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "key", [None, DEVELOPMENT_KEY, "short-but-secret", "a" * 60], ids=["unset", "development", "short", "simple"]
)
def test_check_deploy_refuses_a_key_anybody_could_guess(tmp_path, key):
    env = _env(tmp_path) if key is None else _env(tmp_path, SECRET_KEY=key)

    result = _run([sys.executable, "manage.py", "check", "--deploy"], env)

    assert result.returncode == 1
    assert "preference_center.E001" in result.stderr
    assert "anybody could forge any member's personal link" in result.stderr


def test_migrate_refuses_to_run_without_a_key(tmp_path):
    result = _run([sys.executable, "manage.py", "migrate", "--noinput"], _env(tmp_path))

    assert result.returncode == 1
    assert "preference_center.E001" in result.stderr
    assert not (tmp_path / "preference_center.sqlite3").exists() or "Applying" not in result.stdout


def test_a_long_random_key_passes_and_debug_needs_none(tmp_path):
    good = _run([sys.executable, "manage.py", "check"], _env(tmp_path, SECRET_KEY=GOOD_KEY))
    debug = _run([sys.executable, "manage.py", "check"], _env(tmp_path, DEBUG="true"))

    assert good.returncode == 0, good.stderr
    assert debug.returncode == 0, debug.stderr


def test_gunicorn_refuses_to_serve_without_a_key(tmp_path):
    result = _run(
        [str(BIN / "gunicorn"), "preference_center.wsgi", "--workers", "1", "--bind", "127.0.0.1:0"],
        _env(tmp_path),
    )

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_celery_refuses_to_start_without_a_key(tmp_path, process):
    args = [str(BIN / "celery"), "-A", "preference_center", process, "--loglevel", "INFO"]
    if process == "worker":
        args += ["--pool", "solo"]
    else:
        args += ["--scheduler", "celery.beat:PersistentScheduler", "--schedule", str(tmp_path / "beat-schedule")]

    result = _run(args, _env(tmp_path, CELERY_BROKER_URL="memory://"), timeout=90)

    assert result.returncode != 0
    assert "Refusing to start: SECRET_KEY is not set" in result.stdout + result.stderr
