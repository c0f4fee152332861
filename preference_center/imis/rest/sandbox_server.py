"""A REST sandbox of ours: a small HTTP server that answers like an iMIS site's REST API, from the SQL
replica that `preference_center.imis.sandbox` builds. For tests, the demo and a developer
(`manage.py imis_rest_sandbox`); the gateway talks HTTP to it as to a real site.

Tokens expire and a second login of the same user expires the first one's, as on iMIS. Faults on demand,
from a test (`fail_next`, `slow_next`, `expire_tokens`, `read_only`) or over HTTP (`POST /_sandbox/faults`
with {"status", "count", "retry_after", "delay", "path"}, `POST /_sandbox/expire-tokens`,
`POST /_sandbox/read-only` with {"read_only": true}). A read-only user may read everything and gets a 403
SecurityFault for every write and every `_validate` dry run."""

from __future__ import annotations

import collections
import contextlib
import json
import secrets
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connections

from . import sandbox_data, shapes

HTTP_ERROR = "System.Web.Http.HttpError, System.Web.Http"
OBJECTS_SECONDS = 1.0
DEFAULT_USER = "SANDBOX"
DEFAULT_PASSWORD = "sandbox"


class RestSandbox:
    def __init__(
        self,
        using="imis",
        *,
        host="127.0.0.1",
        port=0,
        username=DEFAULT_USER,
        password=DEFAULT_PASSWORD,
        token_seconds=3600,
        read_only=False,
        without_objects=(),
        log_size=None,
    ):
        self.using = using
        self.read_only = read_only  # the service user lacks write rights
        # UD tables whose business object was never built (an iMIS Cloud site's legacy tables).
        self.without_objects = {name.lower() for name in without_objects}
        self.username = username
        self.password = password
        self.token_seconds = token_seconds
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # the one live token of our one user: token -> expiry
        self._faults: list[dict] = []
        self._sockets: set = set()  # the open client connections, each served by a thread of its own
        self._objects: tuple[float, dict] | None = None  # (when read, the UD tables' business objects)
        # (method, path) of every request, in order; the last `log_size` only, when given (a long run).
        self.requests = collections.deque(maxlen=log_size) if log_size else []
        self.counts: collections.Counter = collections.Counter()  # requests by kind (stats(): all of them)
        self.in_flight = 0
        self.in_flight_peak = 0  # the most requests it was answering at the same time
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> RestSandbox:
        self._thread = threading.Thread(target=self._server.serve_forever, name="imis-rest-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self.stop_listening()

    def stop_listening(self):
        """Stop accepting, and end the kept-alive connections (their threads then close their database
        connections: none is left open on the replica)."""
        self._server.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        while self._sockets and time.monotonic() < deadline:
            time.sleep(0.01)

    def objects(self) -> dict[str, dict]:
        """The UD tables served as business objects (sandbox_data.ud_tables), read again after a second:
        the catalogue costs more to read than most requests."""
        with self._lock:
            cached = self._objects
        if cached is None or time.monotonic() - cached[0] > OBJECTS_SECONDS:
            cached = (time.monotonic(), sandbox_data.ud_tables(self.using))
            with self._lock:
                self._objects = cached
        return {name: info for name, info in cached[1].items() if name.lower() not in self.without_objects}

    # --- faults on demand ---------------------------------------------------------------------------------

    def fail_next(
        self, status: int, *, count: int = 1, retry_after: float | None = None, path: str = "", method: str = ""
    ):
        """Answer the next `count` requests whose path starts with `path` (of `method`, if given) with
        `status`."""
        fault = {
            "status": status,
            "count": count,
            "retry_after": retry_after,
            "delay": 0,
            "path": path,
            "method": method,
        }
        with self._lock:
            self._faults.append(fault)

    def slow_next(self, seconds: float, *, count: int = 1, path: str = ""):
        with self._lock:
            self._faults.append(
                {"status": None, "count": count, "retry_after": None, "delay": seconds, "path": path, "method": ""}
            )

    def expire_tokens(self):
        with self._lock:
            self._tokens.clear()

    def stats(self) -> dict:
        """{"requests": how many, "by_kind": {"PUT /api/ud_EmailPrefs/{id}": how many, ...}}: for a bench."""
        with self._lock:
            counts = dict(self.counts)
        return {"requests": sum(counts.values()), "by_kind": counts, "in_flight_peak": self.in_flight_peak}

    def logins(self) -> int:
        return sum(1 for method, path in self.requests if method == "POST" and path == "/token")

    def take_fault(self, method: str, path: str) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault["path"] or "/") and fault["method"] in ("", method):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._faults.remove(fault)
                    return dict(fault)
        return None

    # --- tokens -------------------------------------------------------------------------------------------

    def login(self, form: dict) -> str | None:
        if (form.get("grant_type"), form.get("username"), form.get("password")) != (
            "password",
            self.username,
            self.password,
        ):
            return None
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens = {token: time.monotonic() + self.token_seconds}  # the previous token dies
        return token

    def token_valid(self, header: str) -> bool:
        token = header.removeprefix("Bearer ").strip()
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > time.monotonic()


