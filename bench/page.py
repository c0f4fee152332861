"""Mailing-day load on the member's form: GET and POST /p/<token>/ against a bare template view (the ceiling).

gunicorn as in production (gunicorn.conf.py), PostgreSQL for our data, a PostgreSQL iMIS replica with 20
visible checkbox interests, a few thousand members pulled from it, Redis for the rate limits and the
Celery broker on a database of its own (flushed before and after; no worker drains it, so every POST
enqueues its push exactly as in production). The rate limit is raised, not switched off, so that its cost is
measured. wrk runs 32 connections for ~10 s per view; POSTs are real saves rotating over the members with
alternating bodies: once so that every POST changes 2 of the 20 choices (what a member typically does), once
so that every POST changes all 20 (the worst case). Each POST carries the signed "shown" field of the page
the member would have seen (the other body's ticks), as a browser sends it back.
Targets (issue 14): GET >= 0.45x the bare view, POST >= 0.2x.

    .venv/bin/python bench/page.py [--members 3000] [--seconds 10] [--connections 32]
    .venv/bin/python bench/page.py --profile      # cProfile of 300 GETs and 300 POSTs in one process instead
"""

import argparse
import http.cookiejar
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
import redis
from harness import (
    CPU_PROGRAMS,
    PYTHON,
    ROOT,
    environment,
    free_port,
    gunicorn,
    imis_replica,
    manage,
    need_wrk,
    postgres_databases,
    table,
    wrk,
)

REDIS_URL = "redis://127.0.0.1:6379/14"
BARE = "bare template view (ceiling)"
BARE_AGAIN = "bare template view, again at the end"
GET = "GET /p/<token>/"
POST_2 = "POST /p/<token>/, 2 changes"
POST_20 = "POST /p/<token>/, 20 changes"

# The links, and per member the "shown" field of a page showing each body's ticks (see post_bodies).
TOKENS = """
import json
from subscribers.forms import shown_sign
from subscribers.selectors import FormState, form_specs, mailable_subscribers
from subscribers.tokens import make_token
specs = form_specs()
ticked = {ticked}
def shown(s, on):
    state = FormState(specs=specs, values={{spec.id: spec.id in on for spec in specs}})
    return shown_sign(subscriber_id=s.pk, token_version=s.token_version, state=state)
members = list(mailable_subscribers()[:{count}])
print(json.dumps([[make_token(s) for s in members], [[shown(s, on) for on in ticked] for s in members]]))
"""

# --profile: the same requests through Django's test client in one process, under cProfile.
PROFILE = """
import cProfile, json, os, pstats, sys
import django
django.setup()
from django.test import Client
tokens, bodies, shown = json.loads(sys.stdin.read())
client = Client(HTTP_HOST="127.0.0.1")
client.get("/p/%s/" % tokens[0])
runs = {"POST": 0}
def run(method):
    # Each POST pass sends each member the other body than the pass before: every POST saves changes.
    runs[method] = runs.get(method, 0) + 1
    for n, token in enumerate(tokens[:300]):
        if method == "GET":
            assert client.get("/p/%s/" % token).status_code == 200
        else:
            b = (n + runs[method]) % 2
            body = bodies[b] + "&shown=" + shown[n][1 - b]
            r = client.post("/p/%s/" % token, body, content_type="application/x-www-form-urlencoded")
            assert r.status_code == 302, r.status_code
import time
for label, method in (("bare", "BARE"), ("GET", "GET"), ("POST", "POST")):
    if method == "BARE":
        t0 = time.perf_counter()
        for _ in range(300):
            client.get("/bench/bare/")
    else:
        t0 = time.perf_counter()
        run(method)
    print("%-5s %6.0f us per request (test client, no profiler)" % (label, (time.perf_counter() - t0) / 300 * 1e6))
for method in ("GET", "POST"):
    profile = cProfile.Profile()
    profile.runcall(run, method)
    print("=" * 30, method, "x 300")
    pstats.Stats(profile).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(45)
"""

# Shared by both scripts: the tokens, and a counter per wrk thread that walks them.
LUA_COMMON = """
tokens = {tokens}
local counter = 0
local thread_id = 0
local threads = 0
local id_seq = 0
function setup(thread)
  thread:set("tid", id_seq)
  id_seq = id_seq + 1
end
function init(args)
  thread_id = tid
  threads = {threads}
end
"""

LUA_GET = """
function request()
  counter = counter + 1
  local i = (counter * threads + thread_id) % #tokens + 1
  return wrk.format("GET", "/p/" .. tokens[i] .. "/")
end
"""

