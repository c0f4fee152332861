"""A real gunicorn, configured as in production (gunicorn.conf.py), never writes a personal-link token to
its access log, its error log or the app's log, whatever the request: a form in UTF-16 (which used to end
in a 500 logged by gunicorn with the whole path), or a request that fails with a 500."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import override_settings
from gunicorn.config import Config

from preference_center.lib.gunicorn_logging import RedactingLogger
from subscribers.tokens import token_for

ROOT = Path(__file__).resolve().parent.parent
KEY = "gunicorn-logs-test-key-" + "0123456789abcdef" * 3
CSRF = "A" * 16 + "b" * 16


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn on an empty embedded default (no tables: any page that reads the database fails with 500)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update({"DJANGO_SETTINGS_MODULE": "preference_center.settings", "VAR_DIR": str(tmp_path), "SECRET_KEY": KEY})
    logs = {name: tmp_path / f"{name}.log" for name in ("access", "error", "stderr")}
    # As in production: DEBUG off serves the collected files' manifest, which a fresh clone has not built yet.
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(manage, cwd=ROOT, env=env, check=True)
    args = [str(Path(sys.executable).parent / "gunicorn"), "preference_center.wsgi", "--config", "gunicorn.conf.py"]
    args += ["--workers", "1", "--bind", f"127.0.0.1:{port}"]
    args += ["--access-logfile", str(logs["access"]), "--error-logfile", str(logs["error"])]
    with logs["stderr"].open("w") as stderr:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=stderr, stderr=stderr)
        try:
            _wait_until_up(port, process)
            yield f"http://127.0.0.1:{port}", logs
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_up(port, process):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def _status(request):
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_no_token_in_any_log_after_a_utf16_form_and_a_500(gunicorn):
    base, logs = gunicorn
    with override_settings(SECRET_KEY=KEY):
        token = token_for(1, 1)
    utf16 = urllib.request.Request(
        f"{base}/p/{token}/",
        data=f"csrfmiddlewaretoken={CSRF}&action=save".encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-16",
            "Origin": base,
            "Cookie": f"csrftoken={CSRF}",  # so that the CSRF check goes on to read the body
        },
    )

    bad_post = _status(utf16)
    failing_page = _status(urllib.request.Request(f"{base}/p/{token}/", headers={"Referer": f"{base}/p/{token}/"}))

    assert bad_post[0] == 400 and "not sent in UTF-8" in bad_post[1]
    assert failing_page[0] == 500
    time.sleep(0.5)  # the access log line is written after the response
    written = {name: path.read_text() for name, path in logs.items()}
    assert "Internal Server Error: /p/[token]/" in written["stderr"]  # the 500 was logged, and redacted
    assert '"POST /p/[token]/" 400' in written["access"] and '"GET /p/[token]/" 500' in written["access"]
    for name, text in written.items():
        assert token not in text, name
        assert token.split(":")[-1] not in text, name  # not even the signature


def test_the_error_log_redacts_the_message_and_the_traceback(tmp_path):
    token = "WzEsMV0:1xWnig:MSjOd2JSNEKn6AFWvTYoifyQn7ffvzQp8jEp4Mpbkbs"
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = RedactingLogger(cfg)
    try:
        raise ValueError(f"could not parse /p/{token}/")
    except ValueError:
        logger.exception("Error handling request %s", f"/p/{token}/")
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.flush()

    text = (tmp_path / "error.log").read_text()
    assert "Error handling request /p/[token]/" in text and "could not parse /p/[token]/" in text
    assert token not in text