def _kind(method: str, path: str) -> str:
    """`PUT /api/ud_EmailPrefs/{id}` for `PUT /api/ud_EmailPrefs/100042`: what a request does."""
    parts = path.strip("/").split("/")
    if len(parts) > 2 and parts[2] != "_validate":
        parts[2:] = ["{id}"]
    return f"{method} /{'/'.join(parts)}"


def _handler_for(sandbox: RestSandbox):
    class Handler(_Handler):
        pass

    Handler.sandbox = sandbox
    return Handler


class _Handler(BaseHTTPRequestHandler):
    sandbox: RestSandbox
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm, each answer would wait for the client's
    # delayed ACK (tens of milliseconds).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the standard library's name
        pass  # the tests and the developer read `sandbox.requests`, not stderr

    def handle(self):
        """All the requests of one kept-alive client connection, on one database connection of this
        thread (a connection per request would cost more than the request)."""
        with self.sandbox._lock:
            self.sandbox._sockets.add(self.connection)
        try:
            super().handle()
        finally:
            connections[self.sandbox.using].close()
            with self.sandbox._lock:
                self.sandbox._sockets.discard(self.connection)

    def do_GET(self):
        self._serve("GET")

    def do_PUT(self):
        self._serve("PUT")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.sandbox._lock:
            self.sandbox.requests.append((method, url.path))
            if not url.path.startswith("/_sandbox/"):
                self.sandbox.counts[_kind(method, url.path)] += 1
            self.sandbox.in_flight += 1
            self.sandbox.in_flight_peak = max(self.sandbox.in_flight_peak, self.sandbox.in_flight)
        try:
            if url.path.startswith("/_sandbox/"):
                return self._control(url.path, raw)
            fault = self.sandbox.take_fault(method, url.path)
            if fault and fault["delay"]:
                time.sleep(fault["delay"])
            if fault and fault["status"]:
                headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
                return self._send(fault["status"], {"Message": f"Sandbox fault {fault['status']}"}, headers)
            if url.path == "/token" and method == "POST":
                return self._token(raw)
            if not self.sandbox.token_valid(self.headers.get("Authorization", "")):
                return self._send(401, {"Message": "Authorization has been denied for this request."})
            if self.sandbox.read_only and method != "GET":
                return self._send(403, {"$type": HTTP_ERROR, "Message": f"SecurityFault: {method} {url.path} denied"})
            query = dict(urllib.parse.parse_qsl(url.query))
            body = json.loads(raw) if raw else None
            self._api(method, url.path, query, body)
        except sandbox_data.Refused as exc:
            self._send(400, {"Errors": {"$values": [{"Message": str(exc)}]}})
        except (ValueError, KeyError) as exc:
            self._send(400, {"Message": f"Bad request: {exc}"})
        except Exception as exc:  # noqa: BLE001 - a fault of ours answers like an iMIS fault, not a dropped socket
            self._send(500, {"Message": f"Sandbox error: {type(exc).__name__}: {exc}"})
        finally:
            connections[self.sandbox.using].close_if_unusable_or_obsolete()
            with self.sandbox._lock:
                self.sandbox.in_flight -= 1

    def _control(self, path, raw):
        if path == "/_sandbox/faults":
            spec = json.loads(raw or b"{}")
            if spec.get("delay"):
                self.sandbox.slow_next(float(spec["delay"]), count=int(spec.get("count", 1)), path=spec.get("path", ""))
            else:
                self.sandbox.fail_next(
                    int(spec["status"]),
                    count=int(spec.get("count", 1)),
                    retry_after=spec.get("retry_after"),
                    path=spec.get("path", ""),
                    method=spec.get("method", ""),
                )
        elif path == "/_sandbox/expire-tokens":
            self.sandbox.expire_tokens()
        elif path == "/_sandbox/stats":
            return self._send(200, self.sandbox.stats())
        elif path == "/_sandbox/read-only":
            self.sandbox.read_only = bool(json.loads(raw or b"{}").get("read_only", True))
        else:
            return self._send(404, {"Message": "No such sandbox control"})
        self._send(204, None)

    def _token(self, raw):
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        token = self.sandbox.login(form)
        if token is None:
            return self._send(
                400, {"error": "invalid_grant", "error_description": "The user name or password is incorrect."}
            )
        self._send(200, {"access_token": token, "token_type": "bearer", "expires_in": self.sandbox.token_seconds})

    def _api(self, method, path, query, body):
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if len(parts) < 2 or parts[0].lower() != "api":
            return self._send(404, {"Message": "No HTTP resource was found that matches the request URI."})
        using = self.sandbox.using
        entity, rest = parts[1], parts[2:]
        offset = max(0, int(query.get("offset", 0)))
        limit = min(max(1, int(query.get("limit", 100))), shapes.MAX_PAGE_SIZE)
        objects = self.sandbox.objects()
        if entity.lower() == "boentitydefinition" and method == "GET" and not rest:
            items = sandbox_data.entity_definitions(objects)
            return self._send(200, shapes.paged_result(items[offset : offset + limit], offset, limit, len(items)))
        if entity.lower() == "cscontact" and method == "GET" and not rest:
            sandbox_data.check_order(query.get("OrderBy"), sandbox_data.CONTACT_PROPERTIES, "CsContact")
            items, total = sandbox_data.contacts_page(using, offset, limit)
            return self._send(200, shapes.paged_result(items, offset, limit, total))
        if entity.lower() == "activity" and method == "GET" and not rest:
            items, total = sandbox_data.activities_page(using, query, offset, limit)
            return self._send(200, shapes.paged_result(items, offset, limit, total))
        if method == "POST" and [r.lower() for r in rest] == ["_validate"]:
            found = sandbox_data.validate(objects, entity, body)
            return self._send(200, found) if found else self._unknown(entity)
        if entity.lower() == "activity" and method == "POST" and not rest:
            return self._send(201, sandbox_data.activity_create(using, body))
        tables = {name.lower(): (name, info) for name, info in objects.items()}
        if entity.lower() not in tables:
            return self._unknown(entity)
        table, info = tables[entity.lower()]
        if not rest and method == "GET":
            sandbox_data.check_order(query.get("OrderBy"), info["columns"], table)
            items, total = sandbox_data.source_page(using, table, info, offset, limit)
            return self._send(200, shapes.paged_result(items, offset, limit, total))
        if not rest and method == "POST":
            return self._send(201, sandbox_data.source_create(using, table, info, body))
        if len(rest) == 1 and not info["multi"] and method in ("GET", "PUT"):
            found = (
                sandbox_data.source_row(using, table, info, rest[0])
                if method == "GET"
                else sandbox_data.source_update(using, table, info, rest[0], body)
                and sandbox_data.source_row(using, table, info, rest[0])
            )
            return self._send(200, found) if found else self._send(404, {"Message": f"No {table} row for {rest[0]}"})
        if len(rest) == 1 and info["multi"]:
            raise sandbox_data.Refused("ArgumentFault: Wrong number of identity elements")
        self._send(405, {"Message": f"{method} is not supported on {path}"})

    def _unknown(self, entity):
        self._send(404, {"Message": f"UnknownEntityTypeFault: {entity} is not a business object"})

    def _send(self, status, body, headers=None):
        data = b"" if body is None else json.dumps(body, default=str).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
