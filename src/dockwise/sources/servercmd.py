"""What a server command line says: which server, which app, where it listens and logs.

Reads the argv of uvicorn, gunicorn, hypercorn, granian, daphne and uwsgi (also behind
`python -m`), and gunicorn's Python config file by AST. A loader: it never judges.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockwise.digits import is_digits

if TYPE_CHECKING:
    from dockwise.sources.pyapp import PyModule, PythonApp

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


class ServerCommand(Struct, frozen=True):
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


# --- servers started from Python code ------------------------------------------------------
#
# `python -m app` whose `app/__main__.py` calls `uvicorn.run(...)` or builds a
# `uvicorn.Config(...)` for a `uvicorn.Server`: the call's arguments are read from the syntax
# tree (never run). A value is read when it is a literal, an environment lookup with a
# literal default (`int(os.environ.get("PORT", "8000"))`), or a settings attribute whose
# value comes to one of those through a few simple steps (a dataclass or pydantic settings
# class, a loader function, a small helper); anything else is unknown, never guessed.

_UNKNOWN = object()
_MAX_DEPTH = 24
_ENV_NAMES = frozenset({"env", "environ", "environment", "os.environ"})
_CONVERSIONS: dict[str, type] = {"int": int, "float": float, "str": str}
# uvicorn.run / uvicorn.Config keywords and their positions after the app
_UVICORN_KEYWORDS = ("host", "port", "uds", "fd")
_UVICORN_LAUNCHERS = frozenset({"uvicorn.run", "uvicorn.Config", "uvicorn.config.Config"})
_HYPERCORN_LAUNCHERS = frozenset({"hypercorn.asyncio.serve", "hypercorn.trio.serve"})
_LAUNCH_MARKERS = (b"uvicorn", b"hypercorn", b"gunicorn")


class _Scope:
    """Where a name is looked up: a function's parameters and assignments, then its module."""

    def __init__(
        self,
        module: PyModule,
        tree: ast.Module,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None = None,
        bound: Mapping[str, tuple[ast.expr, _Scope]] | None = None,
    ) -> None:
        self.module = module
        self.tree = tree
        self.function = function
        self.bound = dict(bound or {})


class _Instance(Struct, frozen=True):
    """An object made by calling a class: its keyword arguments and the class body."""

    cls: ast.ClassDef
    scope: _Scope  # the class's module
    keywords: Mapping[str, tuple[ast.expr, _Scope]]


class _Reference(Struct, frozen=True):
    """A module-level object of the app (`app.main:app`, `app.main:create_app`)."""

    target: str


