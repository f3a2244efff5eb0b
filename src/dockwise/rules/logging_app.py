"""Logging in the service's own code and server configuration: log files written by the
Python code the service runs (DW307) and by its server's options and config files (DW308).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator

from dockwise.findings import Hit, Related
from dockwise.lazyre import lazy_compile
from dockwise.model.service import Service
from dockwise.project import Project
from dockwise.rules._app import (
    StartCommand,
    context_text,
    expand,
    service_code,
    start_commands,
)
from dockwise.rules._scopes import at_line, service_rule
from dockwise.rules.logging import log_file_options
from dockwise.sources.servercmd import (
    is_file_target,
    parse_server_command,
    read_gunicorn_config,
    with_gunicorn_config,
)
from dockwise.sources.shell import ShellCommand

_STREAMS = frozenset({"-", "/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/proc/self/fd/2"})


def _text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


_FLASK_APP = _text("""
    import logging
    from logging.handlers import RotatingFileHandler

    from flask import Flask

    app = Flask(__name__)
    handler = RotatingFileHandler("/var/log/shop/app.log", maxBytes=10_000_000, backupCount=5)
    app.logger.addHandler(handler)


    @app.get("/health")
    def health():
        return {"status": "ok"}
""")
_FLASK_APP_GOOD = _text("""
    import logging

    from flask import Flask

    logging.basicConfig(level=logging.INFO)
    app = Flask(__name__)


    @app.get("/health")
    def health():
        return {"status": "ok"}
""")
_DOCKERFILE = _text("""
    FROM python:3.11-slim
    WORKDIR /app
    ENV PYTHONUNBUFFERED=1
    COPY . .
    CMD ["gunicorn", "--bind", "0.0.0.0:8000", "shop:app"]
