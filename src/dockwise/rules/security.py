"""Security: root user, sudo, permissions, TLS checks, unpinned or untrusted bases (DW8xx)."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator

from msgspec import Struct
from msgspec.structs import replace

from dockwise.baseimages import base_user, installs_tool
from dockwise.digits import is_digits
from dockwise.findings import Hit, Severity
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._commands import entrypoint_script, process_commands
from dockwise.rules._common import (
    at,
    dockerfile_rule,
    expand_word,
    not_a_service,
    shipped_instructions,
    shipped_runs,
)
from dockwise.rules._packages import package_command, package_name
from dockwise.rules._root_needed import root_needed
from dockwise.sources.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    key_values,
)
from dockwise.sources.expand import references
from dockwise.sources.imageref import ImageRef
from dockwise.sources.shell import ShellCommand

# ---------------------------------------------------------------------------------------------
# Image references
# ---------------------------------------------------------------------------------------------

_DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def _judged_bases(dockerfile: Dockerfile) -> Iterator[tuple[Stage, ImageRef]]:
    """Stages FROM an image dockwise can name (not a stage, not scratch, no unset ARG)."""
    for stage in dockerfile.stages:
        image = stage.image_ref
        if image is not None:
            yield stage, image


def _pulled_from(base: str) -> str:
    """The registry the FROM pulls from, as written (a Docker Hub mirror is not Docker Hub)."""
    first, sep, _ = base.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry = first.lower()
        return "docker.io" if registry in _DOCKER_HUB else registry
    return "docker.io"


# ---------------------------------------------------------------------------------------------
# DW801: runs as root
# ---------------------------------------------------------------------------------------------

_ROOT_NAMES = frozenset({"root", "0"})


def effective_user(dockerfile: Dockerfile) -> tuple[Instruction | None, str | None]:
    """The last USER of the shipped chain and its expanded value (None, None if none)."""
    for stage in dockerfile.shipped_chain():
        user = stage.last("USER")
        if user is not None and user.value:
            return user, expand_word(user, user.value[0]).strip()
    return None, None


def is_root(user: str) -> bool:
    name = user.partition(":")[0]
    return name in _ROOT_NAMES


# servers that start as root on purpose and run their workers as an unprivileged user
_WORKER_SERVERS = frozenset(
    {
        "nginx",
        "httpd",
        "httpd-foreground",
        "apache2",
        "apache2ctl",
        "apachectl",
        "apache2-foreground",
        "php-fpm",
        "php-fpm7",
        "php-fpm8",
    }
)
# commands an entrypoint uses to start the server as another user
_DROP_TOOLS = ("gosu", "su-exec", "setpriv", "runuser", "s6-setuidgid", "chpst", "setuser")
_DROPS_IN_SCRIPT = lazy_compile(
    r"(?m)^[^#\n]*\b(?:gosu|su-exec|setpriv\s+--reuid|runuser\s+-u|s6-setuidgid|chpst\s+-u"
    r"|chroot\s+--userspec|setuser|su(?:\s+-[a-z-]+)*\s+[a-z_][a-z0-9_-]*\s+-c)\b"
)


class _BaseVerdict(Struct, frozen=True):
    """What the image starts as when the Dockerfile sets no USER."""

    kind: str  # "root", "nonroot", "drops", "windows", "unknown"
    where: str  # the image or project Dockerfile the answer comes from


def base_verdict(dockerfile: Dockerfile, project: Project, depth: int = 0) -> _BaseVerdict:
    """The user the shipped chain's oldest stage inherits: from a Dockerfile of this
    project that builds its base (model/link.py), else from the table of well-known images."""
    chain = dockerfile.shipped_chain()
    if not chain:
        return _BaseVerdict("unknown", "")
    oldest = chain[-1]
    if oldest.is_scratch:
        return _BaseVerdict("root", "scratch")
    base = oldest.external_base
    if base is None:
        return _BaseVerdict("unknown", oldest.base_resolved)
    parent = project.built_from(oldest) if depth < 5 else None
    if parent is not None:
        built, link = parent
        instruction, user = effective_user(built)
        if instruction is not None and user:
            kind = "root" if is_root(user) else "nonroot"
            return _BaseVerdict(kind, f"{built.relpath}:{instruction.start_line} (USER {user})")
        inherited = base_verdict(built, project, depth + 1)
        if inherited.kind in ("nonroot", "drops") and own_entrypoint(built):
            return _BaseVerdict("root", built.relpath)
        return inherited
    known = base_user(base)
    return _BaseVerdict(known.kind, known.label)


def own_entrypoint(dockerfile: Dockerfile) -> bool:
    return any(stage.last("ENTRYPOINT") is not None for stage in dockerfile.shipped_chain())


def drops_privileges(dockerfile: Dockerfile, project: Project) -> str | None:
    """The tool the image's own entrypoint starts the server with as another user."""
    installed: set[str] = set()
    for run in shipped_runs(dockerfile):
        for command in run.commands:
            installed |= installs_tool(command)
    found = next((tool for tool in _DROP_TOOLS if tool in installed), None)
    script = entrypoint_script(dockerfile, project)
    if script is not None and script.text:
        match = _DROPS_IN_SCRIPT.search(script.text)
        if match:
            return match.group(0).split()[-1] if found is None else found
    for _, command in process_commands(dockerfile):
        if command.name in _DROP_TOOLS:
            return command.name
    return found if script is not None and found else None


def _worker_server(dockerfile: Dockerfile) -> str | None:
    for _, command in process_commands(dockerfile):
        if command.name in _WORKER_SERVERS:
            return command.name
    return None