class _Evaluator:
    def __init__(self, app: PythonApp, env: Mapping[str, str]) -> None:
        self.app = app
        self.env = env
        self.trees: dict[str, tuple[PyModule, ast.Module] | None] = {}
        self.steps = 0
        self.bindings: dict[int, dict[str, int]] = {}

    # --- modules and names ---------------------------------------------------------------

    def scope_of(self, dotted: str) -> _Scope | None:
        if dotted not in self.trees:
            self.trees[dotted] = self.app.tree(dotted)
        found = self.trees[dotted]
        return _Scope(found[0], found[1]) if found is not None else None

    def _stores(self, scope: _Scope, name: str) -> int:
        """How many times the module's own statements bind a name (defs and imports too)."""
        key = id(scope.tree)
        if key not in self.bindings:
            counts: dict[str, int] = {}
            stack: list[ast.AST] = list(ast.iter_child_nodes(scope.tree))
            while stack:
                node = stack.pop()
                names: list[str] = []
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.append(node.name)  # its body binds its own names
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.append(node.id)
                elif isinstance(node, ast.Import | ast.ImportFrom):
                    names += [(a.asname or a.name).split(".")[0] for a in node.names]
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    stack.extend(ast.iter_child_nodes(node))
                for found in names:
                    counts[found] = counts.get(found, 0) + 1
            self.bindings[key] = counts
        return self.bindings[key].get(name, 0)

    def _module_definition(self, scope: _Scope, name: str) -> ast.AST | None:
        """The one top-level def, class or assignment of a name in a module."""
        found: list[ast.AST] = []
        for statement in scope.tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if statement.name == name:
                    found.append(statement)
            elif _assigns(statement, name):
                found.append(statement)
        return found[0] if len(found) == 1 else None

    def name(self, node: ast.Name, scope: _Scope, depth: int) -> object:
        name = node.id
        if scope.function is not None:
            nodes = _function_nodes(scope.function)
            stores = [
                n
                for n in nodes
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name
            ]
            assigned = [n for n in nodes if isinstance(n, ast.stmt) and _assigns(n, name)]
            if name in scope.bound and not stores:
                expr, where = scope.bound[name]
                return self.value(expr, where, depth + 1)
            if len(stores) == 1 and len(assigned) == 1 and name not in scope.bound:
                return self._assigned(assigned[0], scope, depth)
            if stores or name in _parameters(scope.function):
                return _UNKNOWN
        return self.module_name(scope, name, depth)

    def module_name(self, scope: _Scope, name: str, depth: int) -> object:
        if self._stores(scope, name) > 1:
            return _UNKNOWN  # set in several places (an if/else, a try/except): unknown
        definition = self._module_definition(scope, name)
        if isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return (definition, _Scope(scope.module, scope.tree))
        if isinstance(definition, ast.stmt):
            return self._assigned(definition, _Scope(scope.module, scope.tree), depth)
        target = scope.module.names.get(name)
        if target is not None:
            return self.imported(target, depth)
        if name in _CONVERSIONS:
            return _CONVERSIONS[name]
        return _UNKNOWN

    def imported(self, target: str, depth: int) -> object:
        """What `from pkg.mod import name` names, when the app holds pkg.mod."""
        owner, _, attribute = target.rpartition(".")
        if not owner or not self.app.has_module(owner):
            return _Reference(target) if self.app.has_module(target) else _External(target)
        scope = self.scope_of(owner)
        if scope is None:
            return _UNKNOWN
        found = self.module_name(scope, attribute, depth + 1)
        return found if found is not _UNKNOWN else _Reference(f"{owner}:{attribute}")

    def _assigned(self, statement: ast.stmt, scope: _Scope, depth: int) -> object:
        value = getattr(statement, "value", None)
        if value is None or isinstance(statement, ast.AugAssign):
            return _UNKNOWN
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        else:
            return _UNKNOWN
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return _UNKNOWN
        return self.value(value, scope, depth + 1)

    # --- expressions ---------------------------------------------------------------------

    def value(self, node: ast.expr, scope: _Scope, depth: int = 0) -> object:
        self.steps += 1
        if depth > _MAX_DEPTH or self.steps > 5000:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.name(node, scope, depth)
        if isinstance(node, ast.Attribute):
            dotted = _dotted_name(node)
            if dotted in ("os.environ",):
                return _UNKNOWN
            owner = self.value(node.value, scope, depth + 1)
            return self.attribute(owner, node.attr, depth)
        if isinstance(node, ast.Subscript):
            key = self.value(node.slice, scope, depth + 1)
            if _is_env(node.value) and isinstance(key, str):
                return self.env_value(key, _UNKNOWN)
            return _UNKNOWN
        if isinstance(node, ast.Call):
            return self.call(node, scope, depth)
        if isinstance(node, ast.List | ast.Tuple):
            return tuple(self.value(item, scope, depth + 1) for item in node.elts)
        if isinstance(node, ast.Dict):
            if not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
                return _UNKNOWN
            return _Options(
                {k.value: (v, scope) for k, v in zip(node.keys, node.values)}  # type: ignore[union-attr]  # noqa: B905
            )
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, scope, depth)
        if isinstance(node, ast.BinOp):
            return self.binop(node, scope, depth)
        return _UNKNOWN

    def fstring(self, node: ast.JoinedStr, scope: _Scope, depth: int) -> object:
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue) or part.format_spec or part.conversion > 0:
                return _UNKNOWN
            value = self.value(part.value, scope, depth + 1)
            if not isinstance(value, str | int) or isinstance(value, bool):
                return _UNKNOWN
            parts.append(str(value))
        return "".join(parts)

    def binop(self, node: ast.BinOp, scope: _Scope, depth: int) -> object:
        left = self.value(node.left, scope, depth + 1)
        right = self.value(node.right, scope, depth + 1)
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(node.op, ast.Mod) and isinstance(left, str) and len(left) <= 200:
            values = right if isinstance(right, tuple) else (right,)
            if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
                return _UNKNOWN
            try:
                return left % values
            except (TypeError, ValueError):
                return _UNKNOWN
        return _UNKNOWN

    def env_value(self, name: str, default: object) -> object:
        if name in self.env:
            value = self.env[name]
            return _UNKNOWN if "$" in value else value
        return default

    def attribute(self, owner: object, attribute: str, depth: int) -> object:
        if isinstance(owner, _Instance):
            if attribute in owner.keywords:
                expr, where = owner.keywords[attribute]
                return self.value(expr, where, depth + 1)
            return self.class_default(owner, attribute, depth)
        if isinstance(owner, _External):
            return _External(f"{owner.target}.{attribute}")
        if isinstance(owner, _Reference) and ":" not in owner.target:
            scope = self.scope_of(owner.target)
            if scope is not None:
                found = self.module_name(scope, attribute, depth + 1)
                return found if found is not _UNKNOWN else _Reference(f"{owner.target}:{attribute}")
        return _UNKNOWN

    def class_default(self, instance: _Instance, attribute: str, depth: int) -> object:
        """A field's default in the class body; pydantic settings read FIELD from the env."""
        cls = instance.cls
        bases = {(_dotted_name(base) or "").rpartition(".")[2] for base in cls.bases}
        settings = "BaseSettings" in bases
        if settings and any(
            _assigns(s, "model_config") or (isinstance(s, ast.ClassDef) and s.name == "Config")
            for s in cls.body
        ):
            return _UNKNOWN  # env_prefix, env files...: not followed
        for statement in cls.body:
            if not _assigns(statement, attribute):
                continue
            value = getattr(statement, "value", None)
            default = (
                self.value(value, instance.scope, depth + 1) if value is not None else _UNKNOWN
            )
            if isinstance(value, ast.Call) and (_dotted_name(value.func) or "").endswith("Field"):
                given = value.args[0] if value.args else _keyword_of(value, "default")
                default = self.value(given, instance.scope, depth + 1) if given else _UNKNOWN
            if settings:
                matches = [v for k, v in self.env.items() if k.lower() == attribute.lower()]
                if matches:
                    raw: object = matches[-1] if "$" not in matches[-1] else _UNKNOWN
                    annotation = getattr(statement, "annotation", None)
                    kind = _CONVERSIONS.get(getattr(annotation, "id", ""))
                    return _convert(kind, raw) if kind is not None else raw
            return default
        return _UNKNOWN

    def call(self, node: ast.Call, scope: _Scope, depth: int) -> object:
        dotted = _dotted_name(node.func) or ""
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_env(node.func.value)
            or dotted in ("os.getenv", "getenv")
        ):
            if not node.args:
                return _UNKNOWN
            name = self.value(node.args[0], scope, depth + 1)
            given = node.args[1] if len(node.args) > 1 else _keyword_of(node, "default")
            default = self.value(given, scope, depth + 1) if given is not None else None
            return self.env_value(name, default) if isinstance(name, str) else _UNKNOWN
        function = self.value(node.func, scope, depth + 1)
        if isinstance(function, type):
            if len(node.args) != 1 or node.keywords:
                return _UNKNOWN
            return _convert(function, self.value(node.args[0], scope, depth + 1))
        if (
            not isinstance(function, tuple)
            or any(isinstance(a, ast.Starred) for a in node.args)
            or any(k.arg is None for k in node.keywords)
        ):
            return _UNKNOWN
        definition, home = function
        if isinstance(definition, ast.ClassDef):
            keywords = {k.arg: (k.value, scope) for k in node.keywords if k.arg}
            return _Instance(definition, home, keywords)
        return self.returned(definition, home, node, scope, depth)

    def returned(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        home: _Scope,
        call: ast.Call,
        caller: _Scope,
        depth: int,
    ) -> object:
        """What a small function of the app returns for these arguments: every `return`
        must give the same value."""
        if len(call.args) > len([*function.args.posonlyargs, *function.args.args]):
            return _UNKNOWN
        bound = _bind(function, home, call, caller)
        inner = _Scope(home.module, home.tree, function, bound)
        values = [
            self.value(n.value, inner, depth + 1)
            for n in _function_nodes(function)
            if isinstance(n, ast.Return) and n.value is not None
        ]
        if not values or any(v is _UNKNOWN for v in values):
            return _UNKNOWN
        first = values[0]
        return first if all(_same(first, v) for v in values[1:]) else _UNKNOWN


