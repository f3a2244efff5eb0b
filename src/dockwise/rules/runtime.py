"""Runtime: PID 1 and signals, exec-form commands, graceful shutdown (DW6xx).

What the image starts (the effective ENTRYPOINT/CMD, `sh -c` scripts, the entrypoint
script) is read by `rules._commands`, shared with the other lessons.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from msgspec.structs import replace

from dockwise.baseimages import base_shell, base_tools
from dockwise.digits import is_digits
from dockwise.findings import Hit, Severity
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._commands import (
    INITS,
    compose_services_building,
    effective,
    entrypoint_and_cmd,
    entrypoint_script,
    is_shell_script,
    process_commands,
    shell_c_script,
    unwrap,
)
from dockwise.rules._common import at, dockerfile_rule
from dockwise.sources.dockerfile import DEFAULT_SHELL, Dockerfile, Instruction, Stage
from dockwise.sources.shell import parse_script

# --- the entrypoint script: does it exec the service? ---------------------------------------

_EXEC_COMMAND = lazy_compile(r"(?:^|[;&|({]|\bthen|\belse|\bdo)\s*exec\s+(?![0-9]*[<>])\S", re.M)
_SIGNAL_TRAP = lazy_compile(r"^\s*trap\s+.*\b(?:SIG)?(?:TERM|INT|QUIT|15)\b", re.M)
_RUNS_ARGS = lazy_compile(r'^\s*(?:"\$@"|\$@|"\$\{@\}")', re.M)
_BACKGROUND = lazy_compile(r"(?<![&>|])&(?![&>])\s*(?:$|[;#\n]|[\w./\"'$])", re.M)
_COMMENT = lazy_compile(r"^\s*#.*$", re.M)


def missing_exec(script: str) -> str | None:
    """Why a shell entrypoint leaves the shell as PID 1, or None when it execs the service."""
    body = _COMMENT.sub("", script)
    if _EXEC_COMMAND.search(body) or _SIGNAL_TRAP.search(body):
        return None
    if _RUNS_ARGS.search(body):
        return 'runs "$@" without exec'
    return "never execs the service"


def starts_background_jobs(script: str) -> bool:
    body = _COMMENT.sub("", script)
    return any(_BACKGROUND.search(line) for line in body.splitlines() if "&" in line)


# --- does the shell stay PID 1? ------------------------------------------------------------

_WINDOWS_SHELLS = frozenset({"cmd", "powershell", "pwsh"})


def base_label(dockerfile: Dockerfile) -> str:
    """The external image the shipped stage is built on, for messages."""
    chain = dockerfile.shipped_chain()
    return base_tools(chain[-1].base_resolved).label if chain else "the base image"


def image_sh(dockerfile: Dockerfile) -> str | None:
    """What /bin/sh is in the shipped image (see `baseimages.base_shell`), None if unknown."""
    chain = dockerfile.shipped_chain()
    if not chain:
        return None
    root = chain[-1]
    if root.parent is not None or not root.base_known:
        return None
    return base_shell(root.base_resolved)


def shell_named(program: str, dockerfile: Dockerfile) -> str | None:
    """The shell a program name stands for: `sh` is whatever /bin/sh the image has."""
    name = program.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    if name == "sh":
        return "cmd" if dockerfile.escape == "`" else image_sh(dockerfile)
    if name in ("bash", "dash", "ash"):
        return name
    if name == "busybox":
        return "ash"
    if name in _WINDOWS_SHELLS:
        return "cmd"
    return None


def form_shell(instruction: Instruction, dockerfile: Dockerfile) -> str | None:
    """The shell that runs a shell-form instruction: its SHELL, else the image's /bin/sh."""
    shell = instruction.shell or DEFAULT_SHELL
    return shell_named(shell[0], dockerfile)


