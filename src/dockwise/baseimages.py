"""What common base images ship, and what RUN steps install: knowledge, not I/O.

`base_tools(ref)` answers, for a resolved FROM reference, whether the image contains an
executable: True (ships it), False (documented not to), None (unknown). Unknown images never
claim absence, so rules built on this knowledge cannot report a false "missing curl".

Sources of the knowledge (checked against the images' own Dockerfiles and docs):
- Docker Official Images docs (hub.docker.com/_/python, /_/node, /_/debian): the `-slim`
  variants "contain only the minimal packages needed to run" the language: no curl, no wget,
  no procps (pgrep/ps), no netcat. The full tags build FROM `buildpack-deps`, whose `curl`
  layer installs curl and wget and whose `scm` layer installs git and procps; the full
  image adds gcc and the build toolchain.
- `debian:*` and `ubuntu:*` are minimal debootstrap images: bash and coreutils, no curl,
  no wget, no Python, no netcat.
- `alpine:*` (and every `*-alpine` official variant) is busybox: /bin/sh (ash), `wget`, `nc`,
  `pgrep`, `ps` are busybox applets; bash and curl are not installed.
- `busybox:*`: only busybox applets (sh, wget, nc, pgrep, ps).
- Distroless (github.com/GoogleContainerTools/distroless): "no package managers, shells or
  any other programs you would expect"; the `:debug` tags add busybox (sh, wget, nc).
  `python3-*` images ship /usr/bin/python3, `nodejs*` images ship node.
- Chainguard images (edu.chainguard.dev): no shell in the default tags; the `-dev` tags add
  a shell (busybox/apk).
- `scratch` is an empty filesystem.
- `nginx:*` (github.com/nginxinc/docker-nginx): the Debian and alpine variants install curl;
  `*-alpine-slim` does not say, so it stays unknown.
- `postgres:*` ships pg_isready, `redis:*` ships redis-cli; both are Debian or alpine based.
"""

from __future__ import annotations

from functools import lru_cache

from msgspec import Struct

from dockwise.lazyre import lazy_compile
from dockwise.sources.imageref import parse_image_ref
from dockwise.sources.shell import ShellCommand

# Executables the knowledge speaks about; for any other name the answer is "unknown".
TOOLS = frozenset(
    {
        "sh",
        "bash",
        "ash",
        "curl",
        "wget",
        "python",
        "python3",
        "nc",
        "pgrep",
        "ps",
        "node",
        "busybox",
        "git",
        "gcc",
    }
)
BUSYBOX_APPLETS = frozenset({"sh", "ash", "wget", "nc", "pgrep", "ps", "busybox"})


class BaseTools(Struct, frozen=True):
    """What one base image ships: `has(tool)` is True, False or None (unknown)."""

    image: str  # the reference as given
    family: str  # e.g. "debian-slim", "alpine", "distroless", "unknown"
    present: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()

    def has(self, tool: str) -> bool | None:
        name = tool.rsplit("/", 1)[-1]
        if name in self.present:
            return True
        if name in self.absent:
            return False
        return None

    @property
    def known(self) -> bool:
        return self.family != "unknown"

    @property
    def label(self) -> str:
        """The image for messages: without registry noise and digest."""
        return parse_image_ref(self.image).short


def _tools(family: str, present: set[str], absent: set[str]) -> tuple[str, set[str], set[str]]:
    return family, present, absent - present


def _debian_slim() -> tuple[str, set[str], set[str]]:
    return _tools(
        "debian-slim",
        {"sh", "bash"},
        {"curl", "wget", "nc", "pgrep", "ps", "python", "python3", "busybox", "git", "gcc", "ash"},
    )


def _alpine() -> tuple[str, set[str], set[str]]:
    return _tools(
        "alpine",
        set(BUSYBOX_APPLETS),
        {"bash", "curl", "python", "python3", "node", "git", "gcc"},
    )


def _buildpack_deps() -> tuple[str, set[str], set[str]]:
    return _tools(
        "buildpack-deps",
        {"sh", "bash", "curl", "wget", "git", "gcc", "pgrep", "ps"},
        {"busybox", "ash"},
    )


def _nothing(family: str) -> tuple[str, set[str], set[str]]:
    return _tools(family, set(), set(TOOLS))


def _variant(tag: str) -> str:
    """'alpine', 'slim', 'windows' or 'full' for an official language image tag."""
    if "alpine" in tag:
        return "alpine"
    if "slim" in tag:
        return "slim"
    if "windowsservercore" in tag or "nanoserver" in tag:
        return "windows"
    return "full"


