"""Package-manager command lines (apt, apk, yum, dnf, zypper, pip, uv pip): verb, operands.

Command lines are read the way the tools read them: wrappers (`xargs`, `sudo`, `env`) are
looked through, dnf's and zypper's abbreviated verbs (`dnf in`, `zypper up`) are the verbs
they stand for, and pip's unambiguous prefixes of long options (`--no-cache` for
`--no-cache-dir`) are the options they abbreviate.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from msgspec import Struct
from msgspec.structs import replace

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


# wrappers that run the command named after their own options: option -> takes a value
_WRAPPERS: dict[str, frozenset[str]] = {
    "xargs": frozenset(
        {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter"}
        | {"--max-args", "--max-procs", "--max-lines", "--max-chars", "--eof", "--replace"}
    ),
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "--user", "--group"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "--class", "--classdata"}),
    "stdbuf": frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}),
    "timeout": frozenset({"-k", "-s", "--kill-after", "--signal"}),
}


def unwrap(command: ShellCommand) -> ShellCommand:
    """`xargs -r apt-get install -y` -> `apt-get install -y` (also sudo, env, nice...)."""
    for _ in range(3):  # `sudo env X=1 xargs ...`
        value_options = _WRAPPERS.get(command.name)
        if value_options is None:
            return command
        args = command.args
        index, assignments = 0, list(command.assignments)
        while index < len(args):
            arg = args[index]
            if arg == "--":
                index += 1
                break
            if command.name == "env" and "=" in arg and not arg.startswith("-"):
                assignments.append(arg)
            elif arg.startswith("-") and len(arg) > 1:
                if arg in value_options or (arg[:2] in value_options and len(arg) == 2):
                    index += 1
            elif command.name == "timeout":  # the duration, then the command
                index += 1
                break
            else:
                break
            index += 1
        if index >= len(args):
            return command
        command = replace(command, argv=args[index:], assignments=tuple(assignments))
    return command


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
    "zypper": frozenset({"install"}),
}
REMOVE_VERBS = frozenset({"purge", "remove", "autoremove", "del", "erase", "rm"})

# abbreviations and synonyms the managers accept, as the verb they stand for
_VERB_ALIASES = {
    # dnf (and yum 4, which is dnf): `dnf in`, `dnf up`, `dnf rei`, `dnf up-min`...
    "dnf": {
        "in": "install",
        "rei": "reinstall",
        "up": "upgrade",
        "update": "upgrade",
        "upgrade-to": "upgrade",
        "up-min": "upgrade-minimal",
        "update-minimal": "upgrade-minimal",
        "dsync": "distro-sync",
        "distribution-synchronization": "distro-sync",
        "dg": "downgrade",
        "rm": "remove",
        "erase": "remove",
        "mc": "makecache",
        "grp": "group",
        "localinstall": "install",
    },
    "yum": {
        "in": "install",
        "rei": "reinstall",
        "up": "update",
        "upgrade": "update",
        "up-min": "update-minimal",
        "upgrade-minimal": "update-minimal",
        "erase": "remove",
        "rm": "remove",
        "mc": "makecache",
        "grp": "group",
    },
    "zypper": {
        "in": "install",
        "rm": "remove",
        "up": "update",
        "dup": "dist-upgrade",
        "ref": "refresh",
        "si": "source-install",
        "inr": "install-new-recommends",
    },
    "apt": {"dist-clean": "distclean"},
    "apk": {},
}


class PackageCommand(Struct, frozen=True):
    """A system package manager command: manager, verb, operands."""

    manager: str  # apt, apk, yum, dnf, zypper
    verb: str  # install, add, update, ...
    operands: tuple[str, ...]  # after the verb
    command: ShellCommand

    @property
    def installs(self) -> bool:
        return self.verb in _INSTALL_VERBS[self.manager]


def normal_verb(manager: str, verb: str) -> str:
    """The verb an abbreviation stands for: (dnf, in) -> install, (zypper, up) -> update."""
    verb = verb.lower()
    return _VERB_ALIASES.get(manager, {}).get(verb, verb)


def manager_of(name: str) -> str | None:
    """apt, apk, yum, dnf or zypper for a command name (apt-get, microdnf...), else None."""
    return _MANAGERS.get(name)


def package_command(command: ShellCommand) -> PackageCommand | None:
    """`apt-get -y install curl` -> (apt, install, (curl,)); None for other commands.

    Wrappers are looked through (`xargs apt-get install -y`, `sudo apk add`) and
    abbreviated verbs normalised (`dnf in` is install, `zypper up` is update).
    """
    name = command.name
    if name not in _MANAGERS and name not in _WRAPPERS:
        return None  # most commands: decided without hashing the command for the memo
    return _package_command(command)


@lru_cache(maxsize=8192)  # a pure function of an immutable command; rules ask many times
def _package_command(command: ShellCommand) -> PackageCommand | None:
    command = unwrap(command)
    manager = _MANAGERS.get(command.name)
    if manager is None:
        return None
    words = operands(command.args, _VALUE_OPTIONS[manager])
    if not words:
        return None
    verb = normal_verb(manager, words[0])
    rest = words[1:]
    if verb == "group" and rest:  # `dnf group install "Development Tools"`
        verb, rest = "group" + normal_verb(manager, rest[0]), rest[1:]
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


# ---------------------------------------------------------------------------------------------
# pip and uv pip
# ---------------------------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    return text.split()


_PIP_PROGRAM = lazy_compile(r"^pip(\d+(\.\d+)*)?$")
_PYTHON_PROGRAM = lazy_compile(r"^python(\d+(\.\d+)*)?$")

# pip's long options (general and `install`) and whether each takes a value. pip's parser
# (optparse) accepts any unambiguous prefix of them: `--no-cache` is `--no-cache-dir`.
_PIP_LONG = {
    **dict.fromkeys(
        _names(
            "--help --debug --isolated --require-virtualenv --verbose --version --quiet "
            "--no-input --no-cache-dir --disable-pip-version-check --no-color "
            "--no-python-version-warning --no-deps --pre --dry-run --user --upgrade "
            "--force-reinstall --ignore-installed --ignore-requires-python "
            "--no-build-isolation --use-pep517 --no-use-pep517 --check-build-dependencies "
            "--break-system-packages --compile --no-compile --no-warn-script-location "
            "--no-warn-conflicts --prefer-binary --require-hashes --no-clean --no-index "
            "--all --local --outdated --uptodate --editable-mode"
        ),
        False,
    ),
    **dict.fromkeys(
        _names(
            "--python --log --keyring-provider --proxy --retries --timeout --exists-action "
            "--trusted-host --cert --client-cert --cache-dir --use-feature --use-deprecated "
            "--resume-retries --requirement --constraint --editable --target --platform "
            "--python-version --implementation --abi --root --prefix --src "
            "--upgrade-strategy --config-settings --global-option --install-option "
            "--no-binary --only-binary --progress-bar --root-user-action --report --group "
            "--index-url --extra-index-url --find-links --wheel-dir --dest"
        ),
        True,
    ),
}
_PIP_SHORT = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-e": "--editable",
    "-t": "--target",
    "-C": "--config-settings",
    "-i": "--index-url",
    "-f": "--find-links",
    "-w": "--wheel-dir",
    "-d": "--dest",
    "-U": "--upgrade",
    "-I": "--ignore-installed",
    "-q": "--quiet",
    "-v": "--verbose",
    "-h": "--help",
    "-V": "--version",
}
# uv (clap) takes no abbreviations; these of its options take a value
_UV_VALUE_OPTIONS = frozenset(
    _names(
        "--index-strategy --python -p --extra-index-url --index-url -i --index "
        "--default-index --find-links -f --requirements --requirement -r --constraints "
        "--constraint -c --overrides --override --build-constraints --build-constraint -b "
        "--editable -e --extra --group --target --prefix --link-mode --resolution "
        "--prerelease --keyring-provider --python-platform --python-version "
        "--config-setting --config-settings -C --cache-dir --exclude-newer --no-binary "
        "--only-binary --reinstall-package --upgrade-package -P --refresh-package "
        "--no-build-isolation-package --no-build-package --no-binary-package --color "
        "--directory --project --config-file --torch-backend --allow-insecure-host "
        "--trusted-host --python-preference --output-file -o"
    )
)
_UV_CANONICAL = {
    "-r": "--requirement",
    "--requirements": "--requirement",
    "-c": "--constraint",
    "--constraints": "--constraint",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
    "-C": "--config-settings",
    "--config-setting": "--config-settings",
    "-U": "--upgrade",
    "-p": "--python",
    "--no-cache": "--no-cache-dir",  # uv's name for it
    "-n": "--no-cache-dir",
}


def pip_long_option(word: str) -> str | None:
    """The pip long option a word names (exactly or by unambiguous prefix), or None."""
    if word in _PIP_LONG:
        return word
    matches = [name for name in _PIP_LONG if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


class PipCommand(Struct, frozen=True):
    """A pip or uv command: verb, options and operands."""

    tool: str  # "pip" or "uv"
    verb: str  # install, wheel, download, config, ... ("" when there is none)
    options: tuple[tuple[str, str | None], ...]  # (canonical long name, value)
    operands: tuple[str, ...]  # words after the verb that are neither options nor values
    command: ShellCommand

    def has(self, *names: str) -> bool:
        return any(name in names for name, _ in self.options)

    def values(self, *names: str) -> list[str]:
        return [value for name, value in self.options if name in names and value is not None]

    @property
    def installs(self) -> bool:
        return self.verb == "install"


def _pip_words(command: ShellCommand) -> tuple[str, tuple[str, ...]] | None:
    """("pip" or "uv", the words after `pip`) for pip, pip3.11, python -m pip, uv pip."""
    command = unwrap(command)
    name, args = command.name, command.args
    if _PIP_PROGRAM.match(name):
        return "pip", args
    if name == "uv" and args[:1] == ("pip",):
        return "uv", args[1:]
    if _PYTHON_PROGRAM.match(name):
        for index, arg in enumerate(args[:-1]):
            if arg == "-m":
                module = args[index + 1]
                if _PIP_PROGRAM.match(module):
                    return "pip", args[index + 2 :]
                if module == "uv" and args[index + 2 : index + 3] == ("pip",):
                    return "uv", args[index + 3 :]
                return None
            if not arg.startswith("-"):
                return None
    return None


def pip_command(command: ShellCommand) -> PipCommand | None:
    """pip/uv pip command line, read as pip reads it; None for other commands."""
    name = command.name
    if not name.startswith(("pip", "python", "uv")) and name not in _WRAPPERS:
        return None
    return _pip_command(command)


@lru_cache(maxsize=8192)
def _pip_command(command: ShellCommand) -> PipCommand | None:
    found = _pip_words(command)
    if found is None:
        return None
    tool, args = found
    options: list[tuple[str, str | None]] = []
    words: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            words.extend(args[index:])
            break
        if arg.startswith("--"):
            name, equals, value = arg.partition("=")
            if tool == "pip":
                canonical = pip_long_option(name) or name
                takes_value = _PIP_LONG.get(canonical, False)
            else:
                canonical = _UV_CANONICAL.get(name, name)
                takes_value = name in _UV_VALUE_OPTIONS
            if takes_value and not equals:
                value = args[index] if index < len(args) else ""
                index += 1
            options.append((canonical, value if takes_value else None))
        elif arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            for position, letter in enumerate(letters):
                short = "-" + letter
                if tool == "pip":
                    canonical = _PIP_SHORT.get(short, short)
                    takes_value = _PIP_LONG.get(canonical, False)
                else:
                    canonical = _UV_CANONICAL.get(short, short)
                    takes_value = short in _UV_VALUE_OPTIONS
                if takes_value:
                    value = letters[position + 1 :]
                    if not value:
                        value = args[index] if index < len(args) else ""
                        index += 1
                    options.append((canonical, value))
                    break
                options.append((canonical, None))
        else:
            words.append(arg)
    verb = words[0] if words else ""
    return PipCommand(tool, verb, tuple(options), tuple(words[1:]), command)


_PACKAGING_TOOLS = frozenset({"pip", "setuptools", "wheel", "uv", "poetry", "pipenv", "pdm"})


def pip_requirements(pip: PipCommand) -> list[str]:
    """Requirements named on a pip install's command line: not paths, URLs or the project
    itself (`.`, `.[dev]`, `/src`), and not the packaging tools (`pip install -U pip`)."""
    found = []
    for word in pip.operands:
        if word.startswith((".", "/", "~", "$")) or "://" in word:
            continue
        name = _PIN.sub("", word.split("[", 1)[0]).lower()
        if name and name not in _PACKAGING_TOOLS:
            found.append(word)
    return found
