"""The embedded default (SQLite for our data and the iMIS sandbox, tasks eager) serves several gunicorn
workers: members saving at the same moment in different processes must neither fail with "database is
locked" nor leave changes behind."""

import subprocess
import sys

from tests.embedded_helpers import ROOT, embedded_env, manage

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
    env = embedded_env(tmp_path)
    for command in (["migrate", "-v0"], ["imis_sandbox", "--members", "60"], ["demo"]):
        manage(env, *command)

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
