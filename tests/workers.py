"""Real servers and processes for the worker tests: a private redis-server, a TCP proxy in front of the
iMIS replica that a test can cut, and `celery worker`, `celery beat` and gunicorn subprocesses on the test
databases.

Nothing here is mocked: Redis down is a killed redis-server, iMIS down is a closed proxy, a crashed worker
is a SIGKILLed process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.1):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A private redis-server (no persistence: a restart loses every message, the worst case)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(lambda: self._ping(client), 10, "redis-server to start")
        client.close()

    @staticmethod
    def _ping(client):
        with contextlib.suppress(redis.ConnectionError):
            return client.ping()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server, too
            self.process.kill()
            self.process.wait(timeout=10)

    def freeze(self):
        """SIGSTOP: connections stay open and nothing answers (a hung server, not a dead one)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def publishing_to(url):
    """Inside the block this process publishes Celery messages to the broker at `url` (not eagerly), as the
    web process and beat do. Celery and kombu keep connection pools per broker: forgotten on the way in and
    out, so that each send uses the broker the conf names then."""
    from kombu import pools

    from preference_center.celery import app

    def forget():
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    forget()
    try:
        yield
    finally:
        app.conf.update(saved)
        forget()


class TcpProxy:
    """127.0.0.1:<port> -> upstream. `close()` refuses new connections and cuts the open ones; `open()`
    accepts again on the same port."""

    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, int(upstream_port))
        self.port = free_port()
        self._listener = None
        self._sockets = set()
        self._lock = threading.Lock()

    def open(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self):
        listener, self._listener = self._listener, None
        if listener:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, server):  # forward each piece at once: no Nagle wait for a delayed ACK
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


class _Process:
    """A subprocess on the test databases, as `PC_TEST_WORKER` settings make it (tests/settings.py): its own
    process group, its output in var/test-<kind>-<name><PC_TEST_DB_SUFFIX>.log."""

    kind = ""

    def __init__(self, name, broker_url, env=None):
        self.name = name
        self.broker_url = broker_url
        self.env = env or {}
        self.process = None
        self.log = ROOT / "var" / f"test-{self.kind}-{name}{os.environ.get('PC_TEST_DB_SUFFIX', '')}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PC_TEST_WORKER": "1",
            "PC_TEST_BROKER_URL": self.broker_url,
            **{k: str(v) for k, v in self.env.items()},
        }
        self.log.parent.mkdir(exist_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes all of it
            )
        wait_until(lambda: self.ready() or self._died(), 60, f"{self.kind} {self.name} to start")
        if self.process.poll() is not None:
            raise AssertionError(f"{self.kind} {self.name} died at start:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _logged(self, marker: bytes) -> bool:
        return marker in self.log.read_bytes()[-20000:] if self.log.exists() else False

    def _died(self):
        return self.process.poll() is not None

    def kill(self):
        """SIGKILL: no cleanup, no acknowledgement, open transactions cut."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(_Process):
    """`celery worker` (solo pool: one process) on the test databases and the given broker."""

    kind = "worker"

    def command(self):
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "preference_center",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={self.name}@%h",
            "--loglevel=INFO",
        ]

    def ready(self):
        return self._logged(b"ready.")


class Beat(_Process):
    """`celery beat` with the production scheduler (django-celery-beat's rows in the test database)."""

    kind = "beat"

    def command(self):
        return [sys.executable, "-m", "celery", "-A", "preference_center", "beat", "--loglevel=DEBUG"]

    def ready(self):
        return self._logged(b"beat: Starting")


class Gunicorn(_Process):
    """gunicorn as in production (gunicorn.conf.py) on a free port; `env` e.g. WEB_CONCURRENCY, REDIS_URL
    (the web's cache)."""

    kind = "web"

    def __init__(self, name, broker_url, env=None):
        super().__init__(name, broker_url, env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self):
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "preference_center.wsgi",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{self.port}",
        ]

    def ready(self):
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return s.recv(12).startswith(b"HTTP/1")
        return False
