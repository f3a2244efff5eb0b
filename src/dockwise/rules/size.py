"""Size: base image, build tools and caches left behind, wasted layers, build context (DW1xx)."""

from __future__ import annotations

import fnmatch
import posixpath
import re
import weakref
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from dockwise.baseimages import is_windows_image
from dockwise.digits import is_digits
from dockwise.findings import Hit, Related, Rule, Severity, rule
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._common import (
    DockerfileCheck,
    at,
    dockerfile_rule,
    expand_word,
    not_a_service,
    shipped_instructions,
    shipped_runs,
    shipped_stages,
)
from dockwise.rules._context import (
    contexts,
    entries,
    human_size,
    ignore_name,
    ignore_note,
    stage_words,
)
from dockwise.rules._packages import (
    REMOVE_VERBS,
    PackageCommand,
    PipCommand,
    package_command,
    package_commands,
    package_name,
    pip_command,
    pip_requirements,
    unwrap,
)
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.expand import expand
from dockwise.sources.imageref import parse_image_ref
from dockwise.sources.shell import ShellCommand

if TYPE_CHECKING:
    from dockwise.sources.context import BuildContext, CopyTake

# ---------------------------------------------------------------------------------------------
# Shared helpers: shipped chain, mounts, package managers, paths
# ---------------------------------------------------------------------------------------------


def _has_cache_mount(run: Instruction, *targets: str) -> bool:
    """True if a cache or tmpfs mount covers one of the targets (or a folder above it)."""
    for mount in run.mounts():
        if mount.get("type") not in ("cache", "tmpfs"):
            continue
        target = mount.get("target", "").rstrip("/")
        if any(t == target or t.startswith(target + "/") for t in targets):
            return True
    return False


def _remove_words(run: Instruction, after: int = -1) -> list[str]:
    """Every word that follows `rm`/`find` in the RUN after command `after`, expanded."""
    words: list[str] = []
    for index, command in enumerate(run.commands):
        if index <= after:
            continue
        command = unwrap(command)
        if command.name in ("rm", "find"):
            words.extend(expand_word(run, a) for a in command.args if not a.startswith("-"))
    return words


def _removes_path(run: Instruction, *prefixes: str, after: int = -1) -> bool:
    """True if the RUN deletes something at or under one of the prefixes (after a command)."""
    for word in _remove_words(run, after):
        cleaned = word.rstrip("*").rstrip("/")
        for prefix in prefixes:
            if cleaned == prefix or cleaned.startswith(prefix + "/"):
                return True
            if prefix.startswith(cleaned + "/") and word.endswith("*"):
                return True  # rm -rf /var/cache/* covers /var/cache/apk
    return False


def _runs_command(run: Instruction, name: str, *words: str, after: int = -1) -> bool:
    """True if the RUN runs `name` with all the given words among its arguments."""
    for index, command in enumerate(run.commands):
        command = unwrap(command)
        if index > after and command.name == name and all(w in command.args for w in words):
            return True
    return False


def _indexed_packages(run: Instruction) -> list[tuple[int, PackageCommand]]:
    """(position in the RUN, package command) for each package-manager command."""
    found = []
    for index, command in enumerate(run.commands):
        package = package_command(command)
        if package is not None:
            found.append((index, package))
    return found


def _pip(command: ShellCommand) -> PipCommand | None:
    """The pip command line (not uv pip, which keeps no pip cache), or None."""
    pip = pip_command(command)
    return pip if pip is not None and pip.tool == "pip" else None


def _source_and_dest(instruction: Instruction) -> tuple[list[str], str] | None:
    """Sources and destination of a COPY/ADD (None for heredoc copies and malformed ones)."""
    if instruction.heredocs or len(instruction.value) < 2:
        return None
    words = [expand_word(instruction, w) for w in instruction.value]
    return words[:-1], words[-1]


_WHOLE_CONTEXT = frozenset({".", "./", "./.", "*", "./*", "/", "/."})


def _is_whole_context(sources: list[str]) -> bool:
    return any(source in _WHOLE_CONTEXT for source in sources)


def _basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/"))


# a memo per project (a Project is not hashable: keyed by id, dropped with the project)
_TOOLING: dict[int, tuple[weakref.ref[Project], dict[str, bool]]] = {}


def _tooling_memo(project: Project) -> dict[str, bool]:
    key = id(project)
    entry = _TOOLING.get(key)
    if entry is None or entry[0]() is not project:
        entry = (weakref.ref(project, lambda _gone: _TOOLING.pop(key, None)), {})
        _TOOLING[key] = entry
    return entry[1]


def _is_tooling(dockerfile: Dockerfile, project: Project) -> bool:
    """A test, CI or devcontainer image (asked once per Dockerfile, not once per rule)."""
    known = _tooling_memo(project)
    if dockerfile.relpath not in known:
        reason = not_a_service(dockerfile, project)
        known[dockerfile.relpath] = reason is not None and reason.kind == "tooling"
    return known[dockerfile.relpath]


