"""Debugging the running service from outside: structured logs, request ids and tracing in
the Python code a service runs (DW712-DW714). Advice (info), one finding per missing
capability per service that runs Python code dockwise can read.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator

from msgspec import Struct

from dockwise.findings import Hit
from dockwise.model.link import is_dev_name
from dockwise.model.service import Service
from dockwise.project import Project
from dockwise.rules._app import ServiceCode, service_code, start_commands
from dockwise.rules._scopes import service_rule


def _text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


_DOCKERFILE = _text("""
    FROM python:3.11-slim
    WORKDIR /app
    ENV PYTHONUNBUFFERED=1
    COPY . .
    CMD ["uvicorn", "shop.main:app", "--host", "0.0.0.0", "--port", "8000"]
""")
_BARE_APP = _text("""
    import logging

    from fastapi import FastAPI

    logging.basicConfig(level=logging.INFO)
    app = FastAPI()


    @app.get("/health")
    def health():
        return {"status": "ok"}
""")
_CAREFUL_APP = _text("""
    import logging

    import sentry_sdk
    from asgi_correlation_id import CorrelationIdFilter, CorrelationIdMiddleware
    from fastapi import FastAPI
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(CorrelationIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    sentry_sdk.init(traces_sample_rate=0.1)

    app = FastAPI()
    app.add_middleware(CorrelationIdMiddleware)


    @app.get("/health")
    def health():
        return {"status": "ok"}
""")


def _example(app: str) -> dict[str, str]:
    return {"Dockerfile": _DOCKERFILE, "shop/__init__.py": "", "shop/main.py": app}


class _Capability(Struct, frozen=True):
    name: str
    # text that shows the capability anywhere in the service's Python code
    markers: tuple[bytes, ...]
    # programs that add it around the server (`opentelemetry-instrument gunicorn ...`)
    wrappers: frozenset[str] = frozenset()
    # environment variables that configure it (auto-instrumentation, agents)
    env_prefixes: tuple[str, ...] = ()


_STRUCTURED = _Capability(
    "structured logs",
    (
        b"structlog",
        b"pythonjsonlogger",
        b"json_log_formatter",
        b"JsonFormatter",
        b"JSONFormatter",
        b"JSONRenderer",
        b"jsonlogger",
        b"json_logging",
        b"ecs_logging",
        b"logstash",
        b"loguru",
    ),
)
_REQUEST_IDS = _Capability(
    "request ids",
    (
        b"asgi_correlation_id",
        b"correlation_id",
        b"flask_request_id",
        b"flask_log_request_id",
        b"django_guid",
        b"log_request_id",
        b"request_id",
        b"request-id",
        b"Request-Id",
        b"Request-ID",
        b"REQUEST_ID",
        b"Correlation-Id",
        b"Correlation-ID",
        # trace context headers put on every log line do the same job
        b"X-Cloud-Trace-Context",
        b"x-cloud-trace-context",
        b"traceparent",
        b"X-Amzn-Trace-Id",
    ),
)
_TRACING = _Capability(
    "tracing",
    (
        b"opentelemetry",
        b"ddtrace",
        b"elasticapm",
        b"sentry_sdk",
        b"newrelic",
        b"opencensus",
        b"aws_xray_sdk",
        b"jaeger_client",
        b"scout_apm",
        b"raven",
    ),
    frozenset({"opentelemetry-instrument", "ddtrace-run", "newrelic-admin"}),
    ("OTEL_", "DD_TRACE", "DD_SERVICE", "SENTRY_DSN", "NEW_RELIC_", "ELASTIC_APM_"),
)


def _has(capability: _Capability, code: ServiceCode, service: Service, project: Project) -> bool:
    if code.app.modules_mentioning(capability.markers):
        return True
    if not capability.wrappers and not capability.env_prefixes:
        return False
    for command in start_commands(service, project):
        names = {word.rsplit("/", 1)[-1] for word in command.argv}
        if names & capability.wrappers:
            return True
        if any(name.startswith(capability.env_prefixes) for name in command.env):
            return True
    return False


def _candidate(service: Service, project: Project) -> ServiceCode | None:
    dockerfile = service.dockerfile
    if dockerfile is None or is_dev_name(dockerfile.relpath):
        return None  # development and test images are debugged on a laptop
    if service.containers and not service.compose and not any(service.runtime_containers):
        return None  # run only as Kubernetes Jobs and init containers: not a service
    return service_code(service, project)


def _frameworks(code: ServiceCode) -> set[str]:
    found: set[str] = set()
    for module, _entry in code.code_path():
        found |= module.frameworks
    if any(
        module.dotted.rpartition(".")[2] in ("wsgi", "asgi", "settings")
        for module in (e.module for e in code.entries)
    ):
        found.add("django")
    return found


def _finding(
    code: ServiceCode, service: Service, what: str, fix: str, advice: Iterable[str] = ()
) -> Hit:
    entry = code.entries[0]
    message = f"service {service.name} has no {what}: {' '.join(advice)}".rstrip(": ")
    return Hit(
        path=code.display(entry, entry.module.relpath),
        line=None,
        message=message,
        fix=fix,
        related=(entry.command.related(),),
    )


_NOTE = """
    dockwise looks for the packages and settings anywhere in the Python code under the
    service's build context, in the command that starts it (wrappers such as
    `opentelemetry-instrument`) and in its environment; it reports services whose code it
    can read (an app module named by the server command, `python -m`, `python x.py`).
    Development and test images, and images run only as Kubernetes Jobs, are left out.
