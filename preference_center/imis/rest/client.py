"""An HTTP client for the iMIS REST API: one kept httpx connection pool, a shared bearer token renewed once
on a 401, 429/503 answered with Retry-After or capped exponential backoff, a bounded number of requests in
flight, and errors raised as the gateway's ImisUnavailable (worth retrying later) or ImisRefused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
from django.conf import settings

from preference_center.lib.backoff import exponential_backoff

from ..errors import ImisRefused, ImisUnavailable
from . import shapes
from .tokens import SharedToken

THROTTLED = frozenset({429, 503})
# Answers a GET may be retried on; a POST or PUT is not replayed after a 5xx (it may have committed).
RETRY_ON_READ = frozenset({500, 502, 504})


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None  # an HTTP date or garbage: use our own backoff


def _body(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    text = response.text.strip().splitlines()[0] if response.text.strip() else response.reason_phrase
    return shapes.error_message(_body(response), text)


class RestClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_in_flight: int = 4,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self._username = username
        self._password = password
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight),
        )
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self.token = SharedToken(self.base_url, username, self._login)

    @classmethod
    def from_settings(cls) -> RestClient:
        return cls(
            settings.IMIS_API_URL,
            settings.IMIS_API_USER,
            settings.IMIS_API_PASSWORD,
            connect_timeout=settings.IMIS_API_CONNECT_TIMEOUT,
            read_timeout=settings.IMIS_API_READ_TIMEOUT,
            max_in_flight=settings.IMIS_API_MAX_IN_FLIGHT,
            max_retries=settings.IMIS_API_MAX_RETRIES,
            backoff_cap=settings.IMIS_API_BACKOFF_CAP,
        )

    def close(self):
        self._http.close()

    def _send(self, method, path, **kwargs) -> httpx.Response:
        with self._slots:
            try:
                return self._http.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise ImisUnavailable(f"iMIS did not answer {method} {path} in time ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise ImisUnavailable(f"iMIS unreachable: {type(exc).__name__}: {exc}") from exc

    def _login(self) -> tuple[str, int]:
        data = {"grant_type": "password", "username": self._username, "password": self._password}
        response = self._send("POST", "token", data=data)
        if response.status_code != 200:
            if response.status_code in THROTTLED or response.status_code >= 500:
                raise ImisUnavailable(f"iMIS login answered {response.status_code}: {_message(response)}")
            raise ImisRefused(f"iMIS refused the login of {self._username!r}: {_message(response)}")
        body = _body(response) or {}
        if not body.get("access_token"):
            raise ImisRefused("iMIS login answered without an access_token")
        return body["access_token"], int(body.get("expires_in") or 3600)

    def _pause(self, attempt: int, response: httpx.Response):
        wait = _retry_after(response)
        if wait is None:
            wait = exponential_backoff(attempt + 1, base=self._backoff_base, cap=self._backoff_cap)
        time.sleep(min(wait, self._backoff_cap))

    def request(self, method: str, path: str, *, params=None, json=None, accept=(404,)) -> httpx.Response:
        """The answer to one call: 2xx, or a status in `accept` (the caller decides what a missing row, or a
        refused dry run, means)."""
        token = self.token.current()
        renewed = False
        attempt = 0
        while True:
            response = self._send(method, path, params=params, json=json, headers={"Authorization": f"Bearer {token}"})
            status = response.status_code
            if status < 300:
                return response
            if status == 401 and not renewed:
                token, renewed = self.token.renew(stale=token), True
                continue
            if status in accept:
                return response
            retryable = status in THROTTLED or (method == "GET" and status in RETRY_ON_READ)
            if retryable and attempt < self._max_retries:
                self._pause(attempt, response)
                attempt += 1
                continue
            if retryable or status >= 500:
                raise ImisUnavailable(f"iMIS answered {status} to {method} {path}: {_message(response)}")
            raise ImisRefused(f"iMIS refused {method} {path} ({status}): {_message(response)}")

    def get_json(self, path: str, params=None):
        response = self.request("GET", path, params=params)
        return None if response.status_code == 404 else _body(response)

    def iter_pages(self, path: str, params=None, page_size: int = shapes.MAX_PAGE_SIZE) -> Iterator[list]:
        """Each page's items of a PagedResult endpoint, one page in memory at a time."""
        limit = min(page_size, shapes.MAX_PAGE_SIZE)
        offset = 0
        while True:
            page = self.get_json(path, {**(params or {}), "limit": limit, "offset": offset})
            if not isinstance(page, dict) or "Items" not in page:
                raise ImisRefused(f"iMIS answered {path} without a PagedResult (no Items)")
            items = shapes.values(page["Items"])
            if items:
                yield items
            next_offset = int(page.get("NextOffset") or 0)
            if not page.get("HasNext") or next_offset <= offset:
                return
            offset = next_offset
