"""Runtime of compose services and Kubernetes containers (DW608-DW611): a shell left as the
parent of the server, background jobs nobody reaps, and stop grace periods shorter than
the server's own graceful-shutdown timeout (compose `stop_grace_period`, Kubernetes
`terminationGracePeriodSeconds`, against gunicorn's or uvicorn's timeout)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.model.roles import THROWAWAY, compose_role, container_role
from dockwise.rules._scopes import at_line, compose_rule, container_rule

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, ContainerPart, Service
    from dockwise.project import Project
    from dockwise.rules._health_probes import Server

COMPOSE_GRACE = 10.0  # docker compose stop: SIGTERM, then SIGKILL after 10 s
KUBERNETES_GRACE = 30.0  # terminationGracePeriodSeconds when the pod spec says nothing
GUNICORN_GRACEFUL = 30.0  # gunicorn --graceful-timeout default


# --- the shell a compose command starts ----------------------------------------------------


def _compose_argv(part: ComposePart) -> tuple[tuple[str, ...], str, int] | None:
    """The argv compose starts (entrypoint + command, or the command) and where it is written."""
    compose = part.service
    if compose.entrypoint is not None and compose.entrypoint.argv:
        argv = compose.entrypoint.argv + (compose.command.argv if compose.command else ())
        return argv, compose.entrypoint.origin.path, compose.entrypoint.origin.line
    if compose.command is not None and compose.command.argv:
        return compose.command.argv, compose.command.origin.path, compose.command.origin.line
    return None


def _shell_of(program: str, part: ComposePart, service: Service) -> str | None:
    """dash, bash, ash... for the shell program; `sh` is what the image's /bin/sh is."""
    from dockwise.baseimages import base_shell
    from dockwise.rules.runtime import shell_named

    if service.dockerfile is not None:
        return shell_named(program, service.dockerfile)
    name = program.rsplit("/", 1)[-1]
    if name in ("bash", "dash", "ash"):
        return name
    image = part.service.image.value if part.service.image is not None else ""
    return base_shell(image) if name == "sh" and image else None


def _shell_script(part: ComposePart) -> tuple[str, str, str, int] | None:
    """(shell program, script, path, line) of a compose `sh -c "script"` command."""
    from dockwise.rules._commands import shell_c_script, unwrap

    found = _compose_argv(part)
    if found is None:
        return None
    argv, path, line = found
    argv = unwrap(argv)
    script = shell_c_script(argv)
    if not script:
        return None
    return argv[0], script, path, line


def _graded(hit: Hit, part: ComposePart, project: Project) -> Hit:
    reason = compose_role(part, project).note(THROWAWAY)
    if reason is None or hit.severity == Severity.INFO:
        return hit
    return replace(hit, message=f"{hit.message} ({reason})", severity=Severity.INFO)


