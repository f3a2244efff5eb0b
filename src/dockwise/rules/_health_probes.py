"""Health checks of every kind read alike: a Dockerfile HEALTHCHECK, a compose `healthcheck`
and a Kubernetes probe, each as the commands it runs and the (host, port, path) it probes,
plus the server a part of a service starts (for the cross-checks of `health_service.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from msgspec import Struct

from dockwise.digits import is_digits, small_int
from dockwise.lazyre import lazy_compile
from dockwise.sources.shell import ShellCommand, parse_script

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, ContainerPart, Service
    from dockwise.project import Project
    from dockwise.rules._commands import LaunchReader
    from dockwise.sources.compose import Healthcheck
    from dockwise.sources.dockerfile import Instruction
    from dockwise.sources.servercmd import ServerCommand

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", ""})
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

_URL = lazy_compile(r"https?://[^\s'\"()<>]+")
_PYTHON_SOCKET = lazy_compile(r"\(\s*\(\s*['\"]([^'\"]+)['\"]\s*,\s*(\d+)\s*\)")
_PROBE_CLIENTS = frozenset({"curl", "wget", "http", "https", "httpx", "xh"})


class Target(Struct, frozen=True):
    """Where a probe or health check connects: host, port, path."""

    host: str
    port: int | str | None  # a number, or a named container port (Kubernetes)
    path: str | None  # None: not HTTP (a TCP connect, a socket)


class Check(Struct, frozen=True):
    """One health check of a service, wherever it is written."""

    what: str  # "HEALTHCHECK", "compose healthcheck", "liveness probe"
    path: str
    line: int | None
    commands: tuple[ShellCommand, ...] = ()
    target: Target | None = None


def _url_target(url: str) -> Target | None:
    try:
        parts = urlsplit(url.rstrip(".,;"))
        port = parts.port
    except ValueError:
        return None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return Target(parts.hostname or "", port, parts.path or "/")


def command_target(commands: tuple[ShellCommand, ...]) -> Target | None:
    """(host, port, path) probed by curl/wget/httpie URLs, python one-liners and nc."""
    for command in commands:
        if command.name in _PROBE_CLIENTS or command.name.startswith("python"):
            text = " ".join(command.args)
            url = _URL.search(text)
            if url:
                if "$" in url.group(0):
                    return None
                return _url_target(url.group(0))
            socket = _PYTHON_SOCKET.search(text)
            if socket:
                number = small_int(socket.group(2))
                return Target(socket.group(1), number, None) if number is not None else None
        elif command.name in ("nc", "ncat") and len(command.positional()) >= 2:
            host, port = command.positional()[:2]
            if is_digits(port):
                return Target(host, int(port), None)
    return None


def argv_commands(argv: tuple[str, ...]) -> tuple[ShellCommand, ...]:
    """The simple commands an exec argv runs (`sh -c "script"` opened)."""
    from dockwise.rules._commands import shell_c_script

    if not argv:
        return ()
    script = shell_c_script(argv)
    if script is not None:
        return parse_script(script).commands
    return (ShellCommand(argv),)


def compose_commands(check: Healthcheck) -> tuple[ShellCommand, ...]:
    """The commands a compose healthcheck's test runs (empty when it has none of its own)."""
    if check.kind == "CMD":
        return argv_commands(check.command)
    if check.kind == "CMD-SHELL" and check.command:
        return parse_script(" ".join(check.command)).commands
    return ()


def compose_shell(check: Healthcheck) -> str | None:
    """The shell a compose test needs: CMD-SHELL runs `/bin/sh -c`."""
    if check.kind == "CMD-SHELL":
        return "/bin/sh"
    if check.kind == "CMD" and check.command:
        from dockwise.rules._commands import shell_c_script

        if shell_c_script(check.command) is not None:
            return check.command[0]
    return None


def dockerfile_check(service: Service) -> Check | None:
    """The effective HEALTHCHECK of the service's image, when it is one that probes."""
    from dockwise.rules._commands import effective
    from dockwise.rules.health import check_commands, is_disabled, probe_target

    dockerfile = service.dockerfile
    if dockerfile is None:
        return None
    instruction = effective(dockerfile, "HEALTHCHECK")
    if instruction is None or is_disabled(instruction):
        return None
    found = probe_target(instruction)
    target = Target(found[0], found[1], found[2] or None) if found else None
    return Check(
        "HEALTHCHECK",
        dockerfile.relpath,
        instruction.start_line,
        check_commands(instruction),
        target,
    )