# Every member's choices are set to body A before a run (see prime); then each member in turn gets body B,
# on the next round over the members body A, and so on: every POST changes what differs between A and B.
# With body B goes the "shown" field of a page showing A's ticks, and the other way round.
LUA_POST = """
bodies = {bodies}
shown = {shown}
function request()
  counter = counter + 1
  local n = counter * threads + thread_id
  local i = n % #tokens + 1
  local b = 2 - math.floor(n / #tokens) % 2
  return wrk.format("POST", "/p/" .. tokens[i] .. "/", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken={cookie}",
  }}, bodies[b] .. "&shown=" .. shown[i][3 - b])
end
"""


def lua_list(items):
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def ticked_by(interest_ids, flips):
    """The interests two bodies tick: ten each, differing in `flips` of them (2 to 20, even)."""
    shift = flips // 2
    return interest_ids[:10], interest_ids[shift : 10 + shift]


def post_bodies(form_token, interest_ids, flips):
    """Two bodies that tick ten interests each and differ in `flips` of them (2 to 20, even), without the
    member's "shown" field."""
    ticked = ticked_by(interest_ids, flips)
    return [
        "&".join([f"csrfmiddlewaretoken={form_token}", "action=save"] + [f"interest_{pk}=on" for pk in ids])
        for ids in ticked
    ]


