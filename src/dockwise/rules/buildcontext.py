"""What `docker build` sends and what COPY/ADD take from it: size, secrets and hygiene.

The rules here come from several lessons (size 12x, secrets 51x, general 94x); each id
follows its own lesson's range. They read `project.contexts` (sources/context.py): the
files the ignore file lets through, what each COPY/ADD takes, and what the secret detector
saw in the files that reach a shipped stage. A secret finding points at the secret itself
(the context file and line) and names the COPY that takes it and the ignore line that let
it through as related locations.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import ItemsView, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockwise.findings import Hit, Related, rule

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.secrets import SecretMatch
    from dockwise.sources.context import BuildContext, CopyTake

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


# --------------------------------------------------------------------------- helpers


def _contexts(project: Project) -> Iterator[BuildContext]:
    yield from project.contexts.values()


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _entries(context: BuildContext, count: int = 3) -> str:
    return ", ".join(
        f"{context.project_path(name)} ({_size(size)})" for name, size in context.top_entries(count)
    )


def _copy_place(context: BuildContext, take: CopyTake) -> str:
    return f"{context.dockerfile.relpath}:{take.instruction.start_line}"


def _copy_related(context: BuildContext, take: CopyTake, message: str) -> Related:
    return Related(context.dockerfile.relpath, take.instruction.start_line, message)


def _stage_words(context: BuildContext, take: CopyTake) -> str:
    shipped = {stage.index for stage in context.dockerfile.shipped_chain()}
    return "the image" if take.stage.index in shipped else f"builder stage '{take.stage.label}'"


def _ignore_name(context: BuildContext) -> str:
    return context.ignore_relpath or ".dockerignore"


def _ignore_note(context: BuildContext, relpath: str) -> tuple[str, Related | None]:
    """Why the ignore file let `relpath` through: its text, and the line to point at."""
    if context.ignore is None:
        return "there is no .dockerignore", None
    name = _ignore_name(context)
    pattern = context.ignore.verdict(relpath).pattern
    if pattern is not None and pattern.exclusion:
        written = pattern.raw.strip()
        return (
            f"{name} line {pattern.line} `{written}` re-includes it",
            Related(name, pattern.line, f"`{written}` re-includes it here"),
        )
    return (
        f"no {name} pattern excludes it",
        Related(name, None, "no pattern here excludes it"),
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class _Pending:
    """One finding being gathered across Dockerfiles that share a context."""

    hit: Hit
    extra: list[Related] = field(default_factory=list)

    def done(self) -> Hit:
        if not self.extra:
            return self.hit
        related = self.hit.related + tuple(r for r in self.extra if r not in self.hit.related)
        return Hit(
            self.hit.path,
            self.hit.line,
            self.hit.message,
            column=self.hit.column,
            related=related,
            fingerprint=self.hit.fingerprint,
        )


def _merge(found: dict[tuple[str, int | None, str], _Pending], hit: Hit) -> None:
    """One finding per secret even when several Dockerfiles copy the same file."""
    key = (hit.path, hit.line, hit.fingerprint or hit.message)
    if key in found:
        found[key].extra.extend(hit.related)
    else:
        found[key] = _Pending(hit)


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


@dataclass
class _Junk:
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
        f"{entry.what} {shown} ({_size(entry.size)}, {entry.count} {files}) is sent in the "
        f"build context and {take.instruction.cmd} takes it into {_stage_words(context, take)}"
    )
    related: list[Related] = []
    if context.ignore is None:
        message += "; there is no .dockerignore"
    elif key.startswith("**/"):
        related.append(Related(_ignore_name(context), None, f"add `{key}` here"))
    else:
        note, line = _ignore_note(context, key)
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
    for context in _contexts(project):
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
        someone drops in the folder ships to the registry.
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
    for context in _contexts(project):
        if context.ignore is not None:
            continue
        take = next((t for t in context.copies if t.whole_context), None)
        if take is None:
            continue
        files = len(context.files)
        message = (
            f"{take.instruction.cmd} takes the whole build context "
            f"({_size(context.sent_bytes)} in {files} file{'' if files == 1 else 's'}) and "
            "there is no .dockerignore"
        )
        if context.files:
            message += f"; biggest entries: {_entries(context)}"
        yield Hit(context.dockerfile.relpath, take.instruction.start_line, message)


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
        Everything the ignore file lets through is sent to the builder and hashed on each
        build (remote builders and CI runners upload it every time). A context of hundreds
        of megabytes makes each build wait before the first instruction runs, and it
        usually holds data, archives or build output the image does not need.
    """,
    fix="""
        Exclude data sets, archives, build output and caches in `.dockerignore` (or use
        a whitelist: `*` then `!app/`); fetch large assets during the build or mount them
        at run time.
    """,
    bad=_GeneratedExample(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "print('hello')\n",
            "data/big.csv": _BIG_CSV,
        }
    ),
    good=_GeneratedExample(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "print('hello')\n",
            "data/big.csv": _BIG_CSV,
            ".dockerignore": "data/\n",
        }
    ),
)
def large_context(project: Project) -> Iterator[Hit]:
    for context in _contexts(project):
        total = context.sent_bytes
        if total <= LARGE_CONTEXT_BYTES:
            continue
        yield Hit(
            context.dockerfile.relpath,
            None,
            f"the build context sends {_size(total)} in {len(context.files)} files; "
            f"biggest entries: {_entries(context)}",
        )


