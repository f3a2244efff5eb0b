"""Package-manager command lines (apt, apk, yum, dnf, zypper): verb, operands, names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dockwise.lazyre import lazy_compile
from dockwise.sources.dockerfile import Instruction
from dockwise.sources.shell import ShellCommand


def operands(args: Sequence[str], value_options: frozenset[str] = frozenset()) -> list[str]:
    """Non-option words of a command line, skipping the values of options that take one."""
    found: list[str] = []
    skip_next = False
    for index, arg in enumerate(args):
        if skip_next:
            skip_next = False
            continue
        if arg == "--":
            found.extend(args[index + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1:
            skip_next = "=" not in arg and arg in value_options
            continue
        found.append(arg)
    return found


_MANAGERS = {
    "apt-get": "apt",
    "apt": "apt",
    "aptitude": "apt",
    "apk": "apk",
    "yum": "yum",
    "dnf": "dnf",
    "dnf5": "dnf",
    "microdnf": "dnf",
    "tdnf": "dnf",
    "zypper": "zypper",
}
_VALUE_OPTIONS = {
    "apt": frozenset({"-o", "-c", "-t", "--option", "--config-file", "--target-release"}),
    "apk": frozenset(
        {"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--cache-dir"}
    ),
    "yum": frozenset(
        {"-c", "-x", "--exclude", "--enablerepo", "--disablerepo", "--installroot", "--repo"}
    ),
    "dnf": frozenset(
        {"-c", "-x", "--exclude", "--enablerepo", "--disablerepo", "--installroot", "--repo"}
    ),
    "zypper": frozenset({"-r", "--repo", "--from", "-R", "--root"}),
}
_INSTALL_VERBS = {
    "apt": frozenset({"install"}),
    "apk": frozenset({"add"}),
    "yum": frozenset({"install", "groupinstall", "localinstall"}),
    "dnf": frozenset({"install", "groupinstall", "localinstall"}),
    "zypper": frozenset({"install", "in"}),
}
REMOVE_VERBS = frozenset({"purge", "remove", "autoremove", "del", "erase", "rm"})


@dataclass(frozen=True)
class PackageCommand:
    manager: str  # apt, apk, yum, dnf, zypper
    verb: str  # install, add, update, ...
    operands: tuple[str, ...]  # after the verb
    command: ShellCommand

    @property
    def installs(self) -> bool:
        return self.verb in _INSTALL_VERBS[self.manager]


def package_command(command: ShellCommand) -> PackageCommand | None:
    """`apt-get -y install curl` -> (apt, install, (curl,)); None for other commands."""
    manager = _MANAGERS.get(command.name)
    if manager is None:
        return None
    words = operands(command.args, _VALUE_OPTIONS[manager])
    if not words:
        return None
    verb = words[0].lower()
    rest = words[1:]
    if verb == "group" and rest:  # `dnf group install "Development Tools"`
        verb, rest = "group" + rest[0].lower(), rest[1:]
    return PackageCommand(manager, verb, tuple(rest), command)


def package_commands(run: Instruction) -> list[PackageCommand]:
    """The package-manager commands of a RUN."""
    found = []
    for command in run.commands:
        package = package_command(command)
        if package is not None:
            found.append(package)
    return found


_PIN = lazy_compile(r"[=<>~:/].*$")


def package_name(word: str) -> str:
    """`gcc=4:12.2.0-3`, `gcc/bookworm`, `gcc:amd64`, `gcc~12` -> `gcc`."""
    return _PIN.sub("", word).lower()
