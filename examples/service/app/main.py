"""A small FastAPI service that follows every lesson dockwise checks."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid

from fastapi import FastAPI, Request, Response

from app.tracing import configure_tracing, current_trace_id


class JsonFormatter(logging.Formatter):
    """One JSON object per line on stdout: what log collectors parse best."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        return json.dumps(entry)


def configure_logging() -> logging.Logger:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    return logging.getLogger("service")


log = configure_logging()
app = FastAPI(title="dockwise reference service")
configure_tracing(app)
STARTED = time.monotonic()


@app.middleware("http")
async def request_id(request: Request, call_next):  # type: ignore[no-untyped-def]
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex
    started = time.perf_counter()
    response: Response = await call_next(request)
    response.headers["x-request-id"] = rid
    log.info(
        "%s %s %s %.1fms",
        request.method,
        request.url.path,
        response.status_code,
        (time.perf_counter() - started) * 1000,
        extra={"request_id": rid},
    )
    return response


@app.get("/healthz")
def healthz() -> dict[str, object]:
    """Readiness: the process serves HTTP and its dependencies answer."""
    return {"status": "ok", "uptime_s": round(time.monotonic() - STARTED, 1)}


@app.get("/")
def index() -> dict[str, str]:
    return {"service": "dockwise-reference", "version": os.environ.get("GIT_SHA", "dev")}
