"""The Python service, read by AST only (never imported, never run).

Per module: the web framework objects and their routes (FastAPI/Starlette routers,
Flask blueprints, aiohttp route tables, Django urlpatterns), router includes with their
prefixes, log handlers that write to files, `print` calls, module-level settings, and the
observability libraries it uses. `PythonApp` joins the modules: full route paths through
includes across modules, and the code path reachable from an app module by imports.
A loader: it never judges.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from pathlib import Path

from msgspec import Struct, field

MAX_PYTHON_BYTES = 1024 * 1024
MAX_APP_PARSE_BYTES = 1024 * 1024  # Python parsed for one service, all modules together
MAX_INCLUDE_DEPTH = 16

FRAMEWORK_FACTORIES = {
    "FastAPI": "fastapi",
    "APIRouter": "fastapi",
    "Starlette": "starlette",
    "Router": "starlette",
    "Flask": "flask",
    "Blueprint": "flask",
    "Quart": "quart",
    "Application": "aiohttp",
    "RouteTableDef": "aiohttp",
    "Sanic": "sanic",
}
_APP_FACTORIES = frozenset({"FastAPI", "Starlette", "Flask", "Quart", "Application", "Sanic"})
_ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "delete", "patch", "head", "options", "route", "api_route", "websocket"}
)
_ROUTE_CALLS = frozenset({"add_api_route", "add_url_rule", "add_route", "add_websocket_route"})
_AIOHTTP_ADDERS = frozenset(
    {"add_get", "add_post", "add_put", "add_delete", "add_patch", "add_head", "add_route"}
)
_FILE_HANDLERS = frozenset(
    {"FileHandler", "RotatingFileHandler", "TimedRotatingFileHandler", "WatchedFileHandler"}
)
OBSERVABILITY_PACKAGES = {
    "opentelemetry": "tracing",
    "ddtrace": "tracing",
    "elasticapm": "tracing",
    "sentry_sdk": "errors",
    "structlog": "structured logs",
    "pythonjsonlogger": "structured logs",
    "json_log_formatter": "structured logs",
    "loguru": "structured logs",
    "asgi_correlation_id": "request ids",
    "flask_request_id": "request ids",
    "django_guid": "request ids",
    "log_request_id": "request ids",
}
_REQUEST_ID_HEADER = re.compile(r"^x-(request|correlation)-id$", re.IGNORECASE)


class Route(Struct, frozen=True):
    path: str  # the full path when includes are resolved, else as written
    file: str
    line: int
    framework: str


class LogFileSink(Struct, frozen=True):
    """A logging setup that writes to a file: which construct, where it writes."""

    kind: str  # "RotatingFileHandler", "basicConfig(filename=...)", "dictConfig"
    target: str | None  # the file, when written literally
    file: str
    line: int


class Setting(Struct, frozen=True):
    """A module-level `NAME = "literal"` (settings files, config modules)."""

    name: str
    value: str
    line: int


class _LocalRoute(Struct, frozen=True):
    owner: str  # the router variable the route is declared on ("" for Django urlpatterns)
    path: str | None  # None: not a literal
    line: int


class _Include(Struct, frozen=True):
    parent: str  # router variable in this module ("" for urlpatterns)
    child: tuple[str, ...]  # dotted reference as written: ("api", "router") or ("router",)
    prefix: str | None  # None: not a literal
    line: int
    django_module: str | None = None  # include("app.urls")


class PyModule(Struct, frozen=True):
    relpath: str
    dotted: str  # dotted name from the loaded root ("app.api.routes")
    syntax_error: str | None = None
    imports: tuple[str, ...] = ()  # absolute dotted modules imported (resolved relative)
    names: Mapping[str, str] = field(default_factory=dict)  # local name -> dotted target
    routers: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # var -> (factory, prefix)
    routes: tuple[_LocalRoute, ...] = ()
    includes: tuple[_Include, ...] = ()
    log_files: tuple[LogFileSink, ...] = ()
    prints: tuple[int, ...] = ()
    # logging.config.fileConfig(...) calls: (the INI file when literal, line)
    log_configs: tuple[tuple[str | None, int], ...] = ()
    settings: tuple[Setting, ...] = ()
    observability: Mapping[str, str] = field(default_factory=dict)  # package -> purpose
    request_id_header: bool = False
    dynamic_routes: bool = False  # a route or prefix that is not a literal
    # lines of the top-level `if __name__ == "__main__":` block (run only as a script)
    main_block: tuple[int, int] | None = None

    @property
    def frameworks(self) -> frozenset[str]:
        return frozenset(FRAMEWORK_FACTORIES[factory] for factory, _ in self.routers.values())

    @property
    def apps(self) -> tuple[str, ...]:
        """Variables holding an application object (not a router)."""
        return tuple(
            name for name, (factory, _) in self.routers.items() if factory in _APP_FACTORIES
        )


def module_name(relpath: str) -> str:
    """Dotted module name of a path relative to the loaded root (`src/` is not a package)."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def load_module(path: Path, relpath: str) -> PyModule:
    """One Python file's facts; a file that cannot be read or parsed yields a module with
    only `syntax_error` set (Python 2 code, binary junk, oversize files)."""
    dotted = module_name(relpath)
    try:
        if not path.is_file():
            return PyModule(relpath, dotted, syntax_error="not a regular file")
        if path.stat().st_size > MAX_PYTHON_BYTES:
            return PyModule(relpath, dotted, syntax_error="larger than 1 MiB: not read")
        source = path.read_bytes()
    except OSError as error:
        return PyModule(relpath, dotted, syntax_error=f"cannot read: {error.strerror}")
    return parse_module(source, relpath)