def _size_rule(id: str, **meta: Any) -> Callable[[DockerfileCheck], Rule]:
    """A per-Dockerfile size rule whose findings are advice (info) on a test, CI or
    devcontainer image: what such an image weighs is not worth a warning."""

    def wrap(check: DockerfileCheck) -> Rule:
        def graded(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
            hits = list(check(dockerfile, project))
            if not hits:
                return
            tooling = any(h.severity != Severity.INFO for h in hits) and _is_tooling(
                dockerfile, project
            )
            for hit in hits:
                yield replace(hit, severity=Severity.INFO) if tooling else hit

        graded.__name__ = check.__name__
        graded.__doc__ = check.__doc__
        return dockerfile_rule(id, **meta)(graded)

    return wrap


# ---------------------------------------------------------------------------------------------
# DW101: full base image where a slim one exists
# ---------------------------------------------------------------------------------------------


class _SlimAdvice(Struct, frozen=True):
    """Sizes of an image family's full and slim variants."""

    full_size: str
    slim_size: str
    toolchain: bool = False  # the image is a compiler toolchain: ship a runtime instead


_SLIM_FAMILIES = {
    "python": _SlimAdvice("~1 GB", "~130 MB"),
    "node": _SlimAdvice("~1.1 GB", "~200 MB"),
    "ruby": _SlimAdvice("~1 GB", "~200 MB"),
    "perl": _SlimAdvice("~900 MB", "~150 MB"),
    "debian": _SlimAdvice("~120 MB", "~75 MB"),
    "golang": _SlimAdvice("~800 MB", "~2 MB", toolchain=True),
    "rust": _SlimAdvice("~1.5 GB", "~2 MB", toolchain=True),
    "openjdk": _SlimAdvice("~470 MB", "~270 MB"),
    "eclipse-temurin": _SlimAdvice("~450 MB", "~270 MB"),
}
_LEAN_TAG_WORDS = ("slim", "alpine", "windowsservercore", "nanoserver", "jre", "distroless")
_DEBIAN_CODENAMES = ("bookworm", "bullseye", "buster", "trixie", "sid", "forky")


def _slim_variant(name: str, tag: str | None) -> str | None:
    """The lean tag to use instead of `name:tag`, or None if the tag is already lean."""
    tag = tag or "latest"
    lowered = tag.lower()
    if name in ("golang", "rust"):  # any tag ships the toolchain
        return "gcr.io/distroless/static-debian12" if name == "golang" else "debian:bookworm-slim"
    if any(word in lowered for word in _LEAN_TAG_WORDS):
        return None
    if name == "debian":
        if lowered in ("latest", "stable"):
            return "debian:bookworm-slim"
        if lowered in _DEBIAN_CODENAMES or lowered.isdigit():
            return f"debian:{tag}-slim"
        return None
    if name in ("openjdk", "eclipse-temurin"):
        digits = re.match(r"^\d+", tag)
        major = digits.group(0) if digits else "21"
        return f"eclipse-temurin:{major}-jre"
    if name == "node":
        return f"node:{tag}-slim" if lowered != "latest" else "node:lts-slim"
    version, _, codename = tag.partition("-")
    if lowered == "latest":
        return f"{name}:slim"
    if codename and codename.lower() in _DEBIAN_CODENAMES:
        return f"{name}:{version}-slim-{codename}"
    if codename:
        return None
    return f"{name}:{version}-slim"


@_size_rule(
    "DW101",
    lesson="size",
    severity="warning",
    title="Full base image where a slim variant exists",
    why="""
        The default tags of python, node, ruby, debian and the JDK images carry compilers,
        headers and hundreds of packages the service never uses: python:3.11 is about 1 GB,
        python:3.11-slim about 130 MB. Every deploy pulls the difference, every node stores
        it, and every extra package is another CVE to patch. Shipping golang or rust images
        ships the whole toolchain when the service is one binary. Only the shipped stage is
        judged (a full image in a builder stage is fine), after resolving ARGs in FROM.
    """,
    fix="""
        Use the slim variant (python:3.11-slim, node:20-slim, debian:bookworm-slim), a JRE
        image for Java, or build in a full stage and ship the result on a slim or distroless
        base.
    """,
    bad="""
        FROM python:3.11
        RUN pip install --no-cache-dir flask==3.0.3
    """,
    good="""
        FROM python:3.11 AS build
        RUN pip wheel --wheel-dir /wheels flask==3.0.3

        FROM python:3.11-slim
        RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \\
            pip install --no-cache-dir /wheels/*.whl
    """,
)
def full_base_image(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    chain = dockerfile.shipped_chain()
    if not chain:
        return
    root = chain[-1]
    image = root.image_ref
    if image is None or any(_windows_stage(stage) for stage in chain):
        return  # slim tags and distroless are Linux advice: nothing like them on Windows
    name = image.official_name
    if name not in _SLIM_FAMILIES:
        return
    variant = _slim_variant(name, image.tag)
    if variant is None:
        return
    advice = _SLIM_FAMILIES[name]
    shown = f"{name}:{image.tag or 'latest'}"
    if advice.toolchain:
        message = (
            f"the shipped image is {shown} ({advice.full_size}, the whole {name} toolchain): "
            f"build in a {name} stage and ship the binary on {variant} or similar "
            f"({advice.slim_size} + your binary)"
        )
    else:
        message = (
            f"{shown} is {advice.full_size}; {variant} is {advice.slim_size}: ship the slim variant"
        )
    if any(stage.last("ONBUILD") is not None for stage in chain):
        # a build base (its ONBUILD steps run the toolchain in the child image's build):
        # the slim variant usually lacks what those steps need
        message += "; this is an ONBUILD build base, whose triggers may need the full image"
        yield replace(at(dockerfile, root.from_instruction, message), severity=Severity.INFO)
        return
    yield at(dockerfile, root.from_instruction, message)


_WINDOWS_SHELLS = ("powershell", "pwsh", "cmd")


def _windows_stage(stage: Stage) -> bool:
    """A Windows image: a Windows base (servercore, nanoserver, mcr.microsoft.com/windows*,
    .NET Framework) or a SHELL that is PowerShell or cmd."""
    base = stage.external_base
    if base is not None:
        if is_windows_image(base):
            return True
        ref = parse_image_ref(base)
        if ref.registry == "mcr.microsoft.com" and ref.repository.startswith(
            ("windows", "dotnet/framework")
        ):
            return True
    for shell in stage.all("SHELL"):
        program = shell.value[0].replace("\\", "/").rsplit("/", 1)[-1] if shell.value else ""
        if program.lower().removesuffix(".exe") in _WINDOWS_SHELLS:
            return True
    return False


# ---------------------------------------------------------------------------------------------

_BUILD_TOOLS = frozenset(
    {
        "gcc",
        "g++",
        "gcc-c++",
        "c++",
        "cpp",
        "clang",
        "make",
        "cmake",
        "ninja-build",
        "meson",
        "build-essential",
        "build-base",
        "alpine-sdk",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
        "git",
        "cargo",
        "rust",
        "rustc",
        "golang",
        "golang-go",
        "go",
        "development tools",
        "@development-tools",
        "@development",
    }
)
_VERSIONED_COMPILER = lazy_compile(r"^(gcc|g\+\+|clang|cpp|llvm)(-\d+(\.\d+)*)?$")


def _is_build_tool(package: str) -> bool:
    return (
        package in _BUILD_TOOLS
        or bool(_VERSIONED_COMPILER.match(package))
        or package.endswith(("-dev", "-devel", "-headers"))
    )


# alone, these are often used at run time (git for a deploy tool, make as a task runner,
# headers pulled in by a -dev package): without a compiler next to them they are advice
_MINOR_BUILD_TOOLS = frozenset({"git", "make", "pkg-config", "pkgconf"})


def _is_minor_build_tool(package: str) -> bool:
    return package in _MINOR_BUILD_TOOLS or package.endswith(("-dev", "-devel", "-headers"))


def _build_tools_kept(run: Instruction) -> list[str]:
    """Build tools the RUN installs and does not remove again later in the same RUN."""
    packages = _indexed_packages(run)
    kept: list[str] = []
    for index, package in packages:
        if not package.installs:
            continue
        if package.manager == "apt" and _apt_auto_removed(run, packages, index):
            continue
        removed = _removed_after(run, packages, index)
        virtual = package.command.has_flag("--virtual", "-t") and package.manager == "apk"
        if virtual and _virtual_name(package.command) in removed:
            continue
        for word in package.operands:
            for name in _script_word(run, word).split():
                name = package_name(name)
                if _is_build_tool(name) and name not in removed and name not in kept:
                    kept.append(name)
    return kept


def _removed_after(
    run: Instruction, packages: list[tuple[int, PackageCommand]], after: int
) -> set[str]:
    """Package names a remove/purge/del later in the RUN takes out again."""
    removed: set[str] = set()
    for index, package in packages:
        if index > after and package.verb in REMOVE_VERBS:
            for word in package.operands:
                removed.update(package_name(name) for name in _script_word(run, word).split())
    return removed


def _apt_auto_removed(
    run: Instruction, packages: list[tuple[int, PackageCommand]], after: int
) -> bool:
    """`apt-mark auto` then `apt-get purge --auto-remove` (or autoremove) after the install:
    the official images' pattern that removes every package installed since the mark."""
    return _runs_command(run, "apt-mark", "auto") and any(
        index > after
        and p.manager == "apt"
        and (p.verb == "autoremove" or p.command.has_flag("--auto-remove"))
        for index, p in packages
    )


def _script_word(run: Instruction, word: str) -> str:
    """The word expanded with ARG/ENV and the script's own `deps='gcc make'` variables."""
    variables = run.parsed.variables
    if "$" not in word or not variables:
        return expand_word(run, word)
    script_vars = {name: run.expanded(value) for name, value in variables.items()}
    return expand(word, {**run.vars, **script_vars})


def _virtual_name(command: ShellCommand) -> str:
    args = command.args
    for index, arg in enumerate(args):
        if arg in ("-t", "--virtual") and index + 1 < len(args):
            return args[index + 1].lower()
        if arg.startswith("--virtual="):
            return arg.partition("=")[2].lower()
    return ""


@_size_rule(
    "DW102",
    lesson="size",
    severity="warning",
    title="Compilers and build tools installed in the shipped image",
    why="""
        gcc, make, git, Rust or Go toolchains and `-dev` header packages are needed to build
        wheels and binaries, not to run them. Installed in the shipped stage they add hundreds
        of megabytes and a compiler for any attacker who gets a shell. Packages installed and
        purged later in the same RUN (`apk add --virtual .build-deps ... && apk del
        .build-deps`, `apt-get purge --auto-remove $BUILD_DEPS`, the official images'
        `apt-mark auto` pattern, also through `xargs`) leave nothing behind and pass; a purge
        *before* the install does not count. git, make, pkg-config or `-dev` headers without
        a compiler next to them are often used at run time and are reported as info, as are
        compilers kept on purpose: on a GPU image (nvidia/cuda, pytorch, NGC, or one that
        installs torch, tensorflow, jax...: several GB, and JIT compilers such as triton
        call gcc at run time) and in an interactive HPC environment (MPI or Spack with a
        shell as its command).
    """,
    fix="""
        Build in a builder stage (`FROM python:3.11-slim AS build`, install the tools, build
        wheels or the binary) and COPY only the result into the final stage; or install and
        remove the tools in the same RUN.
    """,
    bad="""
        FROM python:3.11-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 libpq-dev=15.6-0 \\
            && rm -rf /var/lib/apt/lists/*
        RUN pip install --no-cache-dir psycopg2==2.9.9
    """,
    good="""
        FROM python:3.11-slim AS build
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 libpq-dev=15.6-0 \\
            && rm -rf /var/lib/apt/lists/*
        RUN pip wheel --wheel-dir /wheels psycopg2==2.9.9

        FROM python:3.11-slim
        RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \\
            pip install --no-cache-dir /wheels/*.whl
    """,
)
def build_tools_shipped(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    on_purpose: str | None = None
    for run in shipped_runs(dockerfile):
        kept = _build_tools_kept(run)
        if not kept:
            continue
        names = ", ".join(kept[:6]) + (" ..." if len(kept) > 6 else "")
        on_purpose = on_purpose or _toolchain_on_purpose(dockerfile) or ""
        if on_purpose:
            message = f"build tools in the shipped image: {names} ({on_purpose})"
            yield replace(at(dockerfile, run, message), severity=Severity.INFO)
            continue
        if all(_is_minor_build_tool(name) for name in kept):
            yield replace(
                at(
                    dockerfile,
                    run,
                    f"{names} in the shipped image: if only the build needs "
                    f"{'it' if len(kept) == 1 else 'them'}, install in a builder stage",
                ),
                severity=Severity.INFO,
            )
            continue
        yield at(
            dockerfile,
            run,
            f"build tools installed in the shipped image: {names}; build in a builder "
            "stage and copy only the result",
        )


# GPU images: several GB of CUDA and frameworks, whose JIT compilers (triton, torch
# inductor, CuPy) may call gcc and the Python headers at run time
_GPU_REPOSITORIES = ("nvidia/cuda", "pytorch/pytorch", "rocm/", "tensorflow/tensorflow")
_GPU_REGISTRIES = ("nvcr.io",)
_GPU_PACKAGES = frozenset({"torch", "tensorflow", "jax", "triton", "cupy", "vllm"})
_HPC_MARKERS = lazy_compile(
    r"(?i)\b(?:mpi|openmpi|mpich|mvapich|mpi4py|mpirun|spack|slurm|infiniband|rdma-core"
    r"|intel-oneapi)\b"
)
_INTERACTIVE_SHELLS = frozenset({"bash", "sh", "zsh", "ash"})


def _toolchain_on_purpose(dockerfile: Dockerfile) -> str | None:
    """Why a shipped image keeps a compiler by design: a GPU image (multi-GB, JIT compilers
    that use gcc) or an interactive HPC environment (MPI, a login shell): else None."""
    chain = dockerfile.shipped_chain()
    if not chain:
        return None
    image = chain[-1].image_ref
    if image is not None and (
        image.registry in _GPU_REGISTRIES
        or any(image.repository.startswith(r) for r in _GPU_REPOSITORIES)
    ):
        return f"on a multi-GB {image.repository} GPU image, whose JIT compilers may use them"
    runs = [run for stage in chain for run in dockerfile.runs(stage)]
    for run in runs:
        for command in run.commands:
            pip = pip_command(command)
            if (
                pip is not None
                and pip.installs
                and any(_pip_distribution(r) in _GPU_PACKAGES for r in pip.operands)
            ):
                return "a multi-GB GPU framework image, whose JIT compilers may use them"
    entry = next(
        (i for stage in chain for i in (stage.last("ENTRYPOINT"), stage.last("CMD")) if i), None
    )
    shell = entry is not None and entry.value and _program(entry.value[0]) in _INTERACTIVE_SHELLS
    if shell and _HPC_MARKERS.search(dockerfile.text):
        return "an interactive HPC environment (MPI, a login shell): a toolchain by design"
    return None


def _pip_distribution(requirement: str) -> str:
    return re.split(r"[\[;\s=<>!~@]", requirement.strip().strip("\"'"), maxsplit=1)[0].lower()


def _program(word: str) -> str:
    return word.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------
# DW103: COPY . . before the dependency install
# ---------------------------------------------------------------------------------------------

_PY_MANAGERS = {"poetry": ("install",), "pipenv": ("install", "sync"), "pdm": ("install", "sync")}
_JS_INSTALLERS = frozenset({"npm", "pnpm", "yarn", "bun"})


def _dependency_install(command: ShellCommand) -> str | None:
    """The ecosystem whose dependencies this command installs from a manifest, if any."""
    name, args = command.name, command.args
    words = [a for a in args if not a.startswith("-")]
    pip = pip_command(command)
    if pip is not None:
        if pip.verb == "sync":
            return "python"
        if pip.installs and (pip.has("--requirement") or pip_requirements(pip)):
            return "python"  # from a requirements file or named on the command line
        return None
    first = words[0] if words else ""
    if name in _PY_MANAGERS:
        return "python" if first in _PY_MANAGERS[name] else None
    if name == "uv":
        return "python" if first == "sync" else None
    if name in _JS_INSTALLERS:
        if name == "yarn" and not words:
            return "node"
        if first == "ci" or (first in ("install", "i") and len(words) == 1):
            return "node"
        return None
    dependency_steps = {
        "bundle": ("install",),
        "composer": ("install",),
        "cargo": ("fetch",),
        "mvn": ("dependency:go-offline", "dependency:resolve"),
    }
    if name in dependency_steps:
        return name if first in dependency_steps[name] else None
    if name == "go" and words[:2] == ["mod", "download"]:
        return "go"
    return None


def _dependency_installs(run: Instruction) -> list[tuple[str, ShellCommand]]:
    found = []
    for command in run.commands:
        ecosystem = _dependency_install(command)
        if ecosystem is not None:
            found.append((ecosystem, command))
    return found


@_size_rule(
    "DW103",
    lesson="size",
    severity="warning",
    title="Whole source tree copied before the dependency install",
    why="""
        Docker reuses a layer only while everything before it is unchanged. With `COPY . .`
        before `pip install -r requirements.txt` or `pip install flask gunicorn` (or npm ci,
        poetry install, uv sync...), every edit to any source file invalidates the
        dependency layer: each build and each CI run downloads and installs every dependency
        again, and each pushed image carries a fresh copy of that layer. Installing the
        project itself (`pip install .`, or a requirements file in the build context that
        lists a local folder such as `-e ../..`) has to come after the copy and is not
        reported.
    """,
    fix="""
        Copy only the dependency manifests first, install, then copy the rest:
        `COPY requirements.txt .` / `RUN pip install --no-cache-dir -r requirements.txt` /
        `COPY . .`.
    """,
    bad="""
        FROM python:3.11-slim
        WORKDIR /app
        COPY . .
        RUN pip install --no-cache-dir -r requirements.txt
    """,
    good="""
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
    """,
)
def copy_before_install(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        yield from _copy_before_install_in(dockerfile, stage, project)


# a requirements line that installs a local folder: `-e ../../..`, `--editable .`, `./lib`
_LOCAL_REQUIREMENT = lazy_compile(
    r"^(?:(?:-e|--editable)(?:\s+|=))?(?:\.{1,2}(?:/\S*)?|/\S+|file:\S+)$"
)


def _installs_copied_tree(
    project: Project, dockerfile: Dockerfile, copy: Instruction, run: Instruction,
    command: ShellCommand,
) -> bool:  # fmt: skip
    """`pip install -r requirements.txt` whose file installs a local folder (`-e ../../..`):
    it needs the copied tree, so the COPY has to come first."""
    pip = pip_command(command)
    parts = _source_and_dest(copy)
    if pip is None or not parts:
        return False
    context = project.contexts.get(dockerfile.relpath)
    if context is None:
        return False
    dest = _absolute(copy, parts[1])
    for name in pip.values("--requirement"):
        where = _absolute(run, run.expanded(name))
        if where != dest and not where.startswith(dest.rstrip("/") + "/"):
            continue
        text = context.read_text(posixpath.relpath(where, dest))
        lines = (line.split(" #", 1)[0].strip() for line in (text or "").splitlines())
        if any(_LOCAL_REQUIREMENT.match(line) for line in lines):
            return True
    return False


def _copy_before_install_in(
    dockerfile: Dockerfile, stage: Stage, project: Project
) -> Iterator[Hit]:
    installed_before: set[str] = set()
    whole_copy: Instruction | None = None
    reported: set[str] = set()
    for instruction in stage.instructions:
        if instruction.cmd in ("COPY", "ADD") and whole_copy is None:
            parts = _source_and_dest(instruction)
            if parts and not instruction.flag("from") and _is_whole_context(parts[0]):
                whole_copy = instruction
        if instruction.cmd != "RUN":
            continue
        for ecosystem, command in _dependency_installs(instruction):
            if whole_copy is None:
                installed_before.add(ecosystem)
            elif ecosystem not in installed_before and ecosystem not in reported:
                if _installs_copied_tree(project, dockerfile, whole_copy, instruction, command):
                    continue  # the requirements install the copied project itself
                reported.add(ecosystem)
                shown = " ".join(command.argv[:4])
                yield at(
                    dockerfile,
                    whole_copy,
                    f"{whole_copy.cmd} of the whole context comes before `{shown}` "
                    f"(line {instruction.start_line}): every source change reinstalls all "
                    "dependencies",
                    related=(
                        Related(dockerfile.relpath, instruction.start_line, "dependency install"),
                    ),
                )


# ---------------------------------------------------------------------------------------------
# DW104-DW111: package manager caches left in the shipped layers
# ---------------------------------------------------------------------------------------------

# pip disables its cache for ANY valid boolean in PIP_NO_CACHE_DIR, "0" and "false" included
# (pip/_internal/cli/cmdoptions.py, _handle_no_cache_dir); anything else is a pip error.
_PIP_BOOLEANS = frozenset({"y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"})


def _pip_cache_disabled(run: Instruction, pip: PipCommand) -> bool:
    if pip.has("--no-cache-dir"):  # also its prefixes: `--no-cache`, `--no-ca`
        return True
    command = pip.command
    assigned = dict(a.partition("=")[::2] for a in command.assignments)
    value = assigned.get("PIP_NO_CACHE_DIR", run.vars.get("PIP_NO_CACHE_DIR"))
    if value is not None and value.strip().lower() in _PIP_BOOLEANS:
        return True
    if "PIP_NO_CACHE_DIR=" in run.script and "export" in run.script:
        return True
    cache_dir = run.vars.get("PIP_CACHE_DIR", "")
    home = run.vars.get("HOME", "/root")
    targets = [f"{home}/.cache/pip", "/root/.cache/pip"] + ([cache_dir] if cache_dir else [])
    return _has_cache_mount(run, *targets)


def _pip_config_disables_cache(runs: Iterable[Instruction]) -> bool:
    for run in runs:
        for command in run.commands:
            pip = _pip(command)
            if pip and pip.verb == "config" and any("no-cache-dir" in a for a in pip.operands):
                return True
    return False


@_size_rule(
    "DW104",
    lesson="size",
    severity="warning",
    title="pip install keeps its download cache in the image",
    why="""
        pip stores every downloaded wheel under ~/.cache/pip; in an image that cache is dead
        weight (often tens to hundreds of MB) shipped with every deploy. Only the shipped
        stage and its parents are judged: a cache in a builder stage ships nothing.
        `--no-cache-dir` may be abbreviated as pip allows (`--no-cache`), and a
        `--mount=type=cache` on ~/.cache/pip passes. Differs from hadolint DL3042 on purpose:
        `PIP_NO_CACHE_DIR=false` (or `0`, `no`, `off`) passes, because pip disables the cache
        for any valid boolean in that variable (its own source says so, for backward
        compatibility); hadolint reads `false` as "cache on". `uv pip` is a different tool
        and is not judged. Installing only a local source tree (`pip install .`), whose
        dependencies usually came in an earlier step, or with `--no-index` from local wheels
        is reported as info; so is every size finding on a test, CI or devcontainer image.
    """,
    fix="""
        `pip install --no-cache-dir ...`, or `ENV PIP_NO_CACHE_DIR=1`, or keep the cache out
        of the layer with `RUN --mount=type=cache,target=/root/.cache/pip pip install ...`.
    """,
    bad="""
        FROM python:3.11-slim
        COPY requirements.txt .
        RUN pip install -r requirements.txt
    """,
    good="""
        FROM python:3.11-slim
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
    """,
    also=["hadolint:DL3042"],
)
def pip_cache(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    runs = list(shipped_runs(dockerfile))
    for index, run in enumerate(runs):
        for command in run.commands:
            pip = _pip(command)
            if pip is None or not pip.installs or _pip_cache_disabled(run, pip):
                continue
            if _pip_config_disables_cache(runs[: index + 1]):
                continue
            hit = at(
                dockerfile,
                run,
                f"`{' '.join(command.argv[:3])}` without --no-cache-dir leaves pip's download "
                "cache in the image",
            )
            # only a local source tree (`pip install .`): its dependencies usually came in
            # an earlier step, so what pip caches here is small
            local = pip.has("--no-index") or (
                not pip.has("--requirement") and not pip_requirements(pip)
            )
            yield replace(hit, severity=Severity.INFO) if local else hit
            break


_APT_LISTS = "/var/lib/apt/lists"


def _apt_lists_kept(run: Instruction) -> str | None:
    """The `apt-get update` (or `apt update`) whose lists no later command deletes."""
    packages = _indexed_packages(run)
    updates = [index for index, p in packages if p.manager == "apt" and p.verb == "update"]
    if not updates:
        return None
    last = updates[-1]  # a cleanup before the (last) update does not count
    if _removes_path(run, _APT_LISTS, after=last):
        return None
    if any(index > last and p.manager == "apt" and p.verb == "distclean" for index, p in packages):
        return None
    if _has_cache_mount(run, _APT_LISTS):
        return None
    return dict(packages)[last].command.name


@_size_rule(
    "DW105",
    lesson="size",
    severity="warning",
    title="apt package lists left in the image",
    why="""
        `apt-get update` downloads the package index (tens of MB) into /var/lib/apt/lists;
        unless the same RUN deletes it, it is frozen into the layer and shipped with every
        deploy. Only the shipped stage and its parents are judged (hadolint DL3009 also flags
        builder stages, whose layers ship nothing); cache or tmpfs mounts on the lists pass,
        and so does `rm --recursive --force`; a cleanup *before* the update does not count.
    """,
    fix="End the RUN that installs with `&& rm -rf /var/lib/apt/lists/*`.",
    bad="""
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5
    """,
    good="""
        FROM debian:bookworm-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\
            && rm -rf /var/lib/apt/lists/*
    """,
    also=["hadolint:DL3009", "dockle:DKL-DI-0005"],
)
def apt_lists_left(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in shipped_runs(dockerfile):
        name = _apt_lists_kept(run)
        if name:
            yield at(
                dockerfile,
                run,
                f"{name} update without `rm -rf /var/lib/apt/lists/*` after it in the same RUN "
                "leaves the package index in the image",
            )


@_size_rule(
    "DW106",
    lesson="size",
    severity="warning",
    title="apk add without --no-cache",
    why="""
        Without --no-cache, apk keeps the package index (and with a cache dir the packages)
        under /var/cache/apk, shipped in the layer. Only the shipped stage and its parents
        are judged (unlike hadolint DL3019, which also judges builder stages); a cache mount,
        `rm -rf /var/cache/apk/*` after the add in the same RUN, or `--no-network` (nothing
        downloaded) passes; a cleanup before the add does not count. An add that refreshes
        no index of its own after a separate `RUN apk update` is not reported: that RUN holds
        the index, and DW112 reports it.
    """,
    fix="`apk add --no-cache curl=8.5.0-r0` (no separate `apk update` needed).",
    bad="""
        FROM alpine:3.19
        RUN apk update && apk add curl=8.5.0-r0
    """,
    good="""
        FROM alpine:3.19
        RUN apk add --no-cache curl=8.5.0-r0
    """,
    also=["hadolint:DL3019", "trivy:DS-0025", "dockle:DKL-DI-0004"],
)
def apk_cache(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    lonely_update = False  # an earlier `RUN apk update` of its own (DW112 reports it)
    for run in shipped_runs(dockerfile):
        lonely = _lonely_update(run)
        if lonely is not None and lonely.manager == "apk":
            lonely_update = True
            continue
        for index, package in _indexed_packages(run):
            if package.manager != "apk" or package.verb != "add":
                continue
            if package.command.has_flag("--no-cache", "--no-network"):
                continue  # --no-network: nothing is downloaded, so nothing is cached
            if lonely_update and not _apk_refreshes_index(run):
                # the index in the image is that earlier RUN's: --no-cache here would not
                # remove it, and DW112 already points at the update
                continue
            if _removes_path(run, "/var/cache/apk", after=index) or _has_cache_mount(
                run, "/var/cache/apk", "/etc/apk/cache"
            ):
                continue
            yield at(
                dockerfile, run, "apk add without --no-cache leaves the apk cache in the image"
            )
            break


def _apk_refreshes_index(run: Instruction) -> bool:
    """`apk update`, or `apk add -U/--update-cache` in this RUN: it downloads an index."""
    return any(
        package.manager == "apk"
        and (
            package.verb == "update" or package.command.has_flag("-U", "--update-cache", "--update")
        )
        for package in package_commands(run)
    )


class _CleanPolicy(Struct, frozen=True):
    """How a package manager's cache is cleaned in the RUN that fills it."""

    managers: tuple[str, ...]  # command names
    verbs: frozenset[str]
    clean: tuple[str, ...]  # the cleaning command's required words
    paths: tuple[str, ...]  # deleting one of these also cleans


_YUM = _CleanPolicy(
    ("yum",),
    frozenset(
        {"install", "groupinstall", "localinstall", "update", "update-minimal", "reinstall"}
        | {"downgrade", "distro-sync"}
    ),
    ("clean", "all"),
    ("/var/cache/yum",),
)
_DNF = _CleanPolicy(
    ("dnf", "dnf5", "microdnf", "tdnf"),
    frozenset(
        {"install", "groupinstall", "localinstall", "upgrade", "upgrade-minimal", "reinstall"}
        | {"downgrade", "distro-sync", "update"}
    ),
    ("clean", "all"),
    ("/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5"),
)
_ZYPPER = _CleanPolicy(
    ("zypper",),
    frozenset({"install", "update", "patch", "dist-upgrade", "source-install"}),
    ("clean",),
    ("/var/cache/zypp",),
)


def _uncleaned(run: Instruction, policy: _CleanPolicy) -> PackageCommand | None:
    """The last install-like command that no later clean follows, or None.

    A clean *before* the install does not count (the install fills the cache again).
    """
    offender: tuple[int, PackageCommand] | None = None
    for index, package in _indexed_packages(run):
        if package.command.name in policy.managers and package.verb in policy.verbs:
            offender = (index, package)
    if offender is None:
        return None
    after, package = offender
    cleaned = any(
        index > after
        and command.name in policy.managers
        and all(w in command.args or (w == "clean" and "cc" in command.args) for w in policy.clean)
        for index, command in enumerate(unwrap(c) for c in run.commands)
    )
    if (
        cleaned
        or _removes_path(run, *policy.paths, after=after)
        or _has_cache_mount(run, *policy.paths)
    ):
        return None
    return package


def _cache_hits(dockerfile: Dockerfile, policy: _CleanPolicy) -> Iterator[Hit]:
    for run in shipped_runs(dockerfile):
        offender = _uncleaned(run, policy)
        if offender is not None:
            name = offender.command.name
            clean = f"{name} {' '.join(policy.clean)}"
            yield at(
                dockerfile,
                run,
                f"{name} {offender.verb} without `{clean}` after it in the same RUN leaves "
                "the package cache in the image",
            )


@_size_rule(
    "DW107",
    lesson="size",
    severity="warning",
    title="yum without yum clean all",
    why="""
        yum keeps metadata and downloaded packages under /var/cache/yum; unless the same RUN
        cleans them after the install they ship in the layer (a clean before the install does
        not count). Only the shipped stage and its parents are judged (unlike hadolint
        DL3032, which also judges builder stages).
    """,
    fix="End the RUN with `&& yum clean all` (or `rm -rf /var/cache/yum`).",
    bad="""
        FROM centos:7.9.2009
        RUN yum install -y httpd-2.4.6
    """,
    good="""
        FROM centos:7.9.2009
        RUN yum install -y httpd-2.4.6 && yum clean all
    """,
    also=["hadolint:DL3032", "trivy:DS-0015"],
)
def yum_cache(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _cache_hits(dockerfile, _YUM)


@_size_rule(
    "DW108",
    lesson="size",
    severity="warning",
    title="dnf or microdnf without dnf clean all",
    why="""
        dnf and microdnf keep repository metadata (often 100+ MB) and packages under
        /var/cache; unless the same RUN cleans them after the install they ship in the
        layer (a clean *before* the install does not count). dnf's abbreviations (`dnf in`,
        `dnf up`, `dnf rei`, `dnf up-min`) are installs too. Only the shipped stage and its
        parents are judged (unlike hadolint DL3040, which also judges builder stages).
    """,
    fix="End the RUN with `&& dnf clean all` (`microdnf clean all` on minimal images).",
    bad="""
        FROM fedora:40
        RUN dnf install -y httpd-2.4.59
    """,
    good="""
        FROM fedora:40
        RUN dnf install -y httpd-2.4.59 && dnf clean all
    """,
    also=["hadolint:DL3040", "trivy:DS-0019", "trivy:DS-0027"],
)
def dnf_cache(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _cache_hits(dockerfile, _DNF)


@_size_rule(
    "DW109",
    lesson="size",
    severity="warning",
    title="zypper without zypper clean",
    why="""
        zypper keeps metadata and packages under /var/cache/zypp; unless the same RUN cleans
        them after the install they ship in the layer; `zypper in`, `up` and `dup` count as
        installs. Only the shipped stage and its parents are judged (unlike hadolint DL3036,
        which also judges builder stages).
    """,
    fix="End the RUN with `&& zypper clean --all`.",
    bad="""
        FROM opensuse/leap:15.5
        RUN zypper install -y httpd=2.4.51
    """,
    good="""
        FROM opensuse/leap:15.5
        RUN zypper install -y httpd=2.4.51 && zypper clean --all
    """,
    also=["hadolint:DL3036", "trivy:DS-0020"],
)
def zypper_cache(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _cache_hits(dockerfile, _ZYPPER)


def _is_yarn_install(command: ShellCommand) -> bool:
    if command.name != "yarn":
        return False
    words = [a for a in command.args if not a.startswith("-")]
    return not words or words[0] == "install"


def _yarn_cache_cleaned(run: Instruction) -> bool:
    installs = [i for i, c in enumerate(run.commands) if _is_yarn_install(unwrap(c))]
    after = installs[-1] if installs else -1
    if _runs_command(run, "yarn", "cache", "clean", after=after):
        return True
    if any("yarn" in word and "cache" in word for word in _remove_words(run, after)):
        return True
    return any(
        m.get("type") in ("cache", "tmpfs") and "yarn" in m.get("target", "") for m in run.mounts()
    )


@_size_rule(
    "DW110",
    lesson="size",
    severity="info",
    title="yarn install without yarn cache clean",
    why="""
        yarn keeps a global cache of every package tarball it installed; in the image it
        duplicates node_modules. Only the shipped stage and its parents are judged (hadolint
        DL3060 also flags builder stages, hadolint#619).
    """,
    fix="`yarn install --frozen-lockfile && yarn cache clean`, or a cache mount on the yarn cache.",
    bad="""
        FROM node:20-slim
        COPY package.json yarn.lock ./
        RUN yarn install --frozen-lockfile
    """,
    good="""
        FROM node:20-slim
        COPY package.json yarn.lock ./
        RUN yarn install --frozen-lockfile && yarn cache clean
    """,
    also=["hadolint:DL3060"],
)
def yarn_cache(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in shipped_runs(dockerfile):
        if any(_is_yarn_install(c) for c in run.commands) and not _yarn_cache_cleaned(run):
            yield at(dockerfile, run, "yarn install without `yarn cache clean` in the same RUN")


_NO_RECOMMENDS = lazy_compile(
    r"APT::Install-Recommends\s*[= ]\s*\"?(false|0|no|off)\"?", re.IGNORECASE
)


def _recommends_off_in(instruction: Instruction) -> bool:
    """An apt.conf written earlier: a RUN writing the setting or a COPY into apt.conf.d."""
    if instruction.cmd == "RUN":
        return bool(_NO_RECOMMENDS.search(instruction.script))
    if instruction.cmd == "COPY":
        parts = _source_and_dest(instruction)
        return bool(parts) and parts[1].startswith("/etc/apt/apt.conf")  # type: ignore[index]
    return False


def _install_without_no_recommends(run: Instruction) -> ShellCommand | None:
    for package in package_commands(run):
        if package.manager != "apt" or package.verb != "install":
            continue
        command = package.command
        if command.has_flag("--no-install-recommends"):
            continue
        if any(_NO_RECOMMENDS.search(a) for a in command.args):
            continue
        return command
    return None


@_size_rule(
    "DW111",
    lesson="size",
    severity="info",
    title="apt-get install without --no-install-recommends",
    why="""
        By default apt also installs every "recommended" package, often doubling what lands
        in the image (documentation, X libraries, extra tools). Only the shipped stage and
        its parents are judged (unlike hadolint DL3015); `-o APT::Install-Recommends=false`
        and an apt.conf setting written earlier in the stage pass.
    """,
    fix="`apt-get install -y --no-install-recommends curl=...`.",
    bad="""
        FROM debian:bookworm-slim
        RUN apt-get update \\
            && apt-get install -y curl=7.88.1-10+deb12u5 \\
            && rm -rf /var/lib/apt/lists/*
    """,
    good="""
        FROM debian:bookworm-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\
            && rm -rf /var/lib/apt/lists/*
    """,
    also=["hadolint:DL3015", "trivy:DS-0029"],
)
def apt_recommends(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    configured = False
    for stage in shipped_stages(dockerfile):
        for instruction in stage.instructions:
            if instruction.cmd != "RUN":
                configured = configured or _recommends_off_in(instruction)
                continue
            command = None if configured else _install_without_no_recommends(instruction)
            if command is not None:
                yield at(
                    dockerfile,
                    instruction,
                    f"{command.name} install without --no-install-recommends also installs "
                    "recommended packages",
                )
            configured = configured or _recommends_off_in(instruction)


# ---------------------------------------------------------------------------------------------
# DW112: package index update alone in its RUN
# ---------------------------------------------------------------------------------------------

_UPDATE_VERBS = {
    "apt": (
        {"update"},
        {"install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall"},
    ),
    "apk": ({"update"}, {"add", "upgrade", "fix"}),
    "yum": (
        {"makecache"},
        {"install", "groupinstall", "localinstall", "update", "upgrade", "reinstall"},
    ),
    "dnf": (
        {"makecache"},
        {"install", "groupinstall", "localinstall", "update", "upgrade", "reinstall"},
    ),
    "zypper": (
        {"refresh", "ref"},
        {"install", "in", "update", "up", "patch", "dist-upgrade", "dup"},
    ),
}


def _lonely_update(run: Instruction) -> PackageCommand | None:
    packages = package_commands(run)
    for package in packages:
        updates, installs = _UPDATE_VERBS[package.manager]
        if package.verb not in updates:
            continue
        if any(p.manager == package.manager and p.verb in installs for p in packages):
            continue
        if package.manager == "apt" and _has_cache_mount(run, _APT_LISTS):
            continue
        return package
    return None


@_size_rule(
    "DW112",
    lesson="size",
    severity="warning",
    title="Package index update in a RUN of its own",
    why="""
        Docker caches `RUN apt-get update` by its text, not by the date: once cached, a later
        `RUN apt-get install` (edited to add a package) runs against a months-old index and
        fails with 404s or installs outdated, vulnerable versions. A lone update also leaves
        the index in its own layer.
    """,
    fix="Update and install in the same RUN: `apt-get update && apt-get install -y ...`.",
    bad="""
        FROM debian:bookworm-slim
        RUN apt-get update
        RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\
            && rm -rf /var/lib/apt/lists/*
    """,
    good="""
        FROM debian:bookworm-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\
            && rm -rf /var/lib/apt/lists/*
    """,
    also=["trivy:DS-0017", "checkov:CKV_DOCKER_5", "dockle:CIS-DI-0007"],
)
def lonely_update(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in dockerfile.runs():
        package = _lonely_update(run)
        if package is not None:
            name = package.command.name
            yield at(
                dockerfile,
                run,
                f"`{name} {package.verb}` without an install in the same RUN: a cached layer "
                "keeps a stale package index for later installs",
            )


# ---------------------------------------------------------------------------------------------
# DW113: consecutive RUNs that could be one
# ---------------------------------------------------------------------------------------------

_SHORT_RUN = 120


def _simple_run(run: Instruction) -> bool:
    return (
        run.cmd == "RUN"
        and not run.json
        and not run.heredocs
        and len(run.commands) == 1
        and len(run.script) <= _SHORT_RUN
    )


@_size_rule(
    "DW113",
    lesson="size",
    severity="info",
    title="Consecutive RUN instructions that could be merged",
    why="""
        Each RUN is a layer; two short single-command RUNs in a row add a layer and a cache
        step for nothing, and files the second deletes stay in the first. Only short,
        single-command RUNs with the same flags are reported (never heredocs, chained
        scripts or RUNs with different mounts), in the shipped stage and its parents; hadolint
        DL3059 reports any consecutive RUNs.
    """,
    fix="Join the commands into one RUN with `&&` (and a `\\` line continuation per command).",
    bad="""
        FROM python:3.11-slim
        RUN useradd --uid 10001 app
        RUN mkdir -p /app/data
    """,
    good="""
        FROM python:3.11-slim
        RUN useradd --uid 10001 app && mkdir -p /app/data
    """,
    also=["hadolint:DL3059"],
)
def mergeable_runs(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.shipped_chain():
        previous: Instruction | None = None
        for instruction in stage.instructions:
            if (
                previous is not None
                and _simple_run(previous)
                and _simple_run(instruction)
                and previous.flags == instruction.flags
            ):
                yield at(
                    dockerfile,
                    instruction,
                    f"RUN could be merged with the RUN at line {previous.start_line}",
                )
            previous = instruction


# ---------------------------------------------------------------------------------------------
# DW114-DW117: whole filesystems, archives and deleted files in layers, lastlog
# ---------------------------------------------------------------------------------------------


@_size_rule(
    "DW114",
    lesson="size",
    severity="warning",
    title="COPY --from copies a whole filesystem",
    why="""
        `COPY --from=build / /` copies everything of the source stage, compilers, caches and
        package indexes included, on top of the current stage: the multi-stage build no
        longer leaves anything behind.
    """,
    fix="Copy only what runs: `COPY --from=build /app/dist /app/dist`.",
    bad="""
        FROM golang:1.22 AS build
        RUN go build -o /out/app ./cmd/app

        FROM gcr.io/distroless/static-debian12:nonroot
        COPY --from=build / /
    """,
    good="""
        FROM golang:1.22 AS build
        RUN go build -o /out/app ./cmd/app

        FROM gcr.io/distroless/static-debian12:nonroot
        COPY --from=build /out/app /app
    """,
    also=["hadolint:DL3067"],
)
def whole_filesystem_copy(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in shipped_instructions(dockerfile):
        if instruction.cmd != "COPY" or not instruction.flag("from"):
            continue
        parts = _source_and_dest(instruction)
        if parts and any(source.rstrip("/.*") == "" for source in parts[0]):
            source = instruction.expanded(instruction.flag("from") or "")
            yield at(
                dockerfile,
                instruction,
                f"COPY --from={source} / copies the whole filesystem of {source}",
            )


_ARCHIVE = lazy_compile(
    r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|zip|gz|bz2|xz|zst|7z)$",
    re.IGNORECASE,
)
_BULKY = lazy_compile(
    r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|zip|gz|bz2|xz|zst|7z|"
    r"whl|deb|rpm|apk|jar|war|ear|iso|img|bin|run|msi|exe|dmg|AppImage)$",
    re.IGNORECASE,
)
_EXTRACTORS = frozenset(
    {
        "unzip",
        "gunzip",
        "bunzip2",
        "unxz",
        "unzstd",
        "7z",
        "7za",
        "bsdtar",
        "tar",
        "gzip",
        "xz",
        "zstd",
    }
)


def _extracts(command: ShellCommand) -> bool:
    if command.name not in _EXTRACTORS:
        return False
    if command.name in ("tar", "bsdtar"):
        first = command.args[0] if command.args else ""
        bare_letters = first and not first.startswith("-") and "x" in first and first.isalpha()
        return bool(bare_letters) or command.has_flag("-x", "--extract", "--get")
    if command.name in ("gzip", "xz", "zstd"):
        return command.has_flag("-d", "--decompress")
    if command.name in ("7z", "7za"):
        return bool(command.args) and command.args[0] in ("x", "e")
    return True


class _Copied(Struct, frozen=True):
    """A path a COPY or ADD puts into the image."""

    instruction: Instruction
    source: str
    path: str  # absolute path in the image
    is_dir: bool


def _copied_paths(instruction: Instruction) -> list[_Copied]:
    parts = _source_and_dest(instruction)
    if not parts:
        return []
    sources, dest = parts
    into_dir = dest.endswith("/") or len(sources) > 1 or dest in (".", "./")
    base = _absolute(instruction, dest)
    copied = []
    for source in sources:
        if "://" in source:
            continue
        is_dir = source in _WHOLE_CONTEXT or source.endswith("/")
        path = base if is_dir or not into_dir else posixpath.join(base, _basename(source))
        copied.append(_Copied(instruction, source, path, is_dir))
    return copied


def _absolute(instruction: Instruction, path: str) -> str:
    """The path in the image, relative ones resolved against the WORKDIR in effect."""
    return posixpath.normpath(posixpath.join(instruction.workdir, path))


@_size_rule(
    "DW115",
    lesson="size",
    severity="info",
    title="Archive COPYed and then extracted by RUN",
    why="""
        COPY of an archive followed by a RUN that unpacks it stores the archive in one layer
        and the unpacked files in another: the image carries both. Only the shipped stage and
        its parents are judged, and the archive is matched by name (hadolint DL3010 misses
        archives copied into a directory).
    """,
    fix="""
        Unpack without a layer for the archive:
        `RUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz tar -xzf /tmp/app.tar.gz -C /opt`,
        or let ADD extract a local archive.
    """,
    bad="""
        FROM debian:bookworm-slim
        COPY app.tar.gz /tmp/
        RUN tar -xzf /tmp/app.tar.gz -C /opt
    """,
    good="""
        FROM debian:bookworm-slim
        RUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz \\
            tar -xzf /tmp/app.tar.gz -C /opt
    """,
    also=["hadolint:DL3010"],
)
def archive_extracted(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    archives: dict[str, Instruction] = {}
    for instruction in shipped_instructions(dockerfile):
        if instruction.cmd == "COPY":
            for copied in _copied_paths(instruction):
                if not copied.is_dir and _ARCHIVE.search(copied.path):
                    archives[_basename(copied.path)] = instruction
            continue
        if instruction.cmd != "RUN" or not archives:
            continue
        for command in instruction.commands:
            if not _extracts(command):
                continue
            for arg in command.args:
                copy = archives.pop(_basename(expand_word(instruction, arg)), None)
                if copy is not None:
                    yield at(
                        dockerfile,
                        copy,
                        f"{_basename(arg)} is COPYed here and extracted at line "
                        f"{instruction.start_line}: the image keeps the archive and its contents",
                        related=(
                            Related(dockerfile.relpath, instruction.start_line, "extracted here"),
                        ),
                    )


def _deleted_targets(run: Instruction) -> list[str]:
    changes_dir = any(c.name in ("cd", "pushd") for c in run.commands)
    targets = []
    for command in run.commands:
        if command.name != "rm":
            continue
        for arg in command.args:
            if arg.startswith("-"):
                continue
            path = expand_word(run, arg)
            if path.startswith("/"):
                targets.append(posixpath.normpath(path))
            elif not changes_dir and "$" not in path:
                targets.append(_absolute(run, path))
    return targets


def _deletes(target: str, copied: _Copied) -> bool:
    path = copied.path
    if path == target or path.startswith(target.rstrip("/") + "/"):
        return True
    if any(c in target for c in "*?["):
        if fnmatch.fnmatchcase(path, target):
            return True
        return copied.is_dir and posixpath.dirname(target) == path
    return False


@_size_rule(
    "DW116",
    lesson="size",
    severity="warning",
    title="File added in one layer and deleted in a later one",
    why="""
        Layers only add: a file COPYed in one instruction and deleted by a later RUN is
        hidden, not removed, and every pull still downloads it. This is reported for
        archives, packages, installers and whole directories in the shipped stage and its
        parents; when the build context shows that what was hidden is under 10 MB, it is
        advice (info), and the message gives the size.
    """,
    fix="""
        Never put it in a layer: `RUN --mount=type=bind,source=pkg.tar.gz,target=/tmp/pkg.tar.gz ...`,
        download, use and delete it in one RUN, or do the work in a builder stage.
    """,
    bad="""
        FROM debian:bookworm-slim
        COPY tool.tar.gz /tmp/tool.tar.gz
        RUN tar -xzf /tmp/tool.tar.gz -C /opt && rm /tmp/tool.tar.gz
    """,
    good="""
        FROM debian:bookworm-slim
        RUN --mount=type=bind,source=tool.tar.gz,target=/tmp/tool.tar.gz \\
            tar -xzf /tmp/tool.tar.gz -C /opt
    """,
)
def deleted_in_later_layer(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    pending: list[_Copied] = []
    for instruction in shipped_instructions(dockerfile):
        if instruction.cmd in ("COPY", "ADD"):
            for copied in _copied_paths(instruction):
                if copied.is_dir or _BULKY.search(copied.path):
                    pending.append(copied)
            continue
        if instruction.cmd != "RUN" or not pending:
            continue
        targets = _deleted_targets(instruction)
        for copied in list(pending):
            if any(_deletes(target, copied) for target in targets):
                pending.remove(copied)
                what = copied.source if not copied.is_dir else f"{copied.source} ({copied.path})"
                size = _copied_bytes(project, dockerfile, copied)
                hit = at(
                    dockerfile,
                    copied.instruction,
                    f"{what} is deleted at line {instruction.start_line} but still ships in "
                    f"the layer of this {copied.instruction.cmd}"
                    + (f" ({human_size(size)})" if size is not None else ""),
                    related=(Related(dockerfile.relpath, instruction.start_line, "deleted here"),),
                )
                if size is not None and size < _HIDDEN_BYTES_WORTH_A_WARNING:
                    hit = replace(hit, severity=Severity.INFO)  # a few MB in any image
                yield hit


# below this, a file hidden in a lower layer costs less than a base image's patch release
_HIDDEN_BYTES_WORTH_A_WARNING = 10 * 1024 * 1024


def _copied_bytes(project: Project, dockerfile: Dockerfile, copied: _Copied) -> int | None:
    """Bytes of the build-context files a COPY/ADD puts at or below `copied.path`; None when
    they are not known (stdin, `--from`, a URL, a context that could not be read)."""
    if copied.instruction.flag("from") is not None:
        return None
    context = project.contexts.get(dockerfile.relpath)
    if context is None or context.truncated:
        return None
    for take in context.copies:
        if take.instruction.start_line != copied.instruction.start_line:
            continue
        prefix = copied.path.rstrip("/") + "/"
        landed = [
            relpath
            for relpath in take.files
            if (where := take.landings.get(relpath)) is not None
            and (where == copied.path or where.startswith(prefix))
        ]
        if not landed:
            return None
        return sum(context.by_path[r].size for r in landed if r in context.by_path)
    return None


_LASTLOG_SAFE_UID = 65535


def _useradd_uid(run: Instruction, command: ShellCommand) -> int | None:
    args = command.args
    for index, arg in enumerate(args):
        value = None
        if arg in ("-u", "--uid") and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--uid="):
            value = arg.partition("=")[2]
        elif arg.startswith("-u") and len(arg) > 2 and not arg.startswith("--"):
            value = arg[2:]
        if value is not None:
            expanded = expand_word(run, value)
            return int(expanded) if is_digits(expanded) else None
    return None


@_size_rule(
    "DW117",
    lesson="size",
    severity="warning",
    title="useradd with a large UID without -l",
    why="""
        useradd records the new user in /var/log/lastlog and faillog, sparse files indexed by
        UID; layers do not keep holes, so a UID of 1000000 writes a file of about 300 MB
        into the image. Any UID above 65535 costs tens of MB (hadolint DL3046 only flags
        UIDs of six digits or more).
    """,
    fix="Add `-l` (`--no-log-init`): `useradd -l -u 1000000 app`.",
    bad="""
        FROM debian:bookworm-slim
        RUN useradd -u 1000000 app
        USER 1000000
    """,
    good="""
        FROM debian:bookworm-slim
        RUN useradd -l -u 1000000 app
        USER 1000000
    """,
    also=["hadolint:DL3046"],
)
def useradd_lastlog(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in shipped_runs(dockerfile):
        for command in run.commands:
            if command.name != "useradd" or command.has_flag("-l", "--no-log-init"):
                continue
            uid = _useradd_uid(run, command)
            if uid is not None and uid > _LASTLOG_SAFE_UID:
                yield at(
                    dockerfile,
                    run,
                    f"useradd -u {uid} without -l writes a sparse lastlog of about "
                    f"{uid * 292 // 1_000_000} MB into the layer",
                )


# ---------------------------------------------------------------------------------------------
# DW118: Poetry and its cache in the shipped image
# ---------------------------------------------------------------------------------------------

_POETRY_INSTALL = frozenset({"install", "sync"})
_POETRY_INSTALLER = lazy_compile(r"install\.python-poetry\.org|get-poetry\.py")


def _installs_poetry(run: Instruction) -> bool:
    """pip/pipx install poetry, or the official installer script."""
    for command in run.commands:
        pip = pip_command(command)
        names = list(pip.operands) if pip is not None and pip.installs else []
        command = unwrap(command)
        if command.name == "pipx" and command.args[:1] == ("install",):
            names = list(command.args[1:])
        if any(package_name(n.split("[")[0]) == "poetry" for n in names):
            return True
    return bool(_POETRY_INSTALLER.search(run.script))


def _poetry_cache_kept(run: Instruction) -> bool:
    """A `poetry install` whose cache (~/.cache/pypoetry) the RUN does not drop."""
    installs = [
        index
        for index, command in enumerate(run.commands)
        if (c := unwrap(command)).name == "poetry"
        and next((a for a in c.args if not a.startswith("-")), "") in _POETRY_INSTALL
        and "--no-cache" not in c.args
    ]
    if not installs:
        return False
    home = run.vars.get("HOME", "/root")
    cache = run.vars.get("POETRY_CACHE_DIR", f"{home}/.cache/pypoetry")
    targets = (cache, f"{home}/.cache", "/root/.cache/pypoetry", "/root/.cache")
    if _has_cache_mount(run, *targets):
        return False
    words = _remove_words(run, installs[-1])
    return not any(
        word.rstrip("/*") in targets or "pypoetry" in word or "POETRY_CACHE_DIR" in word
        for word in words
    )


@_size_rule(
    "DW118",
    lesson="size",
    severity="warning",
    title="Poetry's cache (and Poetry itself) in the shipped image",
    why="""
        `poetry install` keeps every wheel it downloaded and its package metadata under
        ~/.cache/pypoetry (or POETRY_CACHE_DIR): tens to hundreds of MB that ship with
        every deploy and are never read again. Poetry itself, with its own dependencies,
        adds some 50 MB the service does not need to run. Only the shipped stage and its
        parents are judged; `--no-cache`, removing the cache later in the same RUN, or a
        cache mount pass. Poetry installed without a cache left behind is reported as info.
    """,
    fix="""
        Install in a builder stage and copy only the virtualenv (`POETRY_VIRTUALENV_IN_PROJECT=1`,
        `COPY --from=build /app/.venv /app/.venv`), or export the lock
        (`poetry export -f requirements.txt`) and `pip install --no-cache-dir -r` it in the
        final stage; at least `rm -rf $POETRY_CACHE_DIR` in the RUN that installs.
    """,
    bad="""
        FROM python:3.12-slim
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN pip install --no-cache-dir poetry==1.8.3 && poetry install --only main
    """,
    good="""
        FROM python:3.12-slim AS build
        ENV POETRY_VIRTUALENVS_IN_PROJECT=1
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN pip install --no-cache-dir poetry==1.8.3 && poetry install --only main

        FROM python:3.12-slim
        WORKDIR /app
        COPY --from=build /app/.venv /app/.venv
        ENV PATH=/app/.venv/bin:$PATH
    """,
)
def poetry_shipped(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    tool: Instruction | None = None
    for run in shipped_runs(dockerfile):
        if tool is None and _installs_poetry(run):
            tool = run
        if _poetry_cache_kept(run):
            also = " (and Poetry itself)" if tool is not None else ""
            yield at(
                dockerfile,
                run,
                f"poetry install leaves its download cache (~/.cache/pypoetry){also} in the "
                "image: install in a builder stage and copy the virtualenv",
            )
            return
    if tool is not None:
        hit = at(
            dockerfile,
            tool,
            "Poetry is installed in the shipped image, which only needs the packages it "
            "installs: install in a builder stage and copy the virtualenv",
        )
        yield replace(hit, severity=Severity.INFO)


# ---------------------------------------------------------------------------------------------
# DW119: wheels copied into the shipped image only to be installed
# ---------------------------------------------------------------------------------------------


def _pip_sources(run: Instruction) -> list[str]:
    """Absolute paths a pip install in the RUN reads packages from (files, dirs, links)."""
    paths: list[str] = []
    for command in run.commands:
        pip = pip_command(command)
        if pip is None or not pip.installs:
            continue
        for word in [*pip.operands, *pip.values("--find-links")]:
            word = expand_word(run, word)
            if word.startswith("file://"):
                word = word[len("file://") :]
            if "://" in word or not word or word in (".", "./"):
                continue
            paths.append(_absolute(run, word))
    return paths


def _reads(source: str, copied: _Copied) -> bool:
    """True if pip reads the copied wheel file or wheel folder."""
    path = copied.path.rstrip("/")
    if source.rstrip("/") == path:
        return True
    return posixpath.dirname(source) == path and "*" in posixpath.basename(source)


def _wheel_copy(copied: _Copied) -> bool:
    words = f"{copied.source} {copied.path}".lower()
    return copied.path.endswith(".whl") or "wheel" in words or "/dist" in words


@_size_rule(
    "DW119",
    lesson="size",
    severity="warning",
    title="Wheels copied into the shipped image only to be installed",
    why="""
        `COPY --from=build /wheels /wheels` followed by `pip install /wheels/*.whl` stores
        every wheel in the COPY's layer and the installed packages in the next one: the
        image carries the dependencies twice, and `rm -rf /wheels` in a later RUN hides the
        files without shrinking anything. Only the shipped stage and its parents are judged.
    """,
    fix="""
        Mount the wheels for the one RUN that installs them:
        `RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install --no-cache-dir /wheels/*.whl`,
        or build the virtualenv in the builder stage and copy the virtualenv.
    """,
    bad="""
        FROM python:3.12 AS build
        RUN pip wheel --wheel-dir /wheels flask==3.0.3

        FROM python:3.12-slim
        COPY --from=build /wheels /wheels
        RUN pip install --no-cache-dir --no-index --find-links=/wheels flask==3.0.3
    """,
    good="""
        FROM python:3.12 AS build
        RUN pip wheel --wheel-dir /wheels flask==3.0.3

        FROM python:3.12-slim
        RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \\
            pip install --no-cache-dir --no-index --find-links=/wheels flask==3.0.3
    """,
)
def wheels_shipped(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    copies: list[_Copied] = []
    for instruction in shipped_instructions(dockerfile):
        if instruction.cmd in ("COPY", "ADD"):
            copies.extend(c for c in _copied_paths(instruction) if _wheel_copy(c))
            continue
        if instruction.cmd != "RUN" or not copies:
            continue
        sources = _pip_sources(instruction)
        for copied in list(copies):
            if not any(_reads(source, copied) for source in sources):
                continue
            copies.remove(copied)
            yield at(
                dockerfile,
                copied.instruction,
                f"{copied.path} is copied in only for the pip install at line "
                f"{instruction.start_line}: the wheels stay in this layer beside the "
                "installed packages; bind-mount them for that RUN instead",
                related=(Related(dockerfile.relpath, instruction.start_line, "installed here"),),
            )


# ---------------------------------------------------------------------------------------------
# DW123: a database server installed in an application image
# ---------------------------------------------------------------------------------------------

_DB_SERVERS = {
    "apt": lazy_compile(
        r"^(postgresql(-\d+)?|mysql-server(-[\d.]+)?|default-mysql-server|mariadb-server"
        r"|redis-server|redis|mongodb(-org(-server)?|-server)?)$"
    ),
    "apk": lazy_compile(r"^(postgresql\d*|mariadb|mysql|redis|mongodb|valkey)$"),
    "yum": lazy_compile(
        r"^(postgresql\d*-server|mariadb-server|(community-)?mysql-server|redis"
        r"|mongodb-org(-server)?)$"
    ),
    "zypper": lazy_compile(r"^(postgresql\d*-server|mariadb|redis|mongodb)$"),
}
_DB_DAEMONS = lazy_compile(
    r"\b(postgres|pg_ctl|pg_ctlcluster|mysqld|mariadbd|mysqld_safe|redis-server|mongod"
    r"|valkey-server|supervisord|s6-svscan|runsvdir|systemd|/init|docker-entrypoint)\b"
)
_APP_PROGRAMS = lazy_compile(
    r"^(python[\d.]*|gunicorn|uvicorn|hypercorn|daphne|celery|flask|fastapi|node|npm|java"
    r"|ruby|rails|puma|php|php-fpm|dotnet|uwsgi|granian)$"
)
_DB_IMAGES = frozenset({"postgres", "mysql", "mariadb", "redis", "mongo", "valkey"})


def _process_text(dockerfile: Dockerfile) -> tuple[str, str] | None:
    """(first program, whole text) of the shipped ENTRYPOINT + CMD, or None if neither."""
    words: list[str] = []
    for cmd in ("ENTRYPOINT", "CMD"):
        for stage in dockerfile.shipped_chain():
            found = stage.last(cmd)
            if found is not None:
                words.extend(found.value)
                break
    if not words:
        return None
    text = " ".join(words)
    first = text.split()[0].rsplit("/", 1)[-1] if text.split() else ""
    return first, text


@_size_rule(
    "DW123",
    lesson="size",
    severity="warning",
    title="A database server installed next to the application",
    why="""
        `apt-get install postgresql` (or mysql-server, mariadb-server, redis-server,
        mongodb) installs a whole database server, its data directory and its init
        scripts, usually when the application only needs the client library (libpq5,
        default-libmysqlclient, the Python driver). The server adds tens to hundreds of
        MB and CVEs, and a database inside the application's container loses its data with
        the container and cannot be scaled or backed up on its own. Reported as a warning
        when the image's command starts the application; as info when dockwise cannot see
        what the command starts (a script); not at all when it starts the database or a
        process supervisor.
    """,
    fix="""
        Install only the client library or tools (`libpq5`, `postgresql-client`,
        `default-mysql-client`, `redis-tools`) and run the database as its own service
        (a compose service or a managed database).
    """,
    bad="""
        FROM python:3.12-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends postgresql=15+248 \\
            && rm -rf /var/lib/apt/lists/*
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.12-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends libpq5=15.8-0+deb12u1 \\
            && rm -rf /var/lib/apt/lists/*
        CMD ["gunicorn", "app:app"]
    """,
)
def database_server_installed(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    chain = dockerfile.shipped_chain()
    root = chain[-1].image_ref if chain else None
    if root is not None and root.official_name in _DB_IMAGES:
        return
    process = _process_text(dockerfile)
    if process is not None and _DB_DAEMONS.search(process[1]):
        return
    for run in shipped_runs(dockerfile):
        servers: list[str] = []
        for package in package_commands(run):
            pattern = _DB_SERVERS.get("yum" if package.manager == "dnf" else package.manager)
            if not package.installs or pattern is None:
                continue
            for word in package.operands:
                for name in _script_word(run, word).split():
                    name = package_name(name)
                    if pattern.match(name) and name not in servers:
                        servers.append(name)
        if not servers:
            continue
        starts_app = process is not None and bool(_APP_PROGRAMS.match(process[0]))
        names = ", ".join(servers)
        message = (
            f"{names}: a database server installed in the image"
            + (f" that runs {process[0]}" if starts_app and process else "")
            + "; install only the client library and run the database as its own service"
        )
        hit = at(dockerfile, run, message)
        yield hit if starts_app else replace(hit, severity=Severity.INFO)


# ---------------------------------------------------------------------------------------------
# Build context: DW120-DW122, what `docker build` sends and what COPY/ADD take from it
# ---------------------------------------------------------------------------------------------

LARGE_CONTEXT_BYTES = 100 * 1024 * 1024
LARGE_TEST_DATA_BYTES = 10 * 1024 * 1024

# directory name -> what it is; a directory holding pyvenv.cfg is a virtualenv too
JUNK_DIRS = {
    ".git": "git history",
    ".hg": "Mercurial history",
    ".svn": "Subversion metadata",
    "node_modules": "host node_modules",
    "__pycache__": "Python bytecode cache",
    ".pytest_cache": "pytest cache",
    ".mypy_cache": "mypy cache",
    ".ruff_cache": "ruff cache",
    ".hypothesis": "hypothesis database",
    ".tox": "tox environments",
    ".nox": "nox environments",
    ".venv": "virtualenv",
    "venv": "virtualenv",
    ".idea": "IDE settings",
    ".vscode": "IDE settings",
    ".vs": "IDE settings",
}
TEST_DATA_PARENTS = frozenset({"tests", "test"})
TEST_DATA_DIRS = frozenset({"testdata", "test-data", "test_data"})
DS_STORE_KEY = "**/.DS_Store"
STRAY_PYC_KEY = "**/*.pyc"


# --------------------------------------------------------------------------- DW120


def _junk_dir(relpath: str, venvs: frozenset[str]) -> tuple[str, str] | None:
    """The topmost junk directory holding `relpath`, and what it is."""
    parts = relpath.split("/")
    for index, part in enumerate(parts[:-1]):
        directory = "/".join(parts[: index + 1])
        if part in JUNK_DIRS:
            return directory, JUNK_DIRS[part]
        if directory in venvs:
            return directory, "virtualenv"
        if part in TEST_DATA_DIRS or (
            part == "fixtures" and index > 0 and parts[index - 1] in TEST_DATA_PARENTS
        ):
            return directory, "test data"
    return None


def _junk_of(relpath: str, venvs: frozenset[str]) -> tuple[str, str] | None:
    found = _junk_dir(relpath, venvs)
    if found is not None:
        return found
    name = relpath.rpartition("/")[2]
    if name == ".DS_Store":
        return DS_STORE_KEY, "Finder metadata"
    if name.endswith(".pyc"):
        return STRAY_PYC_KEY, "Python bytecode"
    return None


class _Junk(Struct):
    """Files of one kind a COPY takes that the image does not need."""

    what: str
    take: CopyTake
    size: int = 0
    count: int = 0


def _junk_taken(context: BuildContext) -> dict[str, _Junk]:
    venvs = frozenset(
        f.relpath.rpartition("/")[0] for f in context.files if f.relpath.endswith("/pyvenv.cfg")
    )
    by_path = context.by_path
    cache: dict[str, tuple[str, str] | None] = {}
    junk: dict[str, _Junk] = {}
    counted: set[str] = set()
    for take in context.copies:
        for relpath in take.files:
            if relpath in counted:
                continue
            counted.add(relpath)
            folder, _, name = relpath.rpartition("/")
            if folder not in cache:
                cache[folder] = _junk_dir(folder + "/x", venvs) if folder else None
            found = cache[folder] or _junk_of(name, venvs)
            if found is None:
                continue
            key, what = found
            entry = junk.setdefault(key, _Junk(what, take))
            entry.size += by_path[relpath].size
            entry.count += 1
    return {
        key: entry
        for key, entry in junk.items()
        if entry.what != "test data" or entry.size >= LARGE_TEST_DATA_BYTES
    }


def _junk_hit(context: BuildContext, key: str, entry: _Junk) -> Hit:
    take = entry.take
    shown = key if key.startswith("**/") else context.project_path(key) + "/"
    files = "file" if entry.count == 1 else "files"
    message = (
        f"{entry.what} {shown} ({human_size(entry.size)}, {entry.count} {files}) is sent in the "
        f"build context and {take.instruction.cmd} takes it into {stage_words(context, take)}"
    )
    related: list[Related] = []
    if context.ignore is None:
        message += "; there is no .dockerignore"
    elif key.startswith("**/"):
        related.append(Related(ignore_name(context), None, f"add `{key}` here"))
    else:
        note, line = ignore_note(context, key)
        message += f"; {note}"
        if line is not None:
            related.append(line)
    return Hit(
        context.dockerfile.relpath,
        take.instruction.start_line,
        message,
        related=tuple(related),
    )


@rule(
    "DW120",
    lesson="size",
    severity="warning",
    title="Junk from the build context is copied into the image",
    why="""
        `COPY . .` takes whatever the ignore file lets through: `.git` history, a host
        virtualenv or `node_modules` built for another OS, bytecode and tool caches, IDE
        folders, large test fixtures. They make every build slower (the context is sent
        and hashed each time), bloat the image, break layer caching on every commit
        (`.git` changes constantly) and can ship files built for the wrong platform. The
        `.git` folder also exposes the full source history to anyone who pulls the image.
    """,
    fix="""
        List them in `.dockerignore` (`.git`, `**/node_modules`, `**/.venv`,
        `**/__pycache__`, `**/*.pyc`, `.pytest_cache`, `.mypy_cache`, `.tox`, `.idea`,
        `.vscode`, `**/.DS_Store`, `tests/fixtures`), or switch to a whitelist
        (`*` then `!app/`), and build dependencies inside the image.
    """,
    bad={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        ".git/config": "[core]\n\trepositoryformatversion = 0\n",
        ".dockerignore": "*.log\n",
    },
    good={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        ".git/config": "[core]\n\trepositoryformatversion = 0\n",
        ".dockerignore": "*.log\n.git\n",
    },
    also=["dockle:DKL-LI-0003"],
)
def junk_in_context(project: Project) -> Iterator[Hit]:
    for context in contexts(project):
        for key, entry in sorted(_junk_taken(context).items()):
            yield _junk_hit(context, key, entry)


# --------------------------------------------------------------------------- DW121


@rule(
    "DW121",
    lesson="size",
    severity="warning",
    title="COPY takes the whole build context and there is no .dockerignore",
    why="""
        Without an ignore file, `COPY . .` copies everything in the folder: `.git`, `.env`
        files, keys, local virtualenvs, build output and whatever lands there next month.
        The image grows, every commit invalidates the layer cache, and the first secret
        someone drops in the folder ships to the registry. A context of a few megabytes
        (under 5 MB) with nothing of the kind in it today (and no package.json, whose host
        node_modules would be copied over the image's own) is reported as info.
    """,
    fix="""
        Add a `.dockerignore` next to the Dockerfile (or `<Dockerfile>.dockerignore`);
        a whitelist is safest: `*` then `!app/`, `!requirements.txt`. Or copy only what
        the image needs: `COPY app/ ./app/`.
    """,
    bad={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
    },
    good={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        ".dockerignore": "*\n!app.py\n",
    },
)
def whole_context_without_ignore(project: Project) -> Iterator[Hit]:
    for context in contexts(project):
        if context.ignore is not None:
            continue
        take = next((t for t in context.copies if t.whole_context), None)
        if take is None:
            continue
        files = len(context.files)
        message = (
            f"{take.instruction.cmd} takes the whole build context "
            f"({human_size(context.sent_bytes)} in {files} file{'' if files == 1 else 's'}) and "
            "there is no .dockerignore"
        )
        if context.files:
            message += f"; biggest entries: {entries(context)}"
        hit = Hit(context.dockerfile.relpath, take.instruction.start_line, message)
        yield hit if _risky_context(context) else replace(hit, severity=Severity.INFO)


# a few MB of source beside a base image of 100 MB or more: not worth a warning by itself
_SMALL_CONTEXT_BYTES = 5 * 1024 * 1024
_SENSITIVE_NAME = lazy_compile(
    r"(^\.env(\..*)?$|\.(pem|key|p12|pfx|jks|kdbx)$|^id_(rsa|ed25519|ecdsa))"
)


def _risky_context(context: BuildContext) -> bool:
    """Worth a warning: the context is big, or holds junk or sensitive-looking files today."""
    if context.sent_bytes > _SMALL_CONTEXT_BYTES:
        return True
    if any(f.relpath == "package.json" for f in context.files):
        return True  # a Node project: the first `npm install` on the host adds node_modules
    for file in context.files:
        parts = file.relpath.split("/")
        if any(part in JUNK_DIRS for part in parts[:-1]) or _SENSITIVE_NAME.search(parts[-1]):
            return True
    return False


# --------------------------------------------------------------------------- DW122

_BIG_CSV = "<generated: a 104 MB CSV file>"


class _GeneratedExample(Mapping[str, str]):
    """An example project with a file too big to keep in memory as rule metadata.

    Shown (docs, `dockwise explain`) with a placeholder; the file's text is generated only
    when the example is materialized (`dict(example)`, as the example tests do).
    """

    def __init__(self, files: dict[str, str]) -> None:
        self._files = files

    def __getitem__(self, relpath: str) -> str:
        text = self._files[relpath]
        if text == _BIG_CSV:
            return "id,value\n" + "1,2\n" * (26 * 1024 * 1024 + 1)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def items(self) -> ItemsView[str, str]:  # type: ignore[override]
        return self._files.items()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _GeneratedExample) and self._files == other._files

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._files.items())))


@rule(
    "DW122",
    lesson="size",
    severity="info",
    title="The build context is larger than 100 MB",
    why="""
        What COPY and ADD take from the build context is sent to the builder and hashed on
        each build (remote builders and CI runners upload it every time). Hundreds of
        megabytes make each build wait before the first instruction runs, and usually hold
        data, archives or build output the image does not need.

        dockwise sizes the context as BuildKit, the default builder, transfers it: only the
        files some COPY or ADD takes (a 10 GB data folder next to a Dockerfile that copies
        one script costs nothing). The legacy builder sent everything the ignore file let
        through; DW121 covers `COPY . .` without a `.dockerignore`.
    """,
    fix="""
        Exclude data sets, archives, build output and caches in `.dockerignore` (or use
        a whitelist: `*` then `!app/`); fetch large assets during the build or mount them
        at run time.
    """,
    bad=_GeneratedExample(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY . /app/\n",
            "app.py": "print('hello')\n",
            "data/big.csv": _BIG_CSV,
        }
    ),
    good=_GeneratedExample(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY . /app/\n",
            "app.py": "print('hello')\n",
            "data/big.csv": _BIG_CSV,
            ".dockerignore": "data/\n",
        }
    ),
)
def large_context(project: Project) -> Iterator[Hit]:
    for context in contexts(project):
        total = context.transferred_bytes
        if total <= LARGE_CONTEXT_BYTES:
            continue
        sent = context.transferred
        yield Hit(
            context.dockerfile.relpath,
            None,
            f"COPY and ADD take {human_size(total)} in {len(sent)} files from the build "
            f"context; biggest entries: {entries(context, files=sent)}",
        )
