"""A request id that follows a save from the web to the worker, for the logs.

The web takes the id of the request (the proxy's X-Request-ID, e.g. nginx's $request_id, when it is a plain
token; else a fresh one) and keeps it in a context variable for the request. A task published meanwhile
carries it in its message headers (before_task_publish); the worker puts it back for the task's run
(task_prerun), so the task's log lines, and the tasks it publishes, carry the same id. A push that carries the
saves of several requests (PUSH_COALESCE_SECONDS) carries the id of the save that sent it.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "request_id"
_GIVEN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # what a proxy's id looks like; anything else is replaced
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current() -> str:
    return _current.get()


def _fresh_or(given: str) -> str:
    return given if given and _GIVEN.match(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the request id for the request (and answers it in X-Request-ID). It stays set until the response
    is closed (request_finished): Django logs a 4xx or 5xx answer after the middleware has returned."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _current.set(_fresh_or(request.META.get("HTTP_X_REQUEST_ID", "")))
        response = self.get_response(request)
        response["X-Request-ID"] = _current.get()
        return response


@receiver(request_finished, dispatch_uid="ops.request_id.finished")
def _request_finished(**kwargs):
    _current.set("")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("" outside a request or a task)."""

    def filter(self, record):
        record.request_id = _current.get()
        return True


@before_task_publish.connect(dispatch_uid="ops.request_id.publish")
def _carry(headers=None, **kwargs):
    value = _current.get()
    if value and headers is not None:
        headers[HEADER] = value


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect(dispatch_uid="ops.request_id.prerun")
def _take(task_id=None, task=None, **kwargs):
    value = getattr(task.request, HEADER, None) if task is not None else None
    if value and _GIVEN.match(str(value)):
        _task_tokens[task_id] = _current.set(str(value))


@task_postrun.connect(dispatch_uid="ops.request_id.postrun")
def _drop(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
