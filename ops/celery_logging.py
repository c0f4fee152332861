"""The worker's and beat's logs: JSON with LOG_FORMAT=json, and personal-link tokens redacted in either format.

With LOG_FORMAT=json a receiver of Celery's setup_logging makes Celery leave the root logger to Django's
LOGGING (the JSON handler with its filters). Otherwise Celery sets up its own handlers; after_setup_logger
gives them the same token filter as the web's, which redacts tracebacks too (a task that fails on a value
holding a token would print it in its traceback).
"""

from __future__ import annotations

from celery.signals import after_setup_logger, after_setup_task_logger, setup_logging

from preference_center.lib.redaction import RedactTokensFilter


def _keep_django_logging(**kwargs):
    """With a receiver of setup_logging connected, Celery configures no logging of its own."""


def worker_logging_as_json():
    setup_logging.connect(_keep_django_logging, dispatch_uid="ops.celery_logging.json", weak=False)


@after_setup_logger.connect(dispatch_uid="ops.celery_logging.redact")
@after_setup_task_logger.connect(dispatch_uid="ops.celery_logging.redact_task")
def _redact_celery_handlers(logger=None, **kwargs):
    for handler in getattr(logger, "handlers", ()):
        if not any(isinstance(existing, RedactTokensFilter) for existing in handler.filters):
            handler.addFilter(RedactTokensFilter())
