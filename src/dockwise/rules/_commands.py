"""The commands an image starts: the effective ENTRYPOINT/CMD of the shipped stage, the
commands they run (through init wrappers, privilege droppers and `sh -c`), the entrypoint
script an ENTRYPOINT runs, and the compose services that build a Dockerfile.

Shared by the lessons that ask what a container runs (runtime, health, logging, limits,
security and the app model)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from msgspec import Struct

from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.shell import ShellCommand, parse_script

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
INITS = frozenset({"tini", "tini-static", "dumb-init", "catatonit", "init", "s6-svscan"})
# run the rest of their argv as another user, exec'ing it: `gosu app gunicorn ...`
PRIVILEGE_DROPPERS = frozenset({"gosu", "su-exec"})
MAX_SCRIPT_BYTES = 256 * 1024
_PATH_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")


# --- what the container starts -----------------------------------------------------------


def effective(dockerfile: Dockerfile, cmd: str) -> Instruction | None:
    """The CMD/ENTRYPOINT/STOPSIGNAL/HEALTHCHECK the shipped image ends up with."""
    for stage in dockerfile.shipped_chain():
        found = stage.last(cmd)
        if found is not None:
            return found
    return None


def shell_c_script(argv: tuple[str, ...]) -> str | None:
    """The script of `sh -c "script"` (also `bash -ec`, `/bin/sh -c`), else None."""
    if not argv or argv[0].rsplit("/", 1)[-1] not in SHELLS:
        return None
    for index, arg in enumerate(argv[1:], start=1):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return argv[index + 1] if index + 1 < len(argv) else ""
        if not arg.startswith("-"):
            return None
    return None


def unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    """Drop init wrappers (`tini --`, `dumb-init`) and privilege droppers (`gosu user`)."""
    while argv:
        name = argv[0].rsplit("/", 1)[-1]
        if name in INITS:
            rest = argv[1:]
            while rest and rest[0].startswith("-"):
                done = rest[0] == "--"
                rest = rest[1:]
                if done:
                    break
            argv = rest
        elif name in PRIVILEGE_DROPPERS and len(argv) >= 2:
            argv = argv[2:]
        else:
            return argv
    return argv


def started_commands(instruction: Instruction) -> tuple[ShellCommand, ...]:
    """The commands a CMD or ENTRYPOINT runs (wrappers removed, `sh -c` scripts opened)."""
    if not instruction.value:
        return ()
    if not instruction.json:
        return parse_script(instruction.script).commands
    argv = unwrap(tuple(instruction.value))
    script = shell_c_script(argv)
    if script is not None:
        return parse_script(script).commands
    return (ShellCommand(argv),) if argv else ()


def entrypoint_and_cmd(dockerfile: Dockerfile) -> list[Instruction]:
    """The effective ENTRYPOINT and the CMD passed to it (a shell-form ENTRYPOINT drops CMD)."""
    entrypoint = effective(dockerfile, "ENTRYPOINT")
    cmd = effective(dockerfile, "CMD")
    found = [i for i in (entrypoint, cmd) if i is not None and i.value]
    if entrypoint is not None and not entrypoint.json and entrypoint.value:
        return [entrypoint]
    return found


def process_commands(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, ShellCommand]]:
    """Every (instruction, command) the shipped image starts with."""
    for instruction in entrypoint_and_cmd(dockerfile):
        for command in started_commands(instruction):
            yield instruction, command


# a bare interpreter or shell as the command makes a base or tool image, not a service
_INTERACTIVE = frozenset(
    {
        "sh",
        "bash",
        "ash",
        "dash",
        "zsh",
        "python",
        "python3",
        "ipython",
        "node",
        "irb",
        "ruby",
        "perl",
        "php",
        "jshell",
        "ghci",
        "R",
        "julia",
        "lua",
    }
)


def is_interactive(command: ShellCommand) -> bool:
    """`python3`, `bash`, `node`: an interpreter or shell started with no program."""
    name = command.name
    if name.startswith("python3.") or name.startswith("python2."):
        name = "python"
    return name in _INTERACTIVE and not any(not a.startswith("-") for a in command.args)


def is_base_image(dockerfile: Dockerfile) -> bool:
    """True when the shipped image only starts an interactive interpreter or shell: a base
    image for others to build on (the official python, node and debian images end with
    `CMD ["python3"]`, `CMD ["node"]`, `CMD ["bash"]`)."""
    commands = [command for _, command in process_commands(dockerfile)]
    return bool(commands) and all(is_interactive(command) for command in commands)


def compose_services_building(
    project: Project, dockerfile: Dockerfile
) -> list[Mapping[str, object]]:
    """The compose service definitions whose `build:` uses this Dockerfile."""
    if not project.discovery.compose_files:
        return []
    by_dockerfile = project.memo(
        "compose_services_building", project, lambda: _compose_services_by_dockerfile(project)
    )
    return list(by_dockerfile.get(dockerfile.relpath, ()))


def _compose_services_by_dockerfile(project: Project) -> dict[str, list[Mapping[str, object]]]:
    """Every compose service definition with a `build:`, by the Dockerfile it uses (made
    once per project: several rules ask it of every Dockerfile)."""
    services: dict[str, list[Mapping[str, object]]] = {}
    for compose in project.compose_files:
        for build in compose.builds:
            service = compose.services.get(build.service)
            if service is not None:
                services.setdefault(project.relpath(build.dockerfile), []).append(service.raw)
    return services


# --- the entrypoint script ---------------------------------------------------------------


class EntrypointScript(Struct, frozen=True):
    path: str  # where the image has it
    source: Instruction  # the COPY/ADD that puts it there
    text: str | None  # None when the content cannot be read


def final_workdir(chain: list[Stage]) -> str:
    """The WORKDIR the shipped image starts in (chain: the shipped stage first)."""
    for stage in chain:
        if stage.instructions:
            return stage.instructions[-1].workdir
    return "/"


def destinations(instruction: Instruction) -> list[tuple[str, str | None]]:
    """(path in the image, source path or None for heredocs) of a COPY/ADD."""
    values = [v for v in instruction.value]
    if len(values) < 2:
        return []
    destination = instruction.expanded(values[-1])
    sources = values[:-1]
    into_dir = destination.endswith("/") or destination in (".", "./") or len(sources) > 1
    base = PurePosixPath(instruction.workdir) / destination
    heredocs = {f"<<{h.name}": h for h in instruction.heredocs}
    heredocs.update({f"<<-{h.name}": h for h in instruction.heredocs})
    found: list[tuple[str, str | None]] = []
    for source in sources:
        if source in heredocs or source.startswith("<<"):
            name = source.lstrip("<-").strip("\"'")
            path = base / name if into_dir else base
            found.append((str(path), None))
            continue
        expanded = instruction.expanded(source)
        path = base / PurePosixPath(expanded).name if into_dir else base
        found.append((str(path), expanded))
    return found


def _script_target(dockerfile: Dockerfile) -> tuple[Instruction, str] | None:
    """The path of the script the effective ENTRYPOINT runs, if it runs one."""
    entrypoint = effective(dockerfile, "ENTRYPOINT")
    if entrypoint is None or not entrypoint.value:
        return None
    if entrypoint.json:
        argv = unwrap(tuple(entrypoint.value))
    else:
        commands = parse_script(entrypoint.script).commands
        argv = unwrap(commands[0].argv) if len(commands) == 1 else ()
    if argv and argv[0].rsplit("/", 1)[-1] in SHELLS and len(argv) >= 2:
        if shell_c_script(argv) is not None:
            return None
        argv = argv[1:]
    if not argv:
        return None
    return entrypoint, entrypoint.expanded(argv[0])


def _matches(target: str, path: str, final_workdir: str) -> bool:
    if "/" not in target:  # looked up on PATH
        directory, _, name = path.rpartition("/")
        return name == target and (directory in _PATH_DIRS or directory == final_workdir)
    return str(PurePosixPath(final_workdir) / target) == path


def entrypoint_script(dockerfile: Dockerfile, project: Project) -> EntrypointScript | None:
    """The script the ENTRYPOINT runs, when the Dockerfile writes or COPYs it."""
    target = _script_target(dockerfile)
    if target is None:
        return None
    return script_file(dockerfile, project, target[1])


def script_file(
    dockerfile: Dockerfile, project: Project, script_path: str
) -> EntrypointScript | None:
    """The file at `script_path` (absolute, relative to the final WORKDIR, or on PATH) as the
    shipped chain's COPY/ADD put it there."""
    chain = dockerfile.shipped_chain()
    workdir = final_workdir(chain)
    found: EntrypointScript | None = None
    for stage in reversed(chain):
        for instruction in stage.all("COPY", "ADD"):
            for path, source in destinations(instruction):
                if not _matches(script_path, path, workdir):
                    continue
                found = EntrypointScript(
                    path, instruction, _script_text(instruction, source, dockerfile, project)
                )
    return found


