"""The embedded default (SQLite for our data, an SQLite iMIS sandbox, tasks eager, as `bin/run` serves it),
run in processes of its own: pytest's own databases are PostgreSQL, and this is how the paths our code takes
on SQLite are tested."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs `module:function` on the embedded default as a pytest test runs: in a transaction rolled back at the
# end (nothing runs on commit); prints what it returns as JSON.
RUN = """
import importlib, json, sys
import django
django.setup()
from django.db import transaction
module, name = sys.argv[1].rsplit(":", 1)
with transaction.atomic():
    facts = getattr(importlib.import_module(module), name)()
    transaction.set_rollback(True)
print(json.dumps(facts))
"""


def embedded_env(var_dir):
    """The environment of a process on the embedded default, its files in `var_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMIS_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(var_dir), "LOG_LEVEL": "ERROR"})
    env["SECRET_KEY"] = "embedded-test-" + "0123456789abcdef" * 4  # DEBUG is off: no development key
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


class EmbeddedDefault:
    """An embedded default in `var_dir`, migrated the first time a scenario runs on it."""

    def __init__(self, var_dir):
        self.env = embedded_env(var_dir)
        self._migrated = False

    def run(self, scenario):
        """What `scenario` (a module-level function of the tests, no arguments) returns, run on SQLite."""
        if not self._migrated:
            manage(self.env, "migrate", "-v0")
            self._migrated = True
        where = f"{scenario.__module__}:{scenario.__name__}"
        done = subprocess.run(
            [sys.executable, "-c", RUN, where], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


def facts_on(database, scenario, embedded: EmbeddedDefault):
    """`scenario`'s facts on pytest's PostgreSQL database (in this test's transaction) or on SQLite, in the
    same JSON shape, so that one assertion judges both."""
    facts = scenario() if database == "postgresql" else embedded.run(scenario)
    return json.loads(json.dumps(facts))