def pid1_verdict(shell: str | None, script: str) -> str:
    """Whether a shell given `script` with `-c` leaves the command as PID 1.

    "execs" (the command replaces the shell), "forks" (the shell stays PID 1), "no shell"
    (the image has none), "windows" (cmd/PowerShell: other rules apply) or "unknown".
    Measured: bash execs a lone simple command without redirections; busybox ash also
    execs the last simple command of a list (after `&` jobs too) unless it ends a pipeline;
    dash always forks. `exec` or a signal trap in
    the script settles it whatever the shell.
    """
    if _EXEC_IN_SCRIPT.search(script) or _SIGNAL_TRAP.search(script):
        return "execs"
    if shell == "cmd":
        return "windows"
    if shell == "none":
        return "no shell"
    if shell is None:
        return "unknown"
    if shell == "dash":
        return "forks"
    parsed = parse_script(script)
    if not parsed.commands:
        return "execs"
    if shell == "bash":
        lone = parsed.is_simple_command() and not parsed.commands[0].redirects
        return "execs" if lone else "forks"
    if shell == "ash":
        last = parsed.commands[-1]
        return "execs" if parsed.parsed_by == "fast" and not last.piped else "forks"
    return "unknown"


def _pid1_hit(
    dockerfile: Dockerfile, instruction: Instruction, shell: str | None, script: str, what: str
) -> Hit | None:
    verdict = pid1_verdict(shell, script)
    if verdict in ("execs", "windows"):
        return None
    base = base_label(dockerfile)
    if verdict == "no shell":
        return at(
            dockerfile,
            instruction,
            f"{what} needs /bin/sh, which {base} does not have: the container cannot start",
        )
    if verdict == "unknown":
        hit = at(
            dockerfile,
            instruction,
            f"{what}: could not verify which shell runs it in {base}; dash (Debian, Ubuntu) "
            "stays PID 1 and SIGTERM never reaches the service",
        )
        return replace(hit, severity=Severity.INFO)
    if shell == "dash":
        reason = f"/bin/sh in {base} is dash, which stays PID 1"
    else:
        reason = f"{shell} stays PID 1 for a command that is not a lone simple command"
    return at(dockerfile, instruction, f"{what}: {reason} and SIGTERM never reaches the service")


def _graded(hit: Hit, dockerfile: Dockerfile, project: Project) -> Hit:
    """A test, CI or devcontainer image runs once and is thrown away: advice there."""
    from dockwise.rules._common import not_a_service

    reason = not_a_service(dockerfile, project)
    if reason is None or reason.kind != "tooling" or hit.severity == Severity.INFO:
        return hit
    return replace(hit, message=f"{hit.message} ({reason.why})", severity=Severity.INFO)


# --- rules -------------------------------------------------------------------------------


