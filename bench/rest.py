"""REST benchmark (issue 15): the pull of 100,000 members x 60 checkbox fields (3 UD tables x 20) and the
push of 10,000 changes, over the REST sandbox (`manage.py imis_rest_sandbox`, a process of its own, on a
PostgreSQL replica), each run in a process of its own with only IMIS_API_* set.

Prints the requests made (the sandbox counts them), time and peak memory (ru_maxrss of the pulling or
pushing process, and its RSS sampled while it runs: flat or growing), and a baseline measured in the same
run: the same HTTP requests made by a bare httpx loop (one connection, no Django, bodies read and thrown
away; the push's: GET, PUT, POST per change). Targets: requests per pushed change <= 3; pull memory
<= 300 MB and flat; pull time within 2x of the requests' own time.

    .venv/bin/python bench/rest.py [--members 100000] [--changes 10000]
"""

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time

import httpx
from harness import PYTHON, ROOT, environment, free_port, manage, postgres_databases, stop_group, table
from measure import PULL, measure

USER, PASSWORD = "SANDBOX", "sandbox"
TABLES = ["ud_Extra_1", "ud_Extra_2", "ud_Extra_3"]

PUSH = """
from subscribers.models import PreferenceChange
from sync.services import push
result = push.changes_push(max_batches=10**6)
extra = {"done": PreferenceChange.objects.filter(state="done").count(), "errors": result.errors[:3]}
"""

SETUP = f"""
from interests.models import RemoteInterest
from sync.services.discovery import interests_discover
run = interests_discover()
assert run.ok, run.error
RemoteInterest.objects.update(visible=False)
print(RemoteInterest.objects.filter(table_name__in={TABLES!r}).update(visible=True), "interests visible")
"""

# N pending changes of ud_Extra_1.TOPIC_01, each the opposite of what the pull found (so that every one
# is a PUT), for the first members with a ud_Extra_1 row (the sandbox leaves it out for every 23rd).
CHANGES = """
from interests.models import RemoteInterest
from preference_center.imis.sandbox import member_id
from subscribers.models import Preference, PreferenceChange, Subscriber
interest = RemoteInterest.objects.get(table_name="ud_Extra_1", field_name="TOPIC_01")
ids = [member_id(i) for i in range({n} * 24 // 22 + 23) if i % 23 != 22][:{n}]
members = Subscriber.objects.in_bulk(ids, field_name="imis_id")
on = set(Preference.objects.filter(interest=interest, value=True, subscriber__imis_id__in=ids).values_list(
    "subscriber__imis_id", flat=True))
PreferenceChange.objects.bulk_create([
    PreferenceChange(subscriber=members[i], interest=interest, old_value=i in on, new_value=i not in on,
                     source="form", label_shown="Topic 1.1")
    for i in ids], batch_size=2000)
print(len(ids), "changes pending")
"""


