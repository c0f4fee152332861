"""Mailing day: a link-scanner wave and members saving, on the production processes of this machine.

gunicorn per gunicorn.conf.py, one Celery worker and beat (as the README runs them), PostgreSQL for our
data and for an iMIS replica of `--members` members with 20 checkbox interests on the form, a private
redis-server. The roster is pulled and the links exported as before a real mailing. Then, for `--seconds`:

- link scanners fetch `--rate` links a second, each exported link (personal page or one-click page) at
  most once, in a random order;
- `--savers-percent` of the members save, at random times spread over the wave: a GET of their page, a
  few seconds of reading, then a POST of the form as their browser would send it (its hidden fields and
  CSRF token, its own cookie) with one or two boxes changed;
- the worker pushes the saves to the iMIS replica.

The load is open-model: every request is sent at its scheduled time whether or not earlier ones have
answered, and its latency counts from that time, so a server falling behind shows in the figures instead
of slowing the client down (coordinated omission). After the wave, once the worker has drained the saves
(bounded wait), the save -> iMIS lag is read from the history (created_at -> synced_at).
Targets (issue 14): GET p99 <= 150 ms, POST p99 <= 300 ms, 0 errors, save -> iMIS p95 <= 2 s.

    .venv/bin/python bench/mailing_day.py                 # 100,000 members, 200 GET/s for 60 s, 3 % saving
    .venv/bin/python bench/mailing_day.py --members 5000 --rate 50 --seconds 15     # about a minute
    (the worker's and beat's logs stay in var/bench-mailing-day-{worker,beat}.log)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import random
import signal
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import h11
import psycopg
from harness import (
    ROOT,
    CpuMeter,
    celery,
    environment,
    exchange,
    free_port,
    gunicorn,
    imis_replica,
    machine,
    manage,
    percentile,
    postgres_databases,
    redis_server,
    table,
)
from psycopg import sql

DATABASES = ("pc_bench_mailing_day", "pc_bench_mailing_day_imis")
TIMEOUT = 30.0  # gunicorn's own worker timeout: an answer later than this is an error anyway
THINK_MAX = 8.0  # seconds a member reads their page before saving (between a quarter of it and all of it)
WARM_UP = 10  # members whose pages and saves warm the web processes up, left out of the wave
DRAIN_TIMEOUT = 150.0  # the sweeper re-sends a lost push message within a minute
GET_P99_MS, POST_P99_MS, LAG_P95_S = 150, 300, 2.0  # the targets (issue 14), and 0 errors
SCAN_PAGE, SCAN_ONE_CLICK = "GET personal page (link scanner)", "GET one-click page (link scanner)"
UNFINISHED = "not measured: no answer in time, or a client failure"
MEMBER_GET, MEMBER_POST = "GET personal page (member, before saving)", "POST save, 1-2 boxes changed (member)"

CHANGE_TABLE = """
from django.apps import apps
print(next(m for m in apps.get_models() if m.__name__ == "PreferenceChange")._meta.db_table)
"""


class Recorder:
    """What the wave measured: latencies (ms, from the scheduled time) per kind of request, errors (status
    codes outside 2xx/3xx and socket errors by exception name), saves not saved, the client's lateness."""

    def __init__(self, connections):
        self.latencies = defaultdict(list)
        self.errors = defaultdict(Counter)
        self.not_saved = Counter()
        self.lateness = []
        self.slots = asyncio.Semaphore(connections)  # requests beyond it wait here, their wait counted

    async def request(self, kind, due, method, url, headers, body=b""):
        loop = asyncio.get_running_loop()
        self.lateness.append(loop.time() - due)
        try:
            async with self.slots, asyncio.timeout(TIMEOUT):
                answer = await exchange(method, url, headers, body)
        except (OSError, TimeoutError, h11.ProtocolError) as exc:
            self.errors[kind][type(exc).__name__] += 1
            return None
        self.latencies[kind].append((loop.time() - due) * 1000)
        if not 200 <= answer.status < 400:
            self.errors[kind][str(answer.status)] += 1
            return None
        return answer


