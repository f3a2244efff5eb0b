"""The app code a service runs: its start commands and the Python modules they reach.

A service starts from its Dockerfile's CMD/ENTRYPOINT (and the shell scripts they run),
from compose `command`/`entrypoint` and from Kubernetes `command`/`args`. Each command
that starts Python names an entry module: the app of a server (`gunicorn pkg.wsgi:app`,
`uvicorn main:app`, `uwsgi --module x`), the module `python -m x` runs, the file
`python x.py` runs, a Celery app (`celery -A proj worker`), `FLASK_APP`, and the Django
settings a `wsgi`/`asgi` module or `manage.py` loads. The code path is every module those
reach by import (sources/pyapp.py parses only what is reached). Test code is no part of it.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from msgspec import Struct

from dockwise.findings import Related
from dockwise.lazyre import lazy_compile
from dockwise.sources.dockerfile import key_values
from dockwise.sources.servercmd import ServerCommand, parse_server_command
from dockwise.sources.shell import ShellCommand, parse_script

if TYPE_CHECKING:
    from dockwise.model.service import Service
    from dockwise.project import Project
    from dockwise.sources.context import BuildContext
    from dockwise.sources.dockerfile import Dockerfile
    from dockwise.sources.pyapp import PyModule, PythonApp

MAX_SHOWN = 70
MAX_CONFIG_BYTES = 256 * 1024
_PYTHON = lazy_compile(r"^python(?:\d(?:\.\d+)?)?$")
_PYTHON_OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "--check-hash-based-pycs"})
_VAR = lazy_compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")
_TEST_PARTS = frozenset({"test", "tests", "testing", "conftest.py"})


# a dataclass, not a Struct like the other records: `env` stays out of equality
@dataclass(frozen=True)
class StartCommand:
    """One command a service starts with, and where it is written."""

    argv: tuple[str, ...]
    path: str  # project-relative file the command is written in
    line: int | None
    where: str  # "CMD", "compose service web command", "boot.sh (run by ENTRYPOINT)"
    env: Mapping[str, str] = field(default_factory=dict, compare=False)
    # written directly in the Dockerfile's CMD/ENTRYPOINT (the Dockerfile rules see those)
    in_dockerfile: bool = False
    workdir: str = "/"  # the folder in the image the command starts in

    @property
    def shown(self) -> str:
        text = shlex.join(self.argv)
        return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."

    def related(self, message: str | None = None) -> Related:
        return Related(self.path, self.line, message or f"{self.where} starts `{self.shown}`")


class Entry(Struct, frozen=True):
    """A module a start command runs, in the app rooted where Python finds it."""

    module: PyModule
    command: StartCommand
    server: ServerCommand | None
    app: PythonApp  # the modules under `root`: imports resolve there
    root: Path
    as_script: bool = False  # run as `python x.py` / `python -m x`: its __main__ block runs

    def runs(self, module: PyModule, line: int) -> bool:
        """Whether a line of a module on the code path runs: not in an
        `if __name__ == "__main__":` block, unless this entry runs the module as a script."""
        block = module.main_block
        if block is None or not block[0] <= line <= block[1]:
            return True
        return self.as_script and module.relpath == self.module.relpath


class ServiceCode(Struct, frozen=True):
    """A service's Python code: the app under its build context and what the service runs."""

    app: PythonApp  # every module of the build context
    entries: tuple[Entry, ...]
    project_root: Path

    def display(self, entry: Entry, relpath: str) -> str:
        """A module's path relative to the checked project (as findings report it)."""
        path = entry.root / relpath
        try:
            return path.relative_to(self.project_root).as_posix()
        except ValueError:
            return path.as_posix()

    def code_path(self) -> list[tuple[PyModule, Entry]]:
        """Every module the entries reach by import, once, with the entry reaching it
        first; test code is left out."""
        seen: set[Path] = set()
        found: list[tuple[PyModule, Entry]] = []
        for entry in self.entries:
            for module in entry.app.code_path(entry.module.dotted):
                where = entry.root / module.relpath
                if where in seen or is_test_module(module.relpath):
                    continue
                seen.add(where)
                found.append((module, entry))
        return found


