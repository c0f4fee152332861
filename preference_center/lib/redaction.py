"""Personal data out of log lines: personal-link tokens and email addresses become "[token]" and
"[email]". Imports no app and no model, so that logging (settings, gunicorn, the worker) can use it before
the apps load."""

import logging
import re

# Personal pages live under /p/<token>/: logs (Django's "Not Found: /p/..." warnings, errors with the
# request path) keep the path shape but never the token.
_TOKEN_IN_PATH = re.compile(r"(/p/)[^/\s?\"']+")
# Nor an email address that a client put in a path (e.g. /api/v1/members/<address>/), raw or %-encoded.
_EMAIL = re.compile(r"[\w.+%-]{1,200}(?:@|%40)[\w-]{1,63}(?:\.[\w-]{1,63})+")  # bounded: no slow backtracking


def redact(text: str) -> str:
    return _EMAIL.sub("[email]", _TOKEN_IN_PATH.sub(r"\1[token]", text))


_TRACEBACKS = logging.Formatter()


class RedactTokensFilter(logging.Filter):
    """A logging filter that replaces personal-link tokens (and addresses) with "[token]" ("[email]") in the
    message and in the traceback: a traceback is formatted here, redacted, and kept as the record's
    exc_text, which formatters print instead of formatting the exception again."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the formatter's problem, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
