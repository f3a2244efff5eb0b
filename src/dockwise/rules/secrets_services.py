"""Secrets in what runs the image (DW520-DW526): compose services, Kubernetes containers
and Secret manifests, and the settings modules of the app a service ships.

One policy with the Dockerfile rules (rules/secrets.py, DW501 and DW506):
- a real-looking credential (a token format, a URL with a password, a random key, a
  literal password) is an error;
- a placeholder or default under a credential name (`changeme`, `postgres` for the
  postgres image, a password equal to the user name next to it) is a warning: wherever
  the file runs unchanged, it is a credential everyone knows;
- a fill-in marker (`<your-token>`, `HF_TOKEN: HF_TOKEN`) is info: nothing works until
  someone writes the real value, and this is where they should not;
- in a development, test or CI file (named so, or a compose file that bind-mounts the
  source or runs a reloader) each grade is one step milder, never above a warning.

Values interpolated from `.env` or the shell are not in the file: only what is written is
judged (a `${VAR:-default}` default is written), and a value is only ever shown redacted.
"""

from __future__ import annotations

import binascii
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from dockwise.findings import Hit, Rule, Severity, rule
from dockwise.lazyre import lazy_compile
from dockwise.model.link import is_dev_name
from dockwise.model.roles import CI, TRIAL, Role, compose_role, container_role, path_role
from dockwise.rules._scopes import container_rule
from dockwise.rules.secrets import (
    Literal,
    _words,
    argv_credentials,
    graded_credential,
    is_fixture,
    lower_first,
)
from dockwise.secrets import (
    SecretMatch,
    credential_name_class,
    is_credential_name,
    is_made_up_uuid,
    looks_like_placeholder,
    scan_value,
)

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, ContainerPart, Service
    from dockwise.project import Project
    from dockwise.sources.compose import Command, Variable
    from dockwise.sources.pyapp import PythonApp

# ---------------------------------------------------------------------------------------------
# grading, shared by every rule below


class Graded(Struct, frozen=True):
    """A credential written in a service file, and how bad it is before any discount."""

    match: SecretMatch
    level: Severity
    why: str  # "literal", "default", "fill-in"


_FILL_IN = lazy_compile(
    r"(?i)^<[^<>]+>$|^\[[^\[\]]+\]$|your[-_ .]?|insert[-_ ]|replace[-_ ]?(?:me|this|with)"
    r"|put[-_ ]?your|goes[-_ ]?here|_here\b|-here\b|^x{3,}$|^\*{3,}$|todo|fixme|^\.\.\.$"
)
_TEMPLATE = lazy_compile(r"\{\{.*?\}\}|\{%.*?%\}|\$\{[^}]*\}|<%.*?%>")
_ENV_NAME_SHAPE = lazy_compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_K8S_REFERENCE = lazy_compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_WORD = lazy_compile(r"[a-z0-9]+")
_DEFAULT_NAMES = frozenset(
    {"postgres", "postgresql", "mysql", "mariadb", "root", "admin", "redis", "minio", "guest"}
)


def _fill_in(name: str, value: str) -> bool:
    """A marker someone must replace before anything works (not a usable credential)."""
    return (
        _FILL_IN.search(value) is not None
        or value.upper() == name.upper()
        or (_ENV_NAME_SHAPE.fullmatch(value) is not None and value != value.lower())
    )


def known_words(*texts: str | None) -> frozenset[str]:
    """Words of names around a value (service, image, user, database, file path): a
    password made of one of them is a default, not a chosen secret."""
    words: set[str] = set()
    for text in texts:
        if text:
            words.update(w for w in _WORD.findall(text.lower()) if len(w) >= 3)
    return frozenset(words)


def _is_default(value: str, around: frozenset[str]) -> bool:
    """`postgres`, `kiwi` next to `MYSQL_USER: kiwi`, `minio123` for the minio image,
    `off-wger` in project wger beside user `off`: made of the names around it."""
    core = re.sub(r"[\W_]*\d*[\W_]*$", "", value.lower())
    words = [w for w in re.split(r"[^a-z0-9]+", core) if w]
    if not words:
        return False
    known = around | _DEFAULT_NAMES
    return "".join(words) in known or all(w in known for w in words)


def _simple_values(values: Iterable[str | None]) -> list[str]:
    """Sibling values that name something (a user, a database): short, one word or two,
    not URLs or connection strings (those may carry the very password being judged)."""
    return [
        v
        for v in values
        if v and len(v) <= 40 and not any(c in v for c in ":/@;= ") and not v.isdigit()
    ]


