"""Logging: logs go to stdout/stderr, not files; Python output is unbuffered (DW3xx)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping

from msgspec.structs import replace

from dockwise.baseimages import installs_tool
from dockwise.findings import Hit, Severity
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._commands import (
    compose_services_building,
    context_file_text,
    destinations,
    entrypoint_and_cmd,
    is_interactive,
    is_shell_script,
    process_commands,
    script_argument,
    script_file,
    shell_c_script,
    unwrap,
)
from dockwise.rules._common import at, dockerfile_rule, runs_with_commands
from dockwise.sources.dockerfile import Dockerfile, Instruction, key_values
from dockwise.sources.shell import ShellCommand, parse_script

STDIO_TARGETS = frozenset(
    {
        "-",
        "/dev/stdout",
        "/dev/stderr",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
        "/proc/1/fd/1",
        "/proc/1/fd/2",
        "stdout",
        "stderr",
    }
)
# options that send a server's log to the file they name
_LOG_FILE_OPTIONS: Mapping[str, frozenset[str]] = {
    "gunicorn": frozenset({"--access-logfile", "--error-logfile", "--log-file"}),
    "celery": frozenset({"--logfile", "-f"}),
    "supervisord": frozenset({"--logfile", "-l"}),
    "uwsgi": frozenset({"--logto", "--logto2", "--daemonize"}),
}
_ANY_SERVER_LOG_OPTIONS = frozenset(
    {"--log-file", "--logfile", "--log-path", "--access-logfile", "--error-logfile"}
)
_LOG_ENV_NAME = lazy_compile(r"(?:^|_)(?:LOG_?FILE|LOG_PATH|LOGFILE_PATH)$")
# output redirections (`>`, `>>`, `2>`, `&>`, `>|`); `2>&1` duplicates a descriptor
_OUTPUT_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>"})
_CONFIG_LOG_KEY = lazy_compile(
    r"(?:^|[\s'\"\[;])(accesslog|errorlog|logfile|stdout_logfile|stderr_logfile)\s*=\s*['\"]?([^'\"\s;]+)",
    re.M,
)
PYTHON_SERVERS = frozenset(
    {
        "gunicorn",
        "uvicorn",
        "celery",
        "flask",
        "hypercorn",
        "daphne",
        "django-admin",
        "granian",
        "uwsgi",
    }
)
_PYTHON_NAME = lazy_compile(r"^python(?:3(?:\.\d+)?)?$")
_PYTHON_OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "--check-hash-based-pycs"})


def _is_log_file(value: str) -> bool:
    text = value.strip().strip("'\"")
    if not text or text in STDIO_TARGETS or "$" in text or text.startswith("/dev/"):
        return False
    return text not in ("none", "None", "null", "syslog")


def log_file_options(command: ShellCommand) -> list[tuple[str, str]]:
    """(option, path) pairs of a command that sends its log to a file."""
    options = _LOG_FILE_OPTIONS.get(command.name, frozenset()) | _ANY_SERVER_LOG_OPTIONS
    found: list[tuple[str, str]] = []
    args = command.args
    for index, arg in enumerate(args):
        name, sep, value = arg.partition("=")
        if name not in options:
            continue
        if not sep:
            if index + 1 >= len(args):
                continue
            value = args[index + 1]
        if _is_log_file(value):
            found.append((name, value))
    return found


# what a redirect writes when it renders content or configuration, not a log
_CONTENT_SUFFIXES = (
    ".conf", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".json", ".js", ".html", ".htm", ".xml",
    ".env", ".sh", ".py", ".txt", ".pem", ".crt", ".key", ".properties", ".php", ".css",
)  # fmt: skip
_LONG_RUNNING = frozenset(
    {*_LOG_FILE_OPTIONS, "nginx", "httpd", "apache2", "apachectl", "redis-server", "php-fpm",
     "caddy", "haproxy", "daphne", "uvicorn", "hypercorn", "granian"}
)  # fmt: skip


def _service_commands(script: str) -> list[ShellCommand]:
    """The commands of a start script that are the service: the last one (what the
    container runs once set-up is done) and servers started on the way."""
    commands = parse_script(script).commands
    if not commands:
        return []
    return [c for c in commands[:-1] if c.name in _LONG_RUNNING and not c.piped] + [commands[-1]]


def _redirect_targets(script: str) -> list[str]:
    """Files the service's own output goes to (`gunicorn app > /var/log/app.log`); a
    set-up step that renders a file (`envsubst < tpl > /etc/nginx/nginx.conf`) is no log."""
    return [
        target
        for command in _service_commands(script)
        for operator, target in command.redirects
        if operator.lstrip("0123456789") in _OUTPUT_REDIRECTS
        and _is_log_file(target)
        and not target.lower().endswith(_CONTENT_SUFFIXES)
    ]


def _process_scripts(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    """The shell text of a shell-form or `sh -c` CMD/ENTRYPOINT."""
    for instruction in entrypoint_and_cmd(dockerfile):
        if not instruction.json:
            yield instruction, instruction.script
        else:
            script = shell_c_script(unwrap(tuple(instruction.value)))
            if script:
                yield instruction, script


def _env_log_files(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    for stage in reversed(dockerfile.shipped_chain()):
        for instruction in stage.all("ENV"):
            for name, value in key_values(instruction):
                if value is None:
                    continue
                if _LOG_ENV_NAME.search(name.upper()) and _is_log_file(value):
                    yield instruction, f"ENV {name}={value}"
                elif name == "GUNICORN_CMD_ARGS":
                    try:
                        argv = tuple(shlex.split(value))
                    except ValueError:
                        continue
                    for option, path in log_file_options(ShellCommand(("gunicorn", *argv))):
                        yield instruction, f"GUNICORN_CMD_ARGS {option} {path}"


def _generated_config_logs(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    for stage in reversed(dockerfile.shipped_chain()):
        for instruction in stage.instructions:
            if instruction.cmd == "RUN":
                text = instruction.script
            elif instruction.cmd in ("COPY", "ADD") and instruction.heredocs:
                text = "\n".join(h.content for h in instruction.heredocs)
            else:
                continue
            for key, value in _CONFIG_LOG_KEY.findall(text):
                if _is_log_file(value) and ("/" in value or value.endswith(".log")):
                    yield instruction, f"{key} = {value}"


@dockerfile_rule(
    "DW301",
    lesson="logging",
    severity="warning",
    title="Service logs to a file inside the container",
    why="""
        `docker logs`, Kubernetes and every log collector read the container's stdout and
        stderr. A log file inside the container is invisible to them, grows until the disk
        fills, and is lost with the container. gunicorn's `-` (and /dev/stdout) is fine.
        Only the service's own output counts: a set-up step that renders a file before the
        service starts (`envsubst < tpl > /etc/nginx/nginx.conf && exec nginx`) is no log.
    """,
    fix="Log to stdout/stderr: `--access-logfile -`, `--error-logfile -`, no `> file` redirects, no *_LOG_FILE paths.",
    bad="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--access-logfile", "/var/log/gunicorn/access.log", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--access-logfile", "-", "--error-logfile", "-", "app:app"]
    """,
)
def logs_to_file(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction, command in process_commands(dockerfile):
        for option, path in log_file_options(command):
            yield at(
                dockerfile,
                instruction,
                f"{command.name} {option} {path} writes logs to a file inside the container",
            )
    for instruction, script in _process_scripts(dockerfile):
        for target in _redirect_targets(script):
            yield at(
                dockerfile,
                instruction,
                f"{instruction.cmd} redirects output to {target}: the logs never reach stdout",
            )
    for instruction, what in (*_env_log_files(dockerfile), *_generated_config_logs(dockerfile)):
        yield at(dockerfile, instruction, f"{what} writes logs to a file inside the container")


def _is_log_folder(path: str) -> bool:
    parts = [p for p in path.strip().strip("'\"").split("/") if p]
    if parts[:2] == ["var", "log"]:
        return True
    return any(p.lower() in ("log", "logs") for p in parts)


@dockerfile_rule(
    "DW302",
    lesson="logging",
    severity="info",
    title="VOLUME for log files",
    why="""
        A VOLUME for /var/log or a logs folder means the service writes logs to files: they
        bypass `docker logs` and the log collector, pile up in anonymous volumes that
        outlive the container, and fill the host's disk. It is advice (info): the VOLUME is
        a symptom, often the sane mitigation for an application that can only log to files;
        the fault is the logging configuration, which DW301 reports where it can see it.
    """,
    fix="Send logs to stdout/stderr and remove the VOLUME.",
    bad="""
        FROM python:3.11-slim
        VOLUME /var/log/app
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        VOLUME /data
        CMD ["gunicorn", "app:app"]
    """,
)
def log_volume(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.shipped_chain():
        for instruction in stage.all("VOLUME"):
            for raw in instruction.value:
                path = instruction.expanded(raw)
                if _is_log_folder(path):
                    yield at(
                        dockerfile, instruction, f"VOLUME {path} keeps log files inside volumes"
                    )


def _python_unbuffered_flag(command: ShellCommand) -> bool:
    args = command.args
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-") or arg in ("-m", "-c", "-"):
            return False
        if arg in _PYTHON_OPTIONS_WITH_VALUE:
            index += 2
            continue
        if not arg.startswith("--") and "u" in arg[1:]:
            return True
        index += 1
    return False


def _is_python_process(command: ShellCommand) -> bool:
    name = command.name
    return (
        bool(_PYTHON_NAME.match(name))
        or name in PYTHON_SERVERS
        or name == "manage.py"
        or (name.endswith(".py") and bool(command.argv))
    )


def python_process(dockerfile: Dockerfile) -> tuple[Instruction, ShellCommand] | None:
    """The CMD/ENTRYPOINT and command that start a Python process, if one does."""
    for instruction, command in process_commands(dockerfile):
        if _is_python_process(command) and not is_interactive(command):
            return instruction, command
    return None


_SCRIPT_UNBUFFERED = lazy_compile(r"\bPYTHONUNBUFFERED=[^\s;&|'\"]|\bPYTHONUNBUFFERED=['\"][^'\"]")


def python_in_script(
    dockerfile: Dockerfile, project: Project
) -> tuple[Instruction, str, ShellCommand, str] | None:
    """(CMD/ENTRYPOINT, script path, Python command, script text) when the container starts
    a shell script of the build context (`sh start.sh`, `./run.sh`) that starts Python."""
    for instruction, command in process_commands(dockerfile):
        path = script_argument(command)
        if path is None or "$" in path:
            continue
        found = script_file(dockerfile, project, instruction.expanded(path))
        if found is None or found.text is None or not is_shell_script(found.text):
            continue
        started = [
            inner
            for inner in parse_script(found.text).commands
            if _is_python_process(inner) and not is_interactive(inner)
        ]
        if started:  # the last one is the service (`flask db upgrade; exec gunicorn ...`)
            return instruction, found.path, started[-1], found.text
    return None


PRINTS_WORTH_A_WARNING = 3


def python_entrypoint(dockerfile: Dockerfile) -> Instruction | None:
    """The CMD or ENTRYPOINT that starts a Python process (reused by the app-code rules)."""
    found = python_process(dockerfile)
    return found[0] if found else None


def unbuffered_env(dockerfile: Dockerfile) -> bool:
    """True when the shipped image's ENV sets PYTHONUNBUFFERED to a non-empty value."""
    value = ""
    for stage in reversed(dockerfile.shipped_chain()):
        for instruction in stage.all("ENV"):
            for name, assigned in key_values(instruction):
                if name == "PYTHONUNBUFFERED":
                    value = assigned or ""
    return bool(value)


def _compose_sets_unbuffered(project: Project, dockerfile: Dockerfile) -> bool:
    for service in compose_services_building(project, dockerfile):
        environment = service.get("environment")
        if isinstance(environment, Mapping):
            value = environment.get("PYTHONUNBUFFERED")
            if value is not None and str(value) != "":
                return True
        elif isinstance(environment, list):
            for item in environment:
                name, sep, value = str(item).partition("=")
                if name == "PYTHONUNBUFFERED" and sep and value:
                    return True
    return False


@dockerfile_rule(
    "DW303",
    lesson="logging",
    severity="info",
    title="Python output is buffered",
    why="""
        When stdout is not a terminal Python buffers it: `print` output shows up late in
        `docker logs`, out of order with stderr, and is lost when the container crashes or
        is killed. Any non-empty PYTHONUNBUFFERED (even `0`, as CPython documents) or
        `python -u` turns buffering off. The Python process may be started directly, by a
        Python server (gunicorn, uvicorn, uwsgi...) or by a shell script of the build
        context (`sh start.sh`) that the container runs. Advice (info) in general; a
        warning when the code the service runs calls `print` (the calls are related),
        except on a one-shot job (a Kubernetes Job, a migration, a script named for a batch
        task), whose output is flushed when it exits.
    """,
    fix="Add `ENV PYTHONUNBUFFERED=1` to the final stage (or run `python -u`).",
    bad="""
        FROM python:3.11-slim
        CMD ["python", "app.py"]
    """,
    good="""
        FROM python:3.11-slim
        ENV PYTHONUNBUFFERED=1
        CMD ["python", "app.py"]
    """,
)
def python_buffered_output(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    found = python_process(dockerfile)
    script_path = None
    if found is None:
        in_script = python_in_script(dockerfile, project)
        if in_script is None:
            return
        instruction, script_path, command, text = in_script
        if _SCRIPT_UNBUFFERED.search(text):
            return
        found = instruction, command
    instruction, command = found
    if unbuffered_env(dockerfile):
        return
    if _PYTHON_NAME.match(command.name) and _python_unbuffered_flag(command):
        return
    if any(
        a.startswith("PYTHONUNBUFFERED=") and a != "PYTHONUNBUFFERED=" for a in command.assignments
    ):
        return
    if _compose_sets_unbuffered(project, dockerfile):
        return
    started = f"{command.name} (started by {script_path})" if script_path else command.name
    from dockwise.rules._app import code_prints

    # one or two prints are lifecycle lines (started, stopping): a warning needs a code path
    # that really talks on stdout
    prints = code_prints(project, dockerfile, limit=PRINTS_WORTH_A_WARNING)
    if len(prints) < PRINTS_WORTH_A_WARNING:
        prints = ()
    hit = at(
        dockerfile,
        instruction,
        f"{started} runs without PYTHONUNBUFFERED or -u: print output is buffered and "
        + ("lost on a crash, and the service's code prints" if prints else "lost on a crash"),
        related=prints,
    )
    yield replace(hit, severity=Severity.WARNING) if prints else hit


_WEB_SERVERS = {"nginx": "/var/log/nginx", "apache2": "/var/log/apache2", "httpd": "/var/log/httpd"}
_CONFIG_FOLDERS = ("/etc/nginx", "/etc/apache2", "/etc/httpd", "/usr/local/apache2/conf")


def _installed_web_server(dockerfile: Dockerfile) -> tuple[Instruction, str] | None:
    for stage in reversed(dockerfile.shipped_chain()):
        for run, command in runs_with_commands(dockerfile, stage):
            installed = installs_tool(command)
            for server in _WEB_SERVERS:
                if server in installed:
                    return run, server
    return None


def _web_log_texts(dockerfile: Dockerfile, project: Project) -> list[str] | None:
    """Texts that may configure the server's logs (None when a copied config is unreadable)."""
    chain = dockerfile.shipped_chain()
    texts: list[str] = []
    for stage in reversed(chain):
        for instruction in stage.instructions:
            if instruction.cmd == "RUN":
                texts.append(instruction.script)
            elif instruction.cmd in ("COPY", "ADD"):
                for path, source in destinations(instruction):
                    if not path.startswith(_CONFIG_FOLDERS):
                        continue
                    if source is None:
                        texts.append("\n".join(h.content for h in instruction.heredocs))
                        continue
                    if instruction.flag("from") is not None or dockerfile.relpath == "-":
                        return None
                    text = context_file_text(project, dockerfile, source)
                    if text is None:
                        return None
                    texts.append(text)
    return texts


@dockerfile_rule(
    "DW304",
    lesson="logging",
    severity="info",
    title="Installed nginx/apache logs to files",
    why="""
        nginx and apache installed from distribution packages write access and error logs
        to /var/log files, invisible to `docker logs`. The official nginx and httpd images
        already send them to stdout/stderr; a server installed with apt/apk does not.
    """,
    fix="`RUN ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log` (or configure `access_log /dev/stdout`).",
    bad="""
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends nginx=1.22.1-9 \\
            && rm -rf /var/lib/apt/lists/*
        CMD ["nginx", "-g", "daemon off;"]
    """,
    good="""
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends nginx=1.22.1-9 \\
            && rm -rf /var/lib/apt/lists/* \\
            && ln -sf /dev/stdout /var/log/nginx/access.log \\
            && ln -sf /dev/stderr /var/log/nginx/error.log
        CMD ["nginx", "-g", "daemon off;"]
    """,
)
def web_server_log_files(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    found = _installed_web_server(dockerfile)
    if found is None:
        return
    texts = _web_log_texts(dockerfile, project)
    if texts is None:
        return
    joined = "\n".join(texts)
    to_stdout = "/dev/stdout" in joined or "/proc/self/fd/1" in joined
    to_stderr = (
        "/dev/stderr" in joined or "/proc/self/fd/2" in joined or "error_log stderr" in joined
    )
    if to_stdout and to_stderr:
        return
    run, server = found
    missing = " and ".join(
        name for name, ok in (("access log", to_stdout), ("error log", to_stderr)) if not ok
    )
    yield at(
        dockerfile,
        run,
        f"{server} is installed here but its {missing} still go to files under {_WEB_SERVERS[server]}",
    )