def _language_image(tag: str, runtime: set[str]) -> tuple[str, set[str], set[str]] | None:
    variant = _variant(tag)
    if variant == "windows":
        return None
    if variant == "alpine":
        family, present, absent = _alpine()
    elif variant == "slim":
        family, present, absent = _debian_slim()
    else:
        family, present, absent = _buildpack_deps()
    present |= runtime
    return family, present, absent - present


def _official(name: str, tag: str) -> tuple[str, set[str], set[str]] | None:
    if name == "python" or name == "pypy":
        # python images ship both `python` and `python3` (symlinks in /usr/local/bin)
        return _language_image(tag, {"python", "python3"})
    if name == "node":
        return _language_image(tag, {"node"})
    if name in ("debian", "ubuntu"):
        if _variant(tag) == "windows":
            return None
        family, present, absent = _debian_slim()
        if name == "ubuntu":
            absent -= {"pgrep", "ps"}  # procps presence varies between Ubuntu releases
        return name, present, absent
    if name == "alpine":
        return _alpine()
    if name == "busybox":
        return _tools("busybox", set(BUSYBOX_APPLETS), {"bash", "curl", "python", "python3"})
    if name == "nginx":
        if "alpine-slim" in tag:
            family, present, absent = _alpine()
            return "nginx-alpine-slim", present, absent - {"curl"}
        if "alpine" in tag:
            family, present, absent = _alpine()
            return "nginx-alpine", present | {"curl"}, absent - {"curl"}
        return "nginx", {"sh", "bash", "curl"}, {"python", "python3", "busybox", "ash"}
    if name in ("postgres", "redis"):
        tool = "pg_isready" if name == "postgres" else "redis-cli"
        if "alpine" in tag:
            family, present, absent = _alpine()
            return name, present | {tool}, absent - {"curl"}
        return name, {"sh", "bash", tool}, {"python", "python3", "busybox", "ash"}
    return None


_DISTROLESS_RUNTIME = (
    ("python3", {"python3"}),
    ("nodejs", {"node"}),
)


def _distroless(repository: str, tag: str) -> tuple[str, set[str], set[str]]:
    image = repository.removeprefix("distroless/")
    runtime: set[str] = set()
    for prefix, tools in _DISTROLESS_RUNTIME:
        if image.startswith(prefix):
            runtime = set(tools)
    if "debug" in tag:
        present = set(BUSYBOX_APPLETS) | runtime
        return "distroless-debug", present, {"bash", "curl"} - present
    absent = set(TOOLS) - runtime
    if "python3" in runtime:
        absent.discard("python")  # a `python` symlink is not documented either way
    return "distroless", runtime, absent


def _chainguard(repository: str, tag: str) -> tuple[str, set[str], set[str]]:
    image = repository.removeprefix("chainguard/")
    runtime: set[str] = set()
    if image.startswith("python"):
        runtime = {"python", "python3"}
    elif image.startswith("node"):
        runtime = {"node"}
    if tag.endswith("-dev") or tag == "latest-dev" or "-dev-" in tag:
        return "chainguard-dev", {"sh"} | runtime, set()
    return "chainguard", runtime, {"sh", "bash", "ash", "curl", "wget", "nc", "busybox"} - runtime


@lru_cache(maxsize=1024)
def base_tools(image_ref: str) -> BaseTools:
    """What the image a FROM names ships (unknown for anything not documented here)."""
    if "$" in image_ref or not image_ref.strip():
        return BaseTools(image_ref, "unknown")
    if image_ref.strip().lower() == "scratch":
        family, present, absent = _nothing("scratch")
        return BaseTools(image_ref, family, frozenset(present), frozenset(absent))
    ref = parse_image_ref(image_ref)
    known: tuple[str, set[str], set[str]] | None = None
    tag = ref.tag or ""
    if ref.official_name is not None:
        known = _official(ref.official_name, tag)
    elif ref.registry == "gcr.io" and ref.repository.startswith("distroless/"):
        known = _distroless(ref.repository, tag)
    elif ref.registry == "cgr.dev" and ref.repository.startswith("chainguard/"):
        known = _chainguard(ref.repository, tag)
    if known is None:
        return BaseTools(image_ref, "unknown")
    family, present, absent = known
    return BaseTools(image_ref, family, frozenset(present), frozenset(absent - present))


# --- what RUN steps install ------------------------------------------------------------