def is_test_module(relpath: str) -> bool:
    parts = relpath.split("/")
    name = parts[-1]
    return (
        any(part in _TEST_PARTS for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


# --- start commands ------------------------------------------------------------------------


def expand(word: str, env: Mapping[str, str]) -> str:
    """`$VAR`, `${VAR}`, `${VAR:-default}` from env; unknown variables stay as written."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in env:
            return env[name]
        default = match.group(2)
        return default if default is not None else match.group(0)

    return _VAR.sub(value, word)


def _split(argv: tuple[str, ...]) -> list[ShellCommand]:
    """The commands an argv runs: wrappers dropped, `sh -c` scripts opened."""
    from dockwise.rules._commands import shell_c_script, unwrap

    argv = unwrap(argv)
    script = shell_c_script(argv)
    if script is not None:
        return [c for c in parse_script(script).commands if c.argv]
    return [ShellCommand(argv)] if argv else []


def dockerfile_env(dockerfile: Dockerfile) -> dict[str, str]:
    env: dict[str, str] = {}
    for stage in reversed(dockerfile.shipped_chain()):
        for instruction in stage.all("ENV"):
            for name, value in key_values(instruction):
                if value is not None:
                    env[name] = instruction.expanded(value)
    return env


def start_commands(service: Service, project: Project) -> list[StartCommand]:
    """Every command the service starts with, wherever it is written."""
    from dockwise.rules._commands import final_workdir

    found: list[StartCommand] = []
    base_env: dict[str, str] = {}
    workdir = "/"
    if service.dockerfile is not None:
        base_env = dockerfile_env(service.dockerfile)
        workdir = final_workdir(service.dockerfile.shipped_chain())
        found += _dockerfile_commands(service.dockerfile, project, base_env, workdir)
    for part in service.compose:
        compose = part.service
        env = {**base_env}
        env.update({k: v.value for k, v in compose.environment.items() if v.value is not None})
        argv: tuple[str, ...] = ()
        origin = None
        if compose.entrypoint is not None:
            argv = compose.entrypoint.argv + (compose.command.argv if compose.command else ())
            origin = compose.entrypoint.origin
        elif compose.command is not None:
            argv = compose.command.argv
            origin = compose.command.origin
        if origin is None:
            continue
        what = "entrypoint" if compose.entrypoint is not None else "command"
        for command in _split(argv):
            found.append(
                StartCommand(
                    command.argv,
                    origin.path,
                    origin.line,
                    f"compose service {compose.name} {what}",
                    {**env, **_assignments(command)},
                    workdir=_compose_workdir(compose.raw, workdir),
                )
            )
    for container in service.containers:
        spec = container.container
        if spec.init or (spec.command is None and spec.args is None):
            continue
        env = {**base_env}
        env.update({v.name: v.value for v in spec.env if v.value is not None})
        argv = (spec.command or ()) + (spec.args or ())
        for command in _split(argv):
            found.append(
                StartCommand(
                    command.argv,
                    container.path,
                    spec.line,
                    f"{container.label} command",
                    {**env, **_assignments(command)},
                    workdir=workdir,
                )
            )
    return found


def _compose_workdir(raw: Mapping[str, object], default: str) -> str:
    value = raw.get("working_dir")
    return value if isinstance(value, str) and value.startswith("/") else default


def _assignments(command: ShellCommand) -> dict[str, str]:
    return dict(a.partition("=")[::2] for a in command.assignments)


def _dockerfile_commands(
    dockerfile: Dockerfile, project: Project, env: Mapping[str, str], workdir: str
) -> list[StartCommand]:
    from dockwise.rules._commands import (
        is_shell_script,
        process_commands,
        script_argument,
        script_file,
    )

    found: list[StartCommand] = []
    for instruction, command in process_commands(dockerfile):
        scope = {**env, **_assignments(command)}
        found.append(
            StartCommand(
                command.argv,
                dockerfile.relpath,
                instruction.start_line,
                instruction.cmd,
                scope,
                in_dockerfile=True,
                workdir=workdir,
            )
        )
        path = script_argument(command)
        if path is None or "$" in path:
            continue
        script = script_file(dockerfile, project, instruction.expanded(path))
        if script is None or script.text is None or not is_shell_script(script.text):
            continue
        name = PurePosixPath(script.path).name
        for inner in parse_script(script.text).commands:
            if inner.argv:
                found.append(
                    StartCommand(
                        inner.argv,
                        dockerfile.relpath,
                        instruction.start_line,
                        f"{name} (run by {instruction.cmd})",
                        {**scope, **_assignments(inner)},
                        workdir=workdir,
                    )
                )
    return found


# --- entry modules -------------------------------------------------------------------------


def service_code(service: Service, project: Project) -> ServiceCode | None:
    """The Python code the service runs, or None when it runs none dockwise can find."""
    root = service.context_dir
    dockerfile = service.dockerfile
    if root is None or dockerfile is None or not project.discovery.python_files:
        return None
    context = project.contexts.get(dockerfile.relpath)
    if context is None:
        return None
    layout = _Layout(context)
    entries: list[Entry] = []
    seen: set[tuple[Path, str]] = set()
    commands = start_commands(service, project)
    # servers first: the command that serves is the one to show
    commands.sort(key=lambda c: parse_server_command(c.argv) is None)
    for command in commands:
        for found in _entries(project, layout, root, command):
            key = (found.root / found.module.relpath, command.where)
            if key not in seen and not is_test_module(found.module.relpath):
                seen.add(key)
                entries.append(found)
    if not entries:
        return None
    return ServiceCode(project.python_app(root), tuple(entries), project.root)


class _Layout:
    """Where the build context's files land in the image, and back."""

    def __init__(self, context: BuildContext) -> None:
        chain = {stage.index for stage in context.dockerfile.shipped_chain()}
        self.files = context.by_path
        self.to_context: dict[str, str] = {}
        for shipped in (False, True):  # the shipped chain's COPYs win
            for take in context.copies:
                if (take.stage.index in chain) == shipped:
                    for relpath, landing in take.landings.items():
                        self.to_context[landing] = relpath

    def context_path(self, image_path: str) -> str | None:
        return self.to_context.get(posixpath.normpath(image_path))


def _entries(
    project: Project, layout: _Layout, context_root: Path, command: StartCommand
) -> Iterator[Entry]:
    argv = tuple(expand(word, command.env) for word in command.argv)
    if not argv:
        return
    name = argv[0].rsplit("/", 1)[-1]
    server = parse_server_command(argv)
    targets: list[str] = []
    as_script = False
    if server is not None:
        if server.app and "$" not in server.app:
            targets.append(server.app)
    elif _PYTHON.match(name):
        targets += _python_target(argv[1:], command.env)
        as_script = not any(word in ("flask", "celery") for word in argv[1:3])
    elif name == "celery":
        targets += _option_values(argv[1:], ("-A", "--app"))[:1]
    elif name == "flask" and "FLASK_APP" in command.env:
        targets.append(command.env["FLASK_APP"])
    elif name == "fastapi" and len(argv) >= 3 and argv[1] in ("run", "dev"):
        targets.append(argv[2])
    elif name.endswith(".py"):
        targets.append(argv[0])
        as_script = True
    folders = [command.workdir] + [
        p for p in command.env.get("PYTHONPATH", "").split(":") if p.startswith("/")
    ]
    for target in targets:
        found = _locate(layout, target, folders)
        if found is None:
            continue
        relpath, dotted = found
        depth = dotted.count(".") + 1 + relpath.endswith("/__init__.py")
        base = "/".join(relpath.split("/")[:-depth])
        root = context_root / base if base else context_root
        app = project.python_app(root)
        module = app.module(dotted)
        if module is None or (root / module.relpath) != (context_root / relpath):
            continue
        yield Entry(module, command, server, app, root, as_script)
        if as_script and relpath.endswith("/__init__.py"):  # python -m pkg runs pkg/__main__
            main = app.module(f"{dotted}.__main__")
            if main is not None:
                yield Entry(main, command, server, app, root, as_script)
        settings = _django_settings(app, module, command.env)
        if settings is not None:
            yield Entry(settings, command, server, app, root)


def _locate(layout: _Layout, target: str, folders: list[str]) -> tuple[str, str] | None:
    """(context relpath, dotted name) of the module a server's app reference
    (`pkg.main:app`), a dotted module or a file path (`/app/main.py`, `main.py`) names,
    as Python finds it in the image: from the start folder or PYTHONPATH."""
    target = target.strip().strip("'\"")
    if not target or "$" in target:
        return None
    if target.endswith(".py") or "/" in target:
        path = target.split(":", 1)[0]
        image = [path] if path.startswith("/") else [posixpath.join(f, path) for f in folders]
        for candidate in image:
            relpath = layout.context_path(candidate)
            if relpath is not None and relpath.endswith(".py"):
                return relpath, PurePosixPath(relpath).stem  # the script's folder is its root
        return None
    dotted = target.split(":", 1)[0].split("(", 1)[0].strip()
    if not re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", dotted):
        return None
    as_path = dotted.replace(".", "/")
    for folder in folders:
        for suffix in (".py", "/__init__.py"):
            relpath = layout.context_path(posixpath.join(folder, as_path + suffix))
            if relpath is not None:
                return relpath, dotted
    for base in ("", "src/"):  # installed from the context (`pip install .`)
        for suffix in (".py", "/__init__.py"):
            if f"{base}{as_path}{suffix}" in layout.files:
                return f"{base}{as_path}{suffix}", dotted
    return None


def _python_target(args: tuple[str, ...], env: Mapping[str, str]) -> list[str]:
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-m":
            if index + 1 >= len(args):
                return []
            module = args[index + 1]
            if module == "flask" and "FLASK_APP" in env:
                return [env["FLASK_APP"]]
            if module == "celery":
                return _option_values(args[index + 2 :], ("-A", "--app"))[:1]
            return [module]
        if arg == "-c" or arg == "-":
            return []
        if arg in _PYTHON_OPTIONS_WITH_VALUE:
            index += 2
            continue
        if arg.startswith("-"):
            index += 1
            continue
        return [arg]
    return []


def _option_values(args: tuple[str, ...], names: tuple[str, ...]) -> list[str]:
    values: list[str] = []
    for index, arg in enumerate(args):
        key, sep, value = arg.partition("=")
        if key in names and sep:
            values.append(value)
        elif arg in names and index + 1 < len(args):
            values.append(args[index + 1])
        elif any(arg.startswith(n) and len(arg) > len(n) for n in names if len(n) == 2):
            values.append(arg[2:])
    return values


def _django_settings(app: PythonApp, module: PyModule, env: Mapping[str, str]) -> PyModule | None:
    """The settings module a Django entry (`pkg.wsgi`, `pkg.asgi`, `manage`) loads."""
    last = module.dotted.rpartition(".")[2]
    if last not in ("wsgi", "asgi", "manage"):
        return None
    name = env.get("DJANGO_SETTINGS_MODULE")
    if name and "$" not in name:
        return app.module(name)
    if last == "manage":
        return None
    package = module.dotted.rpartition(".")[0]
    return app.module(f"{package}.settings") if package else None


# --- config files the commands name ---------------------------------------------------------


def context_text(service: Service, project: Project, path: str) -> tuple[str, str] | None:
    """(project-relative path, text) of a small file the image gets from the build context,
    found by its path in the image (`/app/gunicorn.conf.py`) or in the context; folders the
    image adds in front are tried away. None when the build does not send it."""
    dockerfile = service.dockerfile
    root = service.context_dir
    if dockerfile is None or root is None or "$" in path:
        return None
    context = project.contexts.get(dockerfile.relpath)
    if context is None:
        return None
    parts = [p for p in PurePosixPath(path).parts if p not in ("/", ".")]
    for start in range(len(parts)):
        relpath = "/".join(parts[start:])
        if ".." in relpath:
            return None
        text = context.read_text(relpath, MAX_CONFIG_BYTES)
        if text is not None:
            return project.relpath(root / relpath), text
    return None


def code_prints(project: Project, dockerfile: Dockerfile, limit: int = 3) -> tuple[Related, ...]:
    """The first `print` calls on the code path of the service this Dockerfile builds."""
    found: list[Related] = []
    for service in project.services:
        if service.dockerfile is None or service.dockerfile.relpath != dockerfile.relpath:
            continue
        code = service_code(service, project)
        if code is None:
            continue
        for module, entry in code.code_path():
            for line in module.prints:
                if not entry.runs(module, line):
                    continue
                found.append(Related(code.display(entry, module.relpath), line, "print() here"))
                if len(found) >= limit:
                    return tuple(found)
    return tuple(found)
