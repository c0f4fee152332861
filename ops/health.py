"""Health probes for load balancers and orchestrators.

- /healthz (liveness): the process answers; no I/O at all.
- /readyz (readiness): our database and Redis answer, each within HEALTH_CHECK_TIMEOUT seconds; 503 when one
  does not. iMIS is reported but never fails readiness: members' pages and saves work while iMIS is down
  (the outbox waits), so taking the web out of the load balancer would only make things worse.

Each check runs in a thread of its own and the probe waits at most HEALTH_CHECK_TIMEOUT for all of them, so a
hung Redis or database (a stopped process keeps its sockets open) cannot hang the probe or the web worker. A
check still hung from an earlier probe is not started again: the probe waits for that one, and says "timeout".
The answer names the checks, whether they passed and how long they took: no host, no error text, nothing
personal. The database check opens a connection of its own and closes it (a probe every few seconds per
machine costs PostgreSQL one short session each, and no web worker holds a second connection).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse

# iMIS is asked at most this often per process: a probe every few seconds need not open a session on the
# association's SQL Server each time.
IMIS_RECHECK_SECONDS = 30

_executors: dict[str, concurrent.futures.ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()
_redis_clients: dict[str, redis.Redis] = {}
_imis_result: dict = {}
_imis_probe = None
_running: dict[str, concurrent.futures.Future] = {}


def liveness(request):
    return JsonResponse({"status": "ok"})


def _executor(name):
    """One thread per check and process: a hung check holds only its own thread."""
    with _executors_lock:
        if name not in _executors:
            _executors[name] = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"health-{name}")
        return _executors[name]


def _select_one(alias):
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connections[alias].close()


def _redis_urls():
    urls = {settings.REDIS_URL, settings.CELERY_BROKER_URL}
    return sorted(u for u in urls if u and u.startswith(("redis://", "rediss://", "unix://")))


def _ping_redis():
    timeout = settings.HEALTH_CHECK_TIMEOUT
    for url in _redis_urls():
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        client.ping()


def imis_probe_set(probe):
    """Who asks iMIS whether it answers: the app that talks to iMIS registers its gateway's ping (sync.apps),
    so that this module knows neither the gateway nor which way (SQL or REST) it reaches iMIS."""
    global _imis_probe
    _imis_probe = probe
    _imis_result.clear()


def _check_imis():
    """iMIS's answer, reused for IMIS_RECHECK_SECONDS."""
    now = time.monotonic()
    if not _imis_result or now - _imis_result["at"] >= IMIS_RECHECK_SECONDS:
        try:
            if _imis_probe is None:
                raise ImisUnreachable("no probe registered")
            _imis_probe()
            reachable = True
        except Exception:
            reachable = False
        _imis_result.update(at=now, reachable=reachable)
    if not _imis_result["reachable"]:
        raise ImisUnreachable


class ImisUnreachable(Exception):
    pass


def _timed(check):
    started = time.monotonic()
    check()
    return round((time.monotonic() - started) * 1000, 1)


def _submit(name, check):
    """The check's future: a new run, or the one still running from an earlier probe (a hung server), so
    that probes never queue up behind it."""
    running = _running.get(name)
    if running is not None and not running.done():
        return running
    _running[name] = _executor(name).submit(_timed, check)
    return _running[name]


def _run(checks: dict) -> dict:
    """Each check's outcome and its own duration in ms (a check that ran out of time: the time waited)."""
    timeout = settings.HEALTH_CHECK_TIMEOUT
    started = time.monotonic()
    futures = {name: _submit(name, check) for name, check in checks.items()}
    results = {}
    for name, future in futures.items():
        left = max(timeout - (time.monotonic() - started), 0.0)
        try:
            results[name] = {"ok": True, "ms": future.result(timeout=left)}
        except (concurrent.futures.TimeoutError, redis.TimeoutError):
            # The probe stopped waiting, or the check's own client did (Redis's socket timeout is the
            # probe's): the same news, said the same way.
            results[name] = {"ok": False, "error": "timeout", "ms": round(timeout * 1000, 1)}
        except Exception as exc:  # the class only: messages can carry host names and user names
            results[name] = {
                "ok": False,
                "error": type(exc).__name__,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
    return results


def readiness(request):
    checks = {"database": lambda: _select_one("default"), "imis": _check_imis}
    if _redis_urls():
        checks["redis"] = _ping_redis
    results = _run(checks)
    ready = all(result["ok"] for name, result in results.items() if name != "imis")
    results["imis"]["fails_readiness"] = False
    return JsonResponse({"status": "ok" if ready else "fail", "checks": results}, status=200 if ready else 503)
