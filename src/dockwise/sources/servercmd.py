"""What a server command line says: which server, which app, where it listens and logs.

Reads the argv of uvicorn, gunicorn, hypercorn, granian, daphne and uwsgi (also behind
`python -m`), and gunicorn's Python config file by AST. A loader: it never judges.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dockwise.digits import is_digits

SERVERS = ("uvicorn", "gunicorn", "hypercorn", "granian", "daphne", "uwsgi")

# gunicorn's built-in defaults, used when the command line and config say nothing
_DEFAULT_PORT = {
    "uvicorn": 8000,
    "gunicorn": 8000,
    "hypercorn": 8000,
    "granian": 8000,
    "daphne": 8000,
}
_DEFAULT_HOST = {
    "uvicorn": "127.0.0.1",
    "gunicorn": "127.0.0.1",
    "hypercorn": "127.0.0.1",
    "granian": "127.0.0.1",
    "daphne": "127.0.0.1",
}


@dataclass(frozen=True)
class ServerCommand:
    """A server started by a command line; None means the command line does not say."""

    server: str
    app: str | None = None  # "pkg.main:app", "pkg.wsgi", or a wsgi file for uwsgi
    host: str | None = None
    port: int | None = None
    unix_socket: str | None = None
    workers: int | None = None
    access_log: str | None = None  # "-" is stdout; a path is a file
    error_log: str | None = None
    log_config: str | None = None
    graceful_timeout: float | None = None
    config_file: str | None = None
    # True when an option's value could not be read (a $VAR): host/port may then be anything
    has_variables: bool = False

    @property
    def effective_host(self) -> str | None:
        """The host it binds, the server's default when nothing says otherwise."""
        if self.host is not None or self.unix_socket is not None or self.has_variables:
            return self.host
        return _DEFAULT_HOST.get(self.server)

    @property
    def effective_port(self) -> int | None:
        if self.port is not None or self.unix_socket is not None or self.has_variables:
            return self.port
        if self.config_file is not None:
            return None
        return _DEFAULT_PORT.get(self.server)

    def log_files(self) -> list[tuple[str, str]]:
        """(option, path) of every log the server writes to a file rather than a stream."""
        found = []
        for option, value in (("access log", self.access_log), ("error log", self.error_log)):
            if value is not None and is_file_target(value):
                found.append((option, value))
        return found


def is_file_target(value: str) -> bool:
    """A log destination that is a file in the container, not a stream."""
    return value not in (
        "-",
        "",
        "/dev/stdout",
        "/dev/stderr",
        "/proc/1/fd/1",
        "/proc/1/fd/2",
    ) and ("$" not in value)


def parse_server_command(argv: Sequence[str]) -> ServerCommand | None:
    """The server an argv starts, or None when it starts none of the known servers."""
    words = list(argv)
    server, rest = _server_and_args(words)
    if server is None:
        return None
    parser = _PARSERS[server]
    return parser(rest)


def _server_and_args(words: list[str]) -> tuple[str | None, list[str]]:
    if not words:
        return None, []
    name = words[0].rsplit("/", 1)[-1]
    if name in SERVERS:
        return name, words[1:]
    if name.startswith("python") and len(words) >= 3 and words[1] == "-m":
        module = words[2]
        if module in SERVERS:
            return module, words[3:]
    if name.startswith("python") and len(words) >= 2 and words[1] in ("-u", "-O", "-B"):
        return _server_and_args([words[0], *words[2:]])
    return None, []