def csrf_pair(base, token):
    """One csrftoken cookie and a form token that goes with it, reused by every POST (as one browser)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/p/{token}/").read().decode()
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, form_token


def check_post(base, token, cookie, body):
    request = urllib.request.Request(
        f"{base}/p/{token}/",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(request)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise RuntimeError(f"a POST answered {exc.code}: the bench would measure errors") from None
        return
    raise RuntimeError("a POST did not redirect")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="cProfile in one process instead of wrk")
    parser.add_argument("--conn-max-age", help="CONN_MAX_AGE of the web processes (default: the settings' default)")
    args = parser.parse_args()
    need_wrk()
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    with postgres_databases("pc_bench_page", "pc_bench_page_imis") as (ours, imis), tempfile.TemporaryDirectory() as t:
        env = environment(
            DATABASE_URL=ours,
            IMIS_DATABASE_URL=imis,
            REDIS_URL=REDIS_URL,
            PREFERENCES_RATE_LIMIT="100000000/m",  # one client IP sends everything: raised, still counted
            **({"CONN_MAX_AGE": args.conn_max_age} if args.conn_max_age is not None else {}),
            DJANGO_SETTINGS_MODULE="bench.settings",  # production's, with the bare view routed
            VAR_DIR=t,
            PYTHONPATH=ROOT,
        )
        interest_ids, tokens, shown = build(env, args.members)
        if args.profile:
            bodies = post_bodies("unchecked", interest_ids, 2)  # the test client does not check CSRF
            subprocess.run([PYTHON, "-c", PROFILE], cwd=ROOT, env=env, check=True, text=True,
                           input=json.dumps([tokens, bodies, [[a, b] for a, b, _ in shown]]))  # fmt: skip
            return 0
        results, changes = measure(env, Path(t), interest_ids, tokens, shown, args)
        queued = queue.llen("celery")
    queue.flushdb()
    report(results, changes, interest_ids, tokens, queued, args)
    return 0


def build(env, members):
    """Our database and the iMIS replica, the roster pulled: the visible interests' ids, the members' links
    and per member the "shown" fields of a page showing body A's ticks, body B's with 2 flips and with 20."""
    print(f"Building: {members} members in the iMIS replica, 20 visible checkbox interests ...")
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    interest_ids = imis_replica(env, members=members, interests=20)
    manage(env, "imis_pull", "-v0")
    ticked = [ticked_by(interest_ids, 2)[0], ticked_by(interest_ids, 2)[1], ticked_by(interest_ids, 20)[1]]
    script = TOKENS.format(count=members, ticked=json.dumps(ticked))
    tokens, shown = json.loads(manage(env, "shell", "-c", script, capture=True).strip().splitlines()[-1])
    print(f"{len(interest_ids)} interests visible, {len(tokens)} members with links")
    return interest_ids, tokens, shown


def measure(env, scripts, interest_ids, tokens, shown, args):
    """wrk against the bare view, GET, POST with 2 and with 20 changes, the bare view again, under gunicorn:
    {view: wrk's figures}, {view: changes the run wrote}."""
    # Per flips, per member: [shown with body A's ticks, shown with body B's].
    shown_pairs = {2: [[a, b] for a, b, _ in shown], 20: [[a, b] for a, _, b in shown]}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with gunicorn(env, port):
        cookie, form_token = csrf_pair(base, tokens[0])
        check_post(base, tokens[-1], cookie, post_bodies(form_token, interest_ids, 2)[1] + f"&shown={shown[-1][0]}")
        threads = 2
        common = LUA_COMMON.format(tokens=lua_list(tokens), threads=threads)
        (scripts / "get.lua").write_text(common + LUA_GET)
        for flips in (2, 20):
            bodies = lua_list(post_bodies(form_token, interest_ids, flips))
            pairs = "{" + ", ".join(lua_list(pair) for pair in shown_pairs[flips]) + "}"
            post = LUA_POST.format(bodies=bodies, shown=pairs, cookie=cookie)
            (scripts / f"post{flips}.lua").write_text(common + post)
        measure = dict(connections=args.connections, threads=threads, seconds=args.seconds)
        wrk(f"{base}/bench/bare/", **{**measure, "seconds": 2})  # warm the workers up
        results, changes = {}, {}
        counting = psycopg.connect(env["DATABASE_URL"], autocommit=True)  # one connection for the whole bench
        for name, url, script in [
            (BARE, f"{base}/bench/bare/", None),
            (GET, base, scripts / "get.lua"),
            (POST_2, base, scripts / "post2.lua"),
            (POST_20, base, scripts / "post20.lua"),
            (BARE_AGAIN, f"{base}/bench/bare/", None),  # the machine drifts: the ceiling is the mean of two
        ]:
            if script is not None and script.name.startswith("post"):
                prime(env, interest_ids, interest_ids[:10])
            before = count_changes(counting)
            # The CPU table counts running processes: the backends of the priming's connections must
            # have exited before the run, not during it.
            time.sleep(1)
            results[name] = wrk(url, script=script, **measure)
            changes[name] = count_changes(counting) - before
        counting.close()
    return results, changes


def report(results, changes, interest_ids, tokens, queued, args):
    bare = (results[BARE]["rps"] + results[BARE_AGAIN]["rps"]) / 2
    rows = [
        [name, f"{r['rps']:.0f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}", f"{r['rps'] / bare:.2f}",
         r["bad"] + r["socket_errors"], f"{changes[name] / (r['rps'] * args.seconds):.1f}"]
        for name, r in results.items()
    ]  # fmt: skip
    print()
    print(f"{len(interest_ids)} checkbox interests, {len(tokens)} members, {args.connections} connections, "
          f"{args.seconds} s per view, gunicorn.conf.py")  # fmt: skip
    table(rows, ["view", "req/s", "p50 ms", "p99 ms", "x bare", "errors", "changes/req"])
    print("\nCPU per request, microseconds (all processes of each program on this machine):")
    # A process that exits takes its CPU time with it: a database connection recycled during a run
    # (CONN_MAX_AGE) can make a figure negative; it is shown as "?" and the total left out.
    table(
        [[name, *(f"{r['cpu_us'][p]:.0f}" if r["cpu_us"][p] >= 0 else "?" for p in CPU_PROGRAMS),
          f"{sum(r['cpu_us'].values()):.0f}" if min(r["cpu_us"].values()) >= 0 else "?"]
         for name, r in results.items()],
        ["view", *CPU_PROGRAMS, "total"],
    )  # fmt: skip
    print(f"\n{queued} pushes left queued in Redis (no worker drains them)")
    ratios = {name: results[name]["rps"] / bare for name in (GET, POST_2)}
    errors = sum(r["bad"] + r["socket_errors"] for r in results.values())
    for name, target in ((GET, 0.45), (POST_2, 0.2)):
        print(
            f"{name}: {ratios[name]:.3f}x the bare view, target {target}x:",
            "met" if ratios[name] >= target else "NOT met",
        )
    print("errors:", errors)


def prime(env, interest_ids, ticked):
    """Every member's choices as body A ticks them, so that body B changes exactly what it should. Rows for
    every member x interest: the pull stores only ticked ones, and a member without rows would see body B
    change all it ticks, not the difference. Written around the app, as the roster pull writes."""
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        conn.execute(
            "INSERT INTO subscribers_preference (subscriber_id, interest_id, value, imis_value, updated_at) "
            "SELECT s.id, i, i = ANY(%(ticked)s), i = ANY(%(ticked)s), now() "
            "FROM subscribers_subscriber s, unnest(%(ids)s::bigint[]) i "
            "ON CONFLICT (subscriber_id, interest_id) DO UPDATE SET value = EXCLUDED.value",
            {"ids": interest_ids, "ticked": ticked},
        )
    # What autovacuum would do in production after rewriting every row (this machine's server runs without
    # it): otherwise every lookup of the measured run walks the dead versions the priming left.
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE subscribers_preference")


def count_changes(conn):
    return conn.execute("SELECT count(*) FROM subscribers_preferencechange").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
