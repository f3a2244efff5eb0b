"""Health cross-checks over a whole service (DW231-DW233): the health check's path is a
route the app serves, its port is the one the server listens on, and the server listens
where the probes can reach it. Each finding points at both places (`related`).

Every check of the service is judged against the server that runs in the same container:
the Dockerfile HEALTHCHECK against the image's command, a compose healthcheck against the
compose service's command (else the image's), a Kubernetes probe against the container's
command/args (else the image's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockwise.digits import is_digits
from dockwise.findings import Hit, Related, Severity
from dockwise.rules._health_probes import (
    LOCAL_HOSTS,
    LOOPBACK,
    Check,
    Server,
    compose_check,
    compose_server,
    container_server,
    dockerfile_check,
    image_server,
    probe_checks,
)
from dockwise.rules._scopes import at_line, service_rule

if TYPE_CHECKING:
    from dockwise.model.service import ContainerPart, Service
    from dockwise.project import Project
    from dockwise.sources.pyapp import Route

# routes a framework serves without the app declaring them
_BUILT_IN_ROUTES = {
    "fastapi": ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"),
    "flask": ("/static/{path:path}",),
    "quart": ("/static/{path:path}",),
}


_FASTAPI_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
"""


class _Pair(Struct, frozen=True):
    """A health check and the server running in the container it checks."""

    check: Check
    server: Server | None
    container: ContainerPart | None = None  # the Kubernetes container, for named ports


def _pairs(service: Service, project: Project) -> Iterator[_Pair]:
    own = dockerfile_check(service)
    if own is not None:
        yield _Pair(own, image_server(service, project))
    for part in service.compose:
        check = compose_check(part)
        if check is not None:
            yield _Pair(check, compose_server(part, service, project))
    for container in service.runtime_containers:
        checks = list(probe_checks(container))
        if checks:
            server = container_server(container, service, project)
            for check in checks:
                yield _Pair(check, server, container)


def _port(pair: _Pair) -> int | None:
    """The probed port as a number (a named Kubernetes port resolved)."""
    target = pair.check.target
    if target is None:
        return None
    if isinstance(target.port, int):
        return target.port
    if isinstance(target.port, str) and pair.container is not None:
        for port in pair.container.container.ports:
            if port.name == target.port:
                return port.number
    return None


def _is_local(pair: _Pair) -> bool:
    target = pair.check.target
    return target is not None and target.host.lower() in LOCAL_HOSTS


def _server_related(server: Server, what: str) -> Related:
    return Related(server.path, server.line, what)


def _server_port(server: Server | None) -> int | None:
    if server is None or server.command.unix_socket or server.command.has_variables:
        return None
    return server.port


