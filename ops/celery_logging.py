"""The worker's and beat's logs: JSON with LOG_FORMAT=json, and personal-link tokens redacted in either format.

With LOG_FORMAT=json a receiver of Celery's setup_logging makes Celery leave the root logger to Django's
LOGGING (the JSON handler with its filters). Otherwise Celery sets up its own handlers; after_setup_logger
gives them the same token filter as the web's, and a traceback filter: a task that fails on a value holding a
token (an exception's message) would print it in the traceback, which the message filter does not see.
"""

from __future__ import annotations

import logging

from celery.signals import after_setup_logger, after_setup_task_logger, setup_logging

from subscribers.tokens import RedactTokensFilter, redact


class RedactTracebacksFilter(logging.Filter):
    """Formats the record's traceback once, redacted; formatters print `exc_text` when it is set."""

    _formatter = logging.Formatter()

    def filter(self, record):
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self._formatter.formatException(record.exc_info))
        return True


def _keep_django_logging(**kwargs):
    """With a receiver of setup_logging connected, Celery configures no logging of its own."""


def worker_logging_as_json():
    setup_logging.connect(_keep_django_logging, dispatch_uid="ops.celery_logging.json", weak=False)


@after_setup_logger.connect(dispatch_uid="ops.celery_logging.redact")
@after_setup_task_logger.connect(dispatch_uid="ops.celery_logging.redact_task")
def _redact_celery_handlers(logger=None, **kwargs):
    for handler in getattr(logger, "handlers", ()):
        for kind in (RedactTokensFilter, RedactTracebacksFilter):
            if not any(isinstance(existing, kind) for existing in handler.filters):
                handler.addFilter(kind())