def compose_check(part: ComposePart) -> Check | None:
    check = part.service.healthcheck
    if check is None or check.disabled or not check.test:
        return None
    commands = compose_commands(check)
    origin = check.test_origin or check.origin
    return Check(
        f"compose healthcheck of {part.service.name}",
        origin.path,
        origin.line,
        commands,
        command_target(commands),
    )


def probe_checks(part: ContainerPart) -> Iterator[Check]:
    for probe in part.container.probes:
        what = f"{probe.kind} probe of container {part.container.name}"
        port: int | str | None = probe.port
        if isinstance(port, str) and is_digits(port):
            port = int(port)
        if probe.handler == "httpGet":
            yield Check(what, part.path, probe.line, (), Target("", port, probe.path or "/"))
        elif probe.handler in ("tcpSocket", "grpc"):
            yield Check(what, part.path, probe.line, (), Target("", port, None))
        elif probe.handler == "exec":
            commands = argv_commands(probe.command)
            yield Check(what, part.path, probe.line, commands, command_target(commands))


# --- the server a part starts ------------------------------------------------------------


class Server(Struct, frozen=True):
    """The server a service runs, and where its command is written."""

    command: ServerCommand
    path: str
    line: int | None
    env_host: str | None = None  # host set through the environment (PORT, UVICORN_HOST...)
    # why another process may serve next to it (nginx in the same script, an ENTRYPOINT
    # script that runs first): port and bind findings are then unsure
    beside: str | None = None
    host_defaulted: bool = False  # `flask run`, `runserver`: the host is the default

    @property
    def host(self) -> str | None:
        return self.env_host or self.command.effective_host

    @property
    def port(self) -> int | None:
        return self.command.effective_port


_VARIABLE = lazy_compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")


def _expand(word: str, env: Mapping[str, str]) -> str:
    def value(match: object) -> str:
        import re

        assert isinstance(match, re.Match)
        name = match.group(1) or match.group(3)
        if name in env:
            return env[name]
        default = match.group(2)
        return default if default is not None else match.group(0)

    return _VARIABLE.sub(value, word)


def _from_env(command: ServerCommand, env: Mapping[str, str]) -> tuple[ServerCommand, str | None]:
    """The command as the environment changes it (gunicorn binds 0.0.0.0:$PORT when PORT is
    set; uvicorn reads UVICORN_HOST/UVICORN_PORT); has_variables when it cannot be read."""
    from msgspec.structs import replace

    if command.host is not None or command.port is not None or command.unix_socket:
        return command, None
    if command.server == "gunicorn":
        if "GUNICORN_CMD_ARGS" in env:
            return replace(command, has_variables=True), None
        if "PORT" in env:
            port = env["PORT"].strip()
            if is_digits(port):
                return replace(command, host="0.0.0.0", port=int(port)), None
            return replace(command, has_variables=True), None
    if command.server == "uvicorn" and ("UVICORN_HOST" in env or "UVICORN_PORT" in env):
        host = env.get("UVICORN_HOST")
        port = env.get("UVICORN_PORT", "8000").strip()
        if (host is not None and "$" in host) or not port.isdigit():
            return replace(command, has_variables=True), None
        return replace(command, host=host, port=int(port)), None
    return command, None


_RUNNERS = {
    "uv": ("run",),
    "poetry": ("run",),
    "pipenv": ("run",),
    "pdm": ("run",),
    "hatch": ("run",),
    "rye": ("run",),
    "newrelic-admin": ("run-program", "run-python"),
}
_PREFIXES = frozenset({"exec", "ddtrace-run", "opentelemetry-instrument", "env", "nice"})
# programs that serve HTTP themselves: next to one, the Python server may be its backend
OTHER_SERVERS = frozenset(
    {"nginx", "caddy", "haproxy", "envoy", "traefik", "httpd", "apache2", "apachectl",
     "supervisord", "circusd", "honcho", "s6-svscan", "runsvdir", "node", "npm", "php-fpm"}
)  # fmt: skip


def _strip_runner(words: tuple[str, ...]) -> tuple[str, ...]:
    """`uv run gunicorn ...`, `poetry run`, `ddtrace-run`, `exec`: the program they start."""
    for _ in range(4):
        if not words:
            return words
        name = words[0].rsplit("/", 1)[-1]
        if name in _PREFIXES:
            rest = words[1:]
            while rest and (rest[0].startswith("-") or "=" in rest[0]):
                rest = rest[1:]
            words = rest
        elif name in _RUNNERS and len(words) > 1 and words[1] in _RUNNERS[name]:
            rest = words[2:]
            while rest and rest[0].startswith("-"):
                rest = rest[1:]
            words = rest
        else:
            return words
    return words