class _External(Struct, frozen=True):
    """A name imported from outside the app (`uvicorn.Config`)."""

    target: str


def _same(a: object, b: object) -> bool:
    if isinstance(a, _Instance | tuple) or isinstance(b, _Instance | tuple):
        return a is b
    return type(a) is type(b) and a == b


def _convert(kind: type | None, value: object) -> object:
    if kind is None or value is _UNKNOWN or value is None or isinstance(value, bool):
        return _UNKNOWN
    if kind is str:
        return value if isinstance(value, str) else _UNKNOWN
    if isinstance(value, str | int | float):
        try:
            number = kind(value)
        except (ValueError, OverflowError):
            return _UNKNOWN
        return number if abs(number) < 1e9 else _UNKNOWN
    return _UNKNOWN


def _dotted_name(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _is_env(node: ast.expr) -> bool:
    return (_dotted_name(node) or "") in _ENV_NAMES


def _keyword_of(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _assigns(statement: ast.AST, name: str) -> bool:
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
    if isinstance(statement, ast.AnnAssign | ast.AugAssign):
        return isinstance(statement.target, ast.Name) and statement.target.id == name
    return False


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    arguments = function.args
    names = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    names += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return {a.arg for a in names}


def _function_nodes(function: ast.AST) -> list[ast.AST]:
    """The nodes of a function's own body (nested functions and classes left out)."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _calls(nodes: list[ast.AST]) -> list[ast.Call]:
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def _module_nodes(tree: ast.Module) -> list[ast.AST]:
    """The module's own statements, function and class bodies left out."""
    return _function_nodes(tree)


class _LaunchReader:
    def __init__(self, app: PythonApp, env: Mapping[str, str]) -> None:
        self.evaluator = _Evaluator(app, env)
        mentioning = app.modules_mentioning(_LAUNCH_MARKERS)
        self.launching = {module.dotted for module in mentioning}
        self.found: list[ServerCommand] = []
        self.followed: set[int] = set()

    def launcher(self, call: ast.Call, scope: _Scope) -> str | None:
        full = _imported_name(call.func, scope)
        return full if full in _UVICORN_LAUNCHERS or full in _HYPERCORN_LAUNCHERS else None

    def read(self, nodes: list[ast.AST], scope: _Scope, depth: int) -> None:
        for call in _calls(nodes):
            launcher = self.launcher(call, scope)
            if launcher in _UVICORN_LAUNCHERS:
                self.found.append(self.uvicorn(call, scope))
                continue
            if launcher in _HYPERCORN_LAUNCHERS:
                self.found.append(self.hypercorn(call, scope))
                continue
            gunicorn = self.gunicorn_application(call, scope)
            if gunicorn is not None:
                self.found.append(gunicorn)
                continue
            if depth >= 4 or not isinstance(call.func, ast.Name | ast.Attribute):
                continue
            if isinstance(call.func, ast.Attribute) and not isinstance(call.func.value, ast.Name):
                continue
            function = self.callee(call, scope)
            if function is None or id(function[0]) in self.followed:
                continue
            definition, home = function
            self.followed.add(id(definition))
            bound = _bind(definition, home, call, scope)
            inner = _Scope(home.module, home.tree, definition, bound)
            self.read(_function_nodes(definition), inner, depth + 1)

    def callee(
        self, call: ast.Call, scope: _Scope
    ) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, _Scope] | None:
        """The app's function a call runs, when its module mentions uvicorn."""
        func = call.func
        if isinstance(func, ast.Name):
            local = self.evaluator._module_definition(scope, func.id)
            if local is None:
                target = scope.module.names.get(func.id, "")
                owner = target.rpartition(".")[0]
                if owner not in self.launching:
                    return None
        elif not isinstance(func, ast.Attribute) or (
            scope.module.names.get(_dotted_name(func.value) or "", "") not in self.launching
        ):
            return None
        found = self.evaluator.value(func, scope)
        if (
            isinstance(found, tuple)
            and isinstance(found[0], ast.FunctionDef | ast.AsyncFunctionDef)
            and found[1].module.dotted in self.launching
        ):
            return found  # type: ignore[return-value]
        return None

    def uvicorn(self, call: ast.Call, scope: _Scope) -> ServerCommand:
        evaluate = self.evaluator.value
        if any(k.arg is None for k in call.keywords) or any(
            isinstance(a, ast.Starred) for a in call.args
        ):
            return ServerCommand("uvicorn", has_variables=True)
        given: dict[str, ast.expr] = {k.arg: k.value for k in call.keywords if k.arg}
        for name, arg in zip(("app", *_UVICORN_KEYWORDS), call.args, strict=False):
            given.setdefault(name, arg)
        unknown = False

        def read(name: str) -> object:
            nonlocal unknown
            if name not in given:
                return None
            value = evaluate(given[name], scope)
            if (
                value is _UNKNOWN
                or not isinstance(value, str | int | float)
                or isinstance(value, bool)
            ):
                unknown = unknown or name in ("host", "port")
                return _UNKNOWN
            return value

        host = read("host")
        port = _convert(int, read("port")) if "port" in given else 8000
        if port is _UNKNOWN:
            unknown = True
        socket = read("uds")
        if socket is None and "fd" in given:
            socket = "fd"
        workers = _convert(int, read("workers")) if "workers" in given else None
        graceful = read("timeout_graceful_shutdown")
        access = evaluate(given["access_log"], scope) if "access_log" in given else True
        log_config = read("log_config")
        return ServerCommand(
            server="uvicorn",
            app=self.app_reference(given.get("app"), scope),
            host=(host if isinstance(host, str) else None) if "host" in given else "127.0.0.1",
            port=port if isinstance(port, int) else None,
            unix_socket=socket if isinstance(socket, str) else None,
            workers=workers if isinstance(workers, int) else None,
            access_log=None if access is False else "-",
            log_config=log_config if isinstance(log_config, str) else None,
            graceful_timeout=_convert(float, graceful)  # type: ignore[arg-type]
            if isinstance(graceful, int | float | str) and graceful is not _UNKNOWN
            else None,
            has_variables=unknown,
        )

    def hypercorn(self, call: ast.Call, scope: _Scope) -> ServerCommand:
        """`serve(app, config)` with `config = Config()` and `config.bind = [...]` beside it."""
        unknown = ServerCommand("hypercorn", has_variables=True)
        config = call.args[1] if len(call.args) > 1 else _keyword_of(call, "config")
        app = self.app_reference(call.args[0] if call.args else None, scope)
        if not isinstance(config, ast.Name):
            return replace(unknown, app=app)
        nodes = _function_nodes(scope.function) if scope.function else _function_nodes(scope.tree)
        made = [n for n in nodes if isinstance(n, ast.stmt) and _assigns(n, config.id)]
        value = getattr(made[0], "value", None) if len(made) == 1 else None
        if not (
            isinstance(value, ast.Call)
            and not value.args
            and not value.keywords
            and _imported_name(value.func, scope) in ("hypercorn.config.Config", "hypercorn.Config")
        ):
            return replace(unknown, app=app)
        settings: dict[str, list[ast.expr]] = {}
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Attribute) and _dotted_name(target.value) == config.id:
                    settings.setdefault(target.attr, []).append(node.value)
        command = ServerCommand("hypercorn", app=app, host="127.0.0.1", port=8000)
        if "bind" in settings:
            bind = self._single(settings["bind"], scope)
            if isinstance(bind, tuple) and bind:
                bind = bind[0]
            if not isinstance(bind, str) or "$" in bind:
                return replace(unknown, app=app)
            host, port, socket = _split_bind(bind)
            command = replace(command, host=host, port=port, unix_socket=socket)
        workers = _convert(int, self._single(settings.get("workers", []), scope))
        graceful = _convert(float, self._single(settings.get("graceful_timeout", []), scope))
        return replace(
            command,
            workers=workers if isinstance(workers, int) else None,
            graceful_timeout=graceful if isinstance(graceful, float) else None,
        )

    def _single(self, values: list[ast.expr], scope: _Scope) -> object:
        return self.evaluator.value(values[0], scope) if len(values) == 1 else _UNKNOWN

    def gunicorn_application(self, call: ast.Call, scope: _Scope) -> ServerCommand | None:
        """`StandaloneApplication(app, {"bind": ...}).run()` of a gunicorn BaseApplication."""
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "run"
            and not call.args
            and isinstance(func.value, ast.Call)
        ):
            return None
        made = func.value
        if not isinstance(made.func, ast.Name | ast.Attribute):
            return None
        found = self.evaluator.value(made.func, scope)
        if not isinstance(found, tuple) or not isinstance(found[0], ast.ClassDef):
            return None
        cls, home = found
        bases = [_imported_name(base, home) or "" for base in cls.bases]
        if not any(base.startswith("gunicorn.app.") for base in bases):
            return None
        app = self.app_reference(made.args[0] if made.args else None, scope)
        unknown = ServerCommand("gunicorn", app=app, has_variables=True)
        given = made.args[1] if len(made.args) > 1 else _keyword_of(made, "options")
        options = self.evaluator.value(given, scope) if given is not None else _UNKNOWN
        if not isinstance(options, _Options):
            return unknown
        values = {
            name: self.evaluator.value(expr, where) for name, (expr, where) in options.items.items()
        }
        bind = values.get("bind")
        if isinstance(bind, tuple) and bind:
            bind = bind[0]
        env_port = self.evaluator.env.get("PORT")
        if "bind" not in values and env_port is not None:
            bind = f"0.0.0.0:{env_port}" if is_digits(env_port.strip()) else _UNKNOWN
        elif "bind" not in values:
            bind = "127.0.0.1:8000"
        if not isinstance(bind, str) or "$" in bind:
            return unknown
        host, port, socket = _split_bind(bind)
        workers = _convert(int, values.get("workers", _UNKNOWN))
        graceful = _convert(float, values.get("graceful_timeout", _UNKNOWN))
        access = values.get("accesslog")
        errors = values.get("errorlog")
        return ServerCommand(
            "gunicorn",
            app=app,
            host=host,
            port=port,
            unix_socket=socket,
            workers=workers if isinstance(workers, int) else None,
            access_log=access if isinstance(access, str) else None,
            error_log=errors if isinstance(errors, str) else None,
            graceful_timeout=graceful if isinstance(graceful, float) else None,
            # the class's load_config may set more than the options: gunicorn's default
            # graceful timeout is not assumed
            config_file=None if "graceful_timeout" in values else "(load_config in code)",
        )

    def app_reference(self, node: ast.expr | None, scope: _Scope, depth: int = 0) -> str | None:
        """`"pkg.main:app"`, or the module-level object a name or factory call names."""
        if node is None or depth > 6:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) and ":" in node.value else None
        if isinstance(node, ast.Call):
            return self.app_reference(node.func, scope, depth + 1)
        module = scope.module
        dotted = module.dotted
        names = module.names
        if isinstance(node, ast.Name):
            if scope.function is not None:
                assigned = [
                    n
                    for n in _function_nodes(scope.function)
                    if isinstance(n, ast.stmt) and _assigns(n, node.id)
                ]
                if len(assigned) == 1:
                    value = getattr(assigned[0], "value", None)
                    return self.app_reference(value, scope, depth + 1)
                if assigned or node.id in _parameters(scope.function):
                    return None
            if self.evaluator._module_definition(scope, node.id) is not None:
                return f"{dotted}:{node.id}"
            target = names.get(node.id)
            if target is None:
                return None
            owner, _, attribute = target.rpartition(".")
            return f"{owner}:{attribute}" if owner and self._has(owner) else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = names.get(node.value.id)
            if target is not None and self._has(target):
                return f"{target}:{node.attr}"
        return None

    def _has(self, dotted: str) -> bool:
        return bool(self.evaluator.app.has_module(dotted))