def grade(name: str, value: str, around: frozenset[str] = frozenset()) -> Graded | None:
    """The credential a value written under `name` holds, graded; None when it holds none."""
    if _TEMPLATE.search(value):
        return None  # `{{ cookiecutter.secret_key }}`, `${SECRET}`: filled in elsewhere
    literal = graded_credential(name, value)
    if literal is None:
        return None
    match = literal.match
    if _fill_in(name, match.value):
        return Graded(match, Severity.INFO, "fill-in")
    if match.value.startswith("django-insecure-"):
        return Graded(match, Severity.WARNING, "django-insecure")
    if is_made_up_uuid(match.value):
        # `8312341g-5678-abcd-...` beside "replace with your access key": a sample of a
        # key a provider generates, which works nowhere: nobody's credential
        return Graded(match, Severity.INFO, "made-up")
    if not literal.certain:
        return Graded(match, Severity.WARNING, "default")
    if _is_default(match.value, around):
        return Graded(match, Severity.WARNING, "default")
    if match.kind == "password-assignment" and match.description.startswith("value"):
        # the detector does not find the value password-like or random (`mpass`,
        # `nvapi-NVKEY`): a weak default password, or a made-up sample for a token or
        # key a provider generates (which never looks like that)
        words = re.findall(r"[a-z]+", name.lower())
        chosen = "secret" in words and words[-1] not in ("id", "ids", "name", "arn")
        if credential_name_class(name) == "password" or chosen:
            return Graded(match, Severity.WARNING, "default")  # a person chose it: it works
        return Graded(match, Severity.INFO, "made-up")
    return Graded(match, Severity.ERROR, "literal")


# what a person chose (a password, a URL or command line carrying one), not a provider's token
_CHOSEN_KINDS = frozenset(
    {
        "password-assignment",
        "url-password",
        "basic-auth-credential",
        "command-line-password",
        "high-entropy-assignment",
    }
)


def _discounted(level: Severity, development: Role | str | None, kind: str) -> Severity:
    """One step milder in a development, test or CI file, never above a warning; a password
    of a CI-only setup (a database that lives for one run) one step more: info."""
    if development is None:
        return level
    if isinstance(development, Role) and development.kind == CI and kind in _CHOSEN_KINDS:
        return Severity.INFO
    return Severity.WARNING if level == Severity.ERROR else Severity.INFO


def _what(graded: Graded) -> str:
    if graded.why == "fill-in":
        return f"a fill-in placeholder ({graded.match.redacted})"
    if graded.why == "default":
        return f"a placeholder or default credential ({graded.match.redacted})"
    if graded.why == "django-insecure":
        return f"a Django development key ({graded.match.redacted})"
    if graded.why == "made-up":
        return f"a value that does not look like a generated key ({graded.match.redacted})"
    return f"a literal {lower_first(graded.match.description)} ({graded.match.redacted})"


def _consequence(graded: Graded, literal: str) -> str:
    if graded.why == "fill-in":
        return "the real value would end up in this file; give it a secret's place instead"
    if graded.why == "default":
        return "wherever this runs unchanged, it is a credential everyone knows"
    if graded.why == "django-insecure":
        return "a django-insecure- key is for development; anyone can forge sessions with it"
    if graded.why == "made-up":
        return "a sample or a name, not a key; a real key belongs in a secret, not here"
    return literal


def _hit(
    path: str,
    line: int | None,
    graded: Graded,
    message: str,
    development: Role | str | None,
    fix: str | None = None,
) -> Hit:
    level = _discounted(graded.level, development, graded.match.kind)
    if development is not None:
        reason = development.reason if isinstance(development, Role) else development
        message += f" ({reason})"
    return Hit(
        path=path,
        line=line,
        message=message,
        fix=fix,
        fingerprint=graded.match.fingerprint,
        severity=level,
    )


def _literal_command(literal: Literal, around: frozenset[str]) -> Graded | None:
    match = literal.match
    if _TEMPLATE.search(match.value):
        return None  # `--password={{ cookiecutter.db_password }}`: filled in elsewhere
    if match.kind == "placeholder-credential" or not literal.certain:
        return Graded(match, Severity.WARNING, "default")
    if _is_default(match.value, around):
        return Graded(match, Severity.WARNING, "default")
    return Graded(match, Severity.ERROR, "literal")


# ---------------------------------------------------------------------------------------------
# compose


_DEFAULT_VALUE = lazy_compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=]([^}$]*)\}")
_RELOADERS = frozenset({"--reload", "runserver", "--debug", "--autoreload", "watch"})


