"""Shared pieces of the benchmarks: throwaway PostgreSQL databases, manage.py in a subprocess with its own
environment, gunicorn, a private redis-server and Celery as in production, wrk and its numbers, CPU time
read from /proc. Nothing here is timed by the test suite."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookies
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import h11
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url(name):
    base, _, _ = POSTGRES.rpartition("/")
    return f"{base}/{name}"


@contextlib.contextmanager
def postgres_databases(*names):
    """Fresh, empty PostgreSQL databases, dropped afterwards."""
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [pg_url(n) for n in names]
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMIS_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "preference_center.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),  # DEBUG off: the app refuses a weak key
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def manage(env, *args, capture=False):
    result = subprocess.run(
        [PYTHON, "manage.py", *map(str, args)], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env, port):
    """gunicorn with the production configuration (gunicorn.conf.py), access log off."""
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "preference_center.wsgi", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--error-logfile", "-"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield proc
    finally:
        stop_group(proc, grace=30)


def stop_group(proc, grace=20):
    """SIGTERM to a process group started with start_new_session=True, SIGKILL if it outlives `grace`."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def redis_server():
    """A private redis-server on a free port (no persistence), killed afterwards: a bench never reads or
    flushes what others keep in the shared server. Yields its url and pid."""
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is missing: apt-get install redis-server")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        client = redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        client.close()
        yield types.SimpleNamespace(url=f"redis://127.0.0.1:{port}/0", pid=proc.pid)
    finally:
        stop_group(proc, grace=5)


# What each Celery program logs once it is serving (at --loglevel INFO, as in production).
_CELERY_READY = {"worker": b" ready.", "beat": b"beat: Starting..."}


@contextlib.contextmanager
def celery(env, program, log_path, timeout=60):
    """`celery -A preference_center worker|beat --loglevel INFO` as the README runs it in production, in its
    own process group, its output in `log_path`; waits until it serves, stops it afterwards."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "celery"), "-A", "preference_center", program, "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while _CELERY_READY[program] not in Path(log_path).read_bytes():
            if time.monotonic() > deadline or proc.poll() is not None:
                tail = Path(log_path).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"celery {program} did not start:\n{tail}")
            time.sleep(0.2)
        yield proc
    finally:
        stop_group(proc)


VISIBLE_INTERESTS = """
import json
from django.apps import apps
RemoteInterest = apps.get_model("interests", "RemoteInterest")
RemoteInterest.objects.update(visible=False)
ids = list(RemoteInterest.objects.filter(table_name__startswith="ud_Extra_", present_in_imis=True)
           .order_by("table_name", "field_name").values_list("pk", flat=True)[:{count}])
assert len(ids) == {count}, ids
RemoteInterest.objects.filter(pk__in=ids).update(visible=True)
print(json.dumps(ids))
"""


def imis_replica(env, *, members, interests=20):
    """An iMIS replica of `members` members with one extra UD table of `interests` checkbox fields
    (imis_sandbox), discovered, with exactly those fields on the form; returns their ids. The roster is not
    pulled yet."""
    manage(env, "imis_sandbox", "--members", members, "--extra-tables", 1, "--fields-per-table", interests, "-v0")
    manage(env, "imis_discover", "-v0")
    script = VISIBLE_INTERESTS.format(count=interests)
    return json.loads(manage(env, "shell", "-c", script, capture=True).strip().splitlines()[-1])


def machine():
    """One line about this machine now: cores, load average, what else is busy."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), load average {load}"