def _dev_server(words: tuple[str, ...], env: Mapping[str, str]) -> ServerCommand | None:
    """`flask run` and `manage.py runserver`, which bind 127.0.0.1 unless told otherwise."""
    from dockwise.sources.servercmd import ServerCommand

    names = [w.rsplit("/", 1)[-1] for w in words]
    if names[:2] == ["flask", "run"] or (
        len(names) >= 4 and names[0].startswith("python") and names[1:4] == ["-m", "flask", "run"]
    ):
        args = list(words[names.index("run") + 1 :])
        host = env.get("FLASK_RUN_HOST", "127.0.0.1")
        port = env.get("FLASK_RUN_PORT", "5000")
        for index, arg in enumerate(args):
            value = args[index + 1] if index + 1 < len(args) else ""
            if arg in ("-h", "--host"):
                host = value
            elif arg.startswith("--host="):
                host = arg.split("=", 1)[1]
            elif arg in ("-p", "--port"):
                port = value
            elif arg.startswith("--port="):
                port = arg.split("=", 1)[1]
        unknown = "$" in host or not is_digits(port.strip())
        return ServerCommand(
            "flask run",
            host=None if unknown else host,
            port=None if unknown else int(port),
            has_variables=unknown,
        )
    if "manage.py" in names and "runserver" in names:
        rest = [w for w in words[names.index("runserver") + 1 :] if not w.startswith("-")]
        host, port = "127.0.0.1", "8000"
        if rest:
            address = rest[0]
            if ":" in address:
                host, _, port = address.rpartition(":")
                host = {"0": "0.0.0.0", "": "127.0.0.1"}.get(host, host.strip("[]"))
            else:
                port = address
        unknown = "$" in host or not is_digits(port)
        return ServerCommand(
            "manage.py runserver",
            host=None if unknown else host,
            port=None if unknown else int(port),
            has_variables=unknown,
        )
    return None


def _names_host(words: tuple[str, ...], env: Mapping[str, str]) -> bool:
    """`flask run --host`, `runserver 0.0.0.0:8000`, FLASK_RUN_HOST: a host is given."""
    if "FLASK_RUN_HOST" in env:
        return True
    after = (
        words[[w.rsplit("/", 1)[-1] for w in words].index("runserver") + 1 :]
        if any(w.endswith("runserver") for w in words)
        else ()
    )
    if any(":" in w for w in after if not w.startswith("-")):
        return True
    return any(w in ("-h", "--host") or w.startswith("--host=") for w in words)


def _server_of(
    argv: tuple[str, ...],
    env: Mapping[str, str],
    path: str,
    line: int | None,
    launch: LaunchReader | None = None,
) -> Server | None:
    from dockwise.rules._commands import shell_c_script, unwrap
    from dockwise.sources.servercmd import parse_server_command

    argv = unwrap(argv)
    script = shell_c_script(argv)
    commands = (
        [(unwrap(c.argv), c.assignments) for c in parse_script(script).commands]
        if script is not None
        else [(argv, ())]
    )
    others = [w[0].rsplit("/", 1)[-1] for w, _ in commands if w]
    beside = next(
        (f"{name} runs in the same container" for name in others if name in OTHER_SERVERS), None
    )
    for words, assignments in commands:
        scope = dict(env)
        for assignment in assignments:
            name, _, value = assignment.partition("=")
            scope[name] = value
        expanded = _strip_runner(tuple(_expand(word, scope) for word in words))
        command = parse_server_command(expanded)
        defaulted = False
        if command is None:
            command = _dev_server(expanded, scope)
            defaulted = command is not None and not _names_host(expanded, scope)
        if command is None and launch is not None:  # python -m pkg: uvicorn.run(...) in it
            command = launch(expanded, scope)
        if command is not None:
            command, env_host = _from_env(command, scope)
            return Server(command, path, line, env_host, beside, defaulted)
    return None


