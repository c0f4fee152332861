"""A sick Redis under a running deployment (issue 13, part C): what members' saves answer, and whether every
change reaches iMIS once, unreverted, and how soon after Redis is well again.

gunicorn as in production (gunicorn.conf.py), a Celery worker and beat (default schedule: the sweep every
minute) on throwaway PostgreSQL databases (ours and an iMIS replica of a few hundred sandbox members) and a
private redis-server. The web reaches Redis through a TCP proxy that C.1 cuts (Redis keeps its data); the
worker and beat reach it directly. Members load their page and save over HTTP, as browsers do.

    C.1  pages loaded, the web cut off from Redis, members tick a box; Redis back: they load the page again
         and tick a second box (the issue's replay)
    C.1' the same, but the second save is sent from the page they had open all along
    C.2  Redis frozen (SIGSTOP) for 50 s while members save, then SIGCONT
    C.3  Redis killed (connections refused) for 30 s while members save, then started again, empty
    C.4  a worker SIGKILLed while it holds a batch (iMIS keeps it waiting on its Counter row), a new worker
         started at once; and for every scenario, the last column: seconds from the fault cleared (Redis well
         again, the new worker up) to no change left pending (nobody saves after)

Per scenario: saves sent, answered (302), p50/max seconds of a save, changes expected, delivered (in iMIS
once), duplicated (extra Activity rows), lost (never reached iMIS), reverted (a ticked box found unticked).

    .venv/bin/python bench/faults.py [--members 60]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg
from harness import ROOT, environment, free_port, gunicorn, manage, postgres_databases, table

sys.path.insert(0, str(ROOT))
from tests.faults_helpers import MemberBrowser  # noqa: E402
from tests.workers import RedisServer, TcpProxy  # noqa: E402

DRAIN_LIMIT = 300  # seconds
FREEZE_SECONDS = 50
REFUSE_SECONDS = 30

SETUP = """
from interests.models import RemoteInterest
from sync.services.discovery import interests_discover
assert interests_discover().ok
RemoteInterest.objects.update(visible=False)
RemoteInterest.objects.filter(table_name="ud_EmailPrefs", field_name__in=["NEWSLETTER", "EVENTS"]).update(visible=True)
"""

TOKENS = """
import json
from django.db import connections
from interests.models import RemoteInterest
from subscribers.selectors import mailable_subscribers
from subscribers.tokens import make_token
with connections["imis"].cursor() as cursor:
    cursor.execute('SELECT "ID" FROM "ud_EmailPrefs"')
    with_row = {row[0] for row in cursor.fetchall()}
ids = dict(RemoteInterest.objects.filter(visible=True).values_list("field_name", "pk"))
members = [[s.imis_id, make_token(s)] for s in mailable_subscribers() if s.imis_id in with_row]
print(json.dumps([ids, members]))
"""


class Deployment:
    def __init__(self, env, redis, proxy, port, procs, db, worker_log):
        self.env, self.redis, self.proxy = env, redis, proxy
        self.base = f"http://127.0.0.1:{port}"
        self.procs, self.db, self.worker_log = procs, db, worker_log  # procs[0] is the worker


def celery(env, log, *args):
    with open(log, "wb") if log else contextlib.nullcontext(subprocess.DEVNULL) as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "preference_center", *args, "--loglevel", "INFO"],
            cwd=env["VAR_DIR"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def saves(members, field, field_id, pages=None, *, spread=0.0):
    """Each member saves `field` ticked, from the page given or one loaded now; `spread`: seconds over which
    the saves start. [(imis_id, field, status, seconds)]: a save cut off counts as status 0."""

    begin = time.monotonic()

    def one(n, member):
        time.sleep(max(begin + n * spread / len(members) - time.monotonic(), 0))
        imis_id, browser = member
        try:
            page = pages[imis_id] if pages else browser.load()
            return (imis_id, field, *browser.save(page, **{f"interest_{field_id}": True}))
        except OSError:
            return imis_id, field, 0, float("nan")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(len(members)), members))


def drained(db, imis_ids, cleared):
    """Seconds from `cleared` until none of these members' changes is pending or sending."""
    while time.monotonic() - cleared < DRAIN_LIMIT:
        (waiting,) = db.execute(
            "SELECT count(*) FROM subscribers_preferencechange c JOIN subscribers_subscriber s "
            "ON s.id = c.subscriber_id WHERE s.imis_id = ANY(%s) AND c.state IN ('pending', 'sending')",
            [imis_ids],
        ).fetchone()
        if not waiting:
            return time.monotonic() - cleared
        time.sleep(0.5)
    return float("inf")


