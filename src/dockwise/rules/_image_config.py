"""What an image's config and final filesystem say, for the image rules and for the
Dockerfile rules that can be sure once the built image is known (imagescan/join.py):
its health check and whether it can run, its user, its shell, its command."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from dockwise.digits import small_int

if TYPE_CHECKING:
    from dockwise.imagescan.facts import ImageFacts

# what a POSIX shell runs itself: never a file to look for
SHELL_BUILTINS = frozenset(
    {":", ".", "[", "alias", "bg", "break", "cd", "command", "continue", "echo", "eval",
     "exec", "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "local",
     "printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "test",
     "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait"}
)  # fmt: skip
# commands that run the next word as a program
_WRAPPERS = frozenset({"exec", "timeout", "nice", "nohup", "env", "command"})
_ROOT_NAMES = frozenset({"root", "0"})
_LOCAL_PORT = re.compile(
    r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|\$\(hostname[^)]*\)|\$HOSTNAME)[:](\d{1,5})\b"
)


def config_of(facts: ImageFacts) -> Mapping[str, Any]:
    return facts.image_config


class HealthCheck(Struct, frozen=True):
    kind: str  # "CMD", "CMD-SHELL", "NONE"
    argv: tuple[str, ...]  # CMD: the program and its arguments; CMD-SHELL: (script,)

    @property
    def disabled(self) -> bool:
        return self.kind == "NONE"

    @property
    def text(self) -> str:
        return " ".join(self.argv)


def healthcheck(facts: ImageFacts) -> HealthCheck | None:
    """The image's Healthcheck (None when it has none: an empty Test inherits nothing)."""
    check = config_of(facts).get("Healthcheck")
    if not isinstance(check, Mapping):
        return None
    test = check.get("Test")
    if not isinstance(test, list) or not test or not all(isinstance(w, str) for w in test):
        return None
    kind = test[0].upper()
    if kind not in ("CMD", "CMD-SHELL", "NONE"):
        return None
    return HealthCheck(kind, tuple(test[1:]))


def shell_c(argv: Sequence[str]) -> str | None:
    """The script of `["/bin/sh", "-c", script]` (any shell), else None."""
    shells = ("sh", "bash", "ash", "dash")
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in shells and argv[1] == "-c":
        return argv[2]
    return None


def programs(check: HealthCheck) -> list[str]:
    """The programs a check runs, as they are named (builtins left out)."""
    if check.disabled or not check.argv:
        return []
    if check.kind == "CMD-SHELL":
        return script_programs(check.argv[0])
    script = shell_c(check.argv)
    if script is not None:
        return [check.argv[0], *script_programs(script)]
    return [check.argv[0]]


def script_programs(script: str) -> list[str]:
    from dockwise.sources.shell import parse_script

    found: list[str] = []
    for command in parse_script(script).commands:
        words = list(command.argv)
        while words and words[0].rsplit("/", 1)[-1] in _WRAPPERS:
            wrapper = words.pop(0).rsplit("/", 1)[-1]
            while words and _wrapper_option(wrapper, words[0]):
                words.pop(0)
        if not words:
            continue
        name = words[0]
        if name in SHELL_BUILTINS or "$" in name or "`" in name or not name:
            continue
        found.append(name)
    return found


def _wrapper_option(wrapper: str, word: str) -> bool:
    """An option or operand of a wrapper before the program it runs (`timeout -s 9 5`)."""
    if word.startswith("-"):
        return True
    if wrapper == "timeout":
        return re.fullmatch(r"\d+(?:\.\d+)?[smhd]?|[A-Z]+", word) is not None
    if wrapper == "env":
        return "=" in word
    return False


def missing_program(facts: ImageFacts, name: str) -> bool:
    """The program is certainly not in the final filesystem: not on the image's PATH, not
    at the absolute path given, nor at a relative one from the WorkingDir."""
    if "/" in name and not name.startswith("/"):
        workdir = config_of(facts).get("WorkingDir")
        name = posixpath.join(workdir if isinstance(workdir, str) and workdir else "/", name)
    return facts.which(name) is None


