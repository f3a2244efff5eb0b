"""Health of Kubernetes containers (DW221-DW225): liveness and readiness probes present,
testing something, not restarting the pod over a dependency, on a port the container has.

Jobs, CronJobs and init containers are never asked for probes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from dockwise.digits import is_digits
from dockwise.findings import Hit, Related, Severity
from dockwise.lazyre import lazy_compile
from dockwise.rules._health_probes import (
    LOCAL_HOSTS,
    argv_commands,
    command_target,
    container_server,
)
from dockwise.rules._scopes import at_line, container_rule

if TYPE_CHECKING:
    from dockwise.model.service import ContainerPart, Service
    from dockwise.project import Project
    from dockwise.sources.kubernetes import Probe
    from dockwise.sources.shell import ShellCommand


def _deployment(probes: str = "", ports: str = "") -> dict[str, str]:
    return {
        "deploy/web.yaml": f"""\
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              selector:
                matchLabels: {{app: web}}
              template:
                metadata:
                  labels: {{app: web}}
                spec:
                  containers:
                    - name: web
                      image: ghcr.io/acme/web:1.4.2
{ports or _PORTS}{probes}"""
    }


_PORTS = """\
                      ports:
                        - name: http
                          containerPort: 8000
"""
_GOOD_PROBES = """\
                      readinessProbe:
                        httpGet: {path: /ready, port: http}
                      livenessProbe:
                        httpGet: {path: /healthz, port: http}