def outcome(db, imis, imis_ids, answers):
    """Changes expected (a box ticked by an answered save: every box starts unticked), delivered (ticked in
    iMIS), duplicated (extra Activity rows), lost (ticked here, not in iMIS), reverted (unticked here)."""
    expected = {(imis_id, field) for imis_id, field, status, _ in answers if status == 302}
    ours = db.execute(
        "SELECT s.imis_id, i.field_name FROM subscribers_preference p JOIN subscribers_subscriber s "
        "ON s.id = p.subscriber_id JOIN interests_remoteinterest i ON i.id = p.interest_id "
        "WHERE s.imis_id = ANY(%s) AND p.value",
        [imis_ids],
    ).fetchall()
    ours = set(ours)
    theirs = set()
    for imis_id, *values in imis.execute(
        'SELECT "ID", "NEWSLETTER", "EVENTS" FROM "ud_EmailPrefs" WHERE "ID" = ANY(%s)', [imis_ids]
    ):
        theirs |= {(imis_id, f) for f, v in zip(("NEWSLETTER", "EVENTS"), values, strict=True) if v}
    uuids = [
        r[0]
        for r in db.execute(
            "SELECT c.uuid::text FROM subscribers_preferencechange c JOIN subscribers_subscriber s "
            "ON s.id = c.subscriber_id WHERE s.imis_id = ANY(%s)",
            [imis_ids],
        )
    ]
    activity = imis.execute(
        'SELECT count(*) - count(DISTINCT "SOURCE_CODE") FROM "Activity" WHERE "SOURCE_CODE" = ANY(%s)', [uuids]
    ).fetchone()[0]
    return len(expected), len(expected & theirs), activity, len((expected & ours) - theirs), len(expected - ours)


def latency(answers):
    ok = [s for *_, status, s in answers if status == 302]
    return (f"{statistics.median(ok):.2f}" if ok else "-"), (f"{max(ok):.2f}" if ok else "-")


def run_c1(d, members, ids, *, reload):
    pages = {imis_id: browser.load() for imis_id, browser in members}
    d.proxy.close()  # the web cut off from Redis; Redis keeps its data
    first = saves(members, "NEWSLETTER", ids["NEWSLETTER"], pages)
    d.proxy.open()
    cleared = time.monotonic()
    second = saves(members, "EVENTS", ids["EVENTS"], None if reload else pages)
    return first + second, cleared


def run_c2(d, members, ids):
    pages = {imis_id: browser.load() for imis_id, browser in members}
    d.redis.freeze()
    with concurrent.futures.ThreadPoolExecutor(1) as waiter:
        answers = waiter.submit(saves, members, "NEWSLETTER", ids["NEWSLETTER"], pages, spread=FREEZE_SECONDS * 0.8)
        time.sleep(FREEZE_SECONDS)
        d.redis.thaw()
        cleared = time.monotonic()
        return answers.result(), cleared


def run_c3(d, members, ids):
    pages = {imis_id: browser.load() for imis_id, browser in members}
    d.redis.stop()
    started = time.monotonic()
    answers = saves(members, "NEWSLETTER", ids["NEWSLETTER"], pages)
    time.sleep(max(REFUSE_SECONDS - (time.monotonic() - started), 0))
    d.redis.start()
    return answers, time.monotonic()


def run_c4(d, members, ids):
    pages = {imis_id: browser.load() for imis_id, browser in members}
    imis_ids = [imis_id for imis_id, _ in members]
    with psycopg.connect(d.env["IMIS_DATABASE_URL"]) as lock:  # the worker's batch waits for this row
        lock.execute('SELECT 1 FROM "Counter" WHERE "COUNTER_NAME" = %s FOR UPDATE', ["Activity"])
        answers = saves(members, "NEWSLETTER", ids["NEWSLETTER"], pages)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _sending(d.db, imis_ids):
            time.sleep(0.2)
        os.killpg(d.procs[0].pid, signal.SIGKILL)
        d.procs[0].wait()
        lock.rollback()
    d.procs[0] = celery(d.env, d.worker_log, "worker", "--concurrency", "2")
    return answers, time.monotonic()


