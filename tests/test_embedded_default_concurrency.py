"""The embedded default (SQLite for our data and the iMIS sandbox, tasks eager) serves several gunicorn
workers: members saving at the same moment in different processes must neither fail with "database is
locked" nor leave changes behind."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SAVES = """
import sys
import django
django.setup()
from subscribers.models import Subscriber
from subscribers.selectors import form_specs
from subscribers.services.preferences import preferences_save
offset = int(sys.argv[1])
for round_ in range(2):
    for member in Subscriber.objects.order_by("pk")[offset * 10 : offset * 10 + 10]:
        specs = form_specs()
        wanted = {spec.id: bool((round_ + spec.id) % 2) for spec in specs}
        preferences_save(subscriber=member, wanted=wanted, source="form", specs=specs)
"""


def test_it_saves_from_several_processes_at_once_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMIS_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(tmp_path), "LOG_LEVEL": "ERROR"})
    env["SECRET_KEY"] = "concurrency-test-" + "0123456789abcdef" * 4  # DEBUG is off: no development key
    for command in (["migrate", "-v0"], ["imis_sandbox", "--members", "60"], ["demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)

    workers = [
        subprocess.Popen([sys.executable, "-c", SAVES, str(n)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]

    assert [w.returncode for w in workers] == [0, 0, 0], errors
    assert not any("database is locked" in e for e in errors), errors
    states = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from subscribers.models import PreferenceChange as C;"
         "print(sorted(set(C.objects.values_list('state', flat=True))))"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert (
        "pending" not in states and "sending" not in states
    )  # every save reached the sandbox (or failed with a reason)