def login(client):
    answer = client.post("token", data={"grant_type": "password", "username": USER, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def bare_pull(url, order_by="ID"):
    """The pull's requests (every page of CsContact and of each table, 500 rows a page) in a bare loop."""
    with httpx.Client(base_url=url, timeout=60) as client:
        headers = login(client)
        started, requests = time.perf_counter(), 0
        for path in ["api/CsContact", *(f"api/{t}" for t in TABLES)]:
            offset = 0
            while True:
                answer = client.get(path, params={"OrderBy": order_by, "limit": 500, "offset": offset}, headers=headers)
                requests += 1
                page = answer.json()
                if not page["HasNext"]:
                    break
                offset = page["NextOffset"]
        return time.perf_counter() - started, requests


def bare_push(url, n):
    """GET, PUT and POST Activity per change, as the push sends them (TOPIC_02 of the same members), with
    nothing but httpx and dicts."""
    ids = [str(100000 + i) for i in range(n * 24 // 22 + 23) if i % 23 != 22][:n]
    with httpx.Client(base_url=url, timeout=60) as client:
        headers = login(client)
        started = time.perf_counter()
        for k, imis_id in enumerate(ids):
            row = client.get(f"api/ud_Extra_1/{imis_id}", headers=headers).json()
            for prop in row["Properties"]["$values"]:
                if prop["Name"] == "TOPIC_02":
                    held = prop["Value"]["$value"] if isinstance(prop["Value"], dict) else prop["Value"]
                    prop["Value"] = {"$type": "System.Boolean", "$value": not held}
            client.put(f"api/ud_Extra_1/{imis_id}", json=row, headers=headers).raise_for_status()
            values = {"PartyId": imis_id, "ACTIVITY_TYPE": "iOptout", "PRODUCT_CODE": "TOPIC_02",
                      "SOURCE_SYSTEM": "BASELINE", "SOURCE_CODE": f"bare-{k}"}  # fmt: skip
            activity = {
                "EntityTypeName": "Activity",
                "PrimaryParentEntityTypeName": "Party",
                "Properties": {"$values": [{"Name": name, "Value": v} for name, v in values.items()]},
            }
            client.post("api/Activity", json=activity, headers=headers).raise_for_status()
        return time.perf_counter() - started, 3 * len(ids)


def stats(url):
    return httpx.get(url + "_sandbox/stats", timeout=30).json()


def delta(before, after):
    kinds = {k: after["by_kind"].get(k, 0) - before["by_kind"].get(k, 0) for k in after["by_kind"]}
    return after["requests"] - before["requests"], {k: v for k, v in kinds.items() if v}


@contextlib.contextmanager
def rest_sandbox(env, port):
    proc = subprocess.Popen(
        [PYTHON, "manage.py", "imis_rest_sandbox", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "_sandbox/stats", timeout=2).status_code == 200:
                break
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the REST sandbox did not start")
        time.sleep(0.2)
    try:
        yield url
    finally:
        stop_group(proc)


def report(args, pull, again, bare, pull_requests, push_run, push_requests, push_kinds, bare_push_run):
    mb = lambda r: f"{r['peak_mb']:.0f}"  # noqa: E731
    quarters = lambda r: " / ".join(f"{x:.0f}" for x in r["rss_quarters_mb"])  # noqa: E731
    print(f"\nPull of {args.members} members x 60 checkbox fields (3 UD tables) over REST (500 rows a page)")
    table(
        [
            ["bare httpx loop (baseline)", bare[1], f"{bare[0]:.1f}", "", "", "1.00"],
            [
                "roster_pull, first import",
                pull_requests[0],
                f"{pull['seconds']:.1f}",
                mb(pull),
                quarters(pull),
                f"{pull['seconds'] / bare[0]:.2f}",
            ],
            [
                "roster_pull, nothing changed",
                pull_requests[1],
                f"{again['seconds']:.1f}",
                mb(again),
                quarters(again),
                f"{again['seconds'] / bare[0]:.2f}",
            ],
        ],  # fmt: skip
        ["run", "requests", "seconds", "peak MB", "RSS at 1/4, 1/2, 3/4, end (MB)", "x baseline"],
    )
    print(f"first pull counts: {pull['counts']}")
    n = push_run["done"]
    print(f"\nPush of {args.changes} changes over REST (batches of 500, one process)")
    table(
        [
            ["bare httpx loop (baseline)", bare_push_run[1], f"{bare_push_run[0]:.1f}", "", "1.00"],
            [
                "changes_push",
                push_requests,
                f"{push_run['seconds']:.1f}",
                f"{push_requests / max(n, 1):.2f}",
                f"{push_run['seconds'] / bare_push_run[0]:.2f}",
            ],
        ],  # fmt: skip
        ["run", "requests", "seconds", "requests per change", "x baseline"],
    )
    print(f"changes done: {n}; requests by kind: {push_kinds}; peak MB {mb(push_run)}")
    ok = (
        pull["ok"]
        and n == args.changes
        and push_requests <= 3 * n
        and max(pull["peak_mb"], again["peak_mb"]) <= 300
        and pull["seconds"] <= 2 * bare[0]
    )
    print("targets (<= 3 requests per change, <= 300 MB, pull <= 2x its requests' time):", "met" if ok else "NOT met")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    args = parser.parse_args()
    names = ("pc_bench_rest", "pc_bench_rest_imis")
    with postgres_databases(*names) as (ours, imis), tempfile.TemporaryDirectory() as var:
        sql_env = environment(DATABASE_URL=ours, IMIS_DATABASE_URL=imis, PYTHONPATH=ROOT, VAR_DIR=var)
        print(f"Building the replica: {args.members} members, 3 extra UD tables x 20 checkbox fields ...")
        manage(sql_env, "migrate", "-v0")
        manage(sql_env, "imis_sandbox", "--members", args.members, "--extra-tables", 3, "--fields-per-table", 20)
        with rest_sandbox(sql_env, free_port()) as url:
            env = environment(DATABASE_URL=ours, IMIS_API_URL=url, IMIS_API_USER=USER, IMIS_API_PASSWORD=PASSWORD,
                              PYTHONPATH=ROOT, VAR_DIR=var, PUSH_BATCH_SIZE=500)  # fmt: skip
            manage(env, "shell", "-c", SETUP)
            marks = [stats(url)]
            pull = measure(env, PULL)
            marks.append(stats(url))
            again = measure(env, PULL)
            marks.append(stats(url))
            print("pull measured; the push ...", flush=True)
            manage(env, "shell", "-c", CHANGES.format(n=args.changes))
            before = stats(url)
            push_run = measure(env, PUSH)
            push_requests, push_kinds = delta(before, stats(url))
            print("push measured; the bare loops ...", flush=True)
            # Last: their login expires the token the app's processes share.
            bare = bare_pull(url)
            bare_push_run = bare_push(url, args.changes)
    pull_requests = [delta(marks[0], marks[1])[0], delta(marks[1], marks[2])[0]]
    report(args, pull, again, bare, pull_requests, push_run, push_requests, push_kinds, bare_push_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
