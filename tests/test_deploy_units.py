"""deploy/: the systemd units are valid (systemd-analyze verify), and
the nginx example and the environment file agree with what the app reads."""

import configparser
import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["preference-center-web.service", "preference-center-worker.service", "preference-center-beat.service"]
INSTALL_DIR = "/srv/preference-center"


def _here(tmp_path, name):
    """The unit as it would be installed from this checkout (its programs must exist for verify)."""
    unit = tmp_path / name
    unit.write_text((DEPLOY / name).read_text().replace(INSTALL_DIR, str(ROOT)))
    return unit


def test_the_units_are_valid_and_run_what_the_readme_runs(tmp_path):
    for name in UNITS:
        unit = configparser.ConfigParser(strict=True, interpolation=None)
        unit.optionxform = str
        unit.read_string((DEPLOY / name).read_text())  # duplicate keys or sections would fail here
        service = unit["Service"]
        command = service["ExecStart"].split()
        assert command[0].startswith(f"{INSTALL_DIR}/.venv/bin/")
        assert (ROOT / ".venv" / "bin" / Path(command[0]).name).exists()
        assert service["WorkingDirectory"] == INSTALL_DIR and service["Restart"] == "on-failure"
        assert service["EnvironmentFile"] == "/etc/preference-center/env"
        assert unit["Install"]["WantedBy"] == "multi-user.target"
    result = subprocess.run(  # systemd-analyze: Debian's systemd, which bin/bootstrap installs for the tests
        ["systemd-analyze", "verify", *(str(_here(tmp_path, name)) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip() and not result.stdout.strip(), result.stderr


def test_the_web_unit_gives_prometheus_a_fresh_directory_per_start():
    unit = (DEPLOY / "preference-center-web.service").read_text()
    runtime = re.search(r"^RuntimeDirectory=(\S+)$", unit, re.M).group(1)
    assert f"Environment=PROMETHEUS_MULTIPROC_DIR=/run/{runtime}" in unit


def test_the_nginx_example_sends_what_the_app_reads():
    nginx = (DEPLOY / "nginx.conf").read_text()
    env = dict(line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line[:40])
    web_unit = (DEPLOY / "preference-center-web.service").read_text()
    # The client's address: the header nginx sets is the one CLIENT_IP_HEADER names, and nginx overwrites it.
    header = env["CLIENT_IP_HEADER"].removeprefix("HTTP_").replace("_", "-").lower()
    assert re.search(rf"proxy_set_header {header} \$remote_addr;", nginx, re.I)
    assert "$proxy_add_x_forwarded_for" not in nginx.replace("never $proxy_add_x_forwarded_for", "")
    # TLS here, and Django told so (SECURE_PROXY_SSL_HEADER).
    assert env["BEHIND_TLS_PROXY"] == "true"
    assert re.search(r"proxy_set_header X-Forwarded-Proto \$scheme;", nginx)
    assert "ssl_certificate " in nginx and "listen 443 ssl" in nginx
    # gunicorn where the web unit binds it; static files where collectstatic puts them.
    bind = re.search(r"--bind (\S+)", web_unit).group(1)
    assert f"server {bind};" in nginx
    assert f"alias {INSTALL_DIR}/{Path(settings.STATIC_ROOT).name}/;" in nginx
    assert f"location {settings.STATIC_URL} " in nginx
    assert re.search(r"client_max_body_size \d+[km];", nginx)
    assert "proxy_set_header X-Request-ID $request_id;" in nginx


def test_every_variable_of_the_environment_file_is_documented():
    readme = (ROOT / "README.md").read_text()
    names = [line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line[:40]]
    assert names and [name for name in names if f"`{name}`" not in readme] == []
