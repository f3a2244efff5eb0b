"""Secrets in the Dockerfile: ARG/ENV values, build args, copied key files, RUN lines (DW5xx),
and in the build-context files COPY/ADD take (DW510-DW512).

Every message shows a secret only in its redacted form (`SecretMatch.redacted`), and every
hit that is about a secret value carries the value's fingerprint so baselines keep working
when the line moves.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity, rule
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._common import at, dockerfile_rule, not_a_service, stage_of
from dockwise.rules._context import (
    Pending,
    contexts,
    copy_place,
    copy_related,
    digest,
    ignore_note,
    merge,
)
from dockwise.secrets import (
    SecretMatch,
    is_credential_name,
    is_provider_token,
    looks_like_placeholder,
    scan_text,
    scan_value,
)
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage, key_values
from dockwise.sources.expand import references
from dockwise.sources.shell import ShellCommand

if TYPE_CHECKING:
    from dockwise.sources.context import BuildContext, CopyTake

# ---------------------------------------------------------------------------------------------
# shared helpers


def _chain_indices(dockerfile: Dockerfile) -> frozenset[int]:
    return frozenset(stage.index for stage in dockerfile.shipped_chain())


def _where(dockerfile: Dockerfile, instruction: Instruction, chain: frozenset[int]) -> str:
    stage = stage_of(dockerfile, instruction)
    if stage is None:
        return "before the first FROM"
    if instruction.stage in chain:
        kind = "shipped stage" if dockerfile.is_shipped(stage) else "stage"
        return f"{kind} {stage.label}"
    return f"builder stage {stage.label}"


def lower_first(text: str) -> str:
    """'Password in a https URL' reads as part of a sentence; acronyms (AWS, JWT) stay."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _secret(kind: str, description: str, value: str) -> SecretMatch:
    return SecretMatch(kind=kind, description=description, line=1, column=1, value=value)


_PATH_VALUE = lazy_compile(r"^(?:~|\.{1,2})?/[\w.@+\-/]*$")


def _only_references(value: str) -> bool:
    """`${TOKEN}`, `$A$B`, `${X:-}`: nothing literal once the variables are taken out."""
    if not references(value):
        return False
    stripped = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", "", value)
    return not stripped.strip(" \"'")


_NOT_A_VALUE = frozenset({"true", "false", "yes", "no", "none", "null", "nil", "0", "1", "-"})


class Literal(Struct, frozen=True):
    """A credential a Dockerfile writes down, and how sure dockwise is that it is one."""

    match: SecretMatch
    certain: bool  # False: a placeholder, a default or a test-mode key (a warning)


def graded_credential(name: str, value: str) -> Literal | None:
    """The credential an ARG default, ENV or LABEL value holds, graded, or None.

    Certain (an error): a known token format, a URL with a password, a high-entropy key
    (`scan_value`), or a literal that is no placeholder under a credential name. A
    placeholder or default under a credential name (`DB_PASSWORD=changeme`, AWS's
    `...EXAMPLEKEY`) still ships a credential that works wherever nobody changed it: a
    warning. Not credentials at all: variable references (the literal lives where the ARG
    default is), empty values and booleans, file paths
    (`GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json` names a file, it is not a key).
    """
    text = value.strip()
    if not text or _only_references(text) or _PATH_VALUE.match(text):
        return None
    match = scan_value(text, name)
    if match is not None:
        return Literal(match, certain=match.confidence != "low")
    unquoted = text.strip("\"'").strip()
    if references(text) or not is_credential_name(name) or unquoted.lower() in _NOT_A_VALUE:
        return None
    if not unquoted:
        return None
    bare_key = name.rsplit(".", 1)[-1].lower() in ("key", "keys")
    if looks_like_placeholder(unquoted) or bare_key:
        return Literal(_secret("placeholder-credential", "placeholder or default credential",
                               unquoted), certain=False)  # fmt: skip
    return Literal(_secret("password-assignment", "value under a credential name", unquoted), True)


def literal_credential(name: str, value: str) -> SecretMatch | None:
    """The credential an ARG default or ENV value certainly holds, or None."""
    graded = graded_credential(name, value)
    return graded.match if graded is not None and graded.certain else None


# ---------------------------------------------------------------------------------------------
# DW501: credential values in ARG and ENV