def script_argument(command: ShellCommand) -> str | None:
    """The script file a command runs: `sh start.sh`, `bash -e /run.sh`, `./start.sh`."""
    argv = unwrap(command.argv)
    if not argv:
        return None
    if argv[0].rsplit("/", 1)[-1] in SHELLS:
        if shell_c_script(argv) is not None:
            return None
        operands = [a for a in argv[1:] if not a.startswith("-")]
        return operands[0] if operands else None
    if argv[0].endswith(".sh"):
        return argv[0]
    return None


def _script_text(
    instruction: Instruction, source: str | None, dockerfile: Dockerfile, project: Project
) -> str | None:
    if source is None:
        return "\n".join(h.content for h in instruction.heredocs)
    if instruction.flag("from") is not None or "://" in source or any(c in source for c in "*?["):
        return None
    if dockerfile.relpath == "-":
        return None
    return context_file_text(project, dockerfile, source)


def context_file_text(project: Project, dockerfile: Dockerfile, source: str) -> str | None:
    """A small text file of the Dockerfile's build context, read through the context model."""
    context = project.contexts.get(dockerfile.relpath)
    return context.read_text(source, MAX_SCRIPT_BYTES) if context is not None else None


_SHEBANG_SHELL = lazy_compile(r"^#!.*\b(sh|bash|ash|dash|zsh|ksh)\b")