def _development_path(path: str) -> Role | None:
    """A development, test or CI file: named so, under such a folder, or a test fixture."""
    role = path_role(path)
    return role if role is not None and role.kind in TRIAL else None


def _compose_development(part: ComposePart, path: str, project: Project) -> Role | None:
    """Why a compose service is a development, test or CI setup (the file where the value
    is written, or the role of the service), or None."""
    role = _development_path(path) or compose_role(part, project)
    return role if role.kind in TRIAL else None


def _compose_around(part: ComposePart, project: Project) -> frozenset[str]:
    service = part.service
    plain = _simple_values(
        var.written
        for variables in (service.environment, service.build.args if service.build else {})
        for name, var in variables.items()
        if not var.interpolated and not is_credential_name(name)
    )
    image = service.image.written if service.image is not None else None
    return known_words(service.name, image, part.file.relpath, project.root.name, *plain)


def _variable_credentials(
    var: Variable, around: frozenset[str]
) -> Iterator[tuple[Graded, str | None]]:
    """(graded credential, the `${VAR:-...}` it is the default of) for one variable."""
    if var.value is None or var.written is None:
        return
    if not var.interpolated:
        graded = grade(var.name, var.written, around)
        if graded is not None:
            yield graded, None
        return
    # interpolated: only what is written in the file is judged, never the .env value
    graded = grade(var.name, var.written, around)
    if graded is not None:
        yield graded, None
    for default in _DEFAULT_VALUE.finditer(var.written):
        graded = grade(var.name, default.group(1), around)
        if graded is not None:
            yield graded, default.group(0).split(":")[0].split("-")[0] + "}"


def _once(
    check: Callable[[ComposePart, Project], Iterable[Hit]], project: Project
) -> Iterator[Hit]:
    """Hits of a check over every compose service, each place once: services that share
    an environment through a YAML anchor or `extends` point at the same line."""
    seen: set[tuple[str, int | None, str | None]] = set()
    for service in project.services:
        for part in service.compose:
            for hit in check(part, project):
                key = (hit.path, hit.line, hit.fingerprint)
                if key not in seen:
                    seen.add(key)
                    yield hit


_COMPOSE_FIX = (
    "Move the value out of the compose file: a top-level `secrets:` entry mounted at "
    "/run/secrets/<name> (many images read `{name}_FILE`), or `{name}: ${{{name}:?set it in "
    ".env}}` with .env kept out of git; rotate the credential."
)


def _environment_secret_hit(
    part: ComposePart, var: Variable, graded: Graded, of: str | None, project: Project
) -> Hit:
    path = var.origin.path
    where = f"environment {var.name} of compose service {part.service.name}"
    if of is not None:
        where = f"the default of {of} in {where}"
    message = f"{where} holds {_what(graded)}: " + _consequence(
        graded, "it is in git and in `docker inspect` of every container"
    )
    fix = _COMPOSE_FIX.format(name=var.name)
    return _hit(
        path, var.origin.line, graded, message, _compose_development(part, path, project), fix
    )


@rule(
    "DW520",
    lesson="secrets",
    severity="error",
    title="Credential in a compose service's environment",
    why="""
        A value written in a compose file's `environment` is in git, in every clone and
        fork, and in `docker inspect` of every container started from it. Compose has a
        place for credentials: `secrets:` mounts a file at `/run/secrets/<name>` (the
        official postgres, mysql and many other images read `*_FILE` variables), and
        `${DB_PASSWORD:?}` takes the value from `.env` or the shell, which stay out of git.
        A value interpolated from `.env` or the shell is not in the file and is never
        reported (nor printed); a `${VAR:-default}` default is in the file and is judged.

        A real-looking value (a token format, a URL with a password, a random key, a
        literal password) is an error. A placeholder or default (`changeme`, `postgres`
        for the postgres image, a password equal to the user name beside it) is a
        warning, a fill-in marker (`<your-token>`) info. In a development, test or CI
        compose file (named so, bind-mounting the source or running a reloader) each is
        one step milder.
    """,
    fix="""
        Give the credential through `secrets:` (a file mounted at /run/secrets/<name>, read
        through the image's `*_FILE` variable) or through `${NAME:?}` from an .env file
        kept out of git, and rotate the value that was committed.
    """,
    bad={
        "compose.yaml": (
            "services:\n"
            "  api:\n"
            "    image: ghcr.io/acme/api:1.4\n"
            "    environment:\n"
            "      DATABASE_URL: postgres://api:Zk3v9Q2mX8pLr7Tw@db:5432/api\n"
        ),
    },
    good={
        "compose.yaml": (
            "services:\n"
            "  api:\n"
            "    image: ghcr.io/acme/api:1.4\n"
            "    environment:\n"
            "      DATABASE_URL_FILE: /run/secrets/database_url\n"
            "      DB_PASSWORD: ${DB_PASSWORD:?set it in .env}\n"
            "    secrets: [database_url]\n"
            "secrets:\n"
            "  database_url:\n"
            "    file: ./secrets/database_url\n"
        ),
    },
    also=["checkov:CKV_SECRET_6", "trivy:secret", "gitleaks:generic-api-key"],
)
def credential_in_compose_environment(project: Project) -> Iterator[Hit]:
    return _once(_credential_in_compose_environment, project)


