"""LOG_FORMAT=json: one JSON object per line, for log shippers. The handler keeps the token-redacting filter
(preference_center.lib.redaction), and the formatter redacts the traceback too, which the filter does not see."""

from __future__ import annotations

import datetime
import json
import logging

from preference_center.lib.redaction import redact


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)