@service_rule(
    "DW231",
    lesson="health",
    severity="warning",
    title="Health check path is not a route the app serves",
    why="""
        A health check that requests a path the app does not serve gets 404 every time:
        the container is never healthy (compose, Swarm), never ready or restarted in a
        loop (Kubernetes), although the service is fine. dockwise reads the app's routes
        from its code (FastAPI/Starlette routers with their prefixes and includes, Flask
        blueprints, Django urlpatterns, aiohttp route tables) for the app the server
        command names, and only reports when it could read every route: a route built at
        run time, an include it cannot follow or a path served by middleware keep it
        silent. Framework routes (FastAPI's /docs and /openapi.json) count.
    """,
    fix="Point the health check at a route the app declares, or add the route (a `GET /health` that returns 200 without touching dependencies).",
    bad={
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            EXPOSE 8000
            HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
            CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
        """,
        "app/__init__.py": "",
        "app/main.py": _FASTAPI_APP,
    },
    good={
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            EXPOSE 8000
            HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
            CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
        """,
        "app/__init__.py": "",
        "app/main.py": _FASTAPI_APP,
    },
)
def health_path_not_served(service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.sources.pyapp import route_matches

    if service.context_dir is None:
        return
    seen: set[tuple[str, int | None]] = set()
    for pair in _pairs(service, project):
        target, server = pair.check.target, pair.server
        if target is None or target.path is None or server is None or not _is_local(pair):
            continue
        app_ref = server.command.app
        if not app_ref or "$" in app_ref or server.beside is not None:
            continue
        port, listening = _port(pair), _server_port(server)
        if port is not None and listening is not None and port != listening:
            continue  # another port: DW232 says so
        routes, complete = project.python_app(service.context_dir).routes(app_ref)
        if not complete or not routes:
            continue
        templates = [route.path for route in routes]
        for framework in {route.framework for route in routes}:
            templates.extend(_BUILT_IN_ROUTES.get(framework, ()))
        if any(route_matches(template, target.path) for template in templates):
            continue
        key = (pair.check.path, pair.check.line)
        if key in seen:
            continue
        seen.add(key)
        yield at_line(
            pair.check.path,
            pair.check.line,
            f"{pair.check.what} requests {target.path}, which {app_ref} does not serve "
            f"(its routes: {_listing(routes)}): the check fails with 404",
            related=(
                _server_related(server, f"{server.command.server} serves {app_ref}"),
                *_route_places(routes),
            ),
        )


def _listing(routes: list[Route]) -> str:
    paths = list(dict.fromkeys(route.path for route in routes))
    shown = ", ".join(paths[:6])
    return shown + (f" and {len(paths) - 6} more" if len(paths) > 6 else "")


def _route_places(routes: list[Route]) -> tuple[Related, ...]:
    health_like = [
        r
        for r in routes
        if any(w in r.path.lower() for w in ("health", "ping", "live", "ready", "status"))
    ]
    chosen = health_like[:2] or routes[:1]
    return tuple(Related(r.file, r.line, f"route {r.path}") for r in chosen)


@service_rule(
    "DW232",
    lesson="health",
    severity="warning",
    title="Health check port is not the port the server listens on",
    why="""
        A health check on another port than the server's fails for ever (or checks some
        other process): the container is reported unhealthy, never ready, or restarted in
        a loop while the service is fine. dockwise reads the port the server binds from
        its command line (`--bind`, `--port`, gunicorn.conf.py, `PORT` for gunicorn,
        `UVICORN_PORT`, the server's default) in the same container as the check; a
        compose healthcheck is also compared with the service's ports and EXPOSE when the
        server is unknown. When another program may serve next to it (nginx in the same
        script, an ENTRYPOINT script that runs first), it stays silent.
    """,
    fix="Probe the port the server binds (or bind the server to the port the probes use, the one the container declares).",
    bad={
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
            CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        """
    },
    good={
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
            CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        """
    },
)
def health_port_not_listening(service: Service, project: Project) -> Iterator[Hit]:
    seen: set[tuple[str, int | None]] = set()
    for pair in _pairs(service, project):
        if not _is_local(pair):
            continue
        port = _port(pair)
        if port is None:
            continue
        key = (pair.check.path, pair.check.line)
        server = pair.server
        listening = _server_port(server)
        if server is not None and listening is not None and server.beside is None:
            if port != listening and key not in seen:
                seen.add(key)
                yield at_line(
                    pair.check.path,
                    pair.check.line,
                    f"{pair.check.what} checks port {port}, but {server.command.server} "
                    f"listens on {listening}",
                    related=(
                        _server_related(server, f"{server.command.server} binds port {listening}"),
                    ),
                )
            continue
        if server is None and pair.container is None and pair.check.what.startswith("compose"):
            hit = _compose_port_hit(pair, port, service)
            if hit is not None and key not in seen:
                seen.add(key)
                yield hit


def _compose_port_hit(pair: _Pair, port: int, service: Service) -> Hit | None:
    """A compose healthcheck's port against the service's port targets, `expose` and the
    image's EXPOSE, when all of them are known."""
    from dockwise.rules.health import exposed_ports

    for part in service.compose:
        check = part.service.healthcheck
        origin = (check.test_origin or check.origin) if check is not None else None
        if origin is None or (origin.path, origin.line) != (pair.check.path, pair.check.line):
            continue
        declared: dict[int, Related] = {}
        for published in part.service.ports:
            target = (published.target or "").split("-")[0]
            if not is_digits(target):
                return None
            declared.setdefault(
                int(target),
                Related(published.origin.path, published.origin.line, f"port {published.written}"),
            )
        for item in part.service.expose:
            value = item.value.split("/")[0]
            if not is_digits(value):
                return None
            declared.setdefault(
                int(value), Related(item.origin.path, item.origin.line, f"expose {item.value}")
            )
        if service.dockerfile is not None:
            image_ports = exposed_ports(service.dockerfile)
            if image_ports is None:
                return None
            for number in image_ports:
                declared.setdefault(
                    number, Related(service.dockerfile.relpath, None, f"EXPOSE {number}")
                )
        if not declared or port in declared:
            return None
        listed = ", ".join(str(n) for n in sorted(declared)[:5])
        return at_line(
            pair.check.path,
            pair.check.line,
            f"{pair.check.what} checks port {port}, but the service publishes and exposes "
            f"only {listed}",
            related=tuple(list(declared.values())[:3]),
        )
    return None


def _runners(service: Service, project: Project) -> Iterator[tuple[Server, str, tuple[Check, ...]]]:
    """Each server the service's containers start (once per command line), with what runs
    it and the checks that reach it from outside the container."""
    seen: set[tuple[str, int | None]] = set()
    for part in service.compose:
        server = compose_server(part, service, project)
        if server is not None and (server.path, server.line) not in seen:
            seen.add((server.path, server.line))
            yield server, f"compose service {part.service.name}", ()
    for container in service.runtime_containers:
        server = container_server(container, service, project)
        if server is None:
            continue
        outside = tuple(
            check
            for check in probe_checks(container)
            if check.target is not None and not check.commands  # httpGet, tcpSocket, grpc
        )
        key = (server.path, server.line)
        if key not in seen or outside:
            seen.add(key)
            yield server, f"container {container.container.name}", outside
    if not service.orchestrated:
        server = image_server(service, project)
        if server is not None and (server.path, server.line) not in seen:
            yield server, "the image", ()


@service_rule(
    "DW233",
    lesson="health",
    severity="warning",
    title="Server binds 127.0.0.1 inside the container",
    why="""
        A server bound to 127.0.0.1 (or localhost) inside a container only accepts
        connections from that same container: published ports, other containers,
        Kubernetes Services and the kubelet's httpGet/tcpSocket probes all connect to the
        container's own address and are refused, while a HEALTHCHECK run inside passes.
        uvicorn, gunicorn, hypercorn, granian, daphne, `flask run` and `manage.py
        runserver` bind 127.0.0.1 unless told otherwise, so a command without
        `--host`/`--bind` is reported. With Kubernetes probes on it the probes fail for
        sure (error); when another program may proxy to it in the same container (nginx,
        an ENTRYPOINT script), it is advice (info).
    """,
    fix="Bind all interfaces: `--host 0.0.0.0` (uvicorn), `--bind 0.0.0.0:8000` (gunicorn), `runserver 0.0.0.0:8000`.",
    bad="""
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        EXPOSE 8000
        CMD ["uvicorn", "app.main:app", "--port", "8000"]
    """,
    good="""
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        EXPOSE 8000
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
    """,
)
def server_binds_loopback(service: Service, project: Project) -> Iterator[Hit]:
    for server, runner, outside in _runners(service, project):
        host = server.host
        if host is None or host.lower().strip("[]") not in {h.strip("[]") for h in LOOPBACK}:
            continue
        explicit = (
            server.command.host is not None or server.env_host is not None
        ) and not server.host_defaulted
        how = f"binds {host}" if explicit else f"binds {host} (its default: no host given)"
        message = (
            f"{server.command.server} in {runner} {how}: only the container itself can "
            "connect; published ports, other containers and Kubernetes cannot reach it"
        )
        related: tuple[Related, ...] = ()
        severity: Severity | None = None
        if server.beside is not None:
            message += f" (unless it is a backend: {server.beside})"
            severity = Severity.INFO
        elif outside:
            check = outside[0]
            message += f"; the {check.what} will fail"
            related = (Related(check.path, check.line, check.what),)
            severity = Severity.ERROR
        yield replace(
            at_line(server.path, server.line, message, related=related), severity=severity
        )