""")


def _kind(kind: str) -> str:
    return "a dictConfig file handler" if kind == "dictConfig" else kind


@service_rule(
    "DW307",
    lesson="logging",
    severity="warning",
    title="App code logs to a file inside the container",
    why="""
        A `FileHandler`, `RotatingFileHandler`, `TimedRotatingFileHandler`,
        `WatchedFileHandler`, `basicConfig(filename=...)`, a `dictConfig` file handler or a
        `fileConfig` INI with one sends the service's logs to a file in the container:
        `docker logs`, Kubernetes and every collector read stdout and stderr, so these logs
        are invisible to them, grow until the disk fills, and are lost with the container.
        Only code the service runs counts: the modules its server's app (or the module
        `python -m x` / `python x.py` runs) reaches by import, including handlers set up in
        helper modules. Test code and migration scripts (Alembic's env.py) are not.
        The finding points at the code line; the command that starts the code is related.
    """,
    fix="""
        Log to a `StreamHandler` (stderr) or `logging.basicConfig()` without `filename`; if
        a file is wanted outside containers, make it opt-in (an environment variable).
    """,
    bad={"Dockerfile": _DOCKERFILE, "shop.py": _FLASK_APP},
    good={"Dockerfile": _DOCKERFILE, "shop.py": _FLASK_APP_GOOD},
)
def app_logs_to_file(service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.sources.pyapp import read_logging_ini

    code = service_code(service, project)
    if code is None:
        return
    for module, entry in code.code_path():
        related = (entry.command.related(),)
        for sink in module.log_files:
            if not entry.runs(module, sink.line):
                continue
            where = f" to {sink.target}" if sink.target else ""
            yield at_line(
                code.display(entry, sink.file),
                sink.line,
                f"{_kind(sink.kind)} writes the service's logs{where} inside the container",
                related=related,
            )
        for target, line in module.log_configs:
            if target is None or not entry.runs(module, line):
                continue  # a name known at run time (Alembic's config.config_file_name)
            found = context_text(service, project, target)
            if found is None:
                continue
            path, text = found
            for ini_line, handler, log_file in read_logging_ini(text):
                where = f" to {log_file}" if log_file else ""
                yield at_line(
                    code.display(entry, module.relpath),
                    line,
                    f"fileConfig({target!r}) sets up a {handler} writing logs{where} "
                    "inside the container",
                    related=(Related(path, ini_line, f"{handler} defined here"), *related),
                )


_GUNICORN_SETTING = lazy_compile(r"^\s*(accesslog|errorlog)\s*=", re.M)


@service_rule(
    "DW308",
    lesson="logging",
    severity="warning",
    title="Server configured to log to a file inside the container",
    why="""
        gunicorn's `--access-logfile`, `--error-logfile` and `--log-file`, uwsgi's `--logto`
        and `--daemonize`, celery's `--logfile`, the `accesslog`/`errorlog` settings of a
        gunicorn.conf.py, or a `--log-config` INI with file handlers send the server's logs
        to files that `docker logs` and log collectors never read. DW301 reports the
        options written in the Dockerfile's CMD; this rule reads the rest: the scripts the
        image starts, compose `command`, Kubernetes `command`/`args`, and the config files
        those name (gunicorn also reads ./gunicorn.conf.py by itself).
    """,
    fix="Use `-` (stdout) for gunicorn's logs, drop `--logto`/`--daemonize`, and log config handlers to stderr.",
    bad={
        "Dockerfile": _DOCKERFILE,
        "shop.py": _FLASK_APP_GOOD,
        "gunicorn.conf.py": 'bind = "0.0.0.0:8000"\naccesslog = "/var/log/shop/access.log"\n',
    },
    good={
        "Dockerfile": _DOCKERFILE,
        "shop.py": _FLASK_APP_GOOD,
        "gunicorn.conf.py": 'bind = "0.0.0.0:8000"\naccesslog = "-"\nerrorlog = "-"\n',
    },
)
def server_logs_to_file(service: Service, project: Project) -> Iterator[Hit]:
    seen: set[tuple[str, int | None, str]] = set()
    for command in start_commands(service, project):
        for hit in _server_hits(command, service, project):
            key = (hit.path, hit.line, hit.message)
            if key not in seen:
                seen.add(key)
                yield hit


def _server_argv(command: StartCommand) -> tuple[str, ...]:
    argv = tuple(expand(word, command.env) for word in command.argv)
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1].startswith("python") and argv[1] == "-m":
        return argv[2:]
    return argv


def _server_hits(command: StartCommand, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.sources.pyapp import read_logging_ini

    argv = _server_argv(command)
    if not argv:
        return
    if not command.in_dockerfile:  # DW301 reads the Dockerfile's own CMD/ENTRYPOINT
        for option, path in log_file_options(ShellCommand(argv)):
            yield at_line(
                command.path,
                command.line,
                f"{command.where} runs {argv[0].rsplit('/', 1)[-1]} {option} {path}: "
                "the logs go to a file inside the container",
            )
    server = parse_server_command(argv)
    if server is None:
        return
    if server.server == "gunicorn" and (server.config_file or "").startswith("python:"):
        return
    if server.server == "gunicorn":
        name = server.config_file or "gunicorn.conf.py"
        found = context_text(service, project, name)
        if found is not None:
            path, text = found
            configured = with_gunicorn_config(server, read_gunicorn_config(text))
            lines = {
                m.group(1): text.count("\n", 0, m.start()) + 1
                for m in _GUNICORN_SETTING.finditer(text)
            }
            for setting, value, given in (
                ("accesslog", configured.access_log, server.access_log),
                ("errorlog", configured.error_log, server.error_log),
            ):
                if given is not None or value is None:
                    continue  # the command line wins over the file
                if value in _STREAMS or not is_file_target(value):
                    continue
                yield at_line(
                    path,
                    lines.get(setting),
                    f"{setting} = {value!r}: gunicorn writes this log to a file inside the "
                    "container",
                    related=(command.related(),),
                )
    if server.log_config and server.log_config.endswith((".conf", ".ini", ".cfg")):
        found = context_text(service, project, server.log_config)
        if found is not None:
            path, text = found
            for ini_line, handler, log_file in read_logging_ini(text):
                where = f" to {log_file}" if log_file else ""
                yield at_line(
                    path,
                    ini_line,
                    f"{handler} of the log config {server.server} loads writes logs{where} "
                    "inside the container",
                    related=(command.related(),),
                )
