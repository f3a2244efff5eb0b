"""JSON logs on stdout, one object per line, for the app and for uvicorn alike.

Every line carries the request id of the request being served (a context variable set by
the request middleware) and, when tracing is on, the trace and span ids.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from app.tracing import current_trace

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# attributes every LogRecord has: anything else came in through `extra=` and is logged
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        trace = current_trace()
        if trace:
            entry["trace_id"], entry["span_id"] = trace
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level: str) -> dict[str, Any]:
    """A logging.config dict: the root logger and uvicorn's loggers share one stdout handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stdout}
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # uvicorn's loggers propagate to the root handler instead of their own
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # one line per request comes from the app's middleware (with its id and duration)
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