def _credential_in_compose_environment(part: ComposePart, project: Project) -> Iterator[Hit]:
    around = _compose_around(part, project)
    for var in part.service.environment.values():
        for graded, of in _variable_credentials(var, around):
            yield _environment_secret_hit(part, var, graded, of, project)


def _command_words(command: Command) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(args, words) of a compose command as written (before interpolation)."""
    if command.shell_form:
        try:
            words = tuple(shlex.split(command.written))
        except ValueError:
            words = tuple(command.written.split())
        return (command.written,), words
    if " ".join(command.argv) == command.written:
        return command.argv, command.argv
    return (command.written,), tuple(command.written.split())


@rule(
    "DW521",
    lesson="secrets",
    severity="error",
    title="Credential in a compose command or entrypoint",
    why="""
        A compose `command` or `entrypoint` is in git and in `docker inspect`, and its
        arguments are visible to anyone on the host through `ps`. A `--password hunter2`,
        `--token=...` or a URL with a password in it is published with the file. Only
        what is written is judged: a `${VAR}` taken from `.env` or the shell is not in the
        file. A placeholder (`--password changeme`) is a warning; in a development, test or
        CI compose file each grade is one step milder.
    """,
    fix="""
        Let the program read the credential from a file or the environment:
        `--password-file /run/secrets/db_password` with a compose `secrets:` entry, or an
        environment variable set from `${NAME:?}` in an .env file kept out of git.
    """,
    bad={
        "compose.yaml": (
            "services:\n"
            "  worker:\n"
            "    image: ghcr.io/acme/worker:2.0\n"
            "    command: worker --broker redis://:Qm7vT2xK9pLw4Zr8@cache:6379/0\n"
        ),
    },
    good={
        "compose.yaml": (
            "services:\n"
            "  worker:\n"
            "    image: ghcr.io/acme/worker:2.0\n"
            "    command: worker --broker-url-file /run/secrets/broker_url\n"
            "    secrets: [broker_url]\n"
            "secrets:\n"
            "  broker_url:\n"
            "    file: ./secrets/broker_url\n"
        ),
    },
    also=["checkov:CKV_SECRET_6", "trivy:secret"],
)
def credential_in_compose_command(project: Project) -> Iterator[Hit]:
    return _once(_credential_in_compose_command, project)


def _credential_in_compose_command(part: ComposePart, project: Project) -> Iterator[Hit]:
    around = _compose_around(part, project)
    for key, command in (
        ("command", part.service.command),
        ("entrypoint", part.service.entrypoint),
    ):
        if command is None:
            continue
        args, words = _command_words(command)
        path = command.origin.path
        for literal in argv_credentials(args, words):
            graded = _literal_command(literal, around)
            if graded is None:
                continue
            message = (
                f"{key} of compose service {part.service.name} passes {_what(graded)}: "
                + _consequence(graded, "it is in git, in `docker inspect` and in `ps` on the host")
            )
            yield _hit(
                path,
                command.origin.line,
                graded,
                message,
                _compose_development(part, path, project),
            )


@rule(
    "DW522",
    lesson="secrets",
    severity="error",
    title="Credential in a compose build arg",
    why="""
        A compose `build.args` value is passed to the Dockerfile's ARG: it is recorded in
        the image history (`docker history` shows it to anyone who pulls the image), kept
        in the build cache, and written in the compose file, so in git. A real-looking
        credential there is an error; a placeholder or default a warning; in a development,
        test or CI compose file one step milder. Build-time credentials belong in a
        BuildKit secret, which is never recorded.
    """,
    fix="""
        Use a build secret: `build: {secrets: [npm_token]}` in the service, a top-level
        `secrets: {npm_token: {environment: NPM_TOKEN}}`, and
        `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci` in the Dockerfile;
        rotate the committed value.
    """,
    bad={
        "compose.yaml": (
            "services:\n"
            "  web:\n"
            "    build:\n"
            "      context: .\n"
            "      args:\n"
            "        NPM_TOKEN: npm_Q8mZt3Lx7WvK2pR9sY4nB6cD1fG5hJ0aE2kT\n"
        ),
        "Dockerfile": "FROM node:20-slim\nARG NPM_TOKEN\nRUN npm ci\n",
    },
    good={
        "compose.yaml": (
            "services:\n"
            "  web:\n"
            "    build:\n"
            "      context: .\n"
            "      secrets: [npm_token]\n"
            "secrets:\n"
            "  npm_token:\n"
            "    environment: NPM_TOKEN\n"
        ),
        "Dockerfile": (
            "FROM node:20-slim\nRUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci\n"
        ),
    },
    also=["trivy:DS-0031", "hadolint:DL3064"],
)
def credential_in_compose_build_arg(project: Project) -> Iterator[Hit]:
    return _once(_credential_in_compose_build_arg, project)


def _credential_in_compose_build_arg(part: ComposePart, project: Project) -> Iterator[Hit]:
    build = part.service.build
    if build is None:
        return
    around = _compose_around(part, project)
    for var in build.args.values():
        for graded, of in _variable_credentials(var, around):
            path = var.origin.path
            where = f"build arg {var.name} of compose service {part.service.name}"
            if of is not None:
                where = f"the default of {of} in {where}"
            message = f"{where} holds {_what(graded)}: " + _consequence(
                graded, "recorded in the image history, the build cache and git"
            )
            yield _hit(
                path, var.origin.line, graded, message, _compose_development(part, path, project)
            )


# ---------------------------------------------------------------------------------------------
# Kubernetes


def _k8s_development(part: ContainerPart, project: Project) -> Role | None:
    role = container_role(part, project)
    return role if role.kind in TRIAL else None


def _k8s_around(part: ContainerPart, project: Project) -> frozenset[str]:
    container = part.container
    plain = _simple_values(env.value for env in container.env if not is_credential_name(env.name))
    return known_words(
        container.name,
        container.image,
        part.workload.name,
        part.workload.namespace,
        part.path,
        project.root.name,
        *plain,
    )


@container_rule(
    "DW523",
    lesson="secrets",
    severity="error",
    title="Credential in a Kubernetes container's env value",
    why="""
        An `env[].value` is part of the Pod spec: it is in git with the manifest, in
        `kubectl get -o yaml` for everyone who may read Deployments (a much wider group
        than those who may read Secrets), in the API server's audit logs and in every
        tool that renders the manifest. Kubernetes has a place for credentials:
        `valueFrom.secretKeyRef`, `envFrom.secretRef` or a mounted Secret volume.

        A real-looking value (a token format, a URL with a password, a random key, a
        literal password) is an error; a placeholder or default (`changeme`, a password
        equal to the user name) a warning; a fill-in marker (`<your-token>`) info. In a
        development, test or CI manifest each is one step milder.
    """,
    fix="""
        Put the value in a Secret (created outside git, or sealed) and reference it:
        `valueFrom: {secretKeyRef: {name: db, key: password}}`, or mount the Secret as
        files and let the program read them; rotate the committed value.
    """,
    bad={
        "deploy.yaml": (
            "apiVersion: apps/v1\n"
            "kind: Deployment\n"
            "metadata:\n"
            "  name: api\n"
            "spec:\n"
            "  template:\n"
            "    spec:\n"
            "      containers:\n"
            "        - name: api\n"
            "          image: ghcr.io/acme/api:1.4\n"
            "          env:\n"
            "            - name: DB_PASSWORD\n"
            "              value: Zk3v9Q2mX8pLr7Tw\n"
        ),
    },
    good={
        "deploy.yaml": (
            "apiVersion: apps/v1\n"
            "kind: Deployment\n"
            "metadata:\n"
            "  name: api\n"
            "spec:\n"
            "  template:\n"
            "    spec:\n"
            "      containers:\n"
            "        - name: api\n"
            "          image: ghcr.io/acme/api:1.4\n"
            "          env:\n"
            "            - name: DB_PASSWORD\n"
            "              valueFrom:\n"
            "                secretKeyRef: {name: api-db, key: password}\n"
        ),
    },
    also=["kube-linter:env-var-secret", "checkov:CKV_K8S_35", "trivy:secret"],
    batch=True,
    init=True,
)
def credential_in_container_env(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    around = _k8s_around(part, project)
    label = part.label
    for env in part.container.env:
        if env.source != "value" or env.value is None:
            continue
        value = _K8S_REFERENCE.sub(r"${\1}", env.value)
        graded = grade(env.name, value, around)
        if graded is None:
            continue
        message = f"env {env.name} of {label} holds {_what(graded)}: " + _consequence(
            graded, "it is in git and readable by everyone who may read the workload"
        )
        yield _hit(part.path, env.line, graded, message, _k8s_development(part, project))


@container_rule(
    "DW524",
    lesson="secrets",
    severity="error",
    title="Credential in a Kubernetes container's command or args",
    why="""
        A container's `command` and `args` are part of the Pod spec: in git, in
        `kubectl get -o yaml` and `kubectl describe` for everyone who may read the
        workload, and in `ps` on the node. A `--password hunter2`, `--token=...` or a URL
        with a password there is published with the manifest. `$(VAR)` references to env
        variables set from a Secret are not literal and are not reported. A placeholder is
        a warning; in a development, test or CI manifest each grade is one step milder.
    """,
    fix="""
        Set an env variable from the Secret (`valueFrom.secretKeyRef`) and pass it as
        `$(DB_PASSWORD)`, or mount the Secret and pass its path
        (`--password-file /etc/secrets/password`); rotate the committed value.
    """,
    bad={
        "job.yaml": (
            "apiVersion: batch/v1\n"
            "kind: Job\n"
            "metadata:\n"
            "  name: migrate\n"
            "spec:\n"
            "  template:\n"
            "    spec:\n"
            "      restartPolicy: Never\n"
            "      containers:\n"
            "        - name: migrate\n"
            "          image: ghcr.io/acme/api:1.4\n"
            "          args: [migrate, --db-password, Zk3v9Q2mX8pLr7Tw]\n"
        ),
    },
    good={
        "job.yaml": (
            "apiVersion: batch/v1\n"
            "kind: Job\n"
            "metadata:\n"
            "  name: migrate\n"
            "spec:\n"
            "  template:\n"
            "    spec:\n"
            "      restartPolicy: Never\n"
            "      containers:\n"
            "        - name: migrate\n"
            "          image: ghcr.io/acme/api:1.4\n"
            "          args: [migrate, --db-password, $(DB_PASSWORD)]\n"
            "          env:\n"
            "            - name: DB_PASSWORD\n"
            "              valueFrom:\n"
            "                secretKeyRef: {name: api-db, key: password}\n"
        ),
    },
    also=["trivy:secret"],
    batch=True,
    init=True,
)
def credential_in_container_command(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    container = part.container
    args = (*(container.command or ()), *(container.args or ()))
    if not args:
        return
    around = _k8s_around(part, project)
    words: list[str] = []
    for arg in args:
        words.extend(_words(arg) if " " in arg else [arg])
    for literal in argv_credentials(args, tuple(words)):
        graded = _literal_command(literal, around)
        if graded is None:
            continue
        message = f"command of {part.label} passes {_what(graded)}: " + _consequence(
            graded, "it is in git, in the Pod spec and in `ps` on the node"
        )
        yield _hit(part.path, container.line, graded, message, _k8s_development(part, project))


# Secret keys that name where or who, never hold the credential
_NOT_SECRET_KEYS = frozenset(
    {
        "user", "username", "login", "name", "host", "hostname", "url", "uri", "endpoint",
        "address", "addr", "server", "port", "database", "db", "dbname", "region", "bucket",
        "project", "namespace", "email", "account", "accountname", "id", "clientid", "crt",
        "cert", "pem", "ca",
    }
)  # fmt: skip


def _decoded(value: str, encoded: bool) -> str | None:
    if not encoded:
        return value
    import base64

    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _secret_entry_match(key: str, value: str, around: frozenset[str]) -> SecretMatch | None:
    """A real-looking credential in one Secret entry, or None (placeholders, defaults and
    template values are what a committed Secret template normally holds)."""
    if not value.strip() or looks_like_placeholder(value):
        return None
    last = re.split(r"[._\-]", key.lower())[-1]
    scan_name = (
        key if is_credential_name(key) else ("secret" if last not in _NOT_SECRET_KEYS else None)
    )
    match = scan_value(value, scan_name)
    if match is None or match.confidence == "low" or _is_default(match.value, around):
        return None
    return None if _fill_in(key, match.value) else match


@rule(
    "DW525",
    lesson="secrets",
    severity="error",
    title="Secret manifest commits a real credential",
    why="""
        A `kind: Secret` in the repository with `data` or `stringData` holding a real
        credential publishes it to everyone who can read the repository: `data` is base64,
        an encoding anyone reverses, not encryption. A Secret template whose values are
        placeholders (`changeme`, `<password>`, empty) is normal and not reported, nor are
        SealedSecrets, ExternalSecrets or SOPS-encrypted files (other kinds, or values
        that are no credential). A real-looking value (a token format, a private key, a
        URL with a password, a random key, a literal password that is not a default) is an
        error; under a test, fixture or development path a warning.
    """,
    fix="""
        Keep real values out of git: create the Secret from files outside the repository
        (`kubectl create secret generic db --from-file=password=./password.txt`), or
        commit it encrypted (Sealed Secrets, SOPS) or as a reference to an external store
        (External Secrets Operator); rotate the committed value.
    """,
    bad={
        "secret.yaml": (
            "apiVersion: v1\n"
            "kind: Secret\n"
            "metadata:\n"
            "  name: api-db\n"
            "type: Opaque\n"
            "data:\n"
            "  password: WmszdjlRMm1YOHBMcjdUdw==\n"
        ),
    },
    good={
        "secret.yaml": (
            "apiVersion: v1\n"
            "kind: Secret\n"
            "metadata:\n"
            "  name: api-db\n"
            "type: Opaque\n"
            "stringData:\n"
            "  username: api\n"
            "  password: <set-me>\n"
        ),
    },
    also=["checkov:CKV_SECRET_6", "trivy:secret", "gitleaks:kubernetes-secret-yaml"],
)
def credential_in_secret_manifest(project: Project) -> Iterator[Hit]:
    for manifest in project.manifests:
        if manifest.template:
            continue
        development = _development_path(manifest.path)
        for document in manifest.secrets:
            plain = _simple_values(
                _decoded(entry.value, entry.encoded)
                for entry in document.entries
                if not is_credential_name(entry.key)
            )
            around = known_words(
                document.name, document.type, manifest.path, project.root.name, *plain
            )
            for entry in document.entries:
                value = _decoded(entry.value, entry.encoded)
                if value is None:
                    continue
                match = _secret_entry_match(entry.key, value, around)
                if match is None:
                    continue
                section = "data (base64, not encryption)" if entry.encoded else "stringData"
                message = (
                    f"Secret {document.name} commits {entry.key} in {section}: "
                    f"{lower_first(match.description)} ({match.redacted}), readable by "
                    "everyone who can read the repository"
                )
                graded = Graded(match, Severity.ERROR, "literal")
                yield _hit(manifest.path, entry.line, graded, message, development)


# ---------------------------------------------------------------------------------------------
# the app's settings modules


# a module-level string assigned to a credential-looking name: the modules worth parsing
# (other literals, token formats under any name, are what DW510's content scan finds)
_SETTING_LINE = re.compile(
    rb"(?m)^[A-Z][A-Z0-9_]*(?:SECRET|PASSW|PASS\b|PASS_|PWD|TOKEN|KEY|CREDENTIAL)[A-Z0-9_]*"
    rb"[ \t]*(?::[^=\n]*)?=[ \t]*[rRbBuU]?['\"]"
)


class _Setting(Struct, frozen=True):
    path: str  # as the project reports it
    name: str
    line: int
    module: str  # dotted
    graded: Graded
    development: str | None
    overridden: str | None  # another shipped module that assigns the name from code


def _shipped_settings(project: Project, service: Service) -> Iterator[_Setting]:
    """Every credential a module-level setting writes in a Python module the service's
    image ships (tests and fixtures left out)."""
    dockerfile = service.dockerfile
    if dockerfile is None or service.context_dir is None:
        return
    context = project.contexts.get(dockerfile.relpath)
    if context is None or not context.shipped_files:
        return
    shipped = context.shipped_files
    dev_image = is_dev_name(dockerfile.relpath) or is_fixture(dockerfile.relpath)
    app = project.python_app(Path(context.root))
    for module in app.modules_matching(_SETTING_LINE, within=shipped):
        relpath = module.relpath
        path = context.project_path(relpath)
        if is_fixture(path) or not module.settings:
            continue
        reported = context.contents.get(relpath)
        taken = {secret.line for secret in reported.secrets} if reported else set()
        if dev_image:
            development: str | None = "an image built for development or tests"
        elif is_dev_name(relpath.rsplit(".", 1)[0]):
            development = "development settings"
        else:
            development = None
        for setting in module.settings:
            if setting.line in taken:
                continue  # DW510 reports it (a secret in a file COPY takes)
            graded = _setting_credential(setting.name, setting.value)
            if graded is None:
                continue
            overridden = None
            if graded.level < Severity.ERROR:
                overridden = _assigned_elsewhere(app, module.relpath, setting.name, shipped)
            yield _Setting(
                path,
                setting.name,
                setting.line,
                module.dotted,
                graded,
                development,
                context.project_path(overridden) if overridden else None,
            )


def _assigned_elsewhere(
    app: PythonApp, relpath: str, name: str, shipped: Mapping[str, object]
) -> str | None:
    """A shipped module, other than `relpath`, that assigns `name` from code (not a
    literal): the literal is then a default for development, replaced in production
    (`SECRET_KEY = config("SECRET_KEY")` in settings/production.py)."""
    needles = (f"{name} =".encode(), f"{name}=".encode())
    for module in app.modules_mentioning(needles):
        if module.relpath == relpath or module.relpath not in shipped:
            continue
        if not any(setting.name == name for setting in module.settings):
            return module.relpath
    return None


# in application code `*_KEY` is as often a cache key or a header name as a credential:
# without a real-looking value, only these words make a name worth a finding
_SETTING_SECRET_WORDS = frozenset({"secret", "password", "passwd", "pass", "pwd", "passphrase"})


def _setting_credential(name: str, value: str) -> Graded | None:
    match = scan_value(value, name if is_credential_name(name) else None)
    if match is not None:
        if match.value.startswith("django-insecure-"):
            return Graded(match, Severity.WARNING, "django-insecure")
        level = Severity.WARNING if match.confidence == "low" else Severity.ERROR
        return Graded(match, level, "literal" if level == Severity.ERROR else "default")
    words = set(re.findall(r"[a-z]+", name.lower()))
    if not words & _SETTING_SECRET_WORDS:
        return None
    return grade(name, value)


@rule(
    "DW526",
    lesson="secrets",
    severity="error",
    title="Hard-coded secret in a settings module the image ships",
    why="""
        A module-level `SECRET_KEY = "..."`, `API_KEY = "sk-..."` or
        `DATABASE_URL = "postgres://app:...@db/app"` in the app's code is in git and in
        every image built from it: anyone who pulls the image reads it, and every
        environment (staging, production, a developer's laptop) shares the same value. A
        Django `SECRET_KEY` signs sessions and password-reset links: with it, anyone can
        forge them.

        Only modules the service's image ships are judged (the build context, taken by a
        COPY into the shipped stage), tests and fixtures are not. A real-looking value is
        an error; a placeholder or default under a credential name, and a Django
        `django-insecure-` key (the development key `startproject` writes), a warning; in
        development settings (`settings/dev.py`, `local.py`) one step milder. A value the
        content scan of copied files already reports (DW510) is not reported twice.
    """,
    fix="""
        Read the value from the environment or a mounted secret file at start-up
        (`SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]`, or pydantic-settings / django-environ
        with `*_FILE` support), set it through the orchestrator's secret store, and rotate
        the committed value.
    """,
    bad={
        "Dockerfile": (
            'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "shop.wsgi"]\n'
        ),
        "shop/__init__.py": "",
        "shop/settings.py": 'DEBUG = False\nSECRET_KEY = "changeme"\n',
    },
    good={
        "Dockerfile": (
            'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "shop.wsgi"]\n'
        ),
        "shop/__init__.py": "",
        "shop/settings.py": (
            'import os\nDEBUG = False\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\n'
        ),
    },
    also=["checkov:CKV_SECRET_6", "trivy:secret", "bandit:B105"],
)
def secret_in_settings(project: Project) -> Iterator[Hit]:
    seen: dict[tuple[str, int], Hit] = {}
    for service in project.services:
        for found in _shipped_settings(project, service):
            graded = found.graded
            after = _consequence(graded, "in git and readable by anyone who pulls the image")
            message = f"{found.name} in {found.module} holds {_what(graded)}: {after}"
            development = found.development
            if found.overridden is not None:
                development = f"a default: {found.overridden} sets {found.name} from code"
            hit = _hit(found.path, found.line, graded, message, development)
            previous = seen.get((found.path, found.line))
            if previous is None or (hit.severity or 0) > (previous.severity or 0):
                seen[(found.path, found.line)] = hit
    yield from seen.values()


# what rules/secrets.py (the lesson's module, where the registry looks) takes from here
RULES: dict[str, Rule] = {
    "credential_in_compose_environment": credential_in_compose_environment,
    "credential_in_compose_command": credential_in_compose_command,
    "credential_in_compose_build_arg": credential_in_compose_build_arg,
    "credential_in_container_env": credential_in_container_env,
    "credential_in_container_command": credential_in_container_command,
    "credential_in_secret_manifest": credential_in_secret_manifest,
    "secret_in_settings": secret_in_settings,
}
