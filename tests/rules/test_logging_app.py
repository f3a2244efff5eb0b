"""Logging and debugging rules over a whole service: compose log drivers (DW305, DW306),
log files in the app code and server configuration (DW307, DW308), print with buffered
output (DW303), structured logs, request ids and tracing (DW712-DW714)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project
from dockwise.rules import rule_by_id

LOGGING_RULES = ("DW301", "DW303", "DW305", "DW306", "DW307", "DW308")
DEBUG_RULES = ("DW712", "DW713", "DW714")


def run(files: dict[str, str], folder: Path, rules: tuple[str, ...]) -> list[Finding]:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"))
    project = load_project(folder, Config(select=rules))
    selected = [rule_by_id(rule) for rule in rules]
    outcome = check_project(project, [r for r in selected if r is not None])
    assert not outcome.problems, outcome.problems
    return [f for f in outcome.findings if f.rule in rules]


def where(findings: list[Finding], rule: str) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings if f.rule == rule]


FLASK_FACTORY = """
    from flask import Flask

    from shop.logs import setup_logging


    def create_app():
        app = Flask(__name__)
        setup_logging(app)
        return app
"""
FLASK_LOGS = """
    import logging
    from logging.handlers import RotatingFileHandler


    def setup_logging(app):
        handler = RotatingFileHandler("/var/log/shop/app.log", maxBytes=1_000_000)
        handler.setLevel(logging.INFO)
        app.logger.addHandler(handler)
"""
FLASK_DOCKERFILE = """
    FROM python:3.11-slim
    WORKDIR /srv
    ENV PYTHONUNBUFFERED=1
    COPY . .
    CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "/var/log/shop/access.log", "shop:create_app()"]
"""


def test_flask_file_logging_reported_at_code_and_command(tmp_path: Path) -> None:
    findings = run(
        {
            "Dockerfile": FLASK_DOCKERFILE,
            "shop/__init__.py": FLASK_FACTORY,
            "shop/logs.py": FLASK_LOGS,
        },
        tmp_path,
        LOGGING_RULES,
    )
    assert where(findings, "DW307") == [("shop/logs.py", 6)]
    code = next(f for f in findings if f.rule == "DW307")
    assert "/var/log/shop/app.log" in code.message
    assert [(r.path, r.line) for r in code.related] == [("Dockerfile", 5)]
    assert where(findings, "DW301") == [("Dockerfile", 5)]
    assert where(findings, "DW308") == []  # the Dockerfile's CMD is DW301's


def test_compose_command_and_gunicorn_config_log_files(tmp_path: Path) -> None:
    findings = run(
        {
            "Dockerfile": FLASK_DOCKERFILE.replace(
                '"--access-logfile", "/var/log/shop/access.log", ', ""
            ),
            "shop/__init__.py": FLASK_FACTORY,
            "shop/logs.py": "def setup_logging(app):\n    pass\n",
            "gunicorn.conf.py": """
                bind = "0.0.0.0:8000"
                errorlog = "/var/log/shop/error.log"
            """,
            "compose.yaml": """
                services:
                  web:
                    build: .
                    command: gunicorn --access-logfile /var/log/shop/access.log shop:create_app()
                    logging:
                      driver: local
            """,
        },
        tmp_path,
        LOGGING_RULES,
    )
    assert sorted(where(findings, "DW308")) == [("compose.yaml", 4), ("gunicorn.conf.py", 2)]
    assert where(findings, "DW307") == []
    config = next(f for f in findings if f.path == "gunicorn.conf.py")
    assert {r.path for r in config.related} <= {"Dockerfile", "compose.yaml"}


def test_uwsgi_logto_in_kubernetes_args(tmp_path: Path) -> None:
    findings = run(
        {
            "Dockerfile": """
                FROM python:3.11-slim
                WORKDIR /app
                COPY . .
                CMD ["uwsgi", "--http", ":8000", "--module", "app:app"]
            """,
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            "deploy.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                        - name: web
                          image: web:1.0
                          args: ["uwsgi", "--http", ":8000", "--module", "app:app", "--logto", "/tmp/uwsgi.log"]
            """,
            "Makefile": "build:\n\tdocker build -t web .\n",
        },
        tmp_path,
        ("DW308",),
    )
    assert where(findings, "DW308") == [("deploy.yaml", 8)]


def test_file_config_ini_reported_with_its_handler(tmp_path: Path) -> None:
    findings = run(
        {
            "Dockerfile": """
                FROM python:3.11-slim
                WORKDIR /app
                ENV PYTHONUNBUFFERED=1
                COPY . .
                CMD ["python", "-m", "worker"]
            """,
            "worker.py": """
                import logging.config

                logging.config.fileConfig("logging.conf")
            """,
            "logging.conf": """
                [handlers]
                keys=file

                [handler_file]
                class=handlers.RotatingFileHandler
                args=('/var/log/worker.log', 'a', 1000000, 3)
            """,
        },
        tmp_path,
        ("DW307",),
    )
    assert where(findings, "DW307") == [("worker.py", 3)]
    assert [(r.path, r.line) for r in findings[0].related][0] == ("logging.conf", 5)