# --------------------------------------------------------------------------- DW510 / DW511


def _secret_hit(context: BuildContext, relpath: str, take: CopyTake, secret: SecretMatch) -> Hit:
    path = context.project_path(relpath)
    note, ignore_line = _ignore_note(context, relpath)
    related = [_copy_related(context, take, "copied into the image here")]
    if ignore_line is not None:
        related.append(ignore_line)
    return Hit(
        path,
        secret.line,
        f"{secret.description} {secret.redacted} in {path} reaches the image via "
        f"{take.instruction.cmd} at {_copy_place(context, take)}; {note}",
        column=secret.column,
        related=tuple(related),
        fingerprint=secret.fingerprint,
    )


def _credential_hit(
    context: BuildContext, relpath: str, take: CopyTake, kind: str, *, shipped: bool
) -> Hit:
    path = context.project_path(relpath)
    label = CREDENTIAL_LABELS.get(kind, kind)
    note, ignore_line = _ignore_note(context, relpath)
    place = f"{take.instruction.cmd} at {_copy_place(context, take)}"
    if shipped:
        message = f"{label} {path} reaches the image via {place}; {note}"
        copied = "copied into the image here"
    else:
        message = (
            f"{label} {path} is copied into builder stage '{take.stage.label}' via {place}: "
            f"it does not ship, but stays in the build cache and any exported layer; {note}"
        )
        copied = "copied into a builder stage here"
    related = [_copy_related(context, take, copied)]
    if ignore_line is not None:
        related.append(ignore_line)
    return Hit(
        path, 1, message, related=tuple(related), fingerprint=_digest(kind, path, str(shipped))
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
    found: dict[tuple[str, int | None, str], _Pending] = {}
    # a Dockerfile's own secrets are reported at their instruction by the Dockerfile rules
    dockerfiles = {dockerfile.relpath for dockerfile in project.dockerfiles}
    for context in _contexts(project):
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
                _merge(found, _secret_hit(context, relpath, take, secret))
    for pending in found.values():
        yield pending.done()


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
    found: dict[tuple[str, int | None, str], _Pending] = {}
    for context in _contexts(project):
        for relpath, content in context.contents.items():
            kind = content.credential_kind
            if kind is None or _reports_per_secret(kind, content.secrets):
                continue
            take = context.shipped_files[relpath]
            _merge(found, _credential_hit(context, relpath, take, kind, shipped=True))
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
    found: dict[tuple[str, int | None, str], _Pending] = {}
    for context in _contexts(project):
        for relpath, kind in context.builder_credentials.items():
            take = context.builder_files[relpath]
            _merge(found, _credential_hit(context, relpath, take, kind, shipped=False))
    for pending in found.values():
        yield pending.done()


# --------------------------------------------------------------------------- DW941 / DW942


def _ignore_files(project: Project) -> Iterator[BuildContext]:
    """One context per ignore file (several Dockerfiles may share one)."""
    seen: set[str] = set()
    for context in _contexts(project):
        if context.ignore is None or context.ignore_relpath in seen:
            continue
        seen.add(context.ignore_relpath or "")
        yield context


@rule(
    "DW941",
    lesson="general",
    severity="error",
    title=".dockerignore line that Docker rejects",
    why="""
        Docker compiles every ignore pattern before the build starts; a malformed pattern
        (an unclosed `[`, a trailing `\\`) or an over-long line makes `docker build` fail
        with "syntax error in pattern" before the first instruction runs.
    """,
    fix="""
        Fix the pattern: close character classes (`[abc]`), escape a literal `[` as `\\[`,
        and drop trailing backslashes.
    """,
    bad={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\nlogs/[abc\n",
    },
    good={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\nlogs/[abc]\n",
    },
)
def rejected_ignore_line(project: Project) -> Iterator[Hit]:
    for context in _ignore_files(project):
        assert context.ignore is not None
        for line, message in context.ignore.errors:
            yield Hit(
                _ignore_name(context),
                line or None,
                f"Docker rejects this ignore line: {message}",
            )


@rule(
    "DW942",
    lesson="general",
    severity="warning",
    title=".dockerignore line that does not do what it seems",
    why="""
        Docker reads `.dockerignore` differently from `.gitignore`: `#` starts a comment
        only in column 1 (`*.log  # logs` is one pattern that matches nothing), a leading
        space before `#` makes the line a pattern, a backslash escapes instead of
        separating folders, and an `!` exception with nothing excluded before it does
        nothing. The file the author meant to exclude is silently sent.
    """,
    fix="""
        Put comments on their own line starting in column 1, use `/` between folders, and
        order exceptions after the pattern they carve out of.
    """,
    bad={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\n*.log  # logs\n",
    },
    good={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\n# logs\n*.log\n",
    },
)
def suspicious_ignore_line(project: Project) -> Iterator[Hit]:
    for context in _ignore_files(project):
        assert context.ignore is not None
        for line, message in context.ignore.suspicious:
            yield Hit(_ignore_name(context), line or None, message)


# --------------------------------------------------------------------------- DW943


def _source_outside(take: CopyTake) -> str | None:
    for source in take.sources:
        cleaned = os.path.normpath(source)
        if cleaned == ".." or cleaned.startswith("../"):
            return source
    return None


def _unsendable(context: BuildContext) -> Iterator[Hit]:
    by_path = context.by_path
    takes_of: dict[str, CopyTake] = {}
    for take in context.copies:
        for relpath in take.files:
            file = by_path[relpath]
            if file.special or file.link_outside:
                takes_of.setdefault(relpath, take)
    for problem in context.problems:
        listed = by_path.get(problem.relpath)
        taker = takes_of.get(problem.relpath)
        special = listed is not None and listed.special
        if special and taker is None:
            continue  # a socket nobody copies: sent, never used
        path = context.project_path(problem.relpath)
        yield Hit(
            path,
            None,
            f"{path} is {problem.message}" if special else f"{path}: {problem.message}",
            related=(_copy_related(context, taker, "copied here"),) if taker else (),
        )
    for relpath, take in takes_of.items():
        if not by_path[relpath].link_outside:
            continue
        path = context.project_path(relpath)
        yield Hit(
            path,
            None,
            f"symlink {path} points outside the build context: {take.instruction.cmd} at "
            f"{_copy_place(context, take)} copies the link itself, which dangles in the image",
            related=(_copy_related(context, take, "copied here"),),
        )


@rule(
    "DW943",
    lesson="general",
    severity="warning",
    title="A COPY takes something Docker cannot send from the build context",
    why="""
        The builder only sees the context folder: a symlink pointing outside it is copied
        as a link that dangles in the image, FIFOs, sockets and devices cannot be copied,
        unreadable files make the context transfer fail, and a `COPY ../shared` source is
        silently resolved inside the context (`shared` at its root) or fails as not found.
    """,
    fix="""
        Copy real files: replace links to outside folders by the files themselves (or pass
        the folder as a named context: `--build-context shared=../shared` and
        `COPY --from=shared`), and exclude FIFOs and sockets in `.dockerignore`.
    """,
    bad={
        "Dockerfile": "FROM python:3.12-slim\nCOPY ../shared /app/shared\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
    },
    good={
        "Dockerfile": "FROM python:3.12-slim\nCOPY shared /app/shared\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        "shared/util.py": "VALUE = 1\n",
    },
)
def unsendable_context_entry(project: Project) -> Iterator[Hit]:
    for context in _contexts(project):
        yield from _unsendable(context)
        for take in context.copies:
            outside = _source_outside(take)
            if outside is not None:
                yield Hit(
                    context.dockerfile.relpath,
                    take.instruction.start_line,
                    f"{take.instruction.cmd} source {outside} lies outside the build context: "
                    "the builder resolves it inside the context instead",
                )
        if context.truncated:
            yield Hit(
                context.dockerfile.relpath,
                None,
                "the build context has too many entries: dockwise stopped listing it, "
                "so findings about it are incomplete",
            )