def is_shell_script(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return not first.startswith("#!") or bool(_SHEBANG_SHELL.match(first))


# --- servers started from Python code ------------------------------------------------------

if TYPE_CHECKING:
    from dockwise.model.service import Service
    from dockwise.sources.servercmd import ServerCommand

LaunchReader = Callable[[tuple[str, ...], Mapping[str, str]], "ServerCommand | None"]


def python_launch(service: Service, project: Project) -> LaunchReader | None:
    """A reader of the server a `python -m pkg` / `python main.py` command line starts from
    the service's own code (`pkg/__main__.py` calling `uvicorn.run(...)`), or None when the
    service has no build context with Python code."""
    dockerfile = service.dockerfile
    root = service.context_dir
    if dockerfile is None or root is None or not project.discovery.python_files:
        return None
    workdir = final_workdir(dockerfile.shipped_chain())

    def read(argv: tuple[str, ...], env: Mapping[str, str]) -> ServerCommand | None:
        from dockwise.rules._app import _PYTHON, _python_target

        if not argv or not _PYTHON.match(argv[0].rsplit("/", 1)[-1]):
            return None
        targets = _python_target(argv[1:], env)
        if len(targets) != 1 or "$" in targets[0]:
            return None
        if "-m" in argv and argv[argv.index("-m") + 1 :][:1] != (targets[0],):
            return None  # `python -m celery -A proj`: proj is imported, not run
        entry = _launch_entry(project, dockerfile, root, workdir, targets[0], env, argv)
        if entry is None:
            return None
        app_root, dotted = entry
        key = (str(app_root), dotted, tuple(sorted(env.items())))
        table = project.memo("python_launch", project, dict)
        if key not in table:
            from dockwise.sources.servercmd import read_python_launch

            table[key] = read_python_launch(project.python_app(app_root), dotted, env)
        return table[key]  # type: ignore[no-any-return]

    return read


def _launch_entry(
    project: Project,
    dockerfile: Dockerfile,
    root: Path,
    workdir: str,
    target: str,
    env: Mapping[str, str],
    argv: tuple[str, ...],
) -> tuple[Path, str] | None:
    """(app root, dotted module run as __main__) of `python -m pkg` or `python file.py`."""
    from dockwise.rules._app import _Layout, _locate

    context = project.contexts.get(dockerfile.relpath)
    if context is None or target in ("flask", "celery") or target.endswith(":app"):
        return None
    folders = [workdir] + [p for p in env.get("PYTHONPATH", "").split(":") if p.startswith("/")]
    found = _locate(_Layout(context), target, folders)
    if found is None:
        return None
    relpath, dotted = found
    depth = dotted.count(".") + 1 + relpath.endswith("/__init__.py")
    base = "/".join(relpath.split("/")[:-depth])
    app_root = root / base if base else root
    app = project.python_app(app_root)
    if relpath.endswith("/__init__.py"):
        if "-m" not in argv or not app.has_module(f"{dotted}.__main__"):
            return None
        dotted = f"{dotted}.__main__"
    return (app_root, dotted) if app.has_module(dotted) else None