class PostForm(HTMLParser):
    """The fields a browser submits from the member's form (class "preferences"; the page also has a
    language switcher's form): hidden and text inputs, the ticked checkboxes, and the "save" button."""

    def __init__(self):
        super().__init__()
        self.fields, self.boxes, self.button = [], {}, None
        self._state = "before"

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "preferences" in a.get("class", "").split() and self._state == "before":
            self._state = "in"
        elif self._state != "in" or "name" not in a:
            return
        elif tag == "input" and a.get("type", "text").lower() == "checkbox":
            self.boxes[a["name"]] = [a.get("value") or "on", "checked" in a]
        elif tag == "input" and a.get("type", "text").lower() in ("hidden", "text", "email"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("value") == "save":
            self.button = (a["name"], a["value"])

    def handle_endtag(self, tag):
        if tag == "form" and self._state == "in":
            self._state = "after"

    def body(self, rng):
        """The urlencoded form with one or two `interest_<id>` boxes flipped; None without such boxes."""
        interests = [name for name in self.boxes if name.startswith("interest_")]
        if not interests or self.button is None:
            return None
        for name in rng.sample(interests, min(len(interests), rng.choice((1, 2)))):
            self.boxes[name][1] = not self.boxes[name][1]
        ticked = [(name, value) for name, (value, checked) in self.boxes.items() if checked]
        return urllib.parse.urlencode([*self.fields, *ticked, self.button])


async def scan(url, kind, recorder, due):
    await recorder.request(kind, due, "GET", url, {"User-Agent": "bench link scanner"})


async def save(url, think, rng, recorder, due):
    """A member: their page, `think` seconds, the form back with a box or two changed."""
    agent = {"User-Agent": "Mozilla/5.0 (bench member)"}
    page = await recorder.request(MEMBER_GET, due, "GET", url, agent)
    if page is None:
        return
    form = PostForm()
    form.feed(page.body.decode())
    body = form.body(rng)
    if body is None:
        recorder.not_saved["the page had no form with interests"] += 1
        return
    loop = asyncio.get_running_loop()
    posted_at = loop.time() + think
    await asyncio.sleep(think)
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
    headers = {**agent, "Content-Type": "application/x-www-form-urlencoded", "Origin": origin}
    if page.cookie("csrftoken"):
        headers["Cookie"] = f"csrftoken={page.cookie('csrftoken')}"
    answer = await recorder.request(MEMBER_POST, posted_at, "POST", url, headers, body.encode())
    if answer is not None and answer.status != 302:
        recorder.not_saved[f"answered {answer.status}, not the redirect to the saved page"] += 1


def warm_up_jobs(links):
    """A production server has served for hours before a mailing: a few members' pages, one-click pages and
    saves so that every web process has run each code path once (members left out of the wave)."""
    return [(n / 10, job) for n, (page, one_click) in enumerate(links) for job in (
        functools.partial(scan, page, SCAN_PAGE), functools.partial(scan, one_click, SCAN_ONE_CLICK),
        functools.partial(save, page, 0.1, random.Random(n)))]  # fmt: skip


def plan(links, args, rng):
    """(seconds after the start, job) of every request to start on schedule, in order."""
    urls = [url for pair in links for url in pair]
    rng.shuffle(urls)
    scans = urls[: round(args.rate * args.seconds)]
    jobs = [
        (i / args.rate, functools.partial(scan, url, SCAN_ONE_CLICK if "one-click" in url else SCAN_PAGE))
        for i, url in enumerate(scans)
    ]
    think_max = min(THINK_MAX, args.seconds / 4)
    for url, _ in rng.sample(links, round(len(links) * args.savers_percent / 100)):
        job = functools.partial(save, url, rng.uniform(think_max / 4, think_max), random.Random(rng.random()))
        jobs.append((rng.uniform(0, args.seconds - think_max), job))
    return sorted(jobs, key=lambda j: j[0]), len(scans)


async def wave(jobs, connections):
    """Start every job at its time, each as a task of its own; wait for the last answers (bounded)."""
    recorder = Recorder(connections)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    running = set()

    def finished(task):
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:  # a bug of the client: counted, not hidden
            recorder.errors[UNFINISHED][repr(task.exception())[:80]] += 1

    for at, job in jobs:
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        task = asyncio.create_task(job(recorder, start + at))
        running.add(task)
        task.add_done_callback(finished)
    if running:
        await asyncio.wait(running, timeout=TIMEOUT * 2 + THINK_MAX)
    for task in list(running):  # still waiting for a free connection or an answer: errors too
        recorder.errors[UNFINISHED]["no answer when the bench stopped waiting"] += 1
        task.cancel()
    return recorder


def build(env, args, workdir):
    """Our database, the iMIS replica, the roster pulled, the links exported: (links, change table)."""
    steps = [
        ("migrate", lambda: manage(env, "migrate", "-v0")),
        ("collectstatic", lambda: manage(env, "collectstatic", "--noinput", "-v0")),
        (f"iMIS replica of {args.members} members", lambda: imis_replica(env, members=args.members)),
        ("roster pull", lambda: manage(env, "imis_pull", "-v0")),
        ("export_links", lambda: manage(env, "export_links", "-o", workdir / "links.csv", capture=True)),
    ]
    for name, step in steps:
        started = time.monotonic()
        step()
        print(f"  {name}: {time.monotonic() - started:.1f} s", flush=True)
    with open(workdir / "links.csv", newline="", encoding="utf-8") as handle:
        links = [(row["preference_url"], row["one_click_url"]) for row in csv.DictReader(handle)]
    change_table = manage(env, "shell", "-c", CHANGE_TABLE, capture=True).strip().splitlines()[-1]
    return links, change_table


def drain(conn, change_table, since, timeout):
    """Wait (bounded) until no change members saved since `since` waits for the push; read the save -> iMIS
    lag of those pushed. Returns (seconds waited, changes per state, lag p50, lag p95, failure reasons)."""
    saved = "WITH saved AS (SELECT * FROM {} WHERE source = 'form' AND created_at >= %s) "

    def query(text):
        return conn.execute(sql.SQL(saved + text).format(sql.Identifier(change_table)), [since])

    started = time.monotonic()
    while query("SELECT count(*) FROM saved WHERE state IN ('pending', 'sending')").fetchone()[0]:
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.5)
    waited = time.monotonic() - started
    states = dict(query("SELECT state, count(*) FROM saved GROUP BY state").fetchall())
    lag = "WITHIN GROUP (ORDER BY extract(epoch FROM synced_at - created_at))"
    p50, p95 = query(
        f"SELECT percentile_cont(0.5) {lag}, percentile_cont(0.95) {lag} FROM saved WHERE state = 'done'"
    ).fetchone()
    reasons = query(  # one line per kind of failure: member ids and numbers masked
        "SELECT regexp_replace(left(last_error, 120), '[0-9]+', 'N', 'g'), count(*) FROM saved "
        "WHERE state = 'failed' GROUP BY 1 ORDER BY 2 DESC"
    )
    return waited, states, p50, p95, reasons.fetchmany(3)