class _Options(Struct, frozen=True):
    """A dict literal: its values, read when asked."""

    items: Mapping[str, tuple[ast.expr, _Scope]]


def _imported_name(node: ast.expr, scope: _Scope) -> str | None:
    """The full dotted name of an imported object (`uvicorn.run`, `Config` from
    hypercorn.config), or None when the first name is not imported."""
    dotted = _dotted_name(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    target = scope.module.names.get(head)
    if target is None:
        return None
    return f"{target}.{rest}" if rest else target


def _methods(cls: ast.ClassDef) -> set[str]:
    return {s.name for s in cls.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)}


def _bind(
    function: ast.FunctionDef | ast.AsyncFunctionDef, home: _Scope, call: ast.Call, caller: _Scope
) -> dict[str, tuple[ast.expr, _Scope]]:
    """A call's arguments (and the parameters' defaults) by parameter name."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    bound: dict[str, tuple[ast.expr, _Scope]] = {}
    defaults = arguments.defaults
    for parameter, default in zip(positional[len(positional) - len(defaults) :], defaults):  # noqa: B905
        bound[parameter.arg] = (default, home)
    for parameter, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults):  # noqa: B905
        if kw_default is not None:
            bound[parameter.arg] = (kw_default, home)
    for parameter, arg in zip(positional, call.args):  # noqa: B905
        if not isinstance(arg, ast.Starred):
            bound[parameter.arg] = (arg, caller)
    for keyword in call.keywords:
        if keyword.arg is not None:
            bound[keyword.arg] = (keyword.value, caller)
    return bound


def read_python_launch(app: PythonApp, entry: str, env: Mapping[str, str]) -> ServerCommand | None:
    """The server a Python module starts when run as the program (`python -m pkg` runs
    `pkg.__main__`, `python main.py` runs `main`): uvicorn.run(...) or uvicorn.Config(...)
    in it or in the app's functions it calls. Several launches that disagree leave the
    disagreeing values unknown. None when it starts no server dockwise reads."""
    reader = _LaunchReader(app, env)
    scope = reader.evaluator.scope_of(entry)
    if scope is None:
        return None
    try:
        reader.read(_module_nodes(scope.tree), scope, 0)
    except RecursionError:
        return None
    if not reader.found:
        return None
    first = reader.found[0]
    for other in reader.found[1:]:
        changes: dict[str, object] = {}
        for name in ("app", "host", "port", "unix_socket", "workers", "graceful_timeout"):
            if getattr(first, name) != getattr(other, name):
                changes[name] = None
        if {"host", "port", "unix_socket"} & changes.keys() or other.has_variables:
            changes["has_variables"] = True
        first = replace(first, **changes)  # type: ignore[arg-type]
    return first