# system package name -> executables it provides (Debian, Alpine and RPM names)
PACKAGE_TOOLS: dict[str, frozenset[str]] = {
    "curl": frozenset({"curl"}),
    "wget": frozenset({"wget"}),
    "wget2": frozenset({"wget2"}),
    "procps": frozenset({"pgrep", "ps", "pkill", "pidof"}),
    "procps-ng": frozenset({"pgrep", "ps", "pkill", "pidof"}),
    "netcat": frozenset({"nc"}),
    "netcat-openbsd": frozenset({"nc"}),
    "netcat-traditional": frozenset({"nc"}),
    "nmap-ncat": frozenset({"nc", "ncat"}),
    "ncat": frozenset({"nc", "ncat"}),
    "bash": frozenset({"bash"}),
    "busybox": frozenset({"busybox"}),
    "busybox-static": frozenset({"busybox"}),
    "dash": frozenset({"sh", "dash"}),
    "python3": frozenset({"python3"}),
    "python3-minimal": frozenset({"python3"}),
    "python-is-python3": frozenset({"python"}),
    "python": frozenset({"python"}),
    "nodejs": frozenset({"node"}),
    "git": frozenset({"git"}),
    "gcc": frozenset({"gcc"}),
    "build-essential": frozenset({"gcc", "make"}),
    "postgresql-client": frozenset({"psql", "pg_isready"}),
    "redis-tools": frozenset({"redis-cli"}),
    "redis": frozenset({"redis-cli", "redis-server"}),
    "nginx": frozenset({"nginx"}),
    "apache2": frozenset({"apache2", "apachectl"}),
    "httpd": frozenset({"httpd", "apachectl"}),
    "supervisor": frozenset({"supervisord", "supervisorctl"}),
    "tini": frozenset({"tini"}),
    "dumb-init": frozenset({"dumb-init"}),
    "jq": frozenset({"jq"}),
}
# pip packages whose console script is not named like the package
PIP_TOOLS: dict[str, frozenset[str]] = {
    "httpie": frozenset({"http", "https"}),
    "supervisor": frozenset({"supervisord", "supervisorctl"}),
    "dumb-init": frozenset({"dumb-init"}),
}
_INSTALL_VERBS: dict[str, frozenset[str]] = {
    "apt-get": frozenset({"install"}),
    "apt": frozenset({"install"}),
    "aptitude": frozenset({"install"}),
    "apk": frozenset({"add"}),
    "yum": frozenset({"install"}),
    "dnf": frozenset({"install"}),
    "microdnf": frozenset({"install"}),
    "tdnf": frozenset({"install"}),
    "zypper": frozenset({"install", "in"}),
}
_PIP = frozenset({"pip", "pip3", "pipx", "uv"})
_VERSION_SUFFIX = lazy_compile(r"(?:[=<>!~]=?.*|:[a-z0-9]+|-\d.*)$")
_PIP_NAME = lazy_compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")
_PATH_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/")
_OPTIONS_WITH_VALUE = frozenset({"-t", "--target-release", "-o", "--option", "--repository", "-X"})


def package_name(spec: str) -> str:
    """`curl=7.88.1-10`, `curl-7.29.0`, `curl:amd64` -> `curl`."""
    return _VERSION_SUFFIX.sub("", spec.strip().lower())


def _package_arguments(command: ShellCommand) -> list[str] | None:
    verbs = _INSTALL_VERBS.get(command.name)
    if verbs is None:
        return None
    args = list(command.args)
    verb_at = next((i for i, arg in enumerate(args) if arg in verbs), None)
    if verb_at is None:
        return None
    packages: list[str] = []
    skip = False
    for arg in args[verb_at + 1 :]:
        if skip:
            skip = False
            continue
        if arg in _OPTIONS_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        packages.append(arg)
    return packages


def _pip_packages(command: ShellCommand) -> list[str] | None:
    argv = list(command.argv)
    if command.name.startswith("python") and argv[1:3] == ["-m", "pip"]:
        argv = argv[2:]
    elif command.name == "uv" and argv[1:3] in (["pip", "install"], ["tool", "install"]):
        argv = argv[1:]
    elif command.name not in _PIP:
        return None
    if len(argv) < 2 or argv[1] != "install":
        return None
    packages: list[str] = []
    skip = False
    for arg in argv[2:]:
        if skip:
            skip = False
            continue
        if arg in ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "-t"):
            skip = True
            continue
        if arg.startswith("-") or "/" in arg or arg == ".":
            continue
        match = _PIP_NAME.match(arg)
        if match:
            packages.append(match.group(1).lower())
    return packages