def _with_config(server: Server, project: Project, service: Service) -> Server | None:
    """gunicorn reads `gunicorn.conf.py` from its working folder, or the file `-c` names:
    its bind applies when the command line has none; None when it cannot be read."""
    from msgspec.structs import replace

    from dockwise.sources.servercmd import read_gunicorn_config, with_gunicorn_config

    command = server.command
    if command.server != "gunicorn" or command.host is not None or command.port is not None:
        return server
    wanted = command.config_file or "gunicorn.conf.py"
    if wanted.startswith("python:"):
        return None
    name = PurePosixPath(wanted).name
    root = service.context_dir
    if root is None:
        return server if command.config_file is None else None
    prefix = str(root).rstrip("/") + "/"
    found = [
        p for p in project.discovery.python_files if p.startswith(prefix) and Path(p).name == name
    ]
    if not found:
        return server if command.config_file is None else None
    if len(found) > 1:
        return None
    try:
        settings = read_gunicorn_config(Path(found[0]).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    if not settings:
        return server
    if "bind" not in settings:
        return replace(server, command=replace(command, config_file=None))
    return replace(
        server, command=with_gunicorn_config(replace(command, config_file=None), settings)
    )


def dockerfile_server(
    service: Service, env: Mapping[str, str], launch: LaunchReader | None = None
) -> Server | None:
    """The server the image starts: ENTRYPOINT and CMD as Docker joins them; a CMD behind an
    ENTRYPOINT script is read too, noting that the script runs first."""
    from msgspec.structs import replace

    from dockwise.rules._commands import effective, unwrap

    dockerfile = service.dockerfile
    if dockerfile is None:
        return None
    entrypoint = effective(dockerfile, "ENTRYPOINT")
    cmd = effective(dockerfile, "CMD")

    def argv_of(instruction: Instruction) -> tuple[str, ...]:
        if instruction.json:
            return tuple(instruction.value)
        return ("/bin/sh", "-c", instruction.script)

    if entrypoint is not None and entrypoint.value:
        scope = {**entrypoint.vars, **env}
        joined = argv_of(entrypoint)
        if entrypoint.json and cmd is not None and cmd.value:
            joined = (*joined, *argv_of(cmd))
        found = _server_of(joined, scope, dockerfile.relpath, entrypoint.start_line, launch)
        if found is not None or not entrypoint.json or cmd is None or not cmd.value:
            return found
        program = unwrap(tuple(entrypoint.value))
        if not program:
            return None
        found = _server_of(
            argv_of(cmd), {**cmd.vars, **env}, dockerfile.relpath, cmd.start_line, launch
        )
        if found is not None and found.beside is None:
            found = replace(
                found,
                beside=f"ENTRYPOINT {program[0]} (line {entrypoint.start_line}) runs first",
            )
        return found
    if cmd is None or not cmd.value:
        return None
    return _server_of(argv_of(cmd), {**cmd.vars, **env}, dockerfile.relpath, cmd.start_line, launch)


def _image_env(service: Service) -> dict[str, str]:
    dockerfile = service.dockerfile
    stage = dockerfile.shipped_stage if dockerfile is not None else None
    return dict(stage.final_vars) if stage is not None else {}


def compose_server(part: ComposePart, service: Service, project: Project) -> Server | None:
    """The server a compose service starts: its own command or entrypoint, else the image's."""
    env = _image_env(service)
    env.update(
        (name, variable.value)
        for name, variable in part.service.environment.items()
        if variable.value is not None
    )
    compose = part.service
    found: Server | None = None
    launch = _python_launch(service, project)
    if compose.entrypoint is not None:
        argv = compose.entrypoint.argv + (compose.command.argv if compose.command else ())
        found = _server_of(
            argv, env, compose.entrypoint.origin.path, compose.entrypoint.origin.line, launch
        )
    elif (
        compose.command is not None
        and compose.command.argv[:1]
        and not compose.command.argv[0].startswith("-")
    ):
        origin = compose.command.origin
        found = _server_of(compose.command.argv, env, origin.path, origin.line, launch)
    else:
        found = dockerfile_server(service, env, launch)
    return _with_config(found, project, service) if found is not None else None


def container_server(part: ContainerPart, service: Service, project: Project) -> Server | None:
    """The server a Kubernetes container starts: its command/args, else the image's."""
    container = part.container
    env = _image_env(service)
    env.update((var.name, var.value) for var in container.env if var.value is not None)
    for var in container.env:  # a value from a secret or the downward API: unknown
        if var.value is None:
            env[var.name] = "$" + var.name
    argv = (*(container.command or ()), *(container.args or ()))
    found: Server | None = None
    launch = _python_launch(service, project)
    if container.command is not None or (argv and not argv[0].startswith("-")):
        found = _server_of(argv, env, part.path, container.line, launch)
    else:
        found = dockerfile_server(service, env, launch)
    return _with_config(found, project, service) if found is not None else None


def _python_launch(service: Service, project: Project) -> LaunchReader | None:
    from dockwise.rules._commands import python_launch

    return python_launch(service, project)


def image_server(service: Service, project: Project) -> Server | None:
    found = dockerfile_server(service, _image_env(service), _python_launch(service, project))
    return _with_config(found, project, service) if found is not None else None