def verdict(value, target):
    return f"<= {target}: " + ("met" if value <= target else "NOT met")


def report_requests(recorder, args, scans):
    rows = []
    for kind in (SCAN_PAGE, SCAN_ONE_CLICK, MEMBER_GET, MEMBER_POST, UNFINISHED)[
        : 5 if recorder.errors[UNFINISHED] else 4
    ]:
        values, errors = recorder.latencies[kind], recorder.errors[kind]
        detail = ", ".join(f"{n} x {what}" for what, n in errors.most_common())
        rows.append([kind, len(values), f"{percentile(values, 0.5):.1f}", f"{percentile(values, 0.99):.1f}",
                     sum(errors.values()), detail])  # fmt: skip
    gets = [v for kind in (SCAN_PAGE, SCAN_ONE_CLICK, MEMBER_GET) for v in recorder.latencies[kind]]
    posts = recorder.latencies[MEMBER_POST]
    print(f"\n{scans} links scanned at {args.rate}/s over {args.seconds} s; "
          f"latency from each request's scheduled time (open model)")  # fmt: skip
    table(rows, ["request", "answered", "p50 ms", "p99 ms", "errors", "which"])
    errors = sum(sum(c.values()) for c in recorder.errors.values())
    print(f"GET p99 (all GETs): {percentile(gets, 0.99):.1f} ms, target {verdict(percentile(gets, 0.99), GET_P99_MS)}")
    print(f"POST p99: {percentile(posts, 0.99):.1f} ms, target {verdict(percentile(posts, 0.99), POST_P99_MS)}")
    print(f"errors (non-2xx/3xx answers, socket errors): {errors}, target 0: " + ("met" if not errors else "NOT met"))
    for why, n in recorder.not_saved.items():
        print(f"saves that did not save: {n} ({why})")
    late = [s * 1000 for s in recorder.lateness]
    print(f"load generator: requests sent {percentile(late, 0.5):.1f} ms (p50) / {percentile(late, 0.99):.1f} ms "
          f"(p99) / {max(late, default=0):.1f} ms (max) after their scheduled time")  # fmt: skip