def _downloaded_to_path(command: ShellCommand) -> set[str]:
    """`curl -o /usr/local/bin/x`, `wget -O /bin/x`, `install ... /usr/bin/x`, `ln -s a /bin/x`."""
    args = command.args
    targets: list[str] = []
    if command.name in ("curl", "wget"):
        short, long = ("o", "--output") if command.name == "curl" else ("O", "--output-document")
        targets = [
            args[i + 1]
            for i, a in enumerate(args[:-1])
            if a == long or (a.startswith("-") and not a.startswith("--") and a.endswith(short))
        ]
    elif command.name in ("install", "ln", "cp", "mv") and command.positional():
        targets = [command.positional()[-1]]
    found: set[str] = set()
    for target in targets:
        if target.startswith(_PATH_DIRS) and not target.endswith("/"):
            found.add(target.rsplit("/", 1)[-1])
    return found


def installs_tool(command: ShellCommand) -> set[str]:
    """Executables a RUN command puts on PATH (package managers, pip, downloads)."""
    packages = _package_arguments(command)
    if packages is not None:
        tools: set[str] = set()
        for spec in packages:
            name = package_name(spec)
            tools |= PACKAGE_TOOLS.get(name, frozenset({name}))
        return tools
    pip = _pip_packages(command)
    if pip is not None:
        tools = set()
        for name in pip:
            tools |= PIP_TOOLS.get(name, frozenset({name}))
        return tools
    if command.name == "busybox" and "--install" in command.args:
        return set(BUSYBOX_APPLETS)
    return _downloaded_to_path(command)


# --- which user a base image runs as ---------------------------------------------------
#
# Sources: each image's own Dockerfile or documentation.
# - nginxinc/nginx-unprivileged: `USER 101` ("runs nginx as a non root, unprivileged user").
# - distroless `:nonroot` / `:debug-nonroot` tags: `USER 65532`; Chainguard images run as
#   65532 (`nonroot`) by default, the `-dev` variants too for most images, so those stay
#   unknown.
# - Bitnami application images: "non-root container images", `USER 1001`.
# - Jupyter docker-stacks (jupyter/*, quay.io/jupyter/*): `USER ${NB_UID}` (jovyan).
# - AWS Lambda base images (public.ecr.aws/lambda/*): Lambda runs the function as an
#   unprivileged sandbox user whatever the image says.
# - Official images whose entrypoint starts the server as its own user: postgres, mysql,
#   mariadb, mongo, redis, rabbitmq, memcached (`USER memcache`), elasticsearch/opensearch
#   (`USER 1000`), cassandra, couchdb, influxdb, zookeeper, solr, neo4j, rethinkdb (gosu,
#   su-exec or setpriv in docker-entrypoint.sh).
# - Official images of other servers (nginx, httpd, php:*-apache, tomcat...) and every OS
#   or language image (python, node, debian, alpine...) run as root unless told otherwise.

NONROOT_REPOSITORIES = (
    "nginxinc/nginx-unprivileged",
    "nginxinc/nginx-s3-gateway",
    "bitnami/",
    "grafana/grafana",
    "prom/",
    "jenkins/jenkins",
    "apache/airflow",
    "rayproject/ray",
    "opensearchproject/",
    "selenium/",
)
NONROOT_REGISTRIES = ("quay.io/keycloak/", "quay.io/prometheus/")
# Jupyter docker-stacks: jupyter/base-notebook, quay.io/jupyter/scipy-notebook...
_JUPYTER_STACKS = lazy_compile(r"^jupyter/(?:[a-z0-9-]+-notebook|docker-stacks-foundation)$")
# official images whose entrypoint drops root before starting the server
DROPPING_OFFICIAL = frozenset(
    {
        "postgres",
        "mysql",
        "mariadb",
        "percona",
        "mongo",
        "redis",
        "rabbitmq",
        "memcached",
        "cassandra",
        "couchdb",
        "influxdb",
        "zookeeper",
        "solr",
        "neo4j",
        "rethinkdb",
        "elasticsearch",
        "kibana",
        "logstash",
        "eclipse-mosquitto",
        "nats",
        "consul",
        "vault",
        "ghost",
    }
)
# official servers whose master process stays root and whose workers switch user
WORKER_OFFICIAL = frozenset({"nginx", "httpd"})
# OS and language images: they start a shell or an interpreter, nothing that serves
BARE_OFFICIAL = frozenset(
    {
        "alpine",
        "debian",
        "ubuntu",
        "busybox",
        "centos",
        "fedora",
        "rockylinux",
        "almalinux",
        "oraclelinux",
        "amazonlinux",
        "archlinux",
        "opensuse",
        "photon",
        "clearlinux",
        "python",
        "pypy",
        "node",
        "ruby",
        "golang",
        "rust",
        "openjdk",
        "eclipse-temurin",
        "amazoncorretto",
        "ibmjava",
        "gradle",
        "maven",
        "perl",
        "php",
        "erlang",
        "elixir",
        "haskell",
        "julia",
        "r-base",
        "swift",
        "gcc",
        "buildpack-deps",
        "docker",
    }
)