def busy_cores_seconds():
    """CPU seconds all cores of this machine have spent busy since boot (/proc/stat), for a delta."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # from field 3 (state) on


def group_cpu_seconds(pgids):
    """CPU seconds (user + system, with reaped children's) of every process in the process groups `pgids`
    (each bench process runs in a session of its own): a gunicorn arbiter and its workers, a Celery worker
    and its pool. A process that exits before its parent reaps it takes its time with it."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(pgids, 0.0)
    for stat in Path("/proc").glob("[0-9]*"):
        try:
            fields = _stat_fields(stat.name)
        except (OSError, ValueError):
            continue
        pgid = int(fields[2])
        if pgid in used:
            used[pgid] += sum(int(x) for x in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return used


def pids_cpu_seconds(pids):
    """CPU seconds of each process of `pids` still running (PostgreSQL backends: pg_stat_activity)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            fields = _stat_fields(pid)
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


class CpuMeter:
    """CPU seconds of a bench's processes over an interval: `groups` ({name: process group id}, e.g. gunicorn
    or a Celery worker), the PostgreSQL backends of its `databases` (read through the `postgres`
    connection), this process (the load generator), and the whole machine."""

    def __init__(self, groups, postgres, databases):
        self.groups, self.postgres, self.databases = groups, postgres, list(databases)

    def read(self):
        backends = self.postgres.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s) AND pid <> pg_backend_pid()", [self.databases]
        ).fetchall()
        own = resource.getrusage(resource.RUSAGE_SELF)
        by_group = group_cpu_seconds(list(self.groups.values()))
        return {
            **{name: by_group[pgid] for name, pgid in self.groups.items()},
            "postgres": pids_cpu_seconds([pid for (pid,) in backends]),
            "load generator (this process)": own.ru_utime + own.ru_stime,
            "whole machine (everyone's processes)": busy_cores_seconds(),
        }

    @staticmethod
    def spent(before, after):
        """Backends that started during the interval count in full; those that ended are lost."""
        old = before["postgres"]
        postgres = sum(cpu - old.get(pid, 0.0) for pid, cpu in after["postgres"].items())
        return {name: (postgres if name == "postgres" else after[name] - before[name]) for name in after}


def percentile(values, q):
    """Nearest-rank percentile (`q` from 0 to 1) of `values`; NaN without values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


@dataclass
class Answer:
    status: int
    headers: list
    body: bytes

    def cookie(self, name):
        jar = http.cookies.SimpleCookie()
        for key, value in self.headers:
            if key == b"set-cookie":
                jar.load(value.decode("latin-1"))
        return jar[name].value if name in jar else None


async def exchange(method, url, headers, body=b""):
    """One HTTP/1.1 request on a connection of its own (gunicorn's sync workers close every connection),
    spoken by h11, the protocol library under httpx, without httpx's layers: far less CPU per request
    (docs/benchmarks.md), which matters when the client shares 2 cores with the server."""
    parts = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        conn = h11.Connection(h11.CLIENT)
        head = [("Host", parts.netloc), ("Connection", "close"), *headers.items()]
        if method == "POST":
            head.append(("Content-Length", str(len(body))))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        out = conn.send(h11.Request(method=method, target=target, headers=head))
        out += (conn.send(h11.Data(data=body)) if body else b"") + conn.send(h11.EndOfMessage())
        writer.write(out)
        answer = Answer(0, [], b"")
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                answer.status, answer.headers = event.status_code, event.headers
            elif isinstance(event, h11.Data):
                answer.body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return answer
    finally:
        writer.close()


def need_wrk():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (WITH_BENCH=1 bin/bootstrap does it)")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


CPU_PROGRAMS = ("gunicorn", "postgres", "redis-server", "wrk")


def cpu_seconds():
    """CPU time (user + system) used so far by the running processes of each program in CPU_PROGRAMS,
    machine-wide. A process that exits takes its time with it: the web workers, the database backends they
    keep open (CONN_MAX_AGE) and Redis live through a run; wrk, which exits, is counted by wrk()."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(CPU_PROGRAMS, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        program = next((p for p in CPU_PROGRAMS if name.startswith(p[:15])), None)
        if program is not None:
            used[program] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return used


def wrk(url, *, connections=32, threads=2, seconds=10, script=None):
    """Run wrk; return requests/s, p50 and p99 latency (ms), the count of non-2xx/3xx answers, and the CPU
    microseconds each program of CPU_PROGRAMS spent per request."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    before, children = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    after, done = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    after["wrk"] = before["wrk"] + (done.ru_utime + done.ru_stime) - (children.ru_utime + children.ru_stime)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1)) or 1
    return {
        "cpu_us": {p: (after[p] - before[p]) / requests * 1e6 for p in CPU_PROGRAMS},
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "bad": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