def test_code_the_service_does_not_run_is_not_reported(tmp_path: Path) -> None:
    findings = run(
        {
            "Dockerfile": """
                FROM python:3.11-slim
                WORKDIR /app
                ENV PYTHONUNBUFFERED=1
                COPY . .
                CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
            """,
            "app/__init__.py": "",
            "app/main.py": """
                from fastapi import FastAPI

                app = FastAPI()

                if __name__ == "__main__":
                    import logging
                    logging.basicConfig(filename="debug.log")
            """,
            "migrations/env.py": """
                from logging.config import fileConfig
                from alembic import context

                fileConfig(context.config.config_file_name)
            """,
            "tests/conftest.py": """
                import logging
                logging.FileHandler("test.log")
            """,
            "tools/export.py": """
                import logging
                logging.basicConfig(filename="export.log")
            """,
        },
        tmp_path,
        ("DW307",),
    )
    assert findings == []


def test_print_on_the_code_path_makes_buffering_a_warning(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY . .
            CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        """,
        "app.py": textwrap.dedent("""
            import sys
            from flask import Flask

            app = Flask(__name__)
            print("starting", file=sys.stderr)

            if __name__ == "__main__":
                print("debug server")
                app.run()
        """),
    }
    quiet = run(files, tmp_path / "quiet", ("DW303",))
    assert [f.severity.label for f in quiet] == ["info"]
    files["app.py"] += "\nprint('ready')\nprint('stopping')\n"
    lifecycle = run(files, tmp_path / "lifecycle", ("DW303",))
    assert [f.severity.label for f in lifecycle] == ["info"]  # two lifecycle lines
    files["app.py"] += "\ndef handle():\n    print('request')\n"
    loud = run(files, tmp_path / "loud", ("DW303",))
    assert [f.severity.label for f in loud] == ["warning"]
    assert [(r.path, r.line) for r in loud[0].related] == [
        ("app.py", 11),
        ("app.py", 12),
        ("app.py", 15),
    ]
    flushed = dict(
        files,
        **{"app.py": files["app.py"].replace("print('request')", "print('request', flush=True)")},
    )
    assert [f.severity.label for f in run(flushed, tmp_path / "flushed", ("DW303",))] == ["info"]


def test_compose_log_drivers(tmp_path: Path) -> None:
    findings = run(
        {
            "Dockerfile": 'FROM python:3.11-slim\nCMD ["python", "-m", "shop"]\n',
            "compose.yaml": """
                services:
                  web:
                    build: .
                  quiet:
                    build: .
                    logging:
                      driver: none
                  rotated:
                    build: .
                    logging:
                      options:
                        max-size: 10m
                  migrate:
                    build: .
                    command: ["alembic", "upgrade", "head"]
                  db:
                    image: postgres:16.3
            """,
            "compose.dev.yaml": """
                services:
                  web:
                    build: .
            """,
        },
        tmp_path,
        ("DW305", "DW306"),
    )
    assert where(findings, "DW305") == [("compose.yaml", 7)]
    rotation = {(f.path, f.line): f.severity.label for f in findings if f.rule == "DW306"}
    assert rotation == {("compose.yaml", 2): "warning", ("compose.dev.yaml", 2): "info"}


CAREFUL_MAIN = """
    import logging

    from asgi_correlation_id import CorrelationIdFilter, CorrelationIdMiddleware
    from fastapi import FastAPI
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(CorrelationIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])

    app = FastAPI()
    app.add_middleware(CorrelationIdMiddleware)
    FastAPIInstrumentor.instrument_app(app)


    @app.get("/health")
    def health():
        return {"status": "ok"}
"""
CAREFUL_PROJECT = {
    "Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        ENV PYTHONUNBUFFERED=1
        COPY . .
        CMD ["uvicorn", "shop.main:app", "--host", "0.0.0.0", "--port", "8000"]
    """,
    "shop/__init__.py": "",
    "shop/main.py": CAREFUL_MAIN,
    "compose.yaml": """
        x-logging: &logging
          driver: json-file
          options:
            max-size: "10m"
            max-file: "3"
        services:
          web:
            build: .
            logging: *logging
          db:
            image: postgres:16.3
    """,
}


def test_careful_fastapi_project_is_clean(tmp_path: Path) -> None:
    assert run(CAREFUL_PROJECT, tmp_path, LOGGING_RULES + DEBUG_RULES) == []


def test_bare_app_gets_one_finding_per_missing_capability(tmp_path: Path) -> None:
    files = dict(CAREFUL_PROJECT)
    files["shop/main.py"] = """
        from fastapi import FastAPI

        app = FastAPI()
    """
    findings = run(files, tmp_path, DEBUG_RULES)
    assert sorted(f.rule for f in findings) == ["DW712", "DW713", "DW714"]
    assert {f.path for f in findings} == {"shop/main.py"}
    request_ids = next(f for f in findings if f.rule == "DW713")
    assert "asgi-correlation-id" in request_ids.fix
    tracing = next(f for f in findings if f.rule == "DW714")
    assert "opentelemetry-instrumentation-fastapi" in tracing.fix


def test_debugging_evidence_outside_the_code(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY . .
            ENV OTEL_SERVICE_NAME=worker
            CMD ["celery", "-A", "tasks", "worker"]
        """,
        "tasks.py": "import structlog\nfrom celery import Celery\napp = Celery()\n",
    }
    findings = run(files, tmp_path, DEBUG_RULES)
    assert findings == []  # tracing from the environment; a worker needs no request ids


def test_no_python_code_no_debugging_findings(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM node:20-slim\nCOPY . .\nCMD ["node", "server.js"]\n',
        "server.js": "require('http').createServer().listen(8000)\n",
        "scripts/tool.py": "print('hi')\n",
        "compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
    }
    assert run(files, tmp_path, DEBUG_RULES) == []