def parse_module(source: bytes | str, relpath: str) -> PyModule:
    dotted = module_name(relpath)
    try:
        tree = ast.parse(source, filename=relpath)
    except SyntaxError as error:
        where = f"line {error.lineno}: " if error.lineno else ""
        return PyModule(relpath, dotted, syntax_error=f"{where}{error.msg}")
    except (ValueError, RecursionError, MemoryError) as error:
        return PyModule(relpath, dotted, syntax_error=type(error).__name__)
    try:
        return _Reader(relpath, dotted).read(tree)
    except RecursionError:
        return PyModule(relpath, dotted, syntax_error="nested too deeply to read")


def _dotted(node: ast.expr) -> tuple[str, ...] | None:
    """("a", "b", "c") for `a.b.c`, None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return None


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _first_arg(call: ast.Call, keyword: str) -> ast.expr | None:
    return call.args[0] if call.args else _keyword(call, keyword)


def _is_request_id_header(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and len(node.value) < 40
        and _REQUEST_ID_HEADER.match(node.value) is not None
    )


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree, in `ast.walk`'s order (breadth first)."""
    nodes = [tree]
    for node in nodes:  # the list grows while it is read: a queue without popping
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                nodes.append(value)
            elif isinstance(value, list):
                nodes.extend(item for item in value if isinstance(item, ast.AST))
    return nodes


def _main_block(tree: ast.Module) -> tuple[int, int] | None:
    """First and last line of a top-level `if __name__ == "__main__":` block."""
    for statement in tree.body:
        test = statement.test if isinstance(statement, ast.If) else None
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and len(test.comparators) == 1
            and _literal_str(test.comparators[0]) == "__main__"
        ):
            return statement.lineno, statement.end_lineno or statement.lineno
    return None


_AIOHTTP_HELPERS = frozenset({"get", "post", "put", "delete", "patch", "head", "route", "view"})