def report_lag(waited, states, p50, p95, reasons):
    counts = ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
    left = states.get("pending", 0) + states.get("sending", 0)
    print(f"\nchanges saved by members: {counts or 'none'}")
    print(f"drained {waited:.1f} s after the wave" if not left else f"NOT drained after {waited:.0f} s: {left} left")
    for reason, n in reasons:
        print(f"  failed x {n}: {reason}")
    if p95 is None:
        print("save -> iMIS lag: nothing was pushed")
        return
    print(f"save -> iMIS lag (created_at -> synced_at): p50 {p50:.2f} s, p95 {p95:.2f} s, target p95 "
          f"{verdict(p95, LAG_P95_S)}")  # fmt: skip


def report_cpu(spent, seconds):
    rows = [[name, f"{cpu:.1f}", f"{cpu / seconds * 100:.0f} %"] for name, cpu in spent.items()]
    print(f"\nCPU during the wave ({seconds:.0f} s; 100 % = one core):")
    table(rows, ["process", "CPU s", "of a core"])


def run(args, rng):
    print(f"machine: {machine()}", flush=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        postgres_databases(*DATABASES) as (ours, imis),
        redis_server() as broker,
    ):
        port = free_port()
        env = environment(
            DATABASE_URL=ours,
            IMIS_DATABASE_URL=imis,
            REDIS_URL=broker.url,
            SITE_URL=f"http://127.0.0.1:{port}",
            # Every request comes from one address: the limit is raised, not switched off, so its cost is paid.
            PREFERENCES_RATE_LIMIT="100000000/m",
            VAR_DIR=workdir,
            PYTHONPATH=ROOT,
        )
        print("building:", flush=True)
        links, change_table = build(env, args, Path(workdir))
        warm_up, jobs, scans = warm_up_jobs(links[:WARM_UP]), *plan(links[WARM_UP:], args, rng)
        print(f"{len(links)} members with links; {scans} links to scan, {len(jobs) - scans} members to save")
        logs = ROOT / "var"
        logs.mkdir(exist_ok=True)
        with (
            gunicorn(web_environment(env, Path(workdir)), port) as web,
            celery(env, "worker", logs / "bench-mailing-day-worker.log") as worker,
            celery(env, "beat", logs / "bench-mailing-day-beat.log") as beat,
            psycopg.connect(ours, autocommit=True) as postgres,
        ):
            groups = {"gunicorn": web.pid, "celery worker": worker.pid, "celery beat": beat.pid, "redis": broker.pid}
            meter = CpuMeter(groups, postgres, DATABASES)
            check_warm_up(asyncio.run(wave(warm_up, args.connections)))
            print(f"wave: {args.seconds:.0f} s; machine now: {machine()}", flush=True)
            since = postgres.execute("SELECT now()").fetchone()[0]
            before, started = meter.read(), time.monotonic()
            recorder = asyncio.run(wave(jobs, args.connections))
            spent, elapsed = CpuMeter.spent(before, meter.read()), time.monotonic() - started
            drained = drain(postgres, change_table, since, args.drain_timeout)
    report_requests(recorder, args, scans)
    report_lag(*drained)
    report_cpu(spent, elapsed)


def web_environment(env, workdir):
    """The web's environment in production (deploy/preference-center-web.service): its HTTP counters in
    prometheus-client's multiprocess files, one directory per start."""
    (workdir / "prometheus").mkdir()
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus")}


def check_warm_up(recorder):
    """The warm-up is also the bench's check that pages answer and saves save: stop rather than measure errors."""
    errors = {kind: dict(c) for kind, c in recorder.errors.items() if c}
    if errors or recorder.not_saved:
        sys.exit(f"warm-up failed, nothing measured: errors {errors}, not saved {dict(recorder.not_saved)}")


def interrupt(signum, frame):
    """SIGTERM, and SIGINT even where a shell started the bench with it ignored: every context manager then
    stops its processes and drops its databases."""
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000, help="members in iMIS (default 100000)")
    parser.add_argument("--rate", type=float, default=200, help="link-scanner GETs per second (default 200)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the wave (default 60)")
    parser.add_argument("--savers-percent", type=float, default=3, help="members saving in the wave (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="requests in flight at most (default 64)")
    parser.add_argument("--drain-timeout", type=float, default=DRAIN_TIMEOUT, help="wait for the push at most")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if args.members < 1 or args.rate <= 0 or args.seconds < 4 or not 0 <= args.savers_percent <= 100:
        parser.error("--members >= 1, --rate > 0, --seconds >= 4, --savers-percent between 0 and 100")
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        run(args, random.Random(args.seed))
    except KeyboardInterrupt:
        print("interrupted: processes stopped, databases dropped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
