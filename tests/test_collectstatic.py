"""The production static storage (whitenoise, hashed names, compressed) accepts every file we ship:
`bin/run` and deployments run collectstatic with it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_it_collects_every_static_file_with_the_production_storage(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "preference_center.settings",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "false",
    }
    code = (
        "import django; from django.conf import settings; settings.STATIC_ROOT = {!r}; django.setup();"
        "from django.core.management import call_command; call_command('collectstatic', '--noinput', verbosity=0)"
    ).format(str(tmp_path / "static"))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "static" / "vendor" / "bootstrap").glob("bootstrap.min.*.css"))
    assert (tmp_path / "static" / "staticfiles.json").exists()
