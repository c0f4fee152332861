"""A deployment for the fault tests (web, worker and beat as real processes on a private Redis) and a
member's browser that talks to the web over HTTP, the way a member's does: load the page, tick, save
(bench/faults.py uses it too)."""

from __future__ import annotations

import contextlib
import http.cookiejar
import importlib
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connections

from tests.workers import Beat, Gunicorn, RedisServer, Worker


def beat_schedules():
    """The periodic tasks as the migration made them (a transactional test flushed them): the defaults."""
    importlib.import_module("preference_center.migrations.0001_beat_schedules").create(apps, None)


@dataclass
class Deployment:
    """gunicorn + a worker + beat on `redis` (broker and cache), as in "Running in production"."""

    redis: RedisServer
    web: Gunicorn
    worker: Worker
    beat: Beat

    @classmethod
    @contextlib.contextmanager
    def running(cls, redis: RedisServer, *, web_processes=1, **env):
        beat_schedules()
        common = {"REDIS_URL": redis.url, **env}
        processes = [
            Gunicorn("web", redis.url, {"WEB_CONCURRENCY": web_processes, **common}),
            Worker("worker", redis.url, common),
            Beat("beat", redis.url, common),
        ]
        started = []
        try:
            for process in processes:
                process.start()
                started.append(process)
            yield cls(redis, *processes)
        finally:
            for process in reversed(started):
                process.stop()
            connections.close_all()


_INPUT = re.compile(r"<input\b[^>]*>")
_ATTR = re.compile(r'(\w[\w-]*)(?:="([^"]*)")?')


@dataclass
class Page:
    """A member's form as the browser got it: the hidden fields and the boxes with their ticks."""

    url: str
    hidden: dict[str, str]
    boxes: dict[str, bool] = field(default_factory=dict)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the save's answer itself (a redirect to the saved page), not the page after it


class MemberBrowser:
    """One member's browser (its own cookies) on their personal page."""

    def __init__(self, base_url: str, token: str):
        self.url = f"{base_url}/p/{token}/"
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self._opener = urllib.request.build_opener(cookies, _NoRedirect())

    def load(self) -> Page:
        with self._opener.open(self.url, timeout=30) as response:
            html = response.read().decode()
        page = Page(self.url, {})
        start = html.index('class="preferences"')  # the member's form, not the language switcher's
        for tag in _INPUT.findall(html[start : html.index("</form>", start)]):
            attrs = {name: value for name, value in _ATTR.findall(tag[6:])}
            kind, name = attrs.get("type"), attrs.get("name")
            if kind == "hidden" and name:
                page.hidden[name] = attrs.get("value") or ""
            elif kind == "checkbox" and name:
                page.boxes[name] = "checked" in attrs
        return page

    def save(self, page: Page, **ticks: bool) -> tuple[int, float]:
        """Submit `page` with the boxes of `ticks` (interest_<id>=True/False) set, the others as they were
        shown: (HTTP status, seconds the answer took)."""
        boxes = {**page.boxes, **ticks}
        data = {**page.hidden, "action": "save", **{name: "on" for name, on in boxes.items() if on}}
        request = urllib.request.Request(page.url, data=urllib.parse.urlencode(data).encode(), method="POST")
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:  # a 3xx not followed, or a 4xx/5xx
            status = error.code
        return status, time.monotonic() - started