class BaseUser(Struct, frozen=True):
    """Which user a base image starts its process as.

    kind: "nonroot" (its USER is not root), "drops" (its entrypoint starts the server as
    an unprivileged user), "workers" (a server whose master stays root and whose workers
    switch user), "root" (documented to run as root), "windows" (no Unix users:
    ContainerAdministrator / ContainerUser), "unknown"."""

    image: str
    kind: str
    why: str = ""

    @property
    def label(self) -> str:
        return parse_image_ref(self.image).short


def is_windows_image(image_ref: str) -> bool:
    ref = parse_image_ref(image_ref)
    text = f"{ref.repository}:{ref.tag or ''}"
    return (
        any(
            word in text
            for word in ("windowsservercore", "nanoserver", "windows/servercore", "windows/server")
        )
        or ref.repository.startswith(("microsoft/windows", "microsoft/nanoserver", "microsoft/iis"))
        or ("-windows" in ref.repository)
    )


@lru_cache(maxsize=1024)
def base_user(image_ref: str) -> BaseUser:
    """What user the image a FROM names runs as (unknown for images not documented here)."""
    if "$" in image_ref or not image_ref.strip():
        return BaseUser(image_ref, "unknown")
    if image_ref.strip().lower() == "scratch":
        return BaseUser(image_ref, "root", "scratch has no user: processes run as UID 0")
    if is_windows_image(image_ref):
        return BaseUser(image_ref, "windows", "a Windows image has no root user")
    ref = parse_image_ref(image_ref)
    tag = ref.tag or ""
    full = f"{ref.registry}/{ref.repository}"
    if ref.registry == "gcr.io" and ref.repository.startswith("distroless/"):
        if tag == "nonroot" or tag.endswith("-nonroot") or tag.startswith("nonroot-"):
            return BaseUser(image_ref, "nonroot", "distroless :nonroot runs as 65532")
        return BaseUser(image_ref, "root", "distroless images run as root unless :nonroot")
    if ref.registry == "cgr.dev":
        if tag.endswith("-dev") or "-dev-" in tag:
            return BaseUser(image_ref, "unknown")
        return BaseUser(image_ref, "nonroot", "Chainguard images run as nonroot (65532)")
    if ref.registry == "public.ecr.aws" and ref.repository.startswith("lambda/"):
        return BaseUser(image_ref, "nonroot", "Lambda runs functions as an unprivileged user")
    if _JUPYTER_STACKS.match(ref.repository) and ref.registry in ("docker.io", "quay.io"):
        return BaseUser(image_ref, "nonroot", "Jupyter docker-stacks images run as jovyan")
    if full.startswith(NONROOT_REGISTRIES) or (
        ref.registry == "docker.io" and ref.repository.startswith(NONROOT_REPOSITORIES)
    ):
        return BaseUser(image_ref, "nonroot", f"{ref.name} images run as a non-root user")
    official = ref.official_name
    if official in WORKER_OFFICIAL or (official == "php" and ("apache" in tag or "fpm" in tag)):
        return BaseUser(image_ref, "workers", f"{official} runs its workers unprivileged")
    if ref.registry == "public.ecr.aws" and ref.repository == "nginx/nginx":
        return BaseUser(image_ref, "workers", "nginx runs its workers unprivileged")
    if official is not None:
        if official in DROPPING_OFFICIAL:
            return BaseUser(
                image_ref, "drops", f"the {official} entrypoint starts the server unprivileged"
            )
        return BaseUser(image_ref, "root", f"the official {official} image runs as root")
    if ref.registry == "mcr.microsoft.com" and ref.repository.startswith("dotnet/"):
        return BaseUser(image_ref, "root", ".NET images run as root unless USER app is set")
    return BaseUser(image_ref, "unknown")


