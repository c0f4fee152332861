"""Several machines: two web processes (gunicorn on two ports, two workers each) and two Celery workers on the
same PostgreSQL and a private redis-server, as two web machines behind a load balancer would run. A member's
save works through either web process and reaches iMIS through either worker; CSRF, sessions and rate limits
hold across the web processes; each web process's metrics sum its gunicorn workers; a second beat refuses to
run."""

import concurrent.futures
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from prometheus_client.parser import text_string_to_metric_families

from preference_center.imis.sandbox import build_sandbox
from subscribers.models import PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import ud_value
from tests.workers import Beat, Gunicorn, Worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(databases=["default", "imis"], transaction=True)]

METRICS_TOKEN = "several-machines-metrics-token"


class _Form(HTMLParser):
    """The fields a browser would send from the page's first POST form, the language switcher's aside."""

    def __init__(self):
        super().__init__()
        self.fields, self.checkboxes, self._in_form = {}, [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._in_form = "language-switcher" not in (attrs.get("class") or "").split()
        elif tag == "input" and self._in_form and attrs.get("name"):
            if attrs.get("type") == "checkbox":
                self.checkboxes.append(attrs["name"])
            else:
                self.fields[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        self._in_form = self._in_form and tag != "form"


class Browser:
    """One visitor's cookies, sent to whichever web process it is given (a load balancer without stickiness)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, url, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=body), timeout=20) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, url, error.read().decode()

    def form(self, url):
        status, _, html = self.open(url)
        assert status == 200, html[:500]
        parsed = _Form()
        parsed.feed(html)
        return parsed


def save_on(show, post, path, interest):
    """GET the member's form from one web process, tick the interest, POST it to `post` (maybe another)."""
    browser = Browser()
    form = browser.form(show.url + path)
    assert f"interest_{interest.pk}" in form.checkboxes
    status, landed, html = browser.open(
        post.url + path, {**form.fields, f"interest_{interest.pk}": "on", "action": "save"}
    )
    assert status == 200 and "/saved/" in landed, html[:500]


def pushed(member):
    done = PreferenceChange.objects.filter(subscriber=member, state=PreferenceChange.State.DONE).exists()
    return done and ud_value(member.imis_id) in (1, True)


@pytest.fixture
def machines(redis_server, tmp_path):
    """Start processes with `start(cls, name, **env)`: all on the same databases and Redis; stopped at the end."""
    started = []

    def start(cls, name, **env):
        if cls is Gunicorn:
            (tmp_path / name).mkdir()
            env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / name), "WEB_CONCURRENCY": "2", **env}
        process = cls(name, redis_server.url, {"REDIS_URL": redis_server.url, "METRICS_TOKEN": METRICS_TOKEN, **env})
        process.start()
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()
    connections.close_all()


def test_a_members_save_works_through_either_web_process_and_either_worker(machines):
    build_sandbox("imis", members=40)
    interest = make_interest()
    first, second = sandbox_subscriber(1), sandbox_subscriber(2)
    web_a = machines(Gunicorn, "a", PREFERENCES_RATE_LIMIT="30/h")
    web_b = machines(Gunicorn, "b", PREFERENCES_RATE_LIMIT="30/h")
    worker_1 = machines(Worker, "w1")

    save_on(web_a, web_b, f"/p/{make_token(first)}/", interest)  # shown by A, saved through B (CSRF holds)
    wait_until(lambda: pushed(first), 60, "worker 1 to push the first member's save")

    machines(Worker, "w2")
    worker_1.stop()
    save_on(web_b, web_a, f"/p/{make_token(second)}/", interest)
    wait_until(lambda: pushed(second), 60, "worker 2 to push the second member's save")

    for web in (web_a, web_b):
        status, _, body = Browser().open(web.url + "/readyz")
        assert status == 200 and json.loads(body)["checks"]["redis"]["ok"] is True


def test_sessions_and_rate_limits_are_shared_by_the_web_processes(machines):
    get_user_model().objects.create_superuser("ops", "ops@example.org", "a long password for ops")
    member = sandbox_subscriber(3)
    web_a = machines(Gunicorn, "a", PREFERENCES_RATE_LIMIT="12/h")
    web_b = machines(Gunicorn, "b", PREFERENCES_RATE_LIMIT="12/h")

    staff = Browser()
    login = staff.form(web_a.url + "/admin/login/")
    status, landed, _ = staff.open(
        web_a.url + "/admin/login/?next=/admin/",
        {**login.fields, "username": "ops", "password": "a long password for ops"},
    )
    assert status == 200 and landed.endswith("/admin/")
    status, landed, html = staff.open(web_b.url + "/admin/")  # the session made on A, read on B
    assert status == 200 and landed.endswith("/admin/") and "Log out" in html

    page = f"/p/{make_token(member)}/"
    statuses = []
    for _ in range(8):  # alternately, as a load balancer would spread them: 16 pages for a budget of 12
        statuses += [Browser().open(web.url + page)[0] for web in (web_a, web_b)]
    assert statuses[:12] == [200] * 12 and statuses[12:] == [429] * 4  # one budget for both, not 12 each


def test_each_web_process_sums_its_workers_http_metrics(machines, tmp_path):
    web = machines(Gunicorn, "a")
    statuses = []

    def both_workers_served():
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            statuses.extend(pool.map(lambda _: Browser().open(web.url + "/lost-link/")[0], range(8)))
        return len({path.name.rsplit("_", 1)[-1] for path in (tmp_path / "a").glob("counter_*.db")}) == 2

    wait_until(both_workers_served, 60, "both gunicorn workers to serve requests", interval=0)
    assert set(statuses) == {200}

    request = urllib.request.Request(web.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        text = response.read().decode()
    served = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "prefcenter_http_requests_total" and sample.labels["view"] == "lost_link"
    ]
    assert served == [float(len(statuses))]  # every worker's requests, in one scrape


def test_a_second_beat_refuses_to_run_and_the_lock_dies_with_the_first(machines):
    first = machines(Beat, "one")
    second = machines(Beat, "two")
    wait_until(lambda: second.process.poll() is not None, 30, "the second beat to stop")
    assert second.process.returncode != 0
    assert "another celery beat runs on this database" in second.output()
    assert first.process.poll() is None  # the first one goes on

    first.kill()  # SIGKILL: no cleanup; PostgreSQL ends its session, and the lock with it
    third = machines(Beat, "three")
    with pytest.raises(AssertionError):
        wait_until(lambda: third.process.poll() is not None, 5, "the third beat to stop")
    assert "another celery beat" not in third.output()