@dockerfile_rule(
    "DW601",
    lesson="runtime",
    severity="warning",
    title="CMD or ENTRYPOINT in shell form",
    why="""
        In shell form the command is given to `/bin/sh -c`. dash, the /bin/sh of Debian,
        Ubuntu and the official images built on them, runs it as a child and stays PID 1
        without forwarding SIGTERM: `docker stop` and Kubernetes wait out the grace period
        and then kill the service, dropping in-flight requests. bash (SHELL, RHEL-family
        images) execs a lone simple command, and busybox ash (alpine) also execs the last
        command of a plain list, so those reach the service and are not reported.

        Unlike hadolint's DL3025, dockwise judges by the shell the image has: a lone command
        on alpine or under bash, or an explicit `exec`, is not reported; when the base image
        is unknown the finding says "could not verify" at info. On a one-shot job (a
        Kubernetes Job, a migration, a script named for a batch task) or an interactive
        tool, and on test, CI and development images, it is advice (info): nothing serves
        requests that a late stop would drop.
    """,
    fix='Use the exec (JSON) form: `CMD ["gunicorn", "app:app"]` (or start with `exec`).',
    bad="""
        FROM python:3.11-slim
        CMD gunicorn --bind 0.0.0.0:8000 app:app
    """,
    good="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """,
    also=["hadolint:DL3025"],
)
def shell_form_command(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    stage = dockerfile.shipped_stage
    if stage is None:
        return
    for instruction in stage.all("CMD", "ENTRYPOINT"):
        if not instruction.json and instruction.value:
            hit = _pid1_hit(
                dockerfile,
                instruction,
                # the built image's own /bin/sh when it was read (check --image)
                _image_shell(project, dockerfile, instruction)
                or form_shell(instruction, dockerfile),
                instruction.script,
                f"{instruction.cmd} in shell form",
            )
            if hit is not None:
                yield _graded(hit, dockerfile, project)


def _image_shell(project: Project, dockerfile: Dockerfile, instruction: Instruction) -> str | None:
    """runtime_image.image_shell, imported only when an image was read (check --image)."""
    if not project.images:
        return None
    from dockwise.rules.runtime_image import image_shell

    return image_shell(project, dockerfile, instruction)


@dockerfile_rule(
    "DW602",
    lesson="runtime",
    severity="warning",
    title="Entrypoint script does not exec the service",
    why="""
        A shell script that starts the server without `exec` stays PID 1 with the server as
        its child. The shell does not forward SIGTERM, so `docker stop` and Kubernetes wait
        out the grace period and SIGKILL the server: in-flight requests are dropped and
        shutdown hooks never run.
    """,
    fix='End the script with `exec "$@"` (or `exec gunicorn ...`) so the server replaces the shell.',
    bad={
        "Dockerfile": """FROM python:3.11-slim
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["gunicorn", "app:app"]
""",
        "docker-entrypoint.sh": """#!/bin/sh
set -e
python manage.py migrate
"$@"
""",
    },
    good={
        "Dockerfile": """FROM python:3.11-slim
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["gunicorn", "app:app"]
""",
        "docker-entrypoint.sh": """#!/bin/sh
set -e
python manage.py migrate
exec "$@"
""",
    },
)
def entrypoint_without_exec(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    script = entrypoint_script(dockerfile, project)
    if script is None or script.text is None or not is_shell_script(script.text):
        return
    problem = missing_exec(script.text)
    if problem is None:
        return
    entrypoint = effective(dockerfile, "ENTRYPOINT")
    yield at(
        dockerfile,
        entrypoint,
        f"entrypoint script {script.path} {problem}: the shell stays PID 1 and SIGTERM never "
        "reaches the service",
    )


_FORKING_SERVERS = {"gunicorn": "gunicorn", "celery": "celery"}


def _init_configured(dockerfile: Dockerfile, project: Project) -> bool:
    entrypoint = effective(dockerfile, "ENTRYPOINT")
    if entrypoint is not None and entrypoint.value:
        first = entrypoint.value[0] if entrypoint.json else entrypoint.script.split(maxsplit=1)[0]
        if first.rsplit("/", 1)[-1] in INITS:
            return True
    return any(
        service.get("init") is True for service in compose_services_building(project, dockerfile)
    )


def _child_spawner(dockerfile: Dockerfile, project: Project) -> tuple[Instruction, str] | None:
    for instruction, command in process_commands(dockerfile):
        if command.name in _FORKING_SERVERS:
            return instruction, f"{command.name} forks worker processes"
        if command.name in ("python", "python3") and command.args[:2] in (
            ("-m", "gunicorn"),
            ("-m", "celery"),
        ):
            return instruction, f"{command.args[1]} forks worker processes"
    for instruction in entrypoint_and_cmd(dockerfile):
        script = (
            shell_c_script(unwrap(tuple(instruction.value)))
            if instruction.json
            else instruction.script
        )
        if script and starts_background_jobs(script):
            return instruction, "the command starts background jobs with &"
    script_file = entrypoint_script(dockerfile, project)
    if script_file is not None and script_file.text and starts_background_jobs(script_file.text):
        return effective(dockerfile, "ENTRYPOINT") or script_file.source, (
            f"{script_file.path} starts background jobs with &"
        )
    return None


@dockerfile_rule(
    "DW603",
    lesson="runtime",
    severity="info",
    title="No init process for a service that spawns children",
    why="""
        PID 1 must reap orphaned children. A server that forks workers or runs subprocesses
        (celery's prefork pool, subprocesses of gunicorn workers, background jobs of a
        shell script) leaves zombies when PID 1 does not reap them, and PID 1 gets no default
        signal handlers. gunicorn reaps its own workers; zombies come from what they spawn.
        supervisord reaps every child, so it is not reported.
    """,
    fix="""
        Run an init as PID 1: `ENTRYPOINT ["tini", "--"]` (apt-get install tini) or
        `dumb-init`, or `docker run --init` / compose `init: true`.
    """,
    bad="""
        FROM python:3.11-slim
        CMD ["celery", "-A", "proj", "worker"]
    """,
    good="""
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends tini=0.19.0-1 \\
            && rm -rf /var/lib/apt/lists/*
        ENTRYPOINT ["tini", "--"]
        CMD ["celery", "-A", "proj", "worker"]
    """,
)
def missing_init(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    found = _child_spawner(dockerfile, project)
    if found is None or _init_configured(dockerfile, project):
        return
    instruction, reason = found
    yield at(
        dockerfile,
        instruction,
        f"{reason} but no init (tini, dumb-init, --init) reaps zombies as PID 1",
    )


def _repeated(dockerfile: Dockerfile, cmd: str) -> Iterator[tuple[Instruction, Instruction, Stage]]:
    for stage in dockerfile.stages:
        previous: Instruction | None = None
        for instruction in stage.all(cmd):
            if previous is not None:
                yield previous, instruction, stage
            previous = instruction


@dockerfile_rule(
    "DW604",
    lesson="runtime",
    severity="warning",
    title="More than one CMD in a stage",
    why="""
        Only the last CMD of a stage takes effect; the earlier ones are dead code that
        misleads readers about what the container runs.
    """,
    fix="Keep one CMD per stage; run several processes through a script or separate containers.",
    bad="""
        FROM python:3.11-slim
        CMD ["python", "manage.py", "migrate"]
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        CMD ["gunicorn", "app:app"]
    """,
    also=["hadolint:DL4003", "trivy:DS-0016"],
)
def multiple_cmd(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for previous, instruction, stage in _repeated(dockerfile, "CMD"):
        yield at(
            dockerfile,
            instruction,
            f"second CMD in stage {stage.label}: the CMD at line {previous.start_line} never runs",
        )


@dockerfile_rule(
    "DW605",
    lesson="runtime",
    severity="error",
    title="More than one ENTRYPOINT in a stage",
    why="""
        Only the last ENTRYPOINT of a stage takes effect: the wrapper or init the first one
        sets up silently disappears from the production container.
    """,
    fix='Keep one ENTRYPOINT per stage (chain wrappers inside it: `["tini", "--", "entrypoint.sh"]`).',
    bad="""
        FROM python:3.11-slim
        ENTRYPOINT ["tini", "--"]
        ENTRYPOINT ["/docker-entrypoint.sh"]
    """,
    good="""
        FROM python:3.11-slim
        ENTRYPOINT ["tini", "--", "/docker-entrypoint.sh"]
    """,
    also=["hadolint:DL4004", "trivy:DS-0007"],
)
def multiple_entrypoint(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for previous, instruction, stage in _repeated(dockerfile, "ENTRYPOINT"):
        yield at(
            dockerfile,
            instruction,
            f"second ENTRYPOINT in stage {stage.label}: the ENTRYPOINT at line "
            f"{previous.start_line} is ignored",
        )


_SIGNALS = frozenset(
    [
        "HUP",
        "INT",
        "QUIT",
        "ILL",
        "TRAP",
        "ABRT",
        "IOT",
        "BUS",
        "FPE",
        "KILL",
        "USR1",
        "SEGV",
        "USR2",
        "PIPE",
        "ALRM",
        "TERM",
        "STKFLT",
        "CHLD",
        "CONT",
        "STOP",
        "TSTP",
        "TTIN",
        "TTOU",
        "URG",
        "XCPU",
        "XFSZ",
        "VTALRM",
        "PROF",
        "WINCH",
        "IO",
        "POLL",
        "PWR",
        "SYS",
    ]
)
_NUMBERED = {"1": "HUP", "2": "INT", "3": "QUIT", "9": "KILL", "15": "TERM", "19": "STOP"}
# servers for which a catchable signal other than SIGTERM means "stop now, drop requests"
_QUICK_SHUTDOWN = {
    "gunicorn": {"INT": "quick shutdown", "QUIT": "quick shutdown"},
    "celery": {"QUIT": "cold shutdown (tasks are lost)"},
}


def signal_name(value: str) -> str | None:
    """`SIGTERM`, `term`, `15`, `SIGRTMIN+3` -> canonical name without SIG, None if invalid."""
    text = value.strip().upper().removeprefix("SIG")
    if is_digits(text):
        return _NUMBERED.get(text, f"#{text}") if 0 < int(text) <= 64 else None
    if text in _SIGNALS or re.fullmatch(r"RTM(IN|AX)([+-]\d+)?", text):
        return text
    return None


def _stop_signal_problem(dockerfile: Dockerfile, instruction: Instruction) -> str | None:
    if not instruction.value:
        return None
    raw = instruction.expanded(instruction.value[0])
    if "$" in raw:
        return None
    name = signal_name(raw)
    if name is None:
        return f"STOPSIGNAL {raw} is not a signal: the build fails"
    if name in ("KILL", "STOP"):
        return f"STOPSIGNAL SIG{name} cannot be caught: the service gets no graceful shutdown"
    for _, command in process_commands(dockerfile):
        effect = _QUICK_SHUTDOWN.get(command.name, {}).get(name)
        if effect:
            return f"STOPSIGNAL SIG{name} makes {command.name} do a {effect}; it shuts down gracefully on SIGTERM"
    return None


@dockerfile_rule(
    "DW606",
    lesson="runtime",
    severity="warning",
    title="STOPSIGNAL prevents a graceful shutdown",
    why="""
        `docker stop` and Kubernetes send the STOPSIGNAL first and SIGKILL after the grace
        period. SIGKILL or SIGSTOP cannot be caught, so the service never drains; gunicorn
        treats SIGINT/SIGQUIT as a quick shutdown and celery treats SIGQUIT as a cold one,
        so in-flight requests and tasks are lost.
    """,
    fix="Remove the STOPSIGNAL (SIGTERM is the default) or use the server's graceful signal.",
    bad="""
        FROM python:3.11-slim
        STOPSIGNAL SIGKILL
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        STOPSIGNAL SIGTERM
        CMD ["gunicorn", "app:app"]
    """,
)
def stop_signal(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction = effective(dockerfile, "STOPSIGNAL")
    if instruction is None:
        return
    problem = _stop_signal_problem(dockerfile, instruction)
    if problem:
        yield at(dockerfile, instruction, problem)


_EXEC_IN_SCRIPT = lazy_compile(r"(?:^|[;&|({\n]|\bthen|\belse|\bdo)\s*exec\s+(?![0-9]*[<>])\S")


def _wrapped_script(instruction: Instruction, dockerfile: Dockerfile) -> str | None:
    """The script of an exec-form `sh -c`; `ENTRYPOINT ["sh", "-c"]` takes it from CMD."""
    if not instruction.json:
        return None
    argv = unwrap(tuple(instruction.value))
    script = shell_c_script(argv)
    if script == "" and instruction.cmd == "ENTRYPOINT":
        cmd = effective(dockerfile, "CMD")
        if cmd is not None and cmd.json and cmd.value:
            return cmd.value[0]
        return None
    return script


@dockerfile_rule(
    "DW607",
    lesson="runtime",
    severity="warning",
    title="sh -c wrapper without exec",
    why="""
        `CMD ["sh", "-c", "gunicorn ..."]` is exec form only on the surface: when the shell
        forks the command it stays PID 1 with the server as its child, the same signal
        problem as the shell form. SIGTERM stops at the shell and the server is killed after
        the grace period. dash (`sh` on Debian and Ubuntu) always forks; bash execs a lone
        simple command and busybox ash the last command of a plain list, so
        `["bash", "-c", "/run.sh"]` is not reported. Unknown images are reported at info.
    """,
    fix='Start the server with exec inside the script: `CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:$PORT app:app"]`.',
    bad="""
        FROM python:3.11-slim
        CMD ["sh", "-c", "gunicorn --bind 0.0.0.0:$PORT app:app"]
    """,
    good="""
        FROM python:3.11-slim
        CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:$PORT app:app"]
    """,
)
def shell_wrapper_without_exec(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in entrypoint_and_cmd(dockerfile):
        script = _wrapped_script(instruction, dockerfile)
        if not script:
            continue
        program = unwrap(tuple(instruction.value))[0]
        name = program.rsplit("/", 1)[-1]
        hit = _pid1_hit(
            dockerfile,
            instruction,
            shell_named(program, dockerfile),
            script,
            f"{instruction.cmd} runs `{name} -c` without exec",
        )
        if hit is not None:
            yield _graded(hit, dockerfile, project)