def is_bare_base(image_ref: str) -> bool:
    """True for OS and language images: their default command is a shell or interpreter,
    so an image FROM them without a CMD of its own is a base or tool image, not a service."""
    if "$" in image_ref or not image_ref.strip():
        return False
    ref = parse_image_ref(image_ref)
    if ref.official_name is not None:
        return ref.official_name in BARE_OFFICIAL
    if ref.registry == "gcr.io" and ref.repository.startswith("distroless/"):
        return True
    return ref.registry == "cgr.dev"


# --- which shell /bin/sh is (runtime rules: does `sh -c` exec a lone command?) ----------
#
# Measured (Debian 12's dash 0.5.12, bash 5.2, busybox 1.35): bash and busybox ash exec a
# lone simple command given to `-c` (so it becomes PID 1 and gets SIGTERM); busybox also
# execs the last simple command of a list; dash always forks and stays PID 1.
# - Debian and Ubuntu, and the official images built on them (python, node, golang, ruby,
#   php, nginx, httpd, postgres, redis...: their default tags): /bin/sh is dash.
# - alpine, busybox and every `*-alpine` tag, distroless `:debug`, Chainguard `-dev`: busybox.
# - RHEL family (centos, fedora, rockylinux, almalinux, oraclelinux, amazonlinux, UBI),
#   archlinux, opensuse: /bin/sh is bash.
# - scratch, distroless and Chainguard default tags: no shell at all.
# - Windows images (windowsservercore, nanoserver, mcr.microsoft.com/windows*): cmd.

_DASH_OFFICIAL = frozenset(
    {
        "debian", "ubuntu", "python", "pypy", "node", "golang", "rust", "ruby", "php", "perl",
        "buildpack-deps", "nginx", "httpd", "postgres", "redis", "eclipse-temurin", "tomcat",
        "mongo", "rabbitmq", "mariadb", "memcached", "haproxy", "elixir", "erlang", "gcc",
        "julia", "r-base", "wordpress", "drupal", "ghost", "gradle", "maven", "sonarqube",
    }
)  # fmt: skip
_BASH_OFFICIAL = frozenset(
    {
        "centos", "fedora", "rockylinux", "almalinux", "oraclelinux", "amazonlinux",
        "amazoncorretto", "archlinux", "photon", "clearlinux",
    }
)  # fmt: skip
_BASH_REPOSITORIES = ("redhat/ubi", "ubi8", "ubi9", "rhel", "opensuse/", "centos/", "fedora/")


def base_shell(image_ref: str) -> str | None:
    """What `/bin/sh` is in the image a FROM names: "dash", "ash" (busybox), "bash",
    "none" (no shell), "cmd" (Windows), or None when the image is not known."""
    text = image_ref.strip()
    if "$" in text or not text:
        return None
    if text.lower() == "scratch":
        return "none"
    ref = parse_image_ref(text)
    tag = ref.tag or ""
    if "windowsservercore" in tag or "nanoserver" in tag or "windows" in ref.repository:
        return "cmd"
    if ref.registry == "gcr.io" and ref.repository.startswith("distroless/"):
        return "ash" if "debug" in tag else "none"
    if ref.registry == "cgr.dev" and ref.repository.startswith("chainguard/"):
        return "ash" if "-dev" in tag or tag == "latest-dev" else "none"
    name = ref.official_name
    if name in ("alpine", "busybox") or (name is not None and "alpine" in tag):
        return "ash"
    if name in _DASH_OFFICIAL:
        return "dash"
    if name in _BASH_OFFICIAL:
        return "bash"
    repository = ref.repository.removeprefix("library/")
    if ref.registry in ("registry.access.redhat.com", "registry.redhat.io"):
        return "bash"
    if repository.startswith(_BASH_REPOSITORIES):
        return "bash"
    return _shell_named_by_tag(tag)


# a tag that names its distribution (`nvidia/cuda:12.4-runtime-ubuntu22.04`)
_DASH_TAG = lazy_compile(
    r"(?:^|[-_.])(?:ubuntu|debian|bookworm|bullseye|buster|trixie|jammy|focal|noble)"
)
_ASH_TAG = lazy_compile(r"(?:^|[-_.])alpine")
_BASH_TAG = lazy_compile(r"(?:^|[-_.])(?:ubi\d|centos|rockylinux|almalinux|fedora|amzn|al2)")


def _shell_named_by_tag(tag: str) -> str | None:
    if _ASH_TAG.search(tag):
        return "ash"
    if _DASH_TAG.search(tag):
        return "dash"
    if _BASH_TAG.search(tag):
        return "bash"
    return None