def _flags(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _options(args: list[str], with_value: frozenset[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Options (`--x v`, `--x=v`, `-x v`, `-xv`) and positional arguments."""
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word.startswith("--") and "=" in word:
            key, _, value = word.partition("=")
            options.setdefault(key, []).append(value)
        elif word in with_value:
            value = args[index + 1] if index + 1 < len(args) else ""
            options.setdefault(word, []).append(value)
            index += 1
        elif word.startswith("-") and not word.startswith("--") and word[:2] in with_value:
            options.setdefault(word[:2], []).append(word[2:])
        elif word.startswith("-"):
            options.setdefault(word, []).append("")
        else:
            positional.append(word)
        index += 1
    return options, positional


def _last(options: Mapping[str, list[str]], *names: str) -> str | None:
    for name in names:
        if name in options:
            return options[name][-1]
    return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if is_digits(value) and len(value) <= 9 else None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) < 1e9 else None


def _split_bind(bind: str) -> tuple[str | None, int | None, str | None]:
    """(host, port, unix socket) of a gunicorn/hypercorn bind."""
    if bind.startswith("unix:"):
        return None, None, bind[5:]
    if bind.startswith("fd://"):
        return None, None, bind
    if bind.startswith("["):
        host, _, port = bind[1:].partition("]")
        return host, _int(port.lstrip(":")), None
    host, colon, port = bind.rpartition(":")
    if not colon:
        return bind, None, None
    return host or None, _int(port), None


def _variables(*values: str | None) -> bool:
    return any(value is not None and "$" in value for value in values)


_GUNICORN_VALUE = _flags(
    "-b --bind -w --workers -c --config -k --worker-class --access-logfile --error-logfile "
    "--log-file --log-config --graceful-timeout -t --timeout --threads --chdir "
    "--access-logformat --log-level --max-requests --pythonpath -e --env --name -n "
    "--worker-tmp-dir --forwarded-allow-ips --keep-alive --paste -u --user -g --group "
    "--certfile --keyfile --pid -p --umask --log-syslog-to --statsd-host"
)


def _gunicorn_like(server: str, args: list[str]) -> ServerCommand:
    options, positional = _options(args, _GUNICORN_VALUE)
    bind = _last(options, "-b", "--bind")
    host, port, sock = _split_bind(bind) if bind and "$" not in bind else (None, None, None)
    return ServerCommand(
        server=server,
        app=positional[0] if positional else None,
        host=host,
        port=port,
        unix_socket=sock,
        workers=_int(_last(options, "-w", "--workers")),
        access_log=_last(options, "--access-logfile", "--access-log"),
        error_log=_last(options, "--error-logfile", "--log-file", "--error-log"),
        log_config=_last(options, "--log-config"),
        graceful_timeout=_float(_last(options, "--graceful-timeout")),
        config_file=_last(options, "-c", "--config"),
        has_variables=_variables(bind, _last(options, "-w", "--workers")),
    )


_UVICORN_VALUE = _flags(
    "--host --port --uds --fd --workers --log-config --log-level --timeout-graceful-shutdown "
    "--timeout-keep-alive --app-dir --env-file --root-path --proxy-headers "
    "--forwarded-allow-ips --limit-concurrency --backlog --ssl-keyfile --ssl-certfile "
    "--loop --http --ws --lifespan --interface --reload-dir --limit-max-requests "
    "--h11-max-incomplete-event-size --header"
)


def _uvicorn(args: list[str]) -> ServerCommand:
    options, positional = _options(args, _UVICORN_VALUE)
    host = _last(options, "--host")
    port = _last(options, "--port")
    return ServerCommand(
        server="uvicorn",
        app=positional[0] if positional else None,
        host=host if host and "$" not in host else None,
        port=_int(port),
        unix_socket=_last(options, "--uds") or _last(options, "--fd"),
        workers=_int(_last(options, "--workers")),
        access_log=None if "--no-access-log" in options else "-",
        log_config=_last(options, "--log-config"),
        graceful_timeout=_float(_last(options, "--timeout-graceful-shutdown")),
        has_variables=_variables(host, port),
    )


_GRANIAN_VALUE = _flags(
    "--host --port --workers --interface --threads --blocking-threads --loop "
    "--log-config --log-level --workers-kill-timeout --ssl-keyfile --ssl-certificate "
    "--uds --respawn-interval --backlog --url-path-prefix"
)


def _granian(args: list[str]) -> ServerCommand:
    options, positional = _options(args, _GRANIAN_VALUE)
    host = _last(options, "--host")
    port = _last(options, "--port")
    return ServerCommand(
        server="granian",
        app=positional[0] if positional else None,
        host=host if host and "$" not in host else None,
        port=_int(port),
        unix_socket=_last(options, "--uds"),
        workers=_int(_last(options, "--workers")),
        log_config=_last(options, "--log-config"),
        graceful_timeout=_float(_last(options, "--workers-kill-timeout")),
        has_variables=_variables(host, port),
    )


_DAPHNE_VALUE = _flags(
    "-b --bind -p --port -u --unix-socket --fd -e --endpoint --access-log -v --verbosity "
    "--root-path --websocket_timeout --application-close-timeout --proxy-headers-host "
    "--proxy-headers-port -t --http-timeout --ping-interval --ping-timeout"
)


def _daphne(args: list[str]) -> ServerCommand:
    options, positional = _options(args, _DAPHNE_VALUE)
    host = _last(options, "-b", "--bind")
    port = _last(options, "-p", "--port")
    return ServerCommand(
        server="daphne",
        app=positional[0] if positional else None,
        host=host if host and "$" not in host else None,
        port=_int(port),
        unix_socket=_last(options, "-u", "--unix-socket"),
        access_log=_last(options, "--access-log"),
        has_variables=_variables(host, port),
    )


_UWSGI_VALUE = _flags(
    "--http --http-socket --socket -s --uwsgi-socket --module -w --wsgi-file --processes -p "
    "--workers --logto --logto2 --daemonize --ini --master-fifo --chdir --callable "
    "--threads --harakiri --uid --gid --static-map --buffer-size --plugin --plugins "
    "--mount --manage-script-name --env --home -H --virtualenv --max-requests "
    "--reload-mercy --worker-reload-mercy"
)


def _uwsgi(args: list[str]) -> ServerCommand:
    options, positional = _options(args, _UWSGI_VALUE)
    listen = _last(options, "--http", "--http-socket", "--socket", "-s", "--uwsgi-socket")
    host, port, sock = (None, None, None)
    if listen and "$" not in listen:
        host, port, sock = _split_bind(listen)
        if sock is None and "/" in (host or ""):
            host, sock = None, listen
    log = _last(options, "--logto", "--logto2", "--daemonize")
    return ServerCommand(
        server="uwsgi",
        app=_last(options, "--module", "-w", "--wsgi-file")
        or (positional[0] if positional else None),
        host=host or (None if listen is None or sock else "0.0.0.0"),
        port=port,
        unix_socket=sock,
        workers=_int(_last(options, "--processes", "-p", "--workers")),
        error_log=log,
        access_log=log,
        graceful_timeout=_float(_last(options, "--reload-mercy", "--worker-reload-mercy")),
        config_file=_last(options, "--ini"),
        has_variables=_variables(listen),
    )


def _hypercorn(args: list[str]) -> ServerCommand:
    return _gunicorn_like("hypercorn", args)


def _gunicorn(args: list[str]) -> ServerCommand:
    return _gunicorn_like("gunicorn", args)


_PARSERS = {
    "uvicorn": _uvicorn,
    "gunicorn": _gunicorn,
    "hypercorn": _hypercorn,
    "granian": _granian,
    "daphne": _daphne,
    "uwsgi": _uwsgi,
}

# gunicorn.conf.py settings and the ServerCommand fields they set
_CONFIG_SETTINGS = {
    "bind": "bind",
    "workers": "workers",
    "accesslog": "access_log",
    "errorlog": "error_log",
    "logconfig": "log_config",
    "graceful_timeout": "graceful_timeout",
}


def read_gunicorn_config(source: str) -> dict[str, object]:
    """Literal settings of a gunicorn Python config file (bind, workers, logs, timeouts).

    Only literal assignments are read; the file is never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    settings: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in _CONFIG_SETTINGS:
                try:
                    settings[target.id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    settings[target.id] = None  # computed: unknown
    return settings


def with_gunicorn_config(command: ServerCommand, settings: Mapping[str, object]) -> ServerCommand:
    """The command with a config file's settings filled in where the command line is silent
    (gunicorn: the command line wins over the file)."""
    changes: dict[str, object] = {}
    bind = settings.get("bind")
    if isinstance(bind, list | tuple) and bind:
        bind = bind[0]
    if "bind" in settings and command.host is None and command.port is None:
        if isinstance(bind, str):
            host, port, sock = _split_bind(bind)
            changes.update(host=host, port=port, unix_socket=sock)
        else:
            changes["has_variables"] = True
    workers = settings.get("workers")
    if command.workers is None and isinstance(workers, int) and not isinstance(workers, bool):
        changes["workers"] = workers
    for key, field in (("accesslog", "access_log"), ("errorlog", "error_log")):
        value = settings.get(key)
        if getattr(command, field) is None and isinstance(value, str):
            changes[field] = value
    graceful = settings.get("graceful_timeout")
    if (
        command.graceful_timeout is None
        and isinstance(graceful, int | float)
        and not isinstance(graceful, bool)
        and abs(graceful) <= 1e18  # 10**400 or 1e999: no timeout anyone means
    ):
        changes["graceful_timeout"] = float(graceful)
    return replace(command, **changes) if changes else command  # type: ignore[arg-type]