def _sending(db, imis_ids):
    return db.execute(
        "SELECT count(*) FROM subscribers_preferencechange c JOIN subscribers_subscriber s "
        "ON s.id = c.subscriber_id WHERE s.imis_id = ANY(%s) AND c.state = 'sending'",
        [imis_ids],
    ).fetchone()[0]


SCENARIOS = [
    ("C.1  web cut off, pages reloaded", lambda d, m, i: run_c1(d, m, i, reload=True)),
    ("C.1' web cut off, pages kept open", lambda d, m, i: run_c1(d, m, i, reload=False)),
    (f"C.2  Redis frozen {FREEZE_SECONDS} s", run_c2),
    (f"C.3  Redis refusing {REFUSE_SECONDS} s", run_c3),
    ("C.4  worker killed mid-batch", run_c4),
]


def build(env, imis_url, members):
    """Our database, the iMIS replica with `members` members (every box unticked), pulled: the interests'
    ids and [(imis_id, token)] of every member."""
    print(f"Building: {members} sandbox members, a worker, beat, gunicorn ...")
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "imis_sandbox", "--members", members, "-v0")
    manage(env, "shell", "-c", SETUP)
    with psycopg.connect(imis_url, autocommit=True) as imis:
        imis.execute('UPDATE "ud_EmailPrefs" SET "NEWSLETTER" = false, "EVENTS" = false')
    manage(env, "imis_pull", "-v0")
    return json.loads(manage(env, "shell", "-c", TOKENS, capture=True).strip().splitlines()[-1])


def scenario_row(d, run, chosen, ids, imis):
    """Run one scenario with the members `chosen` ([(imis_id, token)]): its row of the table after the name."""
    members = [(imis_id, MemberBrowser(d.base, token)) for imis_id, token in chosen]
    imis_ids = [imis_id for imis_id, _ in chosen]
    answers, cleared = run(d, members, ids)
    drain = drained(d.db, imis_ids, cleared)
    expected, delivered, duplicated, lost, reverted = outcome(d.db, imis, imis_ids, answers)
    p50, worst = latency(answers)
    ok = sum(1 for *_, status, _ in answers if status == 302)
    return [len(answers), ok, p50, worst, expected, delivered, duplicated, lost, reverted, f"{drain:.0f}"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=60, help="members saving per scenario")
    parser.add_argument("--only", help="run the scenarios whose name starts with this (e.g. C.2)")
    parser.add_argument("--log-dir", help="write the worker's and beat's logs there")
    args = parser.parse_args()
    scenarios = [(name, run) for name, run in SCENARIOS if name.startswith(args.only or "")]
    redis = RedisServer()
    redis.start()
    proxy = TcpProxy("127.0.0.1", redis.port)
    proxy.open()
    procs = []
    try:
        with (
            postgres_databases("pc_bench_faults", "pc_bench_faults_imis") as (ours, imis_url),
            tempfile.TemporaryDirectory() as t,
        ):
            env = environment(
                DATABASE_URL=ours, IMIS_DATABASE_URL=imis_url, REDIS_URL=redis.url, VAR_DIR=t, PYTHONPATH=ROOT,
                PREFERENCES_RATE_LIMIT="100000/m",  # every member here comes from 127.0.0.1
            )  # fmt: skip
            ids, everyone = build(env, imis_url, len(SCENARIOS) * args.members * 2)
            logs = [f"{args.log_dir}/{name}.log" if args.log_dir else None for name in ("worker", "beat")]
            procs = [celery(env, logs[0], "worker", "--concurrency", "2"), celery(env, logs[1], "beat")]
            port = free_port()
            web_env = {**env, "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}
            rows = []
            with (
                gunicorn(web_env, port),
                psycopg.connect(ours, autocommit=True) as db,
                psycopg.connect(imis_url, autocommit=True) as imis,
            ):
                d = Deployment(env, redis, proxy, port, procs, db, logs[0])
                for n, (name, run) in enumerate(scenarios):
                    chosen = everyone[n * args.members : (n + 1) * args.members]
                    print(f"{name} ...", flush=True)
                    rows.append([name, *scenario_row(d, run, chosen, ids, imis)])
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        proxy.close()
        redis.stop()
    print()
    print(
        f"{args.members} members per scenario, gunicorn.conf.py, 1 worker (prefork, 2), beat with the default schedule"
    )
    table(
        rows,
        ["scenario", "saves", "answered", "p50 s", "max s", "expected", "delivered", "duplicated", "lost",
         "reverted", "drain s (C.4)"],
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