@dockerfile_rule(
    "DW801",
    lesson="security",
    severity="warning",
    title="The shipped image runs as root",
    why="""
        Without a USER (or with USER root last), the service runs as UID 0: a bug in the
        app or one of its dependencies gives the attacker root in the container, write
        access to everything in the image and a much shorter way out through any kernel or
        runtime flaw. Only the shipped stage and its parents count (builders may be root);
        `USER root` followed by `USER app` is fine.

        The base decides what "no USER" means. A parent built by another Dockerfile of the
        project (linked by compose `image:` + `build:`, `docker build -t` in a Makefile or
        script, or a folder named after the image) is followed. Non-root images
        (distroless `:nonroot`, Chainguard, `nginxinc/nginx-unprivileged`, Bitnami, Jupyter
        docker-stacks, AWS Lambda) pass, as do official images whose entrypoint starts the
        server as its own user (postgres, mysql, mariadb, mongo, redis, rabbitmq...) and
        images whose own entrypoint drops privileges with gosu, su-exec or setpriv. nginx
        and httpd keep their master as root by design (info). A base dockwise does not know
        may set a USER: that is reported at info. Test, CI, development and devcontainer
        images, Lambda functions (a `public.ecr.aws/lambda` base or a Lambda runtime client
        such as aws-lambda-go: Lambda runs them as its own non-root user) and base images (no
        service of their own) are not reported. Images that need root are advice (info):
        a host tool that compose or Kubernetes runs with the host's PID namespace or
        network, the Docker socket, the host's /etc, or privileged, and a kernel NFS server.
        A one-shot job is reported like a service. hadolint DL3002 only flags an explicit
        `USER root`.
    """,
    fix="""
        Create a user and switch to it by UID:
        `RUN useradd --uid 10001 --no-create-home app` then `USER 10001`.
    """,
    bad="""
        FROM python:3.11-slim
        COPY app.py /app/app.py
        CMD ["python", "/app/app.py"]
    """,
    good="""
        FROM python:3.11-slim
        RUN useradd --uid 10001 --no-create-home app
        COPY app.py /app/app.py
        USER 10001
        CMD ["python", "/app/app.py"]
    """,
    also=[
        "hadolint:DL3002",
        "trivy:DS-0002",
        "checkov:CKV_DOCKER_3",
        "checkov:CKV_DOCKER_8",
        "dockle:CIS-DI-0001",
    ],
)
def runs_as_root(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    shipped = dockerfile.shipped_stage
    if shipped is None:
        return
    built_as_root = None
    if project.images:  # check --image: what it really is
        from dockwise.rules.security_image import image_says_root

        built_as_root = image_says_root(project, dockerfile)
    if built_as_root is False:
        return
    instruction, user = effective_user(dockerfile)
    if instruction is not None and user is not None:
        if user and is_root(user):
            yield _root_hit(dockerfile, project, instruction, f"the shipped image runs as {user}")
        return
    # a base image (no service, just `CMD ["python3"]` or no CMD at all on an OS image)
    # leaves USER to the images built on it; a one-shot job still runs as root
    reason = not_a_service(dockerfile, project)
    if (reason is not None and reason.kind != "job") or drops_privileges(dockerfile, project):
        return
    verdict = base_verdict(dockerfile, project)
    if verdict.kind in ("nonroot", "windows"):
        return
    if verdict.kind == "drops" and not own_entrypoint(dockerfile):
        return
    message = f"stage {shipped.label} has no USER: the shipped image runs as root"
    if verdict.kind == "workers":
        hit = at(
            dockerfile,
            shipped.from_instruction,
            f"{message}; its base {verdict.where} keeps the master process as root and runs "
            "its workers as an unprivileged user",
        )
        yield replace(hit, severity=Severity.INFO)
        return
    if verdict.kind == "unknown" and built_as_root is None:
        hit = at(
            dockerfile,
            shipped.from_instruction,
            f"stage {shipped.label} has no USER: it runs as root unless its base "
            f"({verdict.where or shipped.base}) sets a non-root USER, which dockwise does not know",
        )
        yield replace(hit, severity=Severity.INFO)
        return
    needed = root_needed(dockerfile, project)
    if needed is not None:
        hit = at(dockerfile, shipped.from_instruction, f"{message}; {needed}")
        yield replace(hit, severity=Severity.INFO)
        return
    yield _root_hit(dockerfile, project, shipped.from_instruction, message)


def _root_hit(
    dockerfile: Dockerfile, project: Project, instruction: Instruction, message: str
) -> Hit:
    server = _worker_server(dockerfile)
    if server is None:
        return at(dockerfile, instruction, message)
    hit = at(
        dockerfile,
        instruction,
        f"{message}; {server} starts as root and runs its workers as an unprivileged user",
    )
    return replace(hit, severity=Severity.INFO)


# ---------------------------------------------------------------------------------------------
# DW802: sudo
# ---------------------------------------------------------------------------------------------


def _installs_package(command: ShellCommand, package: str) -> bool:
    parsed = package_command(command)
    return (
        parsed is not None
        and parsed.installs
        and any(package_name(word) == package for word in parsed.operands)
    )


@dockerfile_rule(
    "DW802",
    lesson="security",
    severity="error",
    title="sudo used or installed",
    why="""
        RUN already runs as the current USER; sudo inside a build has unpredictable TTY and
        signal behaviour and hides which user really owns what. Installed in the shipped
        image, sudo turns any foothold as the app user into root (reported as a warning: it
        is a risk, not yet a failure). The severity follows the user the RUN runs as (USER
        lines, FROM stages, the project's own base images, well-known bases): after a
        non-root USER an error; as root sudo is redundant and harmless (info); when the user
        is not known (an unknown base, a USER from a variable) a warning. sudo installed in
        an image that runs as root and has no other USER has nobody to elevate (info).
        hadolint DL3004 reports every `sudo` alike; dockwise grades it by the user on
        purpose.
    """,
    fix="""
        Switch with `USER root` for the privileged steps and back with `USER 10001`; for
        the runtime, use gosu/su-exec in an entrypoint only if you must drop privileges.
    """,
    bad="""
        FROM debian:bookworm-slim
        USER 10001
        RUN sudo mkdir -p /srv/data
    """,
    good="""
        FROM debian:bookworm-slim
        RUN mkdir -p /srv/data && chown 10001 /srv/data
        USER 10001
    """,
    also=["hadolint:DL3004", "trivy:DS-0010", "checkov:CKV2_DOCKER_1", "dockle:DKL-DI-0001"],
)
def sudo_used(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        for run in dockerfile.runs(stage):
            if not any(command.name == "sudo" for command in run.commands):
                continue
            user = _run_user(dockerfile, project, stage, run)
            if user == "root":
                # redundant and harmless: the RUN already has every privilege
                hit = at(dockerfile, run, "RUN uses sudo while it already runs as root")
                yield replace(hit, severity=Severity.INFO)
            elif user == "unknown":
                hit = at(dockerfile, run, "RUN uses sudo (the user it runs as is not known)")
                yield replace(hit, severity=Severity.WARNING)
            else:
                yield at(dockerfile, run, "RUN uses sudo")
    never_unprivileged: bool | None = None  # asked only when sudo is installed
    for run in shipped_runs(dockerfile):
        if any(_installs_package(command, "sudo") for command in run.commands):
            if never_unprivileged is None:
                never_unprivileged = _never_unprivileged(dockerfile, project)
            if never_unprivileged:
                installed = at(
                    dockerfile,
                    run,
                    "sudo is installed in the shipped image, which runs as root and has no "
                    "USER for sudo to elevate: dead weight, not yet a risk",
                )
                yield replace(installed, severity=Severity.INFO)
                continue
            installed = at(dockerfile, run, "sudo is installed in the shipped image")
            yield replace(installed, severity=Severity.WARNING)


def _base_start_user(dockerfile: Dockerfile, project: Project, stage: Stage, depth: int) -> str:
    """root, nonroot or unknown: the user a stage's base image builds as."""
    if stage.is_scratch:
        return "root"
    base = stage.external_base
    if base is None:
        return "unknown"
    parent = project.built_from(stage) if depth < 5 else None
    if parent is not None:
        built, _link = parent
        chain = built.shipped_chain()
        if not chain:
            return "unknown"
        return _user_before(built, project, chain[0], None, depth + 1)
    kind = base_user(base).kind
    if kind in ("root", "drops", "workers"):  # their entrypoints drop; RUN is root
        return "root"
    return "nonroot" if kind == "nonroot" else "unknown"


def _user_before(
    dockerfile: Dockerfile,
    project: Project,
    stage: Stage,
    instruction: Instruction | None,
    depth: int = 0,
) -> str:
    """root, nonroot or unknown: the USER in effect before `instruction` of `stage`
    (after the whole stage when None), followed through FROM parents and project images."""
    for ancestor in dockerfile.ancestry(stage):
        user = None
        for current in ancestor.instructions:
            if instruction is not None and current is instruction:
                break
            if current.cmd == "USER" and current.value:
                user = current
        instruction = None  # only the first stage stops early
        if user is not None:
            value = expand_word(user, user.value[0]).strip()
            if "$" in value or not value:
                return "unknown"
            return "root" if is_root(value) else "nonroot"
    oldest = dockerfile.ancestry(stage)[-1]
    return _base_start_user(dockerfile, project, oldest, depth)


def _run_user(dockerfile: Dockerfile, project: Project, stage: Stage, run: Instruction) -> str:
    if not any(run is instruction for instruction in stage.instructions):
        return "unknown"  # an ONBUILD trigger runs in a child image: its user is not known
    return _user_before(dockerfile, project, stage, run)


def _never_unprivileged(dockerfile: Dockerfile, project: Project) -> bool:
    """The shipped image runs as root, no USER of its chain names another user, and its
    base is a root image: sudo in it has nobody to elevate."""
    chain = dockerfile.shipped_chain()
    if not chain:
        return False
    for stage in chain:
        for user in stage.all("USER"):
            value = expand_word(user, user.value[0]).strip() if user.value else ""
            if not is_root(value):
                return False
    return _base_start_user(dockerfile, project, chain[-1], 0) == "root"


# ---------------------------------------------------------------------------------------------
# DW803, DW811: chmod modes
# ---------------------------------------------------------------------------------------------


class _Mode(Struct, frozen=True):
    others_write: bool
    sticky: bool
    setuid: bool
    setgid: bool


_NUMERIC_MODE = lazy_compile(r"^[0-7]{1,4}$")
_SYMBOLIC_CLAUSE = lazy_compile(r"^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$")


def _parse_mode(text: str) -> _Mode | None:
    if _NUMERIC_MODE.match(text):
        digits = text.zfill(4)
        special, others = int(digits[0]), int(digits[3])
        return _Mode(bool(others & 2), bool(special & 1), bool(special & 4), bool(special & 2))
    others_write = sticky = setuid = setgid = False
    for clause in text.split(","):
        match = _SYMBOLIC_CLAUSE.match(clause)
        if not match:
            return None
        who = match.group(1)
        for action in re.findall(r"[-+=][rwxXstugo]*", match.group(2)):
            if action[0] == "-":
                continue
            perms = action[1:]
            if "w" in perms and ("o" in who or "a" in who):
                others_write = True
            if "t" in perms:
                sticky = True
            if "s" in perms:
                setuid = setuid or not who or "u" in who or "a" in who
                setgid = setgid or not who or "g" in who or "a" in who
    return _Mode(others_write, sticky, setuid, setgid)


def _chmod_modes(
    instruction: Instruction, *, lasting: bool = False
) -> Iterator[tuple[_Mode, bool, list[str]]]:
    """(mode, recursive, paths) of each chmod in a RUN and of COPY/ADD --chmod.

    `lasting`: leave out the paths the same RUN removes afterwards (`tempDir="$(mktemp -d)"
    && chmod 777 "$tempDir" ... && rm -rf "$tempDir"`): what the RUN deletes never ships."""
    if instruction.cmd in ("COPY", "ADD"):
        chmod = instruction.flag("chmod")
        mode = _parse_mode(chmod) if chmod else None
        if mode is not None:
            yield mode, True, [instruction.value[-1]] if instruction.value else []
        return
    if instruction.cmd != "RUN":
        return
    commands = instruction.commands
    for index, command in enumerate(commands):
        if command.name != "chmod":
            continue
        words = [a for a in command.args if not a.startswith("-") or _parse_mode(a)]
        if not words:
            continue
        mode = _parse_mode(expand_word(instruction, words[0]))
        if mode is None:
            continue
        paths = words[1:]
        if lasting:
            removed = _removed_later(commands[index + 1 :])
            paths = [p for p in paths if not _covered(_path_key(p), removed)]
            if words[1:] and not paths:
                continue
        yield mode, command.has_flag("-R", "--recursive"), paths


def _path_key(word: str) -> str:
    """A path as a RUN writes it, variables spelled one way (`${tempDir}` = `$tempDir`)."""
    key = re.sub(r"\$\{(\w+)\}", r"$\1", word.strip("\"'"))
    return key.rstrip("/") or "/"


def _removed_later(commands: tuple[ShellCommand, ...]) -> set[str]:
    """Paths a later `rm -r` of the same RUN deletes as a whole (not `dir/*`: the dir stays)."""
    removed: set[str] = set()
    for command in commands:
        if command.name == "rm" and command.has_flag("-r", "-R", "--recursive"):
            removed.update(
                _path_key(word)
                for word in command.positional()
                if word and not any(c in word for c in "*?[")
            )
    return removed


def _covered(path: str, removed: set[str]) -> bool:
    return any(path == gone or (gone != "/" and path.startswith(gone + "/")) for gone in removed)


def _feeding_instructions(dockerfile: Dockerfile) -> Iterator[Instruction]:
    shipped = dockerfile.shipped_stage
    if shipped is None:
        return
    feeding = dockerfile.feeding(shipped)
    for stage in dockerfile.stages:
        if stage.index in feeding:
            yield from stage.instructions


@dockerfile_rule(
    "DW803",
    lesson="security",
    severity="warning",
    title="World-writable permissions (chmod 777, o+w)",
    why="""
        A world-writable file or folder can be changed by any process in the container:
        an attacker with any user can replace code, configuration or scripts that root or
        the app later runs. Sticky-bit shared folders (`chmod 1777 /tmp/shared`) are the
        safe idiom and pass. Stages that feed the shipped image are judged (COPY --from keeps
        modes).
    """,
    fix="""
        Give ownership instead: `chown -R 10001:0 /app/data && chmod -R g=u /app/data`, or
        `COPY --chown=10001:0 --chmod=755`.
    """,
    bad="""
        FROM python:3.11-slim
        RUN mkdir -p /app/data && chmod -R 777 /app/data
    """,
    good="""
        FROM python:3.11-slim
        RUN mkdir -p /app/data && chown -R 10001:0 /app/data && chmod -R 750 /app/data
    """,
)
def world_writable(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in _feeding_instructions(dockerfile):
        for mode, recursive, paths in _chmod_modes(instruction, lasting=True):
            if not mode.others_write or (mode.sticky and not recursive):
                continue
            where = " ".join(paths[:3]) or "files"
            yield at(dockerfile, instruction, f"{where} made world-writable")
            break


@dockerfile_rule(
    "DW811",
    lesson="security",
    severity="info",
    title="setuid or setgid bit added",
    why="""
        A setuid/setgid program runs with its owner's privileges whatever user starts it: a
        flaw in it is a privilege escalation. Images rarely need new ones; review each.
    """,
    fix="Drop the bit (`chmod 0755`) and run the program under the right USER instead.",
    bad="""
        FROM debian:bookworm-slim
        COPY tool /usr/local/bin/tool
        RUN chmod 4755 /usr/local/bin/tool
    """,
    good="""
        FROM debian:bookworm-slim
        COPY tool /usr/local/bin/tool
        RUN chmod 0755 /usr/local/bin/tool
    """,
    also=["dockle:CIS-DI-0008"],
)
def setuid_bits(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in shipped_instructions(dockerfile):
        for mode, _recursive, paths in _chmod_modes(instruction):
            if mode.setuid or mode.setgid:
                bits = "setuid" if mode.setuid else "setgid"
                yield at(dockerfile, instruction, f"{bits} bit set on {' '.join(paths[:3])}")
                break


# ---------------------------------------------------------------------------------------------
# DW804: TLS and signature verification switched off
# ---------------------------------------------------------------------------------------------

_FALSE = frozenset({"0", "false", "no", "off"})


def _env_problem(name: str, value: str | None) -> str | None:
    """Why an environment variable disables verification, or None."""
    upper = name.upper()
    value = (value or "").strip()
    lowered = value.lower()
    if upper == "PYTHONHTTPSVERIFY" and lowered == "0":
        return "PYTHONHTTPSVERIFY=0 turns off certificate checks in Python"
    if upper == "NODE_TLS_REJECT_UNAUTHORIZED" and lowered == "0":
        return "NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks in Node.js"
    if upper == "NPM_CONFIG_STRICT_SSL" and lowered in _FALSE:
        return "NPM_CONFIG_STRICT_SSL=false turns off certificate checks in npm"
    if upper == "GIT_SSL_NO_VERIFY":
        return "GIT_SSL_NO_VERIFY (any value) turns off certificate checks in git"
    if upper == "PIP_TRUSTED_HOST" and value:
        return "PIP_TRUSTED_HOST lets pip accept those hosts without valid HTTPS"
    if upper == "GOINSECURE" and value:
        return "GOINSECURE lets go fetch those modules without valid HTTPS"
    return None


_APT_INSECURE = lazy_compile(
    r"(Acquire::https?::Verify-(Peer|Host)\s*=\s*\"?(false|0|no)|"
    r"Acquire::AllowInsecureRepositories\s*=\s*\"?(true|1|yes)|"
    r"APT::Get::AllowUnauthenticated\s*=\s*\"?(true|1|yes))",
    re.IGNORECASE,
)
_REPO_INSECURE = lazy_compile(
    r"(?<![.\w])(sslverify|gpgcheck|repo_gpgcheck)\s*=\s*(0|false|no)\b", re.I
)
_GIT_SSL_OFF = lazy_compile(r"^http\.(https?://[^=]*\.)?sslverify=(false|0|no|off)$", re.I)


def _command_problem(command: ShellCommand, *, index_known: bool = True) -> str | None:
    """Why a command switches verification off, or None. `index_known`: no ENV/ARG sets
    pip's index (PIP_INDEX_URL...), so the hosts a pip command downloads from are known."""
    name, args = command.name, command.args
    if name == "curl" and command.has_flag("-k", "--insecure"):
        return "curl -k/--insecure skips certificate checks"
    if name == "wget" and command.has_flag("--no-check-certificate"):
        return "wget --no-check-certificate skips certificate checks"
    if (
        (name.startswith("pip") or name.startswith("python"))
        and command.has_flag("--trusted-host")
        and not (index_known and _unused_trusted_hosts(command))
    ):
        return "pip --trusted-host accepts that host without valid HTTPS"
    if name == "apk" and command.has_flag("--allow-untrusted") and not _local_apks(command):
        return "apk --allow-untrusted installs unsigned packages"
    if name in ("apt-get", "apt", "aptitude"):
        if command.has_flag(
            "--allow-unauthenticated", "--force-yes", "--allow-insecure-repositories"
        ):
            return f"{name} installs unauthenticated packages"
        if any(_APT_INSECURE.search(a) for a in args):
            return f"{name} verification switched off with -o"
    if name in ("yum", "dnf", "dnf5", "microdnf", "tdnf", "zypper"):
        if command.has_flag("--nogpgcheck", "--no-gpg-checks"):
            return f"{name} installs packages without signature checks"
        if any(_REPO_INSECURE.search(a) for a in args):
            return f"{name} verification switched off with --setopt"
    if name == "rpm" and command.has_flag("--nosignature", "--nodigest"):
        return "rpm installs packages without signature or digest checks"
    if name in ("npm", "yarn", "pnpm"):
        lowered = [a.lower() for a in args]
        if "strict-ssl" in lowered or "enablestrictssl" in lowered:
            index = lowered.index("strict-ssl" if "strict-ssl" in lowered else "enablestrictssl")
            if index + 1 < len(lowered) and lowered[index + 1] in _FALSE:
                return f"{name} strict-ssl switched off"
        if any(a in ("--strict-ssl=false", "strict-ssl=false") for a in lowered):
            return f"{name} strict-ssl switched off"
    if name == "git":
        if any(_GIT_SSL_OFF.match(a) for a in args):
            return "git http.sslVerify switched off"
        lowered = [a.lower() for a in args]
        for index, arg in enumerate(lowered[:-1]):
            if (
                arg.endswith("sslverify")
                and arg.startswith("http.")
                and lowered[index + 1] in _FALSE
            ):
                return "git http.sslVerify switched off"
    if name in ("export", "env"):
        for arg in args:
            key, sep, value = arg.partition("=")
            if sep and (problem := _env_problem(key, value)):
                return problem
    for assignment in command.assignments:
        key, _, value = assignment.partition("=")
        if problem := _env_problem(key, value):
            return problem
    return None


# OpenSSL's security level 0/1 accepts 1024-bit RSA keys and SHA-1 signatures; TLS 1.0/1.1
# as the minimum protocol re-enables versions every current client has dropped
_TLS_DOWNGRADE = lazy_compile(
    r"(@?SECLEVEL\s*=\s*[01]\b)|(MinProtocol\s*=\s*TLSv1(\.[01])?(?![.\d]))|"
    r"(--tls-min-v1\.[01]\b)",
    re.IGNORECASE,
)
# sed's `s/old/new/`: only what it writes matters (`s/SECLEVEL=1/SECLEVEL=2/` raises it)
_SED_SUBSTITUTION = lazy_compile(r"\bs([/|#,:])((?:\\.|(?!\1).)*)\1((?:\\.|(?!\1).)*)\1")


def _downgrade_problem(text: str) -> str | None:
    """Why a script or value lowers the TLS security level, or None."""
    lowered = text.lower()
    if "seclevel" not in lowered and "minprotocol" not in lowered and "tls-min" not in lowered:
        return None
    found = _TLS_DOWNGRADE.search(_SED_SUBSTITUTION.sub(r"\3", text))
    if found is None:
        return None
    if found.group(1):
        level = found.group(1).replace(" ", "").lstrip("@")
        return (
            f"OpenSSL lowered to {level}: certificates with 1024-bit keys or SHA-1 "
            "signatures are accepted"
        )
    setting = found.group(0).strip()
    return f"TLS downgraded ({setting}): protocol versions with known attacks are accepted"


_PIP_INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f")


def _option_values(command: ShellCommand, options: tuple[str, ...]) -> list[str]:
    values = []
    args = command.args
    for index, arg in enumerate(args):
        for option in options:
            if arg == option and index + 1 < len(args):
                values.append(args[index + 1])
            elif option.startswith("--") and arg.startswith(option + "="):
                values.append(arg.partition("=")[2])
            elif len(option) == 2 and arg.startswith(option) and len(arg) > 2 and arg[2] != "-":
                values.append(arg[2:])
    return values


def _host_of(value: str) -> str:
    rest = value.partition("://")[2] if "://" in value else value
    host = rest.split("/", 1)[0].rpartition("@")[2]
    return host.split(":", 1)[0].lower()


# PyPI's old names: they redirect to pypi.org, and pip never downloads from them unless an
# index option names them (the old Docker tutorial's `--trusted-host pypi.python.org`)
_PYPI_OLD_NAMES = frozenset({"pypi.python.org", "pypi.io"})


def _unused_trusted_hosts(command: ShellCommand) -> str:
    """The trusted hosts of a pip command when all are PyPI's old names and no index option
    of the command names them: a dead flag. '' otherwise (any other host may be the index a
    base image's pip.conf or PIP_INDEX_URL sets, which dockwise cannot see)."""
    trusted = [_host_of(v) for v in _option_values(command, ("--trusted-host",))]
    env = {a.partition("=")[0] for a in command.assignments}
    if not trusted or not all(host in _PYPI_OLD_NAMES for host in trusted) or env & _PIP_INDEX_ENV:
        return ""
    sources = _option_values(command, _PIP_INDEX_OPTIONS)
    if any("$" in v or _host_of(v) in _PYPI_OLD_NAMES for v in sources):
        return ""
    return " ".join(trusted)


_PIP_INDEX_ENV = frozenset({"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"})


def _dead_trusted_hosts(run: Instruction) -> Iterator[str]:
    """Trusted hosts of pip commands in a RUN that the command does not download from."""
    if any(name in run.vars for name in _PIP_INDEX_ENV):
        return  # an ENV/ARG index the command follows: dockwise cannot tell
    for command in run.commands:
        if (command.name.startswith("pip") or command.name.startswith("python")) and (
            command.has_flag("--trusted-host")
        ):
            hosts = _unused_trusted_hosts(command)
            if hosts:
                yield hosts


def _local_apks(command: ShellCommand) -> bool:
    """`apk add --allow-untrusted /tmp/packages/x.apk`: files built locally, nothing to verify."""
    packages = [a for a in command.args[1:] if not a.startswith("-")]
    return bool(packages) and all(a.startswith(("/", "./", "$")) for a in packages)


# `deb [trusted=yes] file:/tmp/repo ./`: a repository of packages the build made itself
_TRUSTED_SOURCE = lazy_compile(r"\[[^\]]*trusted=yes[^\]]*\]\s*(\S*)")


def _run_problems(run: Instruction) -> list[str]:
    problems = []
    index_known = not any(name in run.vars for name in _PIP_INDEX_ENV)
    for command in run.commands:
        problem = _command_problem(command, index_known=index_known)
        if problem and problem not in problems:
            problems.append(problem)
    script = run.script
    if "trusted=yes" in script and any(
        not source.startswith(("file:", "copy:")) for source in _TRUSTED_SOURCE.findall(script)
    ):
        problems.append("an apt source marked [trusted=yes] skips signature checks")
    if _REPO_INSECURE.search(script) and not any("--setopt" in p for p in problems):
        problems.append("a package repository is configured with sslverify/gpgcheck off")
    return problems


def _downgrade_hit(dockerfile: Dockerfile, instruction: Instruction, text: str) -> Hit | None:
    problem = _downgrade_problem(text)
    if problem is None:
        return None
    # weaker, not off: worth fixing, not the near-certain leak the rest of DW804 reports
    return replace(at(dockerfile, instruction, problem), severity=Severity.WARNING)


@dockerfile_rule(
    "DW804",
    lesson="security",
    severity="error",
    title="TLS or signature verification switched off or weakened",
    why="""
        Without certificate or signature checks, anyone on the network path (a proxy, a
        compromised Wi-Fi or CI runner network, a poisoned mirror) can swap the packages and
        scripts the build downloads: the image then ships their code. This covers curl -k,
        wget --no-check-certificate, pip --trusted-host, apt/apk/yum/dnf/rpm switches,
        npm/yarn strict-ssl, git sslVerify, and the environment variables that do the same
        (PYTHONHTTPSVERIFY=0, NODE_TLS_REJECT_UNAUTHORIZED=0, GIT_SSL_NO_VERIFY,
        PIP_TRUSTED_HOST, NPM_CONFIG_STRICT_SSL=false), in every stage. Packages the build
        made itself (an apt `[trusted=yes] file:` repository, `apk add --allow-untrusted`
        of local .apk files) have no signature to check and pass. `pip --trusted-host
        pypi.python.org` (the old Docker tutorial's flag) names a host pip no longer
        downloads from unless an index option points at it: a dead flag, reported as info.
        Lowering OpenSSL's
        security level (`SECLEVEL=1` or `0` in openssl.cnf or a cipher string) or the
        minimum protocol (`MinProtocol = TLSv1`, `--tls-min-v1.0`) keeps verification on but
        accepts weak keys, SHA-1 signatures and broken protocol versions: it is reported as
        a warning.
    """,
    fix="""
        Keep verification on and make the right certificate trusted instead: COPY the
        corporate CA into /usr/local/share/ca-certificates and run update-ca-certificates,
        or point the tool at it (PIP_CERT, NODE_EXTRA_CA_CERTS, GIT_SSL_CAINFO). For a
        legacy server that needs a weak level, lower it for that one connection in the
        client's code, never for the whole image.
    """,
    bad="""
        FROM debian:bookworm-slim
        RUN curl -fsSLk https://example.com/install.sh -o /tmp/install.sh
    """,
    good="""
        FROM debian:bookworm-slim
        RUN curl -fsSL https://example.com/install.sh -o /tmp/install.sh
    """,
    also=[
        "checkov:CKV2_DOCKER_2",
        "checkov:CKV2_DOCKER_3",
        "checkov:CKV2_DOCKER_4",
        "checkov:CKV2_DOCKER_5",
        "checkov:CKV2_DOCKER_6",
        "checkov:CKV2_DOCKER_7",
        "checkov:CKV2_DOCKER_8",
        "checkov:CKV2_DOCKER_9",
        "checkov:CKV2_DOCKER_10",
        "checkov:CKV2_DOCKER_11",
        "checkov:CKV2_DOCKER_12",
        "checkov:CKV2_DOCKER_13",
        "checkov:CKV2_DOCKER_14",
        "checkov:CKV2_DOCKER_15",
        "checkov:CKV2_DOCKER_16",
    ],
)
def verification_off(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.iter_instructions():
        if instruction.cmd in ("ARG", "ENV"):
            for name, value in key_values(instruction):
                problem = _env_problem(name, value)
                if problem and (value is not None or instruction.cmd == "ENV"):
                    yield at(dockerfile, instruction, problem)
                elif value and (downgrade := _downgrade_hit(dockerfile, instruction, value)):
                    yield downgrade
        elif instruction.cmd == "RUN":
            problems = _run_problems(instruction)
            if problems:
                yield at(dockerfile, instruction, "; ".join(problems))
            elif dead := " ".join(_dead_trusted_hosts(instruction)):
                hit = at(
                    dockerfile,
                    instruction,
                    f"pip --trusted-host {dead} names a host this command does not download "
                    "from (pip uses pypi.org and files.pythonhosted.org): a dead flag, harmless "
                    "unless a requirements file points an index at it",
                )
                yield replace(hit, severity=Severity.INFO)
            downgrade = _downgrade_hit(dockerfile, instruction, instruction.script)
            if downgrade is not None:
                yield downgrade


# ---------------------------------------------------------------------------------------------
# DW805-DW807, DW812: FROM references
# ---------------------------------------------------------------------------------------------


@dockerfile_rule(
    "DW805",
    lesson="security",
    severity="warning",
    title="FROM image without a tag",
    why="""
        An untagged FROM means :latest: the base changes under you between two builds of the
        same commit, and a rollback rebuilds a different image. Stage names and scratch are
        exempt; ARGs are resolved (`FROM ${BASE}` with a tagged default passes). Differs
        from hadolint DL3006 on purpose: `FROM ${BASE}` whose ARG has no default is not
        called untagged, since the build may pass a pinned value; it is reported as info
        instead, because the base is unknown to every check, not known to be safe.
        Distroless images (`gcr.io/distroless/static-debian12`) carry the release in their
        name and have no version tags: untagged, they are reported as info, as is any
        untagged base of a test, CI or devcontainer image. An image this project builds
        itself (compose `image:` with `build:`, a build script) is not judged here: its own
        Dockerfile is. An image that a Dockerfile beside this one likely builds
        (`FROM acme/assets-db-builder` next to `Dockerfile.builder`) is reported as info.
    """,
    fix="Name the version: `FROM python:3.11-slim` (or pin a digest).",
    bad="""
        FROM python
        CMD ["python", "--version"]
    """,
    good="""
        ARG BASE=python:3.11-slim
        FROM ${BASE}
        CMD ["python", "--version"]
    """,
    also=["hadolint:DL3006", "checkov:CKV_DOCKER_7"],
)
def untagged_base(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _graded_bases(dockerfile, project, _untagged_hits(dockerfile, project))


def _untagged_hits(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        known = stage.from_instruction.vars
        resolved = stage.base_resolved.strip()
        emptied = stage.base_known and (resolved.endswith(":") or not resolved)
        if (stage.base_known and not emptied) or stage.parent is not None:
            continue
        unset = [name for name in references(stage.base) if not known.get(name)]
        names = ", ".join(unset) or "a variable"
        message = (
            f"FROM {stage.base}: {names} has no value by default, so the base image is "
            "unknown here: its tag, size and user cannot be checked unless the build passes one"
        )
        hit = at(dockerfile, stage.from_instruction, message, fix="give the ARG a pinned default")
        yield replace(hit, severity=Severity.INFO)
    for stage, image in _judged_bases(dockerfile):
        if stage.base_resolved.endswith(":") or project.built_from(stage) is not None:
            continue  # an empty ARG (reported above), or this project's own image
        if image.tag is None and image.digest is None:
            sibling = _sibling_build(dockerfile, project, image)
            if sibling is not None:
                message = (
                    f"FROM {stage.base_resolved} has no tag; {sibling} beside this Dockerfile "
                    "likely builds it (this project's own image, followed on purpose): "
                    "pin a tag if it is published"
                )
                yield replace(
                    at(dockerfile, stage.from_instruction, message), severity=Severity.INFO
                )
                continue
            hit = at(
                dockerfile,
                stage.from_instruction,
                f"FROM {stage.base_resolved} has no tag: it means whatever :latest is today",
            )
            # distroless names its release in the repository and has no version tags:
            # only a digest pins it, which is advice
            unversioned = image.registry == "gcr.io" and image.repository.startswith("distroless/")
            yield replace(hit, severity=Severity.INFO) if unversioned else hit


def _sibling_build(dockerfile: Dockerfile, project: Project, image: ImageRef) -> str | None:
    """A Dockerfile in the same folder named after the last part of the image's name
    (`Dockerfile.builder` or `builder.Dockerfile` for `dockersamples/assets-db-builder`):
    the project builds the image itself. Only images with an owner, never official ones."""
    if image.official_name is not None or "/" not in image.repository:
        return None
    name = image.repository.rsplit("/", 1)[-1].lower()
    folder = posixpath.dirname(dockerfile.relpath)
    for other in project.dockerfiles:
        if other.relpath == dockerfile.relpath or posixpath.dirname(other.relpath) != folder:
            continue
        base = posixpath.basename(other.relpath).lower()
        for prefix in ("dockerfile.", "containerfile."):
            if base.startswith(prefix):
                suffix = base.removeprefix(prefix)
                break
        else:
            suffix = (
                base.rsplit(".", 1)[0] if base.endswith((".dockerfile", ".containerfile")) else ""
            )
        if suffix and (name == suffix or name.endswith(("-" + suffix, "_" + suffix))):
            return other.relpath
    return None


def _graded_bases(dockerfile: Dockerfile, project: Project, hits: Iterator[Hit]) -> Iterator[Hit]:
    """Base-image findings on a test, CI or devcontainer image are advice (info)."""
    found = list(hits)
    if not found:
        return
    reason = not_a_service(dockerfile, project)
    tooling = reason is not None and reason.kind == "tooling"
    for hit in found:
        yield replace(hit, severity=Severity.INFO) if tooling else hit


@dockerfile_rule(
    "DW806",
    lesson="security",
    severity="warning",
    title="FROM image:latest or another floating tag",
    why="""
        :latest moves: two builds of the same commit get different bases, and a breaking
        major version arrives unannounced. The same holds for official images tagged
        without any version (`python:slim`, `node:lts-alpine`, `nginx:stable`,
        `debian:stable`, `alpine:edge`): each names whatever release is current. Debian and
        Ubuntu codenames (`debian:bookworm`) name a release and pass. A digest next to the
        tag (`image:latest@sha256:...`) pins it and passes. Unlike hadolint DL3007, which
        only knows :latest. `:latest` of an image this project builds itself is deliberate
        coupling and passes; on a test, CI or devcontainer image this is advice (info), and
        so is a floating default of an ARG that names the whole base image (`ARG
        NGINX_FROM_IMAGE=nginx:mainline`, `FROM ${NGINX_FROM_IMAGE}`): a recipe's override
        point, meant to be set with `--build-arg`.
    """,
    fix="Name the version: `FROM node:20.12-slim`.",
    bad="""
        FROM node:latest
        CMD ["node", "server.js"]
    """,
    good="""
        FROM node:20.12-slim
        CMD ["node", "server.js"]
    """,
    also=["hadolint:DL3007", "trivy:DS-0001", "checkov:CKV_DOCKER_7", "dockle:DKL-DI-0006"],
)
def latest_base(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _graded_bases(dockerfile, project, _latest_hits(dockerfile, project))


_WHOLE_IMAGE_ARG = lazy_compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def _image_arg(dockerfile: Dockerfile, stage: Stage) -> str | None:
    """The global ARG that names the whole base image (`ARG NGINX_FROM_IMAGE=nginx:mainline`,
    `FROM ${NGINX_FROM_IMAGE}`): the Dockerfile's override point for the base."""
    found = _WHOLE_IMAGE_ARG.match(stage.base.strip())
    if found is None or not dockerfile.global_args.get(found.group(1)):
        return None
    return found.group(1)


def _latest_hits(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage, image in _judged_bases(dockerfile):
        if image.digest is not None or image.tag is None:
            continue
        if project.built_from(stage) is not None:
            continue  # this project's own image, built from its own Dockerfile
        if image.tag == "latest":
            hit = at(
                dockerfile,
                stage.from_instruction,
                f"FROM {stage.base_resolved}: :latest changes between builds",
            )
        elif _floating_tag(image):
            hit = at(
                dockerfile,
                stage.from_instruction,
                f"FROM {stage.base_resolved}: the tag names no version, so it moves to each "
                f"new {image.name} release like :latest",
                fix=f"name the version: {image.name}:<version>-{image.tag}",
            )
        else:
            continue
        arg = _image_arg(dockerfile, stage)
        if arg is not None:  # a recipe's default, made to be replaced with --build-arg
            message = (
                f"{hit.message} (the default of ARG {arg}, which names the whole base image "
                f"and is meant to be set with --build-arg {arg}=...)"
            )
            hit = replace(hit, message=message, severity=Severity.INFO)
        yield hit


# operating-system images whose tags are release names; these few of their tags move
_OS_IMAGES = frozenset(
    {"debian", "ubuntu", "alpine", "fedora", "busybox", "archlinux", "opensuse/leap"}
    | {"amazonlinux", "oraclelinux", "rockylinux", "almalinux", "centos", "photon"}
)
_OS_MOVING_TAGS = frozenset(
    {"stable", "testing", "unstable", "sid", "rolling", "devel", "edge", "rawhide"}
    | {"stable-slim", "testing-slim", "unstable-slim", "sid-slim"}
)


# official images whose tags carry the software's version (`python:3.12-slim`); a tag of
# theirs without a digit (`python:slim`, `node:lts-alpine`) follows every new release
_VERSIONED_IMAGES = frozenset(
    {"python", "node", "nginx", "golang", "ruby", "php", "perl", "rust", "openjdk", "maven"}
    | {"gradle", "eclipse-temurin", "amazoncorretto", "tomcat", "httpd", "postgres", "mysql"}
    | {"mariadb", "redis", "mongo", "memcached", "rabbitmq", "haproxy", "traefik", "caddy"}
    | {"elixir", "erlang", "julia", "haskell", "swift", "dart", "bash", "docker", "pypy"}
    | {"wordpress", "ghost", "drupal", "composer", "groovy", "clojure", "kong", "valkey"}
)


def _floating_tag(image: ImageRef) -> bool:
    """An official image's tag without any version number (`python:slim`, `node:lts`)."""
    name, tag = image.official_name, (image.tag or "").lower()
    if name is None or any(c.isdigit() for c in tag):
        return False
    if name in _OS_IMAGES:
        return tag in _OS_MOVING_TAGS
    return name in _VERSIONED_IMAGES


def _trusted(registry: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        lowered = pattern.lower().strip()
        if lowered in _DOCKER_HUB:
            lowered = "docker.io"
        if fnmatch.fnmatchcase(registry, lowered):
            return True
    return False


@dockerfile_rule(
    "DW807",
    lesson="security",
    severity="error",
    title="FROM a registry outside the trusted registries",
    why="""
        When the team restricts base images to vetted registries (`trusted-registries` in
        the configuration), a FROM elsewhere pulls unreviewed code into the image. Images
        without a registry come from docker.io. Stage names and scratch pass; without the
        setting the rule does nothing.
    """,
    fix="Use a mirror of the image in a trusted registry, or add the registry to the list.",
    bad="""
        FROM quay.io/example/app-base:1.4
        CMD ["app"]
    """,
    good="""
        FROM python:3.11-slim
        CMD ["python", "-m", "app"]
    """,
    also=["hadolint:DL3026"],
    example_config={"trusted-registries": ["docker.io"]},
)
def untrusted_registry(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    patterns = project.config.trusted_registries
    if not patterns:
        return
    for stage, _image in _judged_bases(dockerfile):
        registry = _pulled_from(stage.base_resolved.strip())
        if not _trusted(registry, patterns):
            yield at(
                dockerfile,
                stage.from_instruction,
                f"FROM {stage.base_resolved}: registry {registry} is not in trusted-registries",
            )


@dockerfile_rule(
    "DW812",
    lesson="security",
    severity="info",
    title="FROM without a digest pin",
    why="""
        A tag can be re-pushed: the same `python:3.11-slim` is a different image next week,
        and a compromised registry account can replace it. Only a digest pins the exact
        base. Opt-in (supply-chain policy); keep digests fresh with Renovate or Dependabot.
    """,
    fix="`FROM python:3.11-slim@sha256:<digest>`.",
    bad="""
        FROM python:3.11-slim
        CMD ["python", "--version"]
    """,
    good="""
        FROM python:3.11-slim@sha256:0b23cfb7425d065008b778022a17b1551c82f8b4866ee5a7a200084b7e2eafbf
        CMD ["python", "--version"]
    """,
    default_enabled=False,
)
def undigested_base(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage, image in _judged_bases(dockerfile):
        if image.digest is None:
            yield at(
                dockerfile,
                stage.from_instruction,
                f"FROM {stage.base_resolved} is not pinned by digest",
            )


# ---------------------------------------------------------------------------------------------
# DW808-DW810: EXPOSE 22, USER by name, passwords
# ---------------------------------------------------------------------------------------------


def _port_range(text: str) -> tuple[int, int] | None:
    port = text.partition("/")[0]
    low, sep, high = port.partition("-")
    if not is_digits(low) or (sep and not is_digits(high)):
        return None
    return int(low), int(high) if sep else int(low)


@dockerfile_rule(
    "DW808",
    lesson="security",
    severity="warning",
    title="EXPOSE 22 (SSH)",
    why="""
        An SSH server in a container is a second, usually weakly guarded way in, with keys
        or passwords baked into the image. Containers are debugged with `docker exec` or
        `kubectl exec`/`debug`, not SSH.
    """,
    fix="Remove the SSH server and EXPOSE 22; use `kubectl exec` / `docker exec`.",
    bad="""
        FROM debian:bookworm-slim
        EXPOSE 22 8080
    """,
    good="""
        FROM debian:bookworm-slim
        EXPOSE 8080
    """,
    also=["trivy:DS-0004", "checkov:CKV_DOCKER_1"],
)
def exposes_ssh(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in shipped_instructions(dockerfile):
        if instruction.cmd != "EXPOSE":
            continue
        for word in instruction.value:
            ports = _port_range(expand_word(instruction, word))
            if ports and ports[0] <= 22 <= ports[1]:
                yield at(dockerfile, instruction, "EXPOSE 22 publishes an SSH port")
                break


@dockerfile_rule(
    "DW809",
    lesson="security",
    severity="info",
    title="USER given by name, not numeric UID",
    why="""
        Kubernetes `runAsNonRoot` can only verify a numeric user: with `USER app` the pod is
        refused ("image has non-numeric user") unless runAsUser is set too. A numeric UID
        also means the same thing in every image. ARGs holding numbers pass.
    """,
    fix="`USER 10001` (or `USER 10001:10001`), with the user created by that UID.",
    bad="""
        FROM python:3.11-slim
        RUN useradd --uid 10001 app
        USER app
    """,
    good="""
        FROM python:3.11-slim
        RUN useradd --uid 10001 app
        USER 10001
    """,
    also=["hadolint:DL3066"],
)
def user_by_name(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction, user = effective_user(dockerfile)
    if instruction is None or not user or is_root(user):
        return
    name = user.partition(":")[0]
    if not name.isdigit():
        yield at(dockerfile, instruction, f"USER {name} is a name: runAsNonRoot needs a UID")


def _password_problem(command: ShellCommand) -> str | None:
    name = command.name
    if name == "chpasswd":
        return "chpasswd sets a password"
    if name == "passwd":
        if command.has_flag("-l", "--lock", "-S", "--status", "-e", "--expire"):
            return None
        if command.has_flag("-d", "--delete"):
            return "passwd -d leaves an account with an empty password"
        return "passwd sets a password"
    if name in ("useradd", "usermod", "adduser") and command.has_flag("-p", "--password"):
        return f"{name} -p sets a password"
    return None


@dockerfile_rule(
    "DW810",
    lesson="security",
    severity="warning",
    title="Password set in the image",
    why="""
        A password set at build time is the same in every container from the image, lives
        in the image history and layers, and gives a way to become that user (su, login,
        SSH). Container users need no password.
    """,
    fix="Create users without a password (`useradd --uid 10001 app`); inject credentials at run time.",
    bad="""
        FROM debian:bookworm-slim
        RUN useradd --uid 10001 app && echo "app:changeme" | chpasswd
        USER 10001
    """,
    good="""
        FROM debian:bookworm-slim
        RUN useradd --uid 10001 app
        USER 10001
    """,
    also=["checkov:CKV2_DOCKER_17"],
)
def password_set(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in shipped_runs(dockerfile):
        for command in run.commands:
            problem = _password_problem(command)
            if problem:
                yield at(dockerfile, run, problem)
                break


# ---------------------------------------------------------------------------------------------
# DW813, DW814: system directories
# ---------------------------------------------------------------------------------------------


def _under(path: str, roots: tuple[str, ...]) -> str | None:
    normalized = posixpath.normpath(path) if path else path
    for root in roots:
        if normalized == root or normalized.startswith(root + "/"):
            return root
    return None


@dockerfile_rule(
    "DW813",
    lesson="security",
    severity="error",
    title="VOLUME on /dev, /proc or /sys",
    why="""
        A volume over /dev, /proc or /sys hides the kernel interfaces the runtime mounts
        there and can expose host devices or kernel state to the container.
    """,
    fix="Remove the VOLUME; mount application data under its own folder (/app/data).",
    bad="""
        FROM debian:bookworm-slim
        VOLUME /sys
    """,
    good="""
        FROM debian:bookworm-slim
        VOLUME /srv/data
    """,
    also=["dockle:DKL-DI-0002"],
)
def system_volume(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in shipped_instructions(dockerfile):
        if instruction.cmd != "VOLUME":
            continue
        for word in instruction.value:
            for path in expand_word(instruction, word).split():
                root = _under(path, ("/dev", "/proc", "/sys"))
                if root:
                    yield at(dockerfile, instruction, f"VOLUME {path} covers {root}")


@dockerfile_rule(
    "DW814",
    lesson="security",
    severity="error",
    title="WORKDIR in a system directory",
    why="""
        /proc, /dev and /boot are kernel or host territory; a WORKDIR there writes the
        application into a filesystem the runtime replaces or that should not be touched.
    """,
    fix="Use an application folder: `WORKDIR /app`.",
    bad="""
        FROM debian:bookworm-slim
        WORKDIR /proc/app
    """,
    good="""
        FROM debian:bookworm-slim
        WORKDIR /app
    """,
    also=["trivy:DS-0030"],
)
def system_workdir(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    roots = ("/proc", "/boot", "/dev", "/initrd", "/lost+found")
    for instruction in dockerfile.instructions:
        if instruction.cmd != "WORKDIR" or not instruction.value:
            continue
        path = expand_word(instruction, instruction.value[0])
        root = _under(path, roots)
        if root:
            yield at(dockerfile, instruction, f"WORKDIR {path} is inside {root}")