@dockerfile_rule(
    "DW501",
    lesson="secrets",
    severity="error",
    title="Credential in an ARG default, ENV or LABEL value",
    why="""
        An ENV or LABEL value is baked into the image configuration: anyone who can pull
        the image reads it with `docker inspect`. An ARG default is recorded in the image
        history and the build cache. All sit in the Dockerfile, so in git, in every clone
        and fork, in CI logs. Builder stages are no hiding place: their layers stay in the
        build cache (pushed to the registry with `--cache-to mode=max`).
        A real-looking value (a token format, a password in a URL, a random key, a literal
        password) is an error. A placeholder or default under a credential name
        (`ENV DB_PASSWORD=changeme`, AWS's `...EXAMPLEKEY`) is a warning: the image ships a
        credential everyone knows wherever nobody overrides it. Names alone are not judged,
        unlike hadolint's DL3064: `ARG GITHUB_TOKEN` without a value, `USERNAME=app`,
        `*_TOKEN_FILE=/run/secrets/x`, `GOPRIVATE`, `GPG_KEY` fingerprints, `*_SHA256`
        checksums and `ENV TOKEN=${TOKEN}` references are not credentials.
    """,
    fix="""
        Remove the value from the Dockerfile and rotate the credential. Pass build-time
        secrets with `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci`
        (`docker build --secret id=npm_token,env=NPM_TOKEN`), and runtime secrets through
        the orchestrator (Kubernetes Secrets, compose `secrets:`), read from a file.
    """,
    bad="""
        FROM python:3.11-slim
        ENV DATABASE_URL=postgres://shop:Zk3v9Q2mX8pLr7Tw@db.internal:5432/shop
        CMD ["gunicorn", "shop.wsgi"]
    """,
    good="""
        FROM python:3.11-slim
        ENV DATABASE_URL_FILE=/run/secrets/database_url
        ARG GITHUB_TOKEN
        CMD ["gunicorn", "shop.wsgi"]
    """,
    also=[
        "hadolint:DL3064",
        "trivy:DS-0031",
        "dockle:CIS-DI-0010",
        "buildkit:SecretsUsedInArgOrEnv",
    ],
)
def credential_in_arg_or_env(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    chain = _chain_indices(dockerfile)
    for instruction in dockerfile.iter_instructions():
        if instruction.cmd not in ("ARG", "ENV", "LABEL"):
            continue
        for name, value in key_values(instruction):
            if value is None:
                continue
            graded = graded_credential(name, value)
            if graded is None:
                continue
            hit = at(
                dockerfile,
                instruction,
                _arg_env_message(dockerfile, instruction, name, graded, chain),
                fingerprint=graded.match.fingerprint,
            )
            yield hit if graded.certain else replace(hit, severity=Severity.WARNING)


def _arg_env_message(
    dockerfile: Dockerfile,
    instruction: Instruction,
    name: str,
    graded: Literal,
    chain: frozenset[int],
) -> str:
    match = graded.match
    where = _where(dockerfile, instruction, chain)
    if instruction.cmd in ("ENV", "LABEL") and instruction.stage in chain:
        consequence = "baked into the image config, readable with docker inspect"
    elif instruction.cmd in ("ENV", "LABEL"):
        consequence = "kept in the build cache and in git"
    else:
        consequence = "recorded in the image history, the build cache and git"
    if not graded.certain and match.kind == "placeholder-credential":
        return (
            f"{instruction.cmd} {name} in {where} sets a placeholder or default credential "
            f"({match.redacted}), {consequence}: wherever nobody overrides it, it is a "
            "credential everyone knows"
        )
    what = lower_first(match.description)
    if not graded.certain:
        what += " (test-mode or local, still a credential)"
    return f"{instruction.cmd} {name} in {where} holds a literal {what} ({match.redacted}): {consequence}"


# ---------------------------------------------------------------------------------------------
# DW502: credential build args consumed by RUN in the shipped image


class SecretMount(Struct, frozen=True):
    id: str
    target: str
    env: str | None


def secret_mounts(run: Instruction) -> list[SecretMount]:
    """The `--mount=type=secret,...` of a RUN, with BuildKit's default target."""
    mounts = []
    for options in run.mounts():
        if options["type"] != "secret":
            continue
        target = options.get("target")
        secret_id = options.get("id") or (target.rsplit("/", 1)[-1] if target else "")
        mounts.append(
            SecretMount(secret_id, target or f"/run/secrets/{secret_id}", options.get("env"))
        )
    return mounts


def _mount_targets(run: Instruction, types: Iterable[str]) -> list[str]:
    wanted = set(types)
    return [
        m["target"].rstrip("/") or "/"
        for m in run.mounts()
        if m["type"] in wanted and m.get("target")
    ]


def _covers(run: Instruction, name: str) -> bool:
    """True when the RUN gets `name` from a secret mount rather than from the build arg."""
    lowered = name.lower()
    return any(mount.env == name or mount.id.lower() == lowered for mount in secret_mounts(run))


def _credential_args(stage: Stage) -> Iterator[tuple[Instruction, str]]:
    for instruction in stage.all("ARG"):
        for name, _default in key_values(instruction):
            if is_credential_name(name):
                yield instruction, name


def _exposed_run(
    dockerfile: Dockerfile, stage: Stage, arg: Instruction, name: str
) -> tuple[Instruction, bool] | None:
    """The first RUN after the ARG that sees the build arg: (run, references it by name).

    When no RUN names the argument and the stage already takes its credentials from secret
    mounts, the ARG is a leftover nobody passes: not reported.
    """
    first_seeing: Instruction | None = None
    uses_secret_mounts = False
    for run in dockerfile.runs(stage):
        if run.start_line <= arg.start_line or name not in run.arg_names:
            continue
        uses_secret_mounts = uses_secret_mounts or bool(secret_mounts(run))
        if _covers(run, name):
            continue
        if name in references(run.script) or name in references(" ".join(run.flags)):
            return run, True
        first_seeing = first_seeing or run
    if first_seeing is None or uses_secret_mounts:
        return None
    return first_seeing, False


@dockerfile_rule(
    "DW502",
    lesson="secrets",
    severity="error",
    title="Credential build argument used by RUN in the shipped image",
    why="""
        Build arguments are not secrets: every RUN after an `ARG` records the argument's
        value in the image history (`docker history` shows `|1 NPM_TOKEN=npm_... /bin/sh -c
        npm ci`), and `ENV TOKEN=$TOKEN` copies it into the image config. Anyone who can
        pull the image reads the token. ARGs of builder stages are not reported: a builder's
        history does not ship.
    """,
    fix="""
        Use a secret mount, which is never recorded:
        `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci` (Dockerfile syntax 1.10+)
        or `--mount=type=secret,id=npmrc,target=/root/.npmrc`, built with
        `docker build --secret id=npm_token,env=NPM_TOKEN .`; remove the ARG.
    """,
    bad="""
        FROM node:20-slim
        ARG NPM_TOKEN
        COPY package.json package-lock.json .npmrc.ci ./
        RUN NPM_CONFIG_USERCONFIG=.npmrc.ci NODE_AUTH_TOKEN=$NPM_TOKEN npm ci --omit=dev
        CMD ["node", "server.js"]
    """,
    good="""
        # syntax=docker/dockerfile:1.10
        FROM node:20-slim
        COPY package.json package-lock.json ./
        RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci --omit=dev
        CMD ["node", "server.js"]
    """,
    also=["trivy:DS-0031"],
)
def credential_build_arg(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.shipped_chain():
        yield from _args_used_by_run(dockerfile, stage)
        yield from _env_from_args(dockerfile, stage)


def _args_used_by_run(dockerfile: Dockerfile, stage: Stage) -> Iterator[Hit]:
    for arg, name in _credential_args(stage):
        exposed = _exposed_run(dockerfile, stage, arg, name)
        if exposed is None:
            continue
        run, by_name = exposed
        verb = "used by" if by_name else "visible to"
        yield at(
            dockerfile,
            arg,
            f"build argument {name} is {verb} the RUN at line {run.start_line} of stage "
            f"{stage.label}: its value is recorded in the shipped image's history",
            related=(Related(dockerfile.relpath, run.start_line, f"RUN that sees {name}"),),
        )


def _env_from_args(dockerfile: Dockerfile, stage: Stage) -> Iterator[Hit]:
    declared: set[str] = set()
    for instruction in stage.instructions:
        if instruction.cmd == "ARG":
            declared.update(name for name, _ in key_values(instruction))
        if instruction.cmd != "ENV":
            continue
        for name, value in key_values(instruction):
            used = sorted(references(value or "") & declared)
            if used and is_credential_name(name):
                yield at(
                    dockerfile,
                    instruction,
                    f"ENV {name} copies build argument {used[0]} into the image config of "
                    f"stage {stage.label}: anyone who pulls the image can read it",
                )


# ---------------------------------------------------------------------------------------------
# DW503: COPY/ADD of key and credential files


_TEMPLATE = lazy_compile(
    r"(?i)(?:^|[._-])(example|sample|template|dist|tpl|tmpl|defaults?)(?:$|[._-])"
)
_SSH_KEYS = frozenset(
    ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"]
)
_CREDENTIAL_BASENAMES = {
    ".npmrc": "npm credentials (.npmrc)",
    ".pypirc": "PyPI credentials (.pypirc)",
    ".netrc": "netrc credentials",
    "_netrc": "netrc credentials",
    ".git-credentials": "git credentials",
    ".pgpass": "PostgreSQL password file",
    ".vault-token": "Vault token",
    "credentials.json": "credentials file",
    "kubeconfig": "kubeconfig",
}
_CREDENTIAL_FOLDERS = {
    ".ssh": "SSH folder",
    ".aws": "AWS credentials folder",
    ".kube": "kubeconfig folder",
    ".gnupg": "GnuPG keyring folder",
    ".docker": "Docker credentials folder",
}
_CREDENTIAL_SUFFIXES = {
    ".aws/credentials": "AWS credentials",
    ".docker/config.json": "Docker registry credentials",
    ".kube/config": "kubeconfig",
}
# certificates and signing keys that are public by nature
_PUBLIC_KEY_WORDS = frozenset(
    [
        "cert",
        "certs",
        "certificate",
        "ca",
        "cacert",
        "chain",
        "fullchain",
        "bundle",
        "root",
        "pub",
        "public",
        "trust",
        "truststore",
        "crt",
        "release",
        "repo",
        "apt",
        "archive",
        "keyring",
        "signing",
        "gpg",
    ]
)


def credential_file_name(path: str) -> str | None:
    """What credential a file (or folder) is by its name alone, or None."""
    lowered = path.replace("\\", "/").rstrip("/").lower()
    base = lowered.rsplit("/", 1)[-1]
    stem, _dot, ext = base.rpartition(".") if "." in base.lstrip(".") else (base, "", "")
    if _is_dotenv(base):
        return "dotenv file"
    if base in _SSH_KEYS:
        return "SSH private key"
    for suffix, kind in _CREDENTIAL_SUFFIXES.items():
        if lowered == suffix or lowered.endswith("/" + suffix):
            return kind
    if base in _CREDENTIAL_BASENAMES:
        return _CREDENTIAL_BASENAMES[base]
    if base in _CREDENTIAL_FOLDERS:
        return _CREDENTIAL_FOLDERS[base]
    if ext == "json" and re.match(r"(service[-_]?account|client[-_]secret)", stem):
        return "service account key"
    if ext in ("p12", "pfx"):
        return "PKCS#12 key store"
    if ext in ("pem", "key") and not set(re.split(r"[._\-]", stem)) & _PUBLIC_KEY_WORDS:
        return "private key"
    return None


def _is_dotenv(base: str) -> bool:
    if not (base == ".env" or base.startswith(".env.") or base.endswith(".env")):
        return False
    rest = base.removeprefix(".env").removesuffix(".env")
    return not _TEMPLATE.search(rest)


def _copy_paths(instruction: Instruction) -> tuple[list[str], str | None]:
    """(sources, destination) of a COPY/ADD, variables expanded; remote sources left out."""
    if instruction.is_heredoc_script or len(instruction.value) < 2:
        return [], None
    *sources, destination = (instruction.expanded(v) for v in instruction.value)
    local = [s for s in sources if "://" not in s and not s.startswith("git@")]
    return local, destination


def _copied_credentials(instruction: Instruction) -> Iterator[tuple[str, str]]:
    sources, destination = _copy_paths(instruction)
    found = False
    for source in sources:
        kind = credential_file_name(source)
        if kind is not None:
            found = True
            yield source, kind
    templates = any(_TEMPLATE.search(s.rsplit("/", 1)[-1]) for s in sources)
    if found or templates or destination is None or destination.endswith("/"):
        return
    kind = credential_file_name(destination)
    if kind is not None and len(sources) == 1:
        yield destination, kind


@dockerfile_rule(
    "DW503",
    lesson="secrets",
    severity="error",
    title="COPY/ADD of a key or credential file",
    why="""
        A key or credential file copied into an image is in one of its layers for good: a
        later `RUN rm` hides it from the final filesystem but not from the layer, and
        anyone who pulls the image extracts it. In a builder stage it still sits in the
        build cache (an error in the shipped image, a warning in a builder stage).
        A key written by a heredoc (`COPY <<EOF /root/.ssh/id_ed25519`) is found by its
        content. Files that are often configuration only (`.npmrc`, `.pypirc`, `*.pem`)
        are judged by their content in the build context: not reported when it holds no
        credential; when dockwise cannot read it, a warning (an info "could not verify" for
        `.npmrc` and `.pypirc`, which mostly hold settings). A test fixture (`tests/`,
        `fixtures/`, a test Dockerfile) is a warning: most likely a fake, shipped all the
        same; a test image taking its own fixture (`tests/Dockerfile` copying
        `tests/ssl/private.pem`) is info.
        Certificates and repository signing keys (`ca.pem`, `fullchain.pem`, `Release.key`)
        are public and not reported; `.env.example` and other templates neither.
    """,
    fix="""
        Do not copy it: add it to `.dockerignore`, and mount it only for the step that needs
        it: `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`,
        `RUN --mount=type=ssh git clone ...`; at runtime, mount it from a secret store.
    """,
    bad={
        "Dockerfile": (
            "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json .npmrc ./\n"
            'RUN npm ci --omit=dev\nCMD ["node", "server.js"]\n'
        ),
        "package.json": '{"name": "app", "version": "1.0.0"}\n',
        "package-lock.json": '{"name": "app", "lockfileVersion": 3}\n',
        ".npmrc": "//registry.npmjs.org/:_authToken=npm_Z7xQk2LmP9vR4sT8wY1bN6cD3fG5hJ0aKqWe\n",
    },
    good="""
        FROM node:20-slim
        WORKDIR /app
        COPY package.json package-lock.json .env.example ./
        RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci --omit=dev
        CMD ["node", "server.js"]
    """,
    also=["trivy:DS-0031", "dockle:CIS-DI-0010"],
)
def copied_credential_file(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    chain = _chain_indices(dockerfile)
    context = project.contexts.get(dockerfile.relpath) if dockerfile.path else None
    for instruction in dockerfile.iter_instructions():
        if instruction.cmd not in ("COPY", "ADD"):
            continue
        shipped = instruction.stage in chain
        where = _where(dockerfile, instruction, chain)
        consequence = "it ships in the image layers" if shipped else "it stays in the build cache"
        yield from _heredoc_credentials(dockerfile, instruction, where, consequence, shipped)
        for path, kind in _copied_credentials(instruction):
            verdict = _content_verdict(context, path, shipped)
            if verdict is False:
                continue  # the file is in the build context and holds no credential
            message = f"{instruction.cmd} in {where} takes {path} ({kind}): {consequence}"
            certain = shipped and (verdict is True or kind not in _CONTENT_DEPENDENT)
            if verdict is None and kind in _OFTEN_CONFIG:
                # named like a credential file, but most hold settings only: a guess
                message += (
                    "; could not verify: dockwise could not read it to see whether it holds "
                    "a credential (most hold settings only)"
                )
                yield replace(at(dockerfile, instruction, message), severity=Severity.INFO)
                continue
            if is_fixture(path) and _test_image(dockerfile, project):
                # a test image taking its own fixture: the key is there for the tests
                message += " (a fixture of this test image: most likely made for the tests)"
                yield replace(at(dockerfile, instruction, message), severity=Severity.INFO)
                continue
            if is_fixture(path) or is_fixture(dockerfile.relpath):
                certain = False
                message += " (a test or CI fixture, but the image carries it all the same)"
            elif verdict is None and kind in _CONTENT_DEPENDENT:
                message += "; dockwise could not read it to see whether it holds a credential"
            hit = at(dockerfile, instruction, message)
            yield hit if certain else replace(hit, severity=Severity.WARNING)


def _test_image(dockerfile: Dockerfile, project: Project) -> bool:
    """A test or CI image (its path, or the role the project gives it)."""
    if is_fixture(dockerfile.relpath):
        return True
    reason = not_a_service(dockerfile, project)
    return reason is not None and reason.kind == "tooling"


# credential-file names that mostly hold configuration (`.npmrc`: registry, engine-strict;
# `.pypirc`: repository URLs): unread, they are reported as "could not verify" (info)
_OFTEN_CONFIG = frozenset({"npm credentials (.npmrc)", "PyPI credentials (.pypirc)"})


# names whose file is often configuration only: its content decides
_CONTENT_DEPENDENT = frozenset(
    {
        "npm credentials (.npmrc)",
        "PyPI credentials (.pypirc)",
        "netrc credentials",
        "credentials file",
        "kubeconfig",
        "Docker registry credentials",
        "private key",
        "service account key",
    }
)


def _content_verdict(context: BuildContext | None, path: str, shipped: bool) -> bool | None:
    """True: the build-context file holds a credential; False: it is there and holds none;
    None: not known (no context, a glob, a folder, or a file the checkout does not have)."""
    if context is None:
        return None
    relpath = path.lstrip("/").removeprefix("./")
    if relpath not in context.by_path:
        return None
    if not shipped:
        return relpath in context.builder_credentials
    content = context.contents.get(relpath)
    if content is None or content.skipped:
        return None
    return content.credential_kind is not None or bool(content.secrets)


def _heredoc_credentials(
    dockerfile: Dockerfile, instruction: Instruction, where: str, consequence: str, shipped: bool
) -> Iterator[Hit]:
    """`COPY <<EOF /root/.ssh/id_ed25519`: the Dockerfile writes the key itself."""
    if not instruction.heredocs:
        return
    seen: set[str] = set()
    for heredoc in instruction.heredocs:
        for match in scan_text(heredoc.content):
            if match.fingerprint in seen or "$" in match.value:
                continue
            seen.add(match.fingerprint)
            hit = at(
                dockerfile,
                instruction,
                f"{instruction.cmd} in {where} writes a credential from a heredoc "
                f"({match.description}, {match.redacted}): {consequence}, and the Dockerfile "
                "holds it",
                fingerprint=match.fingerprint,
            )
            certain = shipped and match.confidence != "low" and not is_fixture(dockerfile.relpath)
            yield hit if certain else replace(hit, severity=Severity.WARNING)


_FIXTURE_PATH = lazy_compile(
    r"(?i)(?:^|/)(?:tests?|testing|testdata|test_data|fixtures?|__tests__|e2e|cypress|\.ci)/"
    r"|(?:^|/)(?:tests?\.py|test_[^/]*|[^/]*_test\.[a-z]+|conftest\.py|[^/]*\.test)$"
)


def is_fixture(path: str) -> bool:
    """A test fixture or CI file: `tests/`, `test_x.py`, `x_test.go`, `conftest.py`,
    `testdata/`, `fixtures/`, `.ci/`, `Dockerfile.test`."""
    return _FIXTURE_PATH.search(path.replace("\\", "/")) is not None


# ---------------------------------------------------------------------------------------------
# DW504: credentials on RUN command lines


_LOGIN_TOOLS = frozenset(["docker", "podman", "buildah", "skopeo", "nerdctl", "helm", "oras"])
_MYSQL_TOOLS = frozenset(
    ["mysql", "mysqldump", "mysqladmin", "mysqlimport", "mariadb", "mariadb-dump", "mariadb-admin"]
)
_ECHO = frozenset(["echo", "printf"])


def _is_literal(value: str) -> bool:
    """A value written into the command itself, not a variable, prompt or template marker."""
    text = value.strip().strip("\"'")
    if not text or text == "-" or "$" in text or "{{" in text:
        return False
    marker = text.startswith("<") and text.endswith(">")
    return not marker and bool(set(text) - set("x*."))


def _option_value(command: ShellCommand, short: str | None, long: str | None) -> str | None:
    """Value of `-pVALUE` / `-p VALUE` / `--password=VALUE` / `--password VALUE`."""
    args = command.args
    for index, arg in enumerate(args):
        if long and arg.startswith(long + "="):
            return arg.partition("=")[2]
        if arg in (short, long) and index + 1 < len(args):
            return args[index + 1]
        if short and arg.startswith(short) and len(arg) > len(short) and not arg.startswith("--"):
            return arg[len(short) :]
    return None


def _password_flags(commands: tuple[ShellCommand, ...]) -> Iterator[tuple[str, str]]:
    """(what, literal password) passed through well-known password options."""
    for index, command in enumerate(commands):
        name = command.name
        if name in _LOGIN_TOOLS and "login" in command.positional():
            value = _option_value(command, "-p", "--password")
            if value is not None and _is_literal(value):
                yield f"{name} login -p", value
            if command.has_flag("--password-stdin") and index and command.piped:
                feeder = commands[index - 1]
                words = [a for a in feeder.args if not a.startswith("-")]
                if feeder.name in _ECHO and words and _is_literal(words[-1]):
                    yield f"{feeder.name} | {name} login --password-stdin", words[-1]
        elif name in _MYSQL_TOOLS:
            value = _attached_mysql_password(command)
            if value is not None and _is_literal(value):
                yield f"{name} -p", value
        elif name == "sshpass":
            value = _option_value(command, "-p", None)
            if value is not None and _is_literal(value):
                yield "sshpass -p", value
        elif name in ("curl", "wget"):
            yield from _http_user_passwords(command)


def _attached_mysql_password(command: ShellCommand) -> str | None:
    for arg in command.args:
        if arg.startswith("--password="):
            return arg.partition("=")[2]
        if arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2:
            return arg[2:]  # `-p` alone prompts; `-p secret` makes "secret" the database
    return None


def _http_user_passwords(command: ShellCommand) -> Iterator[tuple[str, str]]:
    if command.name == "curl":
        user = _option_value(command, "-u", "--user")
        if user and ":" in user and _is_literal(user.partition(":")[2]):
            yield "curl -u user:password", user.partition(":")[2]
        return
    for flag in ("--password", "--http-password", "--ftp-password"):
        value = _option_value(command, None, flag)
        if value is not None and _is_literal(value):
            yield f"wget {flag}", value


def _assignment_secrets(commands: tuple[ShellCommand, ...]) -> Iterator[SecretMatch]:
    """`PGPASSWORD=Xk29fj!aPq7 psql ...`: a credential in a command's environment prefix.

    Only values the detector judges to be credentials: a build step is often given a
    throwaway one (`SECRET_KEY=build-key ./manage.py collectstatic`), which is no leak.
    """
    for command in commands:
        for assignment in command.assignments:
            name, _sep, value = assignment.partition("=")
            text = value.strip()
            if not text or references(text) or _PATH_VALUE.match(text):
                continue
            match = scan_value(text, name)
            if match is not None and match.confidence != "low":
                yield match


def _after_boolean_flag(script: str, value: str) -> bool:
    """`--password-stdin registry`: the word after a flag that takes no value is no password.

    Works around the shared detector reading such words as assigned passwords.
    """
    return re.search(rf"--[\w-]*(?:stdin|file)\s+['\"]?{re.escape(value)}", script) is not None


def run_line_secrets(run: Instruction) -> list[SecretMatch]:
    """Literal credentials in a RUN's script, one per distinct value."""
    found: dict[str, SecretMatch] = {}
    for match in scan_text(run.script):
        if "$" not in match.value and not _after_boolean_flag(run.script, match.value):
            found.setdefault(match.value, match)
    for what, value in _password_flags(run.commands):
        found.setdefault(
            value.strip("\"'"),
            _secret("password-assignment", f"password ({what})", value.strip("\"'")),
        )
    for match in _assignment_secrets(run.commands):
        found.setdefault(match.value, match)
    return list(found.values())


@dockerfile_rule(
    "DW504",
    lesson="secrets",
    severity="error",
    title="Credential on a RUN command line",
    why="""
        The text of every RUN is stored in the image history (`docker history
        --no-trunc`) and in the Dockerfile in git: a token in a clone URL, an index URL, a
        `docker login -p`, `mysql -pSecret` or `curl -u user:pass` is readable by everyone
        with the image or the repository, for as long as the credential lives.
    """,
    fix="""
        Read the credential from a secret mount at build time:
        `RUN --mount=type=secret,id=pypi_token,env=PYPI_TOKEN pip install --index-url
        "https://__token__:${PYPI_TOKEN}@pypi.example.com/simple" -r requirements.txt`,
        `--password-stdin < /run/secrets/registry`; rotate the exposed credential.
    """,
    bad="""
        FROM python:3.11-slim
        RUN git clone https://deploy:Zk3v9Q2mX8pLr7Tw@github.com/acme/shop.git /app
    """,
    good="""
        # syntax=docker/dockerfile:1.10
        FROM python:3.11-slim
        RUN --mount=type=secret,id=gh_token,env=GH_TOKEN \\
            git clone "https://x-access-token:${GH_TOKEN}@github.com/acme/shop.git" /app
    """,
    also=["dockle:CIS-DI-0010"],
)
def credential_on_run_line(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    chain = _chain_indices(dockerfile)
    for run in dockerfile.runs():
        for match in run_line_secrets(run):
            where = _where(dockerfile, run, chain)
            yield at(
                dockerfile,
                run,
                f"RUN in {where} has a literal {lower_first(match.description)} ({match.redacted}) "
                "in its command line, recorded in the image history and in git",
                fingerprint=match.fingerprint,
            )


# ---------------------------------------------------------------------------------------------
# DW505: a secret mount written into the image


_SEGMENTS = lazy_compile(r"&&|\|\||;|\n")
_REDIRECT = lazy_compile(r"(?<![0-9&<>])>>?\s*([^\s;&|<>()]+)")
_TEE = lazy_compile(r"\btee\s+(?:-a\s+|--append\s+)?([^\s;&|<>()]+)")
_ASSIGNED_FROM = lazy_compile(
    r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:\$\(.*\)|\"[^\"]*\"|'[^']*'|\S+)\s*$"
)
_FIRST_WORD = lazy_compile(
    r"^\s*(?:(?:export|sudo|exec)\s+|[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*([^\s|]+)"
)
_OUTPUT_COMMANDS = frozenset(
    ["cat", "echo", "printf", "envsubst", "sed", "tr", "base64", "head", "tail", "awk", "jq"]
)
_COPY_COMMANDS = frozenset(["cp", "mv", "install", "rsync"])
_CONFIG_WRITERS = {
    ("npm", "config"): "~/.npmrc",
    ("pnpm", "config"): "~/.npmrc",
    ("yarn", "config"): "~/.yarnrc",
    ("git", "config"): "~/.gitconfig",
    ("pip", "config"): "pip.conf",
    ("poetry", "config"): "poetry's auth.toml",
    ("composer", "config"): "composer's auth.json",
}
_REMOVERS = frozenset(["rm", "shred", "unlink"])


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment, comments=False)
    except ValueError:
        return segment.split()


def _secret_refs(segment: str, paths: list[str], names: set[str]) -> bool:
    return any(p in segment for p in paths) or bool(references(segment) & names)


def _written_to(segment: str, paths: list[str]) -> list[str]:
    """Where a segment that reads a secret writes it: redirect, tee, cp, config tools."""
    first = _FIRST_WORD.match(segment)
    command = first.group(1).rsplit("/", 1)[-1] if first else ""
    targets: list[str] = []
    if command in _OUTPUT_COMMANDS:
        targets += _REDIRECT.findall(segment)
    targets += _TEE.findall(segment)
    words = _words(segment)
    if command in _COPY_COMMANDS:
        operands = [w for w in words[1:] if not w.startswith("-")]
        if len(operands) >= 2 and any(p in o for o in operands[:-1] for p in paths):
            targets.append(operands[-1])
    if len(words) >= 2 and (command, words[1]) in _CONFIG_WRITERS:
        targets.append(_CONFIG_WRITERS[(command, words[1])])
    return [t for t in targets if not t.startswith(("/dev/", "&")) and t not in paths]


def _harmless(target: str, later: list[str], tmp_mounts: list[str]) -> bool:
    """Written under a tmpfs/cache mount, or removed later in the same RUN."""
    clean = target.strip("\"'")
    if any(clean == m or clean.startswith(m + "/") for m in tmp_mounts):
        return True
    return any(_removes(_words(segment), clean) for segment in later)


_CONFIG_UNSETS = frozenset(["delete", "unset", "--unset", "--unset-all", "rm", "remove"])


def _removes(words: list[str], target: str) -> bool:
    if not words:
        return False
    command = words[0].rsplit("/", 1)[-1]
    tool = (command, words[1] if len(words) > 1 else "")
    if target in _CONFIG_WRITERS.values() and tool in _CONFIG_WRITERS:
        return bool(_CONFIG_UNSETS.intersection(words))
    if command not in _REMOVERS:
        return False
    base = target.rstrip("/").rsplit("/", 1)[-1]
    operands = [w.rstrip("/") for w in words[1:] if not w.startswith("-")]
    return any(
        w in (target, base) or w.endswith("/" + base) or target.startswith(w + "/")
        for w in operands
    )


def secret_written(run: Instruction) -> list[tuple[SecretMount, str]]:
    """(mount, destination) for each secret a RUN writes to the image filesystem."""
    mounts = secret_mounts(run)
    if not mounts:
        return []
    paths = [m.target for m in mounts]
    names = {m.env for m in mounts if m.env}
    tmp_mounts = _mount_targets(run, ("tmpfs", "cache", "bind")) + ["/run/secrets"]
    segments = [s for s in _SEGMENTS.split(run.script) if s.strip()]
    written: list[tuple[SecretMount, str]] = []
    for index, segment in enumerate(segments):
        if not _secret_refs(segment, paths, names):
            continue
        assigned = _ASSIGNED_FROM.match(segment)
        if assigned:  # TOKEN=$(cat /run/secrets/token): the variable now holds the secret
            names.add(assigned.group(1))
            continue
        for target in _written_to(segment, paths):
            if not _harmless(target, segments[index + 1 :], tmp_mounts):
                mount = next((m for m in mounts if m.target in segment), mounts[0])
                written.append((mount, target))
    return written


@dockerfile_rule(
    "DW505",
    lesson="secrets",
    severity="warning",
    title="Secret mount written into the image",
    why="""
        `--mount=type=secret` keeps a credential out of the image only if the RUN does not
        copy it into the filesystem: `cat /run/secrets/npmrc > ~/.npmrc`, `cp` of the
        secret, or `npm config set ...:_authToken=$NPM_TOKEN` writes it into the layer,
        where anyone who pulls the image reads it. Writing it and deleting it in the same
        RUN, or writing into a tmpfs or cache mount, is fine.
    """,
    fix="""
        Mount the secret where the tool reads it: `--mount=type=secret,id=npmrc,target=/root/.npmrc`,
        or as an environment variable with `env=NPM_TOKEN`; if a file must be written, remove
        it in the same RUN.
    """,
    bad="""
        FROM node:20-slim
        RUN --mount=type=secret,id=npmrc cp /run/secrets/npmrc /root/.npmrc && npm ci
    """,
    good="""
        FROM node:20-slim
        RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
    """,
)
def secret_mount_written(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for run in dockerfile.runs():
        for mount, target in secret_written(run):
            yield at(
                dockerfile,
                run,
                f"RUN writes secret {mount.id} to {target}: it lands in the image layer, "
                "which defeats the secret mount",
            )


# ---------------------------------------------------------------------------------------------
# DW506: credentials in the command the image runs (CMD, ENTRYPOINT, HEALTHCHECK)


_VALUELESS_FLAG_ENDINGS = ("stdin", "file", "-fd", "-env", "-var", "-command", "-cmd")


def _credential_flag(arg: str) -> str | None:
    """The option name of `--password`, `--api-token`, `--db-pass` (value in the next
    argument or after `=`); None for other arguments and for `--password-file`/`-stdin`."""
    if not arg.startswith("--") or len(arg) < 4:
        return None
    name = arg[2:].partition("=")[0]
    if name.lower().endswith(_VALUELESS_FLAG_ENDINGS) or not is_credential_name(name):
        return None
    return name


def _flag_credentials(args: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(option, literal value) of every credential option in an argument list."""
    for index, arg in enumerate(args):
        name = _credential_flag(arg)
        if name is None:
            continue
        if "=" in arg:
            value = arg.partition("=")[2]
        elif index + 1 < len(args) and not args[index + 1].startswith("-"):
            value = args[index + 1]
        else:
            continue
        value = value.strip().strip("\"'")
        if value and "$" not in value and value.lower() not in _NOT_A_VALUE:
            yield f"--{name}", value


# URL schemes are short: an unbounded `[\w+.\-]*` before `://` rescanned a run of
# letters from every position (30,000 letters: 4 s, issue 6)
_URL_PASSWORD = lazy_compile(r"[A-Za-z][\w+.\-]{0,31}://[^\s:/?#@'\"]*:(?P<pw>[^\s/?#@'\"]+)@")


def command_credentials(instruction: Instruction) -> list[Literal]:
    """Literal credentials in a CMD/ENTRYPOINT/HEALTHCHECK command line, graded."""
    args = instruction.value[1:] if instruction.cmd == "HEALTHCHECK" else instruction.value
    if instruction.cmd == "HEALTHCHECK" and (
        not instruction.value or instruction.value[0] != "CMD"
    ):
        return []
    words: list[str] = []
    for arg in args:
        words.extend(_words(arg) if not instruction.json else [arg])
    return argv_credentials(tuple(args), tuple(words))


def argv_credentials(args: tuple[str, ...], words: tuple[str, ...]) -> list[Literal]:
    """Literal credentials in a command line (`args` as written, `words` split like the
    shell that runs it would), graded: detector hits, URL passwords, credential options."""
    found: dict[str, Literal] = {}
    for match in scan_text(" ".join(args)):
        if "$" not in match.value:
            found.setdefault(match.value, Literal(match, certain=match.confidence != "low"))
    for url in _URL_PASSWORD.finditer(" ".join(args)):
        value = url.group("pw")
        if value not in found and "$" not in value and len(value) >= 3:
            match = _secret("url-password", "password in a URL", value)
            found[value] = Literal(match, certain=False)  # the detector judged it a placeholder
    for flag, value in _flag_credentials(words):
        if value in found:
            continue
        description = f"password ({flag})"
        if looks_like_placeholder(value):
            found[value] = Literal(_secret("placeholder-credential", description, value), False)
        else:
            found[value] = Literal(_secret("command-line-password", description, value), True)
    return list(found.values())


@dockerfile_rule(
    "DW506",
    lesson="secrets",
    severity="error",
    title="Credential in CMD, ENTRYPOINT or HEALTHCHECK",
    why="""
        The command an image runs is part of its configuration: `docker inspect` shows
        CMD, ENTRYPOINT and HEALTHCHECK to anyone who can pull the image, `ps` shows the
        arguments to anyone on the host, and the Dockerfile keeps them in git. A
        `--password hunter2`, `--token=...` or a URL with a password in them is published
        with every push. A placeholder (`--password changeme`) is reported as a warning:
        wherever nobody overrides it, it is a password everyone knows.
    """,
    fix="""
        Let the program read the credential at run time: from an environment variable set
        by the orchestrator (`--password-file /run/secrets/db_password`, or the variable the
        program reads), never from the image. In a HEALTHCHECK, call an endpoint that needs
        no credential, or read it from a mounted file inside the command.
    """,
    bad="""
        FROM python:3.11-slim
        COPY app.py /app/
        CMD ["python", "/app/app.py", "--db-password", "Zk3v9Q2mX8pLr7Tw"]
    """,
    good="""
        FROM python:3.11-slim
        COPY app.py /app/
        CMD ["python", "/app/app.py", "--db-password-file", "/run/secrets/db_password"]
    """,
)
def credential_in_command(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    chain = _chain_indices(dockerfile)
    for instruction in dockerfile.iter_instructions():
        if instruction.cmd not in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue
        shipped = instruction.stage in chain
        for graded in command_credentials(instruction):
            match = graded.match
            where = _where(dockerfile, instruction, chain)
            if graded.certain:
                what = f"a literal {lower_first(match.description)}"
            else:
                what = f"a placeholder or test-mode {lower_first(match.description)}"
            consequence = (
                "readable by anyone who pulls the image (docker inspect) and in git"
                if shipped
                else "kept in git and the build cache"
            )
            hit = at(
                dockerfile,
                instruction,
                f"{instruction.cmd} in {where} passes {what} ({match.redacted}): {consequence}",
                fingerprint=match.fingerprint,
            )
            certain = graded.certain and shipped
            yield hit if certain else replace(hit, severity=Severity.WARNING)


# ---------------------------------------------------------------------------------------------
# Build context: DW510-DW512, secrets in the files COPY/ADD take from the context
# A finding points at the secret itself (the context file and line) and names the COPY that
# takes it and the ignore line that let it through as related locations.
# ---------------------------------------------------------------------------------------------

# credential kinds whose whole file is the secret: reported once, at line 1
WHOLE_FILE_KINDS = frozenset(
    {"ssh-private-key", "private-key", "pgp-private-key", "putty-private-key", "pkcs12"}
    | {"java-keystore"}
)
CREDENTIAL_LABELS = {
    "dotenv": "env file",
    "ssh-private-key": "SSH private key",
    "private-key": "private key",
    "pgp-private-key": "PGP private key",
    "putty-private-key": "PuTTY private key",
    "pkcs12": "PKCS#12 key store",
    "java-keystore": "Java key store",
    "aws-credentials": "AWS credentials file",
    "npmrc-auth": "npm registry token file",
    "pypirc-auth": "PyPI credentials file",
    "netrc": "netrc credentials file",
    "git-credentials": "git credential store",
    "htpasswd": "htpasswd file",
    "pgpass": "PostgreSQL password file",
    "docker-config-auth": "Docker config with registry auths",
    "terraform-state": "Terraform state",
    "gcp-service-account": "GCP service-account key",
    "kubeconfig": "kubeconfig",
    "vault-token": "Vault token",
}


# --------------------------------------------------------------------------- DW510 / DW511


def _secret_hit(context: BuildContext, relpath: str, take: CopyTake, secret: SecretMatch) -> Hit:
    path = context.project_path(relpath)
    note, ignore_line = ignore_note(context, relpath)
    related = [copy_related(context, take, "copied into the image here")]
    if ignore_line is not None:
        related.append(ignore_line)
    doubt = _doubt(relpath, secret)
    hit = Hit(
        path,
        secret.line,
        f"{secret.description} {secret.redacted} in {path} reaches the image via "
        f"{take.instruction.cmd} at {copy_place(context, take)}; {note}"
        + (f" ({doubt[0]})" if doubt else ""),
        column=secret.column,
        related=tuple(related),
        fingerprint=secret.fingerprint,
    )
    return replace(hit, severity=doubt[1]) if doubt else hit


def _doubt(relpath: str, secret: SecretMatch) -> tuple[str, Severity] | None:
    """Why a secret in a copied file is worth less than an error, and what it is worth."""
    if secret.confidence == "low":  # made to be public: a test-mode key, a dev default
        if secret.value.startswith("django-insecure-"):
            why = "Django's startproject key next to DEBUG on: a development setup's key"
        else:
            why = "a test-mode key or a local default: worth removing, unlikely to open production"
        return why, Severity.INFO
    if is_fixture(relpath):
        if is_provider_token(secret.kind):  # a provider-issued token is real even in tests
            why = "a test or CI fixture, but in a provider's token format: likely a real token"
            return why, Severity.WARNING
        why = (
            "a test or CI fixture: likely a fake; keep test and CI folders out of the image "
            "with .dockerignore"
        )
        return why, Severity.INFO
    if secret.value.startswith("django-insecure-"):
        why = "Django marks this key insecure: a development key, unless production uses it"
        return why, Severity.WARNING
    return None


def _credential_hit(
    context: BuildContext, relpath: str, take: CopyTake, kind: str, *, shipped: bool
) -> Hit:
    path = context.project_path(relpath)
    label = CREDENTIAL_LABELS.get(kind, kind)
    note, ignore_line = ignore_note(context, relpath)
    place = f"{take.instruction.cmd} at {copy_place(context, take)}"
    if shipped:
        message = f"{label} {path} reaches the image via {place}; {note}"
        copied = "copied into the image here"
    else:
        message = (
            f"{label} {path} is copied into builder stage '{take.stage.label}' via {place}: "
            f"it does not ship, but stays in the build cache and any exported layer; {note}"
        )
        copied = "copied into a builder stage here"
    related = [copy_related(context, take, copied)]
    if ignore_line is not None:
        related.append(ignore_line)
    return Hit(
        path, 1, message, related=tuple(related), fingerprint=digest(kind, path, str(shipped))
    )


def _reports_per_secret(kind: str | None, secrets: tuple[SecretMatch, ...]) -> bool:
    """A key file is one finding (DW511); other files one finding per secret (DW510)."""
    return kind not in WHOLE_FILE_KINDS and bool(secrets)


_DOTENV_GOOD = "DEBUG=false\n"
_PRODUCTION_ENV = "DATABASE_URL=postgres://app:Zq8vW2nLk4TsR9yB@db.internal:5432/app\n"


@rule(
    "DW510",
    lesson="secrets",
    severity="error",
    title="A file copied into the image holds a secret",
    why="""
        A credential in a file that a COPY/ADD takes into the shipped image is readable by
        everyone who can pull the image, forever: deleting it in a later layer does not
        remove it, and registries, caches and CI artifacts keep copies. It usually gets
        there because `.dockerignore` does not exclude the file, or an `!` exception
        re-includes it.
    """,
    fix="""
        Exclude the file in `.dockerignore` (or drop the `!` line that re-includes it),
        rotate the credential, and give it to the container at run time (environment from
        the orchestrator's secret store, a mounted secret) or to the build with
        `RUN --mount=type=secret`.
    """,
    bad={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        ".env.production": _PRODUCTION_ENV,
        ".dockerignore": ".git\n.env*\n!.env.production\n",
    },
    good={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        ".env.production": _PRODUCTION_ENV,
        ".dockerignore": ".git\n.env*\n",
    },
    also=["dockle:CIS-DI-0010"],
)
def secret_in_copied_file(project: Project) -> Iterator[Hit]:
    found: dict[tuple[str, int | None, str], Pending] = {}
    # a Dockerfile's own secrets are reported at their instruction by the Dockerfile rules
    dockerfiles = {dockerfile.relpath for dockerfile in project.dockerfiles}
    for context in contexts(project):
        for relpath, content in context.contents.items():
            if not _reports_per_secret(content.credential_kind, content.secrets):
                continue
            if context.project_path(relpath) in dockerfiles:
                continue
            take = context.shipped_files[relpath]
            seen: set[tuple[int, str]] = set()
            for secret in content.secrets:
                if (secret.line, secret.fingerprint) in seen:
                    continue
                seen.add((secret.line, secret.fingerprint))
                merge(found, _secret_hit(context, relpath, take, secret))
    for pending in found.values():
        yield replace(pending.done(), severity=pending.hit.severity)  # done() drops it


_FAKE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "RkFLRS1LRVktRk9SLURPQ1MtT05MWS1GQUtFLUtFWS1GT1ItRE9DUy1PTkxZLUZBS0Ut\n"
    "S0VZLUZPUi1ET0NTLU9OTFktRkFLRS1LRVktRk9SLURPQ1MtT05MWQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


@rule(
    "DW511",
    lesson="secrets",
    severity="error",
    title="A credential file is copied into the image",
    why="""
        Private keys, `.env` files, cloud and registry credentials, kubeconfigs and
        Terraform state are credentials as a whole: once a COPY/ADD puts one in the shipped
        image, anyone who can pull the image holds it. SSH keys are found by content too,
        so a `deploy_key` without an extension is caught. Files whose individual secrets
        the detector can point at are reported per secret (DW510) instead.
    """,
    fix="""
        Exclude the file in `.dockerignore`, rotate the credential, and provide it at
        build time with `RUN --mount=type=secret` / `--mount=type=ssh`, or at run time
        from the orchestrator's secret store.
    """,
    bad={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        "deploy/deploy_key": _FAKE_KEY,
        ".dockerignore": ".git\n.env\n",
    },
    good={
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        "deploy/deploy_key": _FAKE_KEY,
        ".dockerignore": ".git\n.env\ndeploy/\n",
    },
    also=["dockle:CIS-DI-0010"],
)
def credential_file_in_image(project: Project) -> Iterator[Hit]:
    found: dict[tuple[str, int | None, str], Pending] = {}
    for context in contexts(project):
        for relpath, content in context.contents.items():
            kind = content.credential_kind
            if kind is None or _reports_per_secret(kind, content.secrets):
                continue
            take = context.shipped_files[relpath]
            merge(found, _credential_hit(context, relpath, take, kind, shipped=True))
    for pending in found.values():
        yield pending.done()


# --------------------------------------------------------------------------- DW512


@rule(
    "DW512",
    lesson="secrets",
    severity="warning",
    title="A credential file is copied into a builder stage",
    why="""
        A builder stage does not ship, but its layers stay in the build cache, in any
        `--cache-to` export and in images built with `--target` for that stage; anyone
        with access to the cache or the CI runner can read the file. `.npmrc`, `.pypirc`
        and deploy keys copied for a private install are the usual case.
    """,
    fix="""
        Mount the credential only for the step that needs it:
        `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci` (or
        `--mount=type=ssh`), and exclude the file in `.dockerignore`.
    """,
    bad={
        "Dockerfile": "FROM node:20 AS build\nWORKDIR /src\nCOPY package.json .npmrc ./\n"
        "RUN npm ci\nFROM node:20-slim\nCOPY --from=build /src/node_modules /app/node_modules\n",
        "package.json": "{}\n",
        ".npmrc": "//registry.npmjs.org/:_authToken=npm_Z7xQk2LmP9vR4sT8wY1bN6cD3fG5hJ0aKqWe\n",
        ".dockerignore": ".git\n",
    },
    good={
        "Dockerfile": "FROM node:20 AS build\nWORKDIR /src\nCOPY package.json ./\n"
        "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\nFROM node:20-slim\n"
        "COPY --from=build /src/node_modules /app/node_modules\n",
        "package.json": "{}\n",
        ".npmrc": "//registry.npmjs.org/:_authToken=npm_Z7xQk2LmP9vR4sT8wY1bN6cD3fG5hJ0aKqWe\n",
        ".dockerignore": ".git\n",
    },
)
def credential_file_in_builder(project: Project) -> Iterator[Hit]:
    found: dict[tuple[str, int | None, str], Pending] = {}
    for context in contexts(project):
        for relpath, kind in context.builder_credentials.items():
            take = context.builder_files[relpath]
            merge(found, _credential_hit(context, relpath, take, kind, shipped=False))
    for pending in found.values():
        yield pending.done()


# ---------------------------------------------------------------------------------------------
# DW520-DW526: compose services, Kubernetes containers and Secrets, the app's settings modules
# live in their own module; imported here so the registry finds them with the lesson.

from dockwise.rules import secrets_services as _services  # noqa: E402

credential_in_compose_environment = _services.RULES["credential_in_compose_environment"]
credential_in_compose_command = _services.RULES["credential_in_compose_command"]
credential_in_compose_build_arg = _services.RULES["credential_in_compose_build_arg"]
credential_in_container_env = _services.RULES["credential_in_container_env"]
credential_in_container_command = _services.RULES["credential_in_container_command"]
credential_in_secret_manifest = _services.RULES["credential_in_secret_manifest"]
secret_in_settings = _services.RULES["secret_in_settings"]