class _Reader:
    def __init__(self, relpath: str, dotted: str) -> None:
        self.relpath = relpath
        self.dotted = dotted
        self.package = dotted if relpath.endswith("__init__.py") else dotted.rpartition(".")[0]
        self.imports: list[str] = []
        self.names: dict[str, str] = {}
        self.routers: dict[str, tuple[str, str]] = {}
        self.routes: list[_LocalRoute] = []
        self.includes: list[_Include] = []
        self.log_files: list[LogFileSink] = []
        self.prints: list[int] = []
        self.flushes_stdout = False
        self.log_configs: list[tuple[str | None, int]] = []
        self.settings: list[Setting] = []
        self.observability: dict[str, str] = {}
        self.request_id_header = False
        self.dynamic = False

    def read(self, tree: ast.Module) -> PyModule:
        nodes = _walk(tree)  # walked once, read in three passes
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._import(node)
        for statement in tree.body:
            self._module_assignment(statement)
        for node in nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                self._router_assignment(node)
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._decorators(node)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Dict):
                self._logging_dict(node)
            elif _is_request_id_header(node):
                self.request_id_header = True
        return PyModule(
            relpath=self.relpath,
            dotted=self.dotted,
            imports=tuple(dict.fromkeys(self.imports)),
            names=self.names,
            routers=self.routers,
            routes=tuple(self.routes),
            includes=tuple(self.includes),
            log_files=tuple(self.log_files),
            prints=() if self.flushes_stdout else tuple(self.prints),
            log_configs=tuple(self.log_configs),
            settings=tuple(self.settings),
            observability=self.observability,
            request_id_header=self.request_id_header,
            dynamic_routes=self.dynamic,
            main_block=_main_block(tree),
        )

    # --- imports -------------------------------------------------------------------------

    def _absolute(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
        return ".".join([*base, *([module] if module else [])])

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.imports.append(alias.name)
                self._note_package(alias.name)
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.names.setdefault(top, top)
            return
        base = self._absolute(node.module, node.level)
        if base:
            self.imports.append(base)
            self._note_package(base)
        for alias in node.names:
            if alias.name == "*":
                continue
            target = f"{base}.{alias.name}" if base else alias.name
            self.names[alias.asname or alias.name] = target
            self.imports.append(target)  # may be a submodule; unresolved names are dropped

    def _note_package(self, dotted: str) -> None:
        top = dotted.split(".")[0]
        if top in OBSERVABILITY_PACKAGES:
            self.observability[top] = OBSERVABILITY_PACKAGES[top]

    # --- module-level settings -----------------------------------------------------------

    def _module_assignment(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            return
        text = _literal_str(value)
        if isinstance(target, ast.Name) and text is not None and target.id.isupper():
            self.settings.append(Setting(target.id, text, statement.lineno))

    # --- routers and routes --------------------------------------------------------------

    def _router_assignment(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if not isinstance(value, ast.Call) or len(targets) != 1:
            return
        name = _dotted(targets[0])
        factory = _dotted(value.func)
        if name is None or factory is None or factory[-1] not in FRAMEWORK_FACTORIES:
            return
        if factory[-1] in ("Application", "Router") and not self._from_package(
            factory, ("aiohttp", "starlette")
        ):
            return
        prefix = _literal_str(_keyword(value, "prefix") or _keyword(value, "url_prefix"))
        has_prefix = _keyword(value, "prefix") or _keyword(value, "url_prefix")
        if has_prefix is not None and prefix is None:
            self.dynamic = True
        self.routers[".".join(name)] = (factory[-1], prefix or "")
        routes = _keyword(value, "routes")
        if isinstance(routes, ast.List):
            self._starlette_routes(".".join(name), "", routes)

    def _from_package(self, factory: tuple[str, ...], packages: tuple[str, ...]) -> bool:
        origin = self.names.get(factory[0], factory[0])
        return origin.split(".")[0] in packages

    def _decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            func = _dotted(decorator.func)
            if func is None or len(func) < 2 or func[-1] not in _ROUTE_DECORATORS:
                continue
            owner = ".".join(func[:-1])
            if owner not in self.routers and func[0] not in self.names:
                continue  # not a router defined here, nor one imported from elsewhere
            self._route(
                owner, _first_arg(decorator, "path") or _keyword(decorator, "rule"), decorator
            )

    def _route(self, owner: str, path_node: ast.expr | None, node: ast.expr) -> None:
        path = _literal_str(path_node)
        if path is None:
            self.dynamic = True
        self.routes.append(_LocalRoute(owner, path, node.lineno))

    def _call(self, call: ast.Call) -> None:
        func = _dotted(call.func)
        if func is None:
            return
        last = func[-1]
        owner = ".".join(func[:-1])
        if last == "print" and len(func) == 1:
            # print(..., file=sys.stderr) is no stdout; print(..., flush=True) is never held
            flushed = _keyword(call, "flush")
            if _keyword(call, "file") is None and not (
                isinstance(flushed, ast.Constant) and flushed.value is True
            ):
                self.prints.append(call.lineno)
        elif func == ("sys", "stdout", "flush"):
            self.flushes_stdout = True
        elif last in _FILE_HANDLERS:
            target = _literal_str(_first_arg(call, "filename"))
            self.log_files.append(LogFileSink(last, target, self.relpath, call.lineno))
        elif last == "basicConfig" and _keyword(call, "filename") is not None:
            target = _literal_str(_keyword(call, "filename"))
            self.log_files.append(
                LogFileSink("basicConfig(filename=...)", target, self.relpath, call.lineno)
            )
        elif last == "fileConfig":
            target = _literal_str(_first_arg(call, "fname"))
            self.log_configs.append((target, call.lineno))
        elif owner in self.routers:
            self._router_call(owner, last, call)
        elif len(func) >= 2 and func[-2] == "router" and ".".join(func[:-2]) in self.routers:
            if last in _AIOHTTP_ADDERS:  # app.router.add_get("/path", handler)
                index = 1 if last == "add_route" else 0
                path = call.args[index] if len(call.args) > index else None
                self._route(".".join(func[:-2]), path, call)
        elif last in ("path", "re_path", "url") and func[0] in ("path", "re_path", "url"):
            self._django_path(call, func[0])

    def _router_call(self, owner: str, method: str, call: ast.Call) -> None:
        if method in _ROUTE_CALLS:
            self._route(owner, _first_arg(call, "path") or _keyword(call, "rule"), call)
        elif method in ("include_router", "register_blueprint", "mount", "add_subapp", "include"):
            self._include(owner, method, call)
        elif method == "add_routes" and call.args and isinstance(call.args[0], ast.List):
            for element in call.args[0].elts:  # aiohttp: app.add_routes([web.get("/x", h)])
                name = _dotted(element.func) if isinstance(element, ast.Call) else None
                if isinstance(element, ast.Call) and name and name[-1] in _AIOHTTP_HELPERS:
                    index = 1 if name[-1] == "route" else 0
                    path = element.args[index] if len(element.args) > index else None
                    self._route(owner, path, element)
        elif method == "add_routes" and call.args:
            child = _dotted(call.args[0])  # app.add_routes(routes): a RouteTableDef
            if child is not None:
                self.includes.append(_Include(owner, child, "", call.lineno))

    def _include(self, owner: str, method: str, call: ast.Call) -> None:
        if method in ("mount", "add_subapp"):
            prefix_node = _first_arg(call, "path")
            child_node = call.args[1] if len(call.args) > 1 else _keyword(call, "app")
        else:
            child_node = _first_arg(call, "router") or _keyword(call, "blueprint")
            prefix_node = _keyword(call, "prefix") or _keyword(call, "url_prefix")
        child = _dotted(child_node) if child_node is not None else None
        if child is None:
            static = isinstance(child_node, ast.Call) and method == "mount"
            if static and (_dotted(child_node.func) or ("",))[-1] == "StaticFiles":  # type: ignore[union-attr]
                prefix = _literal_str(prefix_node)
                self.routes.append(_LocalRoute(owner, f"{prefix or ''}/{{path:path}}", call.lineno))
                return
            self.dynamic = True
            return
        prefix = "" if prefix_node is None else _literal_str(prefix_node)
        if prefix is None:
            self.dynamic = True
        self.includes.append(_Include(owner, child, prefix, call.lineno))

    def _starlette_routes(self, owner: str, prefix: str, routes: ast.List) -> None:
        for element in routes.elts:
            if not isinstance(element, ast.Call):
                continue
            name = (_dotted(element.func) or ("",))[-1]
            path = _literal_str(_first_arg(element, "path"))
            if name in ("Route", "WebSocketRoute"):
                self.routes.append(
                    _LocalRoute(owner, None if path is None else prefix + path, element.lineno)
                )
                self.dynamic = self.dynamic or path is None
            elif name == "Mount":
                inner = _keyword(element, "routes")
                if isinstance(inner, ast.List) and path is not None:
                    self._starlette_routes(owner, prefix + path, inner)
                else:
                    self.routes.append(
                        _LocalRoute(owner, f"{prefix}{path}/{{path:path}}", element.lineno)
                    )

    def _django_path(self, call: ast.Call, kind: str) -> None:
        route = _literal_str(_first_arg(call, "route"))
        if route is None:
            self.dynamic = True
            return
        if kind != "path":
            route = _regex_to_path(route)
            if route is None:
                self.dynamic = True
                return
        view = call.args[1] if len(call.args) > 1 else _keyword(call, "view")
        if isinstance(view, ast.Call) and (_dotted(view.func) or ("",))[-1] == "include":
            included = _literal_str(view.args[0]) if view.args else None
            if included is None:
                self.dynamic = True
                return
            self.includes.append(_Include("", (), "/" + route, call.lineno, django_module=included))
            return
        self.routes.append(_LocalRoute("", "/" + route, call.lineno))

    # --- logging configuration as data ---------------------------------------------------

    def _logging_dict(self, node: ast.Dict) -> None:
        """A dictConfig handler: {"class": "logging.FileHandler", "filename": ...}."""
        handler_class = filename = None
        for key, value in zip(node.keys, node.values, strict=True):
            name = _literal_str(key) if key is not None else None
            if name == "class":
                handler_class = _literal_str(value)
            elif name == "filename":
                filename = value
        if handler_class and handler_class.rsplit(".", 1)[-1] in _FILE_HANDLERS:
            self.log_files.append(
                LogFileSink("dictConfig", _literal_str(filename), self.relpath, node.lineno)
            )


_REGEX_CLEAN = re.compile(r"[\^$]")


def _regex_to_path(pattern: str) -> str | None:
    """A Django regex route as a path when it is a plain literal (`^health/$`)."""
    text = _REGEX_CLEAN.sub("", pattern)
    if re.search(r"[\\()\[\]{}*+?|.]", text):
        return None
    return text


def read_logging_ini(text: str) -> list[tuple[int, str, str | None]]:
    """(line, handler class, file) of every file handler in a `logging.conf` INI file."""
    found: list[tuple[int, str, str | None]] = []
    handler_class: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines()[:20_000], start=1):
        line = raw.strip()
        if line.startswith("["):
            handler_class = None
        key, _, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "class" and value.rsplit(".", 1)[-1] in _FILE_HANDLERS:
            handler_class = (number, value.rsplit(".", 1)[-1])
            found.append((number, handler_class[1], None))
        elif key == "args" and handler_class is not None:
            match = re.match(r"""\(\s*['"]([^'"]+)['"]""", value)
            if match and found and found[-1][0] == handler_class[0]:
                found[-1] = (handler_class[0], handler_class[1], match.group(1))
    return found


# --- the modules joined -------------------------------------------------------------------


_WEB_MARKERS = (
    b"FastAPI",
    b"APIRouter",
    b"Starlette",
    b"Flask",
    b"Blueprint",
    b"Quart",
    b"aiohttp",
    b"Sanic",
    b"urlpatterns",
    b".route(",
)
_LOGGING_MARKERS = (b"FileHandler", b"basicConfig", b"fileConfig", b"dictConfig", b"LOGGING")


class PythonApp:
    """The Python modules of one service, parsed lazily: parsing is the expensive part, so a
    module is parsed only when an import, a route include or a marker search reaches it."""

    def __init__(self, files: Mapping[str, Path | bytes | str]) -> None:
        self._files = dict(files)  # relpath -> file on disk, or source text (tests, stdin)
        self._loaded: dict[str, PyModule] = {}
        self._raw: dict[str, bytes] = {}
        self._parsed_bytes = 0
        self._mentioning: dict[tuple[bytes, ...], list[PyModule]] = {}

    @cached_property
    def _by_dotted(self) -> Mapping[str, str]:
        index: dict[str, str] = {}
        for relpath in sorted(self._files, key=lambda r: module_name(r).count(".")):
            parts = module_name(relpath).split(".")
            for start in range(len(parts)):  # "src.app.main" is also "app.main" and "main"
                index.setdefault(".".join(parts[start:]), relpath)
        return index

    def _load(self, relpath: str) -> PyModule:
        if relpath not in self._loaded:
            source = self._files[relpath]
            size = len(self._bytes(relpath)) if isinstance(source, Path) else len(source)
            if self._parsed_bytes + size > MAX_APP_PARSE_BYTES:
                # parsing is the expensive part (about a second a MiB): a service's checks
                # read this much of its code, and say what they did not read
                self._loaded[relpath] = PyModule(
                    relpath,
                    module_name(relpath),
                    syntax_error=f"not read: the service's code read before it passes "
                    f"{MAX_APP_PARSE_BYTES // (1024 * 1024)} MiB",
                )
            elif isinstance(source, Path):
                self._parsed_bytes += size
                self._loaded[relpath] = load_module(source, relpath)
            else:
                self._parsed_bytes += size
                self._loaded[relpath] = parse_module(source, relpath)
        return self._loaded[relpath]

    def _bytes(self, relpath: str) -> bytes:
        if relpath not in self._raw:
            source = self._files[relpath]
            if isinstance(source, Path):
                try:
                    is_small = source.is_file() and source.stat().st_size <= MAX_PYTHON_BYTES
                    self._raw[relpath] = source.read_bytes() if is_small else b""
                except OSError:
                    self._raw[relpath] = b""
            else:
                self._raw[relpath] = source.encode() if isinstance(source, str) else source
        return self._raw[relpath]

    def module(self, dotted: str) -> PyModule | None:
        relpath = self._by_dotted.get(dotted)
        return self._load(relpath) if relpath is not None else None

    def has_module(self, dotted: str) -> bool:
        """Whether a module of that dotted name is among the files (nothing is parsed)."""
        return dotted in self._by_dotted

    def tree(self, dotted: str) -> tuple[PyModule, ast.Module] | None:
        """A module's facts and its syntax tree, for a reader that looks closer at a few
        modules (the server a `__main__` starts); parsed within the service's budget and
        kept only by the caller."""
        module = self.module(dotted)
        if module is None or module.syntax_error is not None:
            return None
        try:
            return module, ast.parse(self._bytes(module.relpath), filename=module.relpath)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    def modules_mentioning(self, markers: Sequence[bytes]) -> list[PyModule]:
        """Modules whose text contains one of the markers (a cheap filter before parsing);
        searched once per set of markers (web_modules is asked by many rules)."""
        key = tuple(markers)
        if key not in self._mentioning:
            self._mentioning[key] = [
                self._load(relpath)
                for relpath in sorted(self._files)
                if any(marker in self._bytes(relpath) for marker in key)
            ]
        return list(self._mentioning[key])

    def modules_matching(
        self, pattern: re.Pattern[bytes], within: Container[str] | None = None
    ) -> list[PyModule]:
        """Modules (among `within`, by relpath) whose text matches a regular expression:
        a sharper filter than markers before parsing."""
        return [
            self._load(relpath)
            for relpath in sorted(self._files)
            if (within is None or relpath in within) and pattern.search(self._bytes(relpath))
        ]

    @property
    def web_modules(self) -> list[PyModule]:
        return self.modules_mentioning(_WEB_MARKERS)

    @property
    def logging_modules(self) -> list[PyModule]:
        return self.modules_mentioning(_LOGGING_MARKERS)

    @property
    def frameworks(self) -> frozenset[str]:
        found: set[str] = set()
        for module in self.web_modules:
            found |= module.frameworks
        return frozenset(found)

    @property
    def syntax_errors(self) -> list[PyModule]:
        """Modules read so far that could not be parsed."""
        return [module for module in self._loaded.values() if module.syntax_error]

    def code_path(self, entry: str) -> list[PyModule]:
        """Modules reachable by import from an entry module (`pkg.main`), itself first."""
        start = self.module(entry)
        if start is None:
            return []
        seen = {start.relpath}
        order = [start]
        queue = [start]
        while queue:
            current = queue.pop()
            for imported in current.imports:
                target = self._resolve_module(imported)
                if target is not None and target.relpath not in seen:
                    seen.add(target.relpath)
                    order.append(target)
                    queue.append(target)
        return order

    def _resolve_module(self, dotted: str) -> PyModule | None:
        found = self.module(dotted)
        if found is None and "." in dotted:  # `from pkg.mod import name`: name is no module
            found = self.module(dotted.rpartition(".")[0])
        return found

    def _resolve_object(
        self, module: PyModule, reference: tuple[str, ...]
    ) -> tuple[PyModule, str] | None:
        """The (module, router variable) a dotted reference in `module` names."""
        if ".".join(reference) in module.routers:
            return module, ".".join(reference)
        head = reference[0]
        target = module.names.get(head)
        if target is None:
            return None
        full = target.split(".") + list(reference[1:])
        for split in range(len(full) - 1, 0, -1):
            owner = self.module(".".join(full[:split]))
            name = ".".join(full[split:])
            if owner is not None and name in owner.routers:
                return owner, name
        return None

    def routes(self, app: str | None = None) -> tuple[list[Route], bool]:
        """Every route with its full path, and whether the list is complete.

        `app` is a server's app reference (`pkg.main:app`); without it, every application
        object and every router not included anywhere is a root."""
        roots = self._roots(app)
        routes: list[Route] = []
        complete = True
        for module, owner in roots:
            complete &= self._collect(module, owner, "", routes, 0, set())
        return routes, complete and bool(roots)

    def _roots(self, app: str | None) -> list[tuple[PyModule, str]]:
        if app:
            module_name_, _, variable = app.partition(":")
            module = self.module(module_name_)
            variable = variable.split("(")[0].strip()
            if module is not None and variable in module.routers:
                return [(module, variable)]
            if module is not None and variable and module.apps:  # a factory: create_app()
                return [(module, name) for name in module.apps]
            if module is not None and not variable:  # Django: pkg.wsgi -> the URLconfs
                return [(m, "") for m in self.web_modules if _is_urlconf(m)]
            return []
        candidates = self.web_modules
        included: set[tuple[str, str]] = set()
        for module in candidates:
            for include in module.includes:
                resolved = self._resolve_include(module, include)
                if resolved is not None:
                    included.add((resolved[0].relpath, resolved[1]))
        roots = [
            (module, owner)
            for module in candidates
            for owner in module.routers
            if (module.relpath, owner) not in included
        ]
        roots += [
            (module, "")
            for module in candidates
            if _is_urlconf(module) and (module.relpath, "") not in included
        ]
        return roots

    def _resolve_include(self, module: PyModule, include: _Include) -> tuple[PyModule, str] | None:
        if include.django_module is not None:
            target = self.module(include.django_module)
            return (target, "") if target is not None else None
        return self._resolve_object(module, include.child)

    @cached_property
    def _foreign_routes(self) -> Mapping[tuple[str, str], list[tuple[PyModule, _LocalRoute]]]:
        """Routes declared on a router imported from another module (Flask's
        `from app.main import bp` then `@bp.route(...)`), keyed by the router's home."""
        found: dict[tuple[str, str], list[tuple[PyModule, _LocalRoute]]] = {}
        for module in self.web_modules:
            for route in module.routes:
                if route.owner in module.routers or not route.owner:
                    continue
                home = self._resolve_object(module, tuple(route.owner.split(".")))
                if home is not None:
                    found.setdefault((home[0].relpath, home[1]), []).append((module, route))
        return found

    def _collect(
        self,
        module: PyModule,
        owner: str,
        prefix: str,
        out: list[Route],
        depth: int,
        visiting: set[tuple[str, str]],
    ) -> bool:
        key = (module.relpath, owner)
        if depth > MAX_INCLUDE_DEPTH or key in visiting:
            return False
        visiting = visiting | {key}
        complete = not module.dynamic_routes
        own_prefix = module.routers.get(owner, ("", ""))[1]
        framework = FRAMEWORK_FACTORIES.get(module.routers.get(owner, ("", ""))[0], "django")
        base = _join(prefix, own_prefix)
        declared = [(module, route) for route in module.routes if route.owner == owner]
        for home, route in declared + self._foreign_routes.get(key, []):
            if route.path is None:
                complete = False
                continue
            out.append(Route(_join(base, route.path), home.relpath, route.line, framework))
        for include in module.includes:
            if include.parent != owner:
                continue
            resolved = self._resolve_include(module, include)
            if resolved is None or include.prefix is None:
                complete = False
                continue
            child_module, child_owner = resolved
            complete &= self._collect(
                child_module, child_owner, _join(base, include.prefix), out, depth + 1, visiting
            )
        return complete


def _is_urlconf(module: PyModule) -> bool:
    """A Django URLconf: a `urls` module with top-level path() entries or includes."""
    return module.dotted.rpartition(".")[2] == "urls" and (
        any(route.owner == "" for route in module.routes)
        or any(include.parent == "" for include in module.includes)
    )


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path if path.startswith("/") or not path else "/" + path
    if not path:
        return prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")


_PARAMETER = re.compile(r"\{[^}]*\}|<[^>]*>")


def route_matches(route_path: str, path: str) -> bool:
    """Whether a concrete request path (`/health`) is served by a route template
    (`/items/{id}`, `/items/<int:id>`, `{path:path}` catch-alls)."""
    path = path.split("?", 1)[0] or "/"
    if route_path.rstrip("/") == path.rstrip("/"):
        return True
    if "{" not in route_path and "<" not in route_path:
        return False
    return _route_pattern(route_path).fullmatch(path.rstrip("/") + "/") is not None


@lru_cache(maxsize=4096)
def _route_pattern(route_path: str) -> re.Pattern[str]:
    pattern = ""
    last = 0
    for match in _PARAMETER.finditer(route_path):
        pattern += re.escape(route_path[last : match.start()])
        is_catch_all = ":path" in match.group(0) or match.group(0).startswith("<path:")
        pattern += ".*" if is_catch_all else "[^/]+"
        last = match.end()
    pattern += re.escape(route_path[last:])
    return re.compile(pattern.rstrip("/") + "/?")


def load_app(files: Iterable[tuple[Path, str]]) -> PythonApp:
    """The Python modules given as (path, path relative to the service's root); nothing is
    read until a question needs it."""
    return PythonApp({relpath: path for path, relpath in files})


def python_files_under(root: str, candidates: Sequence[str]) -> Iterator[str]:
    """The candidates (absolute path strings) that lie under root."""
    prefix = root.rstrip(os.sep) + os.sep
    for candidate in candidates:
        if candidate.startswith(prefix):
            yield candidate
