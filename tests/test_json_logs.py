"""LOG_FORMAT=json: JSON lines with a request id that follows a save from the web to a real Celery worker, and
no personal-link token in any line."""

import io
import json
import logging
import time

import pytest
from django.db import connections

from ops.json_logs import JsonFormatter
from ops.request_id import RequestIdFilter
from preference_center.imis.sandbox import build_sandbox
from preference_center.lib.redaction import RedactTokensFilter
from subscribers.models import PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interest, sandbox_subscriber
from tests.members_helpers import form_url, post
from tests.workers import Beat, Worker, publishing_to, wait_until

TOKEN_LIKE = "AbCdEf12345:secretpart"


@pytest.fixture
def json_lines():
    """The handler LOG_FORMAT=json configures (settings.LOGGING), on the root logger, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactTokensFilter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.django_db
def test_it_writes_a_json_line_with_the_request_id_and_without_the_token(client, json_lines):
    response = client.get(f"/p/{TOKEN_LIKE}/no-such-page")
    assert response.status_code == 404
    (line,) = [entry for entry in json_lines() if entry["logger"] == "django.request"]
    assert line["request_id"] == response["X-Request-ID"] and len(line["request_id"]) == 32
    assert line["level"] == "WARNING"
    assert line["message"] == "Not Found: /p/[token]/no-such-page"
    assert "secretpart" not in json.dumps(json_lines())


@pytest.mark.django_db
def test_it_keeps_the_proxys_request_id_and_replaces_a_strange_one(client):
    assert client.get("/healthz").get("X-Request-ID") is None  # the probes are answered before it
    assert client.get("/lost-link/", HTTP_X_REQUEST_ID="nginx-4f2a9c0d")["X-Request-ID"] == "nginx-4f2a9c0d"
    replaced = client.get("/lost-link/", HTTP_X_REQUEST_ID="evil\nline injected")["X-Request-ID"]
    assert replaced != "evil\nline injected" and len(replaced) == 32


def test_it_redacts_tokens_in_tracebacks(json_lines):
    try:
        raise ValueError(f"could not open /p/{TOKEN_LIKE}/ for jane.doe@example.org")
    except ValueError:
        logging.getLogger("subscribers.views").exception("save failed")
    (line,) = json_lines()
    assert "/p/[token]/" in line["exception"] and "[email]" in line["exception"]
    assert "secretpart" not in line["exception"] and "jane.doe" not in line["exception"]


# --- from the web to a real worker ---------------------------------------------------------------------


def _followed_push(worker):
    """The worker's JSON line saying the push task succeeded, with the save's request id."""
    lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    return any(
        line["request_id"] == "save-0001-follow"
        and "push_changes" in line["message"]
        and "succeeded" in line["message"]
        for line in lines
    )


@pytest.fixture
def broker(redis_server):
    with publishing_to(redis_server.url):
        yield redis_server


@pytest.mark.worker
@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_a_saves_request_id_follows_it_into_the_workers_json_lines(client, broker):
    build_sandbox("imis", members=20)
    interest = make_interest()
    member = sandbox_subscriber(3)
    worker = Worker("json", broker.url, {"LOG_FORMAT": "json"})
    worker.start()
    try:
        client.defaults["HTTP_X_REQUEST_ID"] = "save-0001-follow"  # as nginx sets it
        response = post(client, form_url(member), [interest])
        assert response.status_code == 302
        wait_until(lambda: PreferenceChange.objects.filter(state=PreferenceChange.State.DONE).exists(), 60, "the push")
        if not _followed_push(worker):
            time.sleep(2)  # the line comes right after the change is marked done
        assert _followed_push(worker), worker.output()[-3000:]
    finally:
        worker.stop()
        connections.close_all()
    output = worker.output().splitlines()
    # Every log line is JSON, Celery's own too (only the banner, printed at start, is not a log line).
    assert not [line for line in output if not line.startswith("{") and ("received" in line or "ready." in line)]
    assert make_token(member) not in worker.output()


@pytest.mark.worker
@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_beat_writes_json_lines_too(broker):
    beat = Beat("json", broker.url, {"LOG_FORMAT": "json"})
    beat.start()  # started: its "beat: Starting..." line was logged
    beat.stop()
    connections.close_all()
    (line,) = [line for line in beat.output().splitlines() if "beat: Starting" in line]
    assert json.loads(line)["logger"] == "celery.beat"


@pytest.mark.worker
@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_a_workers_plain_lines_never_show_a_token_not_even_in_a_traceback(broker):
    from subscribers.tasks import mail_links

    token = make_token(sandbox_subscriber(5))
    worker = Worker("plain", broker.url)
    worker.start()
    try:
        mail_links.delay([f"/p/{token}/"])  # fails in the worker: "Field 'id' expected a number but got ..."
        wait_until(lambda: "Traceback" in worker.output() and "ValueError" in worker.output(), 30, "the failure")
        time.sleep(0.5)  # the rest of the traceback
    finally:
        worker.stop()
        connections.close_all()
    assert "expected a number but got '/p/[token]/'" in worker.output()
    assert token not in worker.output()