"""


@service_rule(
    "DW712",
    lesson="debugging",
    severity="info",
    title="No structured (JSON) logs",
    why="""
        Plain-text log lines are read by people one at a time; during an incident the
        question is "every error for customer 42 in the last hour", which only a log
        platform can answer if each line is a record (JSON with level, logger, message
        and fields). structlog or python-json-logger make the service's logs records
        without changing its logging calls.
    """
    + _NOTE,
    fix="""
        Add `python-json-logger` and set `pythonjsonlogger.json.JsonFormatter` on the root
        handler (Django: a `"()": "pythonjsonlogger.json.JsonFormatter"` formatter in
        LOGGING), or use `structlog` with `structlog.processors.JSONRenderer()`.
    """,
    bad=_example(_BARE_APP),
    good=_example(_CAREFUL_APP),
)
def no_structured_logs(service: Service, project: Project) -> Iterator[Hit]:
    code = _candidate(service, project)
    if code is None or _has(_STRUCTURED, code, service, project):
        return
    yield _finding(
        code,
        service,
        "structured logs",
        "Add python-json-logger (`pythonjsonlogger.json.JsonFormatter` on the root "
        "handler) or structlog (`structlog.processors.JSONRenderer()`).",
        ("no structlog, python-json-logger or JSON formatter in its code",),
    )


_REQUEST_ID_FIX = {
    "fastapi": "asgi-correlation-id (`app.add_middleware(CorrelationIdMiddleware)`, "
    "`CorrelationIdFilter` on the log handler)",
    "starlette": "asgi-correlation-id (`CorrelationIdMiddleware`, `CorrelationIdFilter`)",
    "flask": "flask-log-request-id (`RequestID(app)`, `RequestIDLogFilter` on the handler)",
    "django": "django-guid (`django_guid.middleware.guid_middleware` in MIDDLEWARE and its "
    "log filter) or django-log-request-id",
}


@service_rule(
    "DW713",
    lesson="debugging",
    severity="info",
    title="No request ids in a web service",
    why="""
        A request id (read from `X-Request-ID` or made up on arrival, put on every log line
        and returned in the response) ties a user's error report, the proxy's access log
        and the service's log lines together; without it, finding the lines of one failed
        request among thousands is guesswork. Only web services are asked (a server
        command or a web framework on the code path).
    """
    + _NOTE,
    fix="""
        FastAPI/Starlette: asgi-correlation-id; Flask: flask-log-request-id; Django:
        django-guid or django-log-request-id. Log the id with every line and return it in
        the `X-Request-ID` response header.
    """,
    bad=_example(_BARE_APP),
    good=_example(_CAREFUL_APP),
)
def no_request_ids(service: Service, project: Project) -> Iterator[Hit]:
    code = _candidate(service, project)
    if code is None:
        return
    frameworks = _frameworks(code)
    is_web = bool(frameworks) or any(entry.server is not None for entry in code.entries)
    if not is_web or _has(_REQUEST_IDS, code, service, project):
        return
    advice = [_REQUEST_ID_FIX[name] for name in sorted(frameworks) if name in _REQUEST_ID_FIX]
    fix = (
        f"Add {advice[0]}; log the id on every line and return it as `X-Request-ID`."
        if advice
        else "Add a middleware that reads or makes an `X-Request-ID`, logs it on every line "
        "and returns it (asgi-correlation-id for ASGI apps)."
    )
    yield _finding(
        code,
        service,
        "request ids",
        fix,
        ("nothing reads or sets X-Request-ID or a correlation id",),
    )


_TRACING_PACKAGES = {
    "fastapi": "opentelemetry-instrumentation-fastapi",
    "starlette": "opentelemetry-instrumentation-starlette",
    "flask": "opentelemetry-instrumentation-flask",
    "django": "opentelemetry-instrumentation-django",
    "aiohttp": "opentelemetry-instrumentation-aiohttp-server",
}


@service_rule(
    "DW714",
    lesson="debugging",
    severity="info",
    title="No tracing or error reporting",
    why="""
        Without traces a slow or failing request is a log line at best: which call was
        slow, which downstream service failed and which exception was raised stay unknown
        until someone reproduces it. OpenTelemetry (or an agent such as ddtrace, or Sentry
        for errors and performance) records each request's spans and exceptions with no
        change to the handlers.
    """
    + _NOTE,
    fix="""
        Add `opentelemetry-distro` and `opentelemetry-exporter-otlp`, start the server under
        `opentelemetry-instrument`, and set `OTEL_SERVICE_NAME` and
        `OTEL_EXPORTER_OTLP_ENDPOINT`; or `sentry-sdk` with `traces_sample_rate`.
    """,
    bad=_example(_BARE_APP),
    good=_example(_CAREFUL_APP),
)
def no_tracing(service: Service, project: Project) -> Iterator[Hit]:
    code = _candidate(service, project)
    if code is None or _has(_TRACING, code, service, project):
        return
    packages = ["opentelemetry-distro", "opentelemetry-exporter-otlp"]
    packages += [_TRACING_PACKAGES[f] for f in sorted(_frameworks(code)) if f in _TRACING_PACKAGES]
    yield _finding(
        code,
        service,
        "tracing",
        f"Add {', '.join(packages)}; start the server under `opentelemetry-instrument` with "
        "OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_ENDPOINT set (or sentry-sdk with "
        "traces_sample_rate).",
        ("no OpenTelemetry, ddtrace or Sentry in its code, command or environment",),
    )