@compose_rule(
    "DW608",
    lesson="runtime",
    severity="warning",
    title="Compose command keeps a shell as the server's parent",
    why="""
        `command: sh -c "python manage.py migrate && gunicorn ..."` starts a shell that
        runs the server as its child. dash (`sh` on Debian, Ubuntu and the official images
        built on them) always forks; bash forks for anything but a lone simple command. The
        shell does not forward SIGTERM: `docker compose stop` waits out the grace period and
        SIGKILLs the server, dropping in-flight requests. `init: true` does not help: the
        init signals the shell, which dies and leaves the server to be killed. bash's and
        busybox ash's exec of a last simple command is taken into account; when the image's
        shell is unknown the finding is advice (info), as it is in development compose files.
    """,
    fix='Start the server with exec: `command: sh -c "python manage.py migrate && exec '
    'gunicorn app.wsgi"`.',
    bad={
        "compose.yaml": """\
services:
  web:
    image: python:3.11-slim
    command: sh -c "pip install -r requirements.txt && gunicorn app:app"
"""
    },
    good={
        "compose.yaml": """\
services:
  web:
    image: python:3.11-slim
    command: sh -c "pip install -r requirements.txt && exec gunicorn app:app"
"""
    },
    also=["hadolint:DL3025"],
)
def compose_shell_parent(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.rules._health_probes import compose_server
    from dockwise.rules.runtime import pid1_verdict
    from dockwise.sources.shell import parse_script

    found = _shell_script(part)
    if found is None:
        return
    program, script, path, line = found
    shell = _shell_of(program, part, service)
    verdict = pid1_verdict(shell, script)
    if verdict in ("execs", "windows", "no shell") or _one_off(part, project):
        return
    name = part.service.name
    program_name = program.rsplit("/", 1)[-1]
    if verdict == "unknown":
        hit = at_line(
            path,
            line,
            f"service {name} runs `{program_name} -c` without exec: could not tell which shell "
            "`sh` is in its image; dash (Debian, Ubuntu) stays the parent and SIGTERM never "
            "reaches the server",
        )
        yield replace(hit, severity=Severity.INFO)
        return
    why = (
        "dash always forks"
        if shell == "dash"
        else f"{shell} forks for a command that is not a lone simple command"
    )
    hit = at_line(
        path,
        line,
        f"service {name} runs `{program_name} -c` without exec ({why}): the shell stays "
        "the server's parent and SIGTERM never reaches it",
    )
    commands = parse_script(script).commands
    last = commands[-1].name if commands else ""
    if compose_server(part, service, project) is None and last not in _LONG_RUNNING:
        hit = replace(
            hit,
            message=f"service {name} runs `{program_name} -c` without exec ({why}): the shell "
            f"stays the parent of {last or 'its last command'}, which gets no SIGTERM on stop",
            severity=Severity.INFO,
        )
    yield _graded(hit, part, project)


# programs that run until stopped: a shell left as their parent matters
_LONG_RUNNING = frozenset(
    {"celery", "python", "python3", "node", "npm", "nginx", "php-fpm", "java", "dramatiq",
     "rq", "huey", "supervisord", "daphne", "hypercorn", "uvicorn", "gunicorn"}
)  # fmt: skip


def _one_off(part: ComposePart, project: Project) -> bool:
    """A service others wait for to finish (`condition: service_completed_successfully`):
    a migration or configuration step that exits, not a server."""
    name = part.service.name
    return any(
        dependency.condition == "service_completed_successfully"
        for service in part.file.services.values()
        for key, dependency in service.depends_on.items()
        if key == name
    )


@compose_rule(
    "DW609",
    lesson="runtime",
    severity="info",
    title="Compose command starts background jobs without an init",
    why="""
        A compose command that starts background jobs (`sh -c "celery worker & gunicorn
        ..."`) leaves children whose own children nobody reaps: zombies pile up when the
        process that is PID 1 does not reap them, and the background job is SIGKILLed on
        stop without ever seeing SIGTERM. `init: true` runs Docker's tini as PID 1, which
        reaps every zombie. Servers that reap their own workers (gunicorn, uvicorn) are not
        reported; running the jobs as separate services is better still.
    """,
    fix="Add `init: true` to the service, or run each process as its own service.",
    bad={
        "compose.yaml": """\
services:
  worker:
    image: ghcr.io/acme/web:1.4.2
    command: sh -c "celery -A proj beat & exec celery -A proj worker"
"""
    },
    good={
        "compose.yaml": """\
services:
  worker:
    image: ghcr.io/acme/web:1.4.2
    init: true
    command: sh -c "celery -A proj beat & exec celery -A proj worker"
"""
    },
)
def compose_background_jobs(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.rules.runtime import starts_background_jobs

    if part.service.init is not None and part.service.init.value:
        return
    found = _shell_script(part)
    if found is None or not starts_background_jobs(found[1]):
        return
    _, _, path, line = found
    yield at_line(
        path,
        line,
        f"service {part.service.name} starts background jobs with & but has no init: true "
        "to reap their children",
    )


# --- grace periods against the server's graceful-shutdown timeout --------------------------


class _Graceful(Struct, frozen=True):
    seconds: float
    said: str  # "gunicorn --graceful-timeout 60", "gunicorn's default graceful timeout"
    server: Server


def _graceful(
    server: Server, env: Mapping[str, str], service: Service, project: Project
) -> _Graceful | None:
    """How long the server lets requests finish after SIGTERM, when dockwise can know."""
    from dockwise.sources.servercmd import parse_server_command

    command = server.command
    if command.graceful_timeout is not None:
        option = {
            "gunicorn": "--graceful-timeout",
            "uvicorn": "--timeout-graceful-shutdown",
        }.get(command.server)
        if option is None:
            return None
        return _Graceful(
            command.graceful_timeout,
            f"{command.server} {option} {command.graceful_timeout:g}",
            server,
        )
    if command.server != "gunicorn":
        return None  # uvicorn waits for connections without a bound; others: unknown
    extra = env.get("GUNICORN_CMD_ARGS")
    if extra is not None:
        parsed = parse_server_command(("gunicorn", *extra.split()))
        if parsed is None or "$" in extra:
            return None
        if parsed.graceful_timeout is not None:
            seconds = parsed.graceful_timeout
            return _Graceful(seconds, f"GUNICORN_CMD_ARGS --graceful-timeout {seconds:g}", server)
    if command.config_file is not None or _gunicorn_config_here(service, project):
        return None  # a config file may set graceful_timeout: rules do not read it
    return _Graceful(GUNICORN_GRACEFUL, "gunicorn's default graceful timeout", server)


def _gunicorn_config_here(service: Service, project: Project) -> bool:
    root = service.context_dir
    if root is None:
        return any(PurePosixPath(p).name == "gunicorn.conf.py" for p in _python_files(project))
    prefix = str(root).rstrip("/") + "/"
    return any(
        p.startswith(prefix) and PurePosixPath(p).name == "gunicorn.conf.py"
        for p in _python_files(project)
    )


def _python_files(project: Project) -> tuple[str, ...]:
    return tuple(project.discovery.python_files)


def _server_related(graceful: _Graceful) -> Related:
    server = graceful.server
    return Related(server.path, server.line, f"{server.command.server} starts here")


def _quick_stop_signal(signal: str | None, server: str) -> bool:
    from dockwise.rules.runtime import signal_name

    name = signal_name(signal) if signal else None
    return server == "gunicorn" and name in ("INT", "QUIT")


def _compose_env(part: ComposePart, service: Service) -> dict[str, str]:
    stage = service.dockerfile.shipped_stage if service.dockerfile is not None else None
    env = dict(stage.final_vars) if stage is not None else {}
    env.update(
        (name, variable.value)
        for name, variable in part.service.environment.items()
        if variable.value is not None
    )
    return env


@compose_rule(
    "DW610",
    lesson="runtime",
    severity="warning",
    title="stop_grace_period shorter than the server's graceful timeout",
    why="""
        `docker compose stop` sends SIGTERM, waits `stop_grace_period` (10 s when unset) and
        then SIGKILLs. gunicorn lets running requests finish for its graceful timeout (30 s
        by default); uvicorn for `--timeout-graceful-shutdown`. With a shorter grace period
        the requests and shutdown hooks still running when it ends are killed, and the
        server's own timeout never applies. A gunicorn config file or GUNICORN_CMD_ARGS that
        dockwise cannot read makes the timeout unknown: no finding. Development compose
        files get advice (info).
    """,
    fix="Set `stop_grace_period` a little above the server's timeout (`stop_grace_period: 35s` "
    "for gunicorn's 30 s), or lower the server's timeout (`--graceful-timeout 8`).",
    bad={
        "compose.yaml": """\
services:
  web:
    image: ghcr.io/acme/web:1.4.2
    command: ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""
    },
    good={
        "compose.yaml": """\
services:
  web:
    image: ghcr.io/acme/web:1.4.2
    command: ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    stop_grace_period: 35s
"""
    },
)
def compose_grace_period(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.rules._commands import effective
    from dockwise.rules._health_probes import compose_server

    server = compose_server(part, service, project)
    if server is None:
        return
    env = _compose_env(part, service)
    graceful = _graceful(server, env, service, project)
    if graceful is None:
        return
    compose = part.service
    signal = compose.stop_signal.value if compose.stop_signal is not None else None
    if signal is None and service.dockerfile is not None:
        instruction = effective(service.dockerfile, "STOPSIGNAL")
        signal = instruction.value[0] if instruction is not None and instruction.value else None
    if _quick_stop_signal(signal, server.command.server):
        return  # a quick-shutdown signal: no graceful period to wait for (DW606)
    period = compose.stop_grace_period
    grace = period.seconds if period is not None else COMPOSE_GRACE
    if grace >= graceful.seconds:
        return
    where = (
        (period.origin.path, period.origin.line)
        if period is not None
        else (
            part.path,
            part.line,
        )
    )
    said = (
        f"stop_grace_period {period.written}"
        if period is not None
        else ("the compose default of 10 s")
    )
    hit = at_line(
        where[0],
        where[1],
        f"service {compose.name} is killed {grace:g} s after SIGTERM ({said}), but "
        f"{graceful.said} lets requests run for {graceful.seconds:g} s: the ones still running "
        "are cut off",
        related=(_server_related(graceful),),
    )
    yield _graded(hit, part, project)


@container_rule(
    "DW611",
    lesson="runtime",
    severity="warning",
    title="terminationGracePeriodSeconds shorter than the server's graceful timeout",
    why="""
        Kubernetes runs the preStop hook, sends SIGTERM and SIGKILLs the container when
        `terminationGracePeriodSeconds` (30 s when unset) is over, counted from the start of
        the preStop hook. gunicorn lets running requests finish for its graceful timeout
        (30 s by default), uvicorn for `--timeout-graceful-shutdown`. A grace period
        shorter than the preStop time plus the server's timeout kills the requests still
        running. Equal to gunicorn's timeout is fine without a preStop hook (gunicorn stops
        its workers itself at that moment) and too short with one. Jobs, CronJobs and init
        containers are not checked.
    """,
    fix="Set `terminationGracePeriodSeconds` above the preStop time plus the server's timeout "
    "(45 for a 5 s preStop sleep and gunicorn's 30 s), or lower the server's timeout.",
    bad={
        "deploy/web.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.4.2
          command: ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "5"]
"""
    },
    good={
        "deploy/web.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: web
          image: ghcr.io/acme/web:1.4.2
          command: ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "5"]
"""
    },
)
def kubernetes_grace_period(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.rules._health_probes import container_server

    server = container_server(part, service, project)
    if server is None:
        return
    container = part.container
    env = {var.name: var.value for var in container.env if var.value is not None}
    env.update({var.name: "$" + var.name for var in container.env if var.value is None})
    graceful = _graceful(server, env, service, project)
    if graceful is None:
        return
    workload = part.workload
    if workload.patch and workload.termination_grace_period is None:
        return  # a Kustomize patch: the base it patches may set it
    grace = (
        float(workload.termination_grace_period)
        if workload.termination_grace_period is not None
        else KUBERNETES_GRACE
    )
    pre_stop = container.pre_stop
    hook = pre_stop.seconds if pre_stop is not None and pre_stop.seconds is not None else 0.0
    needed = graceful.seconds + hook
    unknown_hook = pre_stop is not None and pre_stop.seconds is None
    if grace > needed or (grace == needed and not unknown_hook):
        return
    said = (
        f"terminationGracePeriodSeconds: {workload.termination_grace_period}"
        if workload.termination_grace_period is not None
        else "the default of 30 s"
    )
    if pre_stop is None:
        budget = f"{graceful.said} lets requests run for {graceful.seconds:g} s"
    elif pre_stop.seconds is not None:
        budget = (
            f"the preStop hook takes {pre_stop.seconds:g} s and then {graceful.said} lets "
            f"requests run for {graceful.seconds:g} s"
        )
    else:
        budget = (
            f"the preStop hook runs first and then {graceful.said} lets requests run for "
            f"{graceful.seconds:g} s"
        )
    line = workload.grace_line or container.line
    related = [_server_related(graceful)]
    if pre_stop is not None:
        related.append(Related(part.path, pre_stop.line, "preStop hook"))
    role = container_role(part, project).note(THROWAWAY)
    hit = at_line(
        part.path,
        line,
        f"container {container.name} of {workload.label} is killed {grace:g} s after "
        f"termination starts ({said}), but {budget}: the ones still running are cut off",
        related=tuple(related),
    )
    if role is not None:
        hit = replace(hit, message=f"{hit.message} ({role})", severity=Severity.INFO)
    yield hit