"""


def _serves(part: ContainerPart, service: Service, project: Project) -> bool:
    if part.container.ports:
        return True
    dockerfile = service.dockerfile
    if dockerfile is not None and any(
        True for stage in dockerfile.shipped_chain() for _ in stage.all("EXPOSE")
    ):
        return True
    return container_server(part, service, project) is not None


def _missing_probe(
    kind: str, part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.model.roles import container_role

    if part.container.probe(kind) is not None:
        return
    hit = at_line(
        part.path,
        part.container.line,
        f"container {part.container.name} of {part.workload.label} has no {kind}Probe",
    )
    role = container_role(part, project).note()
    if role is not None:
        yield replace(hit, message=f"{hit.message} ({role})", severity=Severity.INFO)
    elif not _serves(part, service, project):
        yield replace(
            hit,
            message=f"{hit.message} (could not tell that it serves: no ports, no known server)",
            severity=Severity.INFO,
        )
    else:
        yield hit


@container_rule(
    "DW221",
    lesson="health",
    severity="warning",
    title="Container without a readiness probe",
    why="""
        Without a readiness probe a pod receives traffic as soon as its container starts,
        before the app has loaded, and keeps receiving it while it cannot serve (overloaded,
        lost its database): rolling updates send requests to pods that are not ready.
        Jobs, CronJobs and init containers are not asked; containers that show no sign of
        serving (no ports, no known server: a queue worker) and development manifests are
        advice (info).
    """,
    fix="""
        Add `readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 10}`
        pointing at a route that answers once the app can serve (checking its critical
        dependencies with short timeouts).
    """,
    bad=_deployment(),
    good=_deployment(_GOOD_PROBES),
    also=[
        "kube-score:pod-probes",
        "polaris:readinessProbeMissing",
        "kube-linter:no-readiness-probe",
        "checkov:CKV_K8S_9",
    ],
)
def missing_readiness_probe(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    yield from _missing_probe("readiness", part, service, project)


@container_rule(
    "DW222",
    lesson="health",
    severity="warning",
    title="Container without a liveness probe",
    why="""
        Without a liveness probe Kubernetes restarts a container only when its process
        exits: a deadlocked server, an exhausted worker pool or a stuck event loop keeps
        its pod forever. A liveness probe should check that the process answers, nothing
        more. Jobs, CronJobs and init containers are not asked; containers that show no
        sign of serving and development manifests are advice (info).
    """,
    fix="""
        Add `livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 10,
        failureThreshold: 3}` pointing at a cheap route that checks no dependency.
    """,
    bad=_deployment(),
    good=_deployment(_GOOD_PROBES),
    also=[
        "kube-score:pod-probes",
        "polaris:livenessProbeMissing",
        "kube-linter:no-liveness-probe",
        "checkov:CKV_K8S_8",
    ],
)
def missing_liveness_probe(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    yield from _missing_probe("liveness", part, service, project)


_FILE_TESTS = frozenset({"cat", "test", "[", "ls", "stat", "head", "tail"})


def _file_probed(commands: tuple[ShellCommand, ...]) -> str | None:
    """The file a probe only reads or tests for (`cat /tmp/healthy`, `test -f /tmp/ok`)."""
    if len(commands) != 1:
        return None
    command = commands[0]
    if command.name not in _FILE_TESTS:
        return None
    files = [a for a in command.positional() if a.startswith("/") and a != "]"]
    return files[0] if len(files) == 1 else None


def _maintained(file: str, part: ContainerPart, service: Service, project: Project) -> bool | None:
    """Whether something the project holds writes or mentions the file (the container's
    command, the Dockerfile, the app's code); None when the image is built elsewhere."""
    container = part.container
    words = " ".join((*(container.command or ()), *(container.args or ())))
    if file in words:
        return True
    if service.dockerfile is None:
        return None
    if file in service.dockerfile.text:
        return True
    if service.context_dir is not None:
        app = project.python_app(service.context_dir)
        if app.modules_mentioning([file.encode()]):
            return True
        if app.modules_mentioning([file.rsplit("/", 1)[-1].encode()]):
            return True
    return False


@container_rule(
    "DW223",
    lesson="health",
    severity="warning",
    title="Probe that tests nothing",
    why="""
        An exec probe running `true`, `exit 0`, `echo`, `pgrep app`, or one that ignores
        its command's failure always passes while the container runs; `cat /tmp/healthy`
        only tests a file, which proves nothing unless the app keeps it up to date (the
        Kubernetes documentation's example creates it once). A hung service then keeps
        its traffic and is never restarted. A file the project's Dockerfile, code or
        container command mentions is taken as maintained; when the image is built
        elsewhere, dockwise cannot tell (info).
    """,
    fix="Probe the service itself: `httpGet` on a health route, `tcpSocket` on its port, or its own ping command (`pg_isready`, `redis-cli ping`).",
    bad=_deployment(
        """\
                      readinessProbe:
                        exec:
                          command: ["true"]
                      livenessProbe:
                        httpGet: {path: /healthz, port: http}
"""
    ),
    good=_deployment(_GOOD_PROBES),
)
def probe_tests_nothing(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.rules._commands import shell_c_script
    from dockwise.rules.health import FAILURE_IGNORED, tests_nothing

    name = part.container.name
    for probe in part.container.probes:
        if probe.handler != "exec" or not probe.command:
            continue
        commands = argv_commands(probe.command)
        what = f"{probe.kind}Probe of container {name}"
        if commands and all(tests_nothing(c) for c in commands):
            yield at_line(
                part.path,
                probe.line,
                f"{what} runs `{commands[0].text}`, which tests nothing: a running container "
                "is not a healthy service",
            )
            continue
        script = shell_c_script(probe.command)
        if script and FAILURE_IGNORED.search(script.strip()):
            yield at_line(
                part.path,
                probe.line,
                f"{what} ignores its command's failure (always exits 0): a failing service passes",
            )
            continue
        file = _file_probed(commands)
        if file is None:
            continue
        maintained = _maintained(file, part, service, project)
        if maintained is True:
            continue
        hit = at_line(
            part.path,
            probe.line,
            f"{what} only tests that {file} exists, and nothing in the project writes it: "
            "the probe passes whether or not the service works",
        )
        if maintained is None:
            hit = replace(
                hit,
                message=f"{what} only tests that {file} exists: could not tell whether the "
                f"image ({part.container.image}) keeps it up to date",
                severity=Severity.INFO,
            )
        yield hit


_DEPENDENCY_CLIENTS = frozenset(
    {"psql", "pg_isready", "redis-cli", "mysql", "mysqladmin", "mongo", "mongosh", "nc", "ncat",
     "curl", "wget", "rabbitmqctl", "kafkacat", "kcat", "cqlsh"}
)  # fmt: skip
_HOST_FLAGS = ("-h", "--host", "-H", "--hostname")
_DEPENDENCY_PATH = lazy_compile(
    r"(?i)(?:^|/)(?:ready|readyz|readiness|db|database|databases|deps|dependencies|"
    r"upstream|upstreams|backends?|redis|postgres|mysql|mongo|cache|kafka|rabbitmq)(?:/|$)"
)


def _remote_host(command: ShellCommand) -> str | None:
    """The other host a client command reaches (`psql -h db`, `redis-cli -h cache`)."""
    if command.name not in _DEPENDENCY_CLIENTS:
        return None
    args = command.args
    for index, arg in enumerate(args):
        for flag in _HOST_FLAGS:
            value = None
            if arg == flag and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith(flag + "=") and flag.startswith("--"):
                value = arg.split("=", 1)[1]
            if value and "$" not in value and value.lower() not in LOCAL_HOSTS:
                if command.name in ("curl", "wget") and flag in ("-h", "-H"):
                    continue  # curl -H is a header
                return value
    target = command_target((command,))
    if target is not None and target.host.lower() not in LOCAL_HOSTS and "$" not in target.host:
        return target.host
    for arg in command.args:  # postgres://user@db:5432/app
        if "://" in arg and command.name in ("psql", "mongo", "mongosh", "redis-cli"):
            host = arg.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1].split(":")[0]
            if host and "$" not in host and host.lower() not in LOCAL_HOSTS:
                return host
    return None


@container_rule(
    "DW224",
    lesson="health",
    severity="warning",
    title="Liveness probe that checks dependencies",
    why="""
        A liveness probe that reaches a database, a cache or another service restarts the
        container when that dependency fails: one database outage restarts every pod of
        every service that uses it, which adds a restart storm to the outage and fixes
        nothing. Dependencies belong in the readiness probe (which only takes the pod out
        of the load balancer). A command that connects to another host (`pg_isready -h db`,
        `redis-cli -h cache ping`) is reported; an HTTP path named like a dependency or
        readiness check (`/ready`, `/db`, `/health/redis`) may or may not check them, so
        that is advice (info).
    """,
    fix="Point livenessProbe at a route that only proves the process answers (`/healthz` returning 200), and move dependency checks to readinessProbe.",
    bad=_deployment(
        """\
                      readinessProbe:
                        httpGet: {path: /ready, port: http}
                      livenessProbe:
                        exec:
                          command: ["pg_isready", "-h", "postgres", "-U", "app"]
"""
    ),
    good=_deployment(_GOOD_PROBES),
)
def liveness_checks_dependencies(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    probe = part.container.probe("liveness")
    if probe is None:
        return
    name = part.container.name
    if probe.handler == "exec":
        for command in argv_commands(probe.command):
            host = _remote_host(command)
            if host is not None:
                yield at_line(
                    part.path,
                    probe.line,
                    f"livenessProbe of container {name} runs `{command.name}` against {host}: "
                    f"when {host} fails, Kubernetes restarts this container, which fixes nothing",
                )
                return
    elif probe.handler == "httpGet" and probe.path and _DEPENDENCY_PATH.search(probe.path):
        yield replace(
            at_line(
                part.path,
                probe.line,
                f"livenessProbe of container {name} calls {probe.path}, named like a "
                "readiness or dependency check: if it checks a database or another service, "
                "their failure restarts this container",
            ),
            severity=Severity.INFO,
        )


def _port_problem(probe: Probe, part: ContainerPart) -> tuple[str, Severity | None] | None:
    port = probe.port
    ports = part.container.ports
    if port is None or probe.handler not in ("httpGet", "tcpSocket", "grpc"):
        return None
    if isinstance(port, str) and not is_digits(port):
        if "{{" in port or "$" in port:
            return None
        names = [p.name for p in ports if p.name]
        if port in names:
            return None
        known = f" (it defines {', '.join(names)})" if names else ""
        return (
            f"{probe.kind}Probe uses port name {port}, which container "
            f"{part.container.name} does not define{known}: the probe fails",
            None,
        )
    number = int(port)
    numbers = [p.number for p in ports if p.number is not None]
    if not numbers or number in numbers:
        return None
    words = (*(part.container.command or ()), *(part.container.args or ()))
    if any(_mentions_port(word, number) for word in words):
        return None  # `--health-probe-bind-address=:8081`: a health port of its own
    listed = ", ".join(str(n) for n in numbers)
    return (
        f"{probe.kind}Probe checks port {number}, but container {part.container.name} "
        f"declares only {listed}: unless the program also listens on {number} (declaring "
        "ports is optional), the probe fails",
        Severity.INFO,
    )


def _mentions_port(word: str, number: int) -> bool:
    import re

    return re.search(rf"(?<![\d.]){number}(?!\d)", word) is not None


@container_rule(
    "DW225",
    lesson="health",
    severity="error",
    title="Probe on a port the container does not have",
    why="""
        A probe that names a port the container does not define (`port: http` without a
        `ports` entry named http) fails every time: the pod never becomes ready, or is
        restarted in a loop. A numeric port missing from the declared `containerPort`s
        (8080 while the container declares 8000) may be the wrong port, but declaring
        ports is optional and many programs serve health on a port of their own, so that
        is advice (info), and nothing when the container's arguments name the port.
    """,
    fix="Probe a port the container declares (`port: http` with `ports: [{name: http, containerPort: 8000}]`), or declare the port the server listens on.",
    bad=_deployment(
        """\
                      readinessProbe:
                        httpGet: {path: /ready, port: web}
                      livenessProbe:
                        httpGet: {path: /healthz, port: 8080}
"""
    ),
    good=_deployment(_GOOD_PROBES),
    also=[
        "kube-linter:liveness-port",
        "kube-linter:readiness-port",
        "kube-linter:startup-port",
    ],
)
def probe_port_not_declared(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    for probe in part.container.probes:
        problem = _port_problem(probe, part)
        if problem is None:
            continue
        message, severity = problem
        related = tuple(
            Related(part.path, p.line, f"containerPort {p.number or ''} {p.name or ''}".strip())
            for p in part.container.ports[:3]
        )
        hit = at_line(part.path, probe.line, message, related=related)
        yield replace(hit, severity=severity) if severity is not None else hit