def shell_kind(facts: ImageFacts) -> str:
    """What /bin/sh is in the image: "dash", "bash", "ash" (busybox), "none" or "unknown"."""
    resolved = facts.resolve("/bin/sh")
    if resolved is None or facts.files.get(resolved) is None:
        return "none"
    entry = facts.files[resolved]
    target = resolved
    if entry.kind == "hardlink" and entry.linkname:
        target = entry.linkname
    name = target.rsplit("/", 1)[-1]
    if name in ("dash", "bash"):
        return name
    if name in ("busybox", "ash"):
        return "ash"
    return "unknown"


def probe_port(check: HealthCheck) -> int | None:
    """The local port a check probes (`curl -f http://localhost:8000/health`)."""
    match = _LOCAL_PORT.search(check.text)
    if match is None:
        return None
    port = small_int(match.group(1))
    return port if port is not None and 0 < port < 65536 else None


def exposed_ports(facts: ImageFacts) -> set[int]:
    ports = config_of(facts).get("ExposedPorts")
    found: set[int] = set()
    if isinstance(ports, Mapping):
        for key in ports:
            number = small_int(str(key).partition("/")[0])
            if number is not None:
                found.add(number)
    return found


def user(facts: ImageFacts) -> str:
    value = config_of(facts).get("User")
    return value.strip() if isinstance(value, str) else ""


def account_table(facts: ImageFacts, path: str) -> str | None:
    """The text of etc/passwd or etc/group as the final filesystem shows it; None when the
    analysis did not keep it (no secret scan) or the file is not a plain file there."""
    kept = facts.accounts.get(path)
    entry = facts.files.get(path)
    if kept is None or entry is None or entry.kind != "file" or entry.layer != kept[0]:
        return None
    return kept[1]


def ids(table: str) -> dict[str, int]:
    """name -> id of a passwd or group table (`name:x:id:...`)."""
    found: dict[str, int] = {}
    for line in table.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] and not line.startswith("#"):
            number = small_int(fields[2])
            if number is not None:
                found.setdefault(fields[0], number)
    return found


def uid(facts: ImageFacts) -> int | None:
    """The UID the image starts as: numeric, or a name looked up in its /etc/passwd; root
    without a User; None when a name cannot be looked up (or is not there)."""
    name = user(facts).partition(":")[0]
    if not name:
        return 0
    number = small_int(name)
    if number is not None:
        return number
    table = account_table(facts, "etc/passwd")
    if table is None:
        return 0 if name == "root" else None
    return ids(table).get(name)


def runs_as_root(facts: ImageFacts) -> bool:
    """The image starts as UID 0: no User, root / 0 (with or without a group), or a name
    its /etc/passwd gives UID 0."""
    name = user(facts).partition(":")[0]
    return not name or name in _ROOT_NAMES or uid(facts) == 0


def missing_account(facts: ImageFacts) -> str | None:
    """The user or group named by User that the image's own tables do not hold (the
    container cannot start), when the tables are known."""
    name, _, group = user(facts).partition(":")
    if name and small_int(name) is None:
        table = account_table(facts, "etc/passwd")
        if table is not None and name not in ids(table):
            return f"user {name}"
    if group and small_int(group) is None:
        table = account_table(facts, "etc/group")
        if table is not None and group not in ids(table):
            return f"group {group}"
    return None


def command(facts: ImageFacts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Entrypoint, Cmd) as lists of words."""
    config = config_of(facts)
    return _words(config.get("Entrypoint")), _words(config.get("Cmd"))


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(w, str) for w in value):
        return tuple(value)
    return ()


# a bare interpreter or shell as the only command: a base image, not a service
_BARE = frozenset(
    {"python", "python3", "bash", "sh", "ash", "node", "irb", "ruby", "perl", "php", "java",
     "jshell", "ipython", "busybox"}
)  # fmt: skip


def is_base_image(facts: ImageFacts) -> bool:
    entrypoint, cmd = command(facts)
    words = [*entrypoint, *cmd]
    if not words:
        return True
    return len(words) == 1 and words[0].rsplit("/", 1)[-1].rstrip("0123456789.") in _BARE
