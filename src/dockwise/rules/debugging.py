"""Debugging: what makes a container traceable from outside, and the label schema (DW7xx)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urlsplit

from msgspec import Struct

from dockwise.findings import Hit
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._common import at, dockerfile_rule
from dockwise.sources.dockerfile import Dockerfile, Instruction, key_values, unquote
from dockwise.sources.expand import references

OCI_SOURCE = "org.opencontainers.image.source"
OCI_REVISION = "org.opencontainers.image.revision"
TRACEABILITY_LABELS = (OCI_SOURCE, OCI_REVISION)


class Label(Struct, frozen=True):
    """One label as the shipped image ends up with it: the last LABEL that sets the key."""

    key: str
    value: str
    instruction: Instruction

    @property
    def from_variable(self) -> bool:
        """The value comes (at least partly) from an ARG/ENV: unknown until build time."""
        return bool(references(self.value))

    @property
    def is_empty(self) -> bool:
        return not self.from_variable and not self.value.strip()


def label_pairs(instruction: Instruction) -> Iterator[tuple[str, str]]:
    """(key, value) of a LABEL, keys unquoted as BuildKit does (`"com.example.x"="y"`)."""
    for key, value in key_values(instruction):
        yield unquote(key), value or ""


def shipped_labels(dockerfile: Dockerfile) -> dict[str, Label]:
    """Labels of the shipped image: its FROM ancestors' first, later definitions win."""
    labels: dict[str, Label] = {}
    for stage in reversed(dockerfile.shipped_chain()):
        for instruction in stage.all("LABEL"):
            for key, value in label_pairs(instruction):
                labels[key] = Label(key, value, instruction)
    return labels


# ---------------------------------------------------------------------------------------------
# DW701: OCI traceability labels


@dockerfile_rule(
    "DW701",
    lesson="debugging",
    severity="info",
    title="No OCI source and revision labels",
    why="""
        When a container misbehaves in production, the first question is "which code is
        this?". `org.opencontainers.image.source` and `org.opencontainers.image.revision`
        answer it from the image itself (`docker inspect`, registries, Dependabot, GitHub's
        package page and vulnerability scanners read them): without them, the way back from
        a running image to the commit that built it is guesswork over tags.
    """,
    fix="""
        Pass the commit at build time and label the final stage:
        `ARG GIT_SHA` / `LABEL org.opencontainers.image.source="https://github.com/org/repo"
        org.opencontainers.image.revision=$GIT_SHA`, built with
        `docker build --build-arg GIT_SHA=$(git rev-parse HEAD) .`
    """,
    bad="""
        FROM python:3.11-slim
        COPY . /app
        CMD ["python", "/app/main.py"]
    """,
    good="""
        FROM python:3.11-slim
        ARG GIT_SHA
        LABEL org.opencontainers.image.source="https://github.com/acme/shop" \\
              org.opencontainers.image.revision=$GIT_SHA
        COPY . /app
        CMD ["python", "/app/main.py"]
    """,
)
def traceability_labels(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    stage = dockerfile.shipped_stage
    if stage is None:
        return
    labels = shipped_labels(dockerfile)
    missing = [key for key in TRACEABILITY_LABELS if key not in labels or labels[key].is_empty]
    if missing:
        yield at(
            dockerfile,
            stage.from_instruction,
            f"shipped stage {stage.label} has no {' or '.join(missing)} label: a running "
            "container cannot be traced back to its code",
        )


# ---------------------------------------------------------------------------------------------
# Label schema (hadolint DL3048-DL3058): value checks


_SEMVER = lazy_compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_GIT_HASH = lazy_compile(r"^(?:[0-9a-f]{7,40}|[0-9a-f]{64})$")
_RFC3339 = lazy_compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$"
)
_EMAIL = lazy_compile(r"^[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+$")
_URL_SCHEME = lazy_compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_HIERARCHICAL_SCHEMES = frozenset(["http", "https", "ftp", "ftps", "ws", "wss", "git", "ssh"])

# A compact list of the SPDX license ids projects actually use (matched case-insensitively,
# as the SPDX spec asks), deprecated short forms (GPL-2.0, LGPL-2.1...) included.
_SPDX_ID_LIST = """
    0BSD AFL-3.0 AGPL-1.0-only AGPL-1.0-or-later AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later
    Apache-1.0 Apache-1.1 Apache-2.0 Artistic-1.0 Artistic-2.0 Beerware BlueOak-1.0.0
    BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause BSD-3-Clause-Clear BSD-4-Clause
    BSL-1.0 BUSL-1.1 bzip2-1.0.6 CC-BY-3.0 CC-BY-4.0 CC-BY-SA-3.0 CC-BY-SA-4.0 CC-BY-NC-4.0
    CC0-1.0 CDDL-1.0 CDDL-1.1 CECILL-2.1 curl ECL-2.0 Elastic-2.0 EPL-1.0 EPL-2.0 EUPL-1.1
    EUPL-1.2 GFDL-1.3-only GFDL-1.3-or-later GPL-1.0-only GPL-1.0-or-later GPL-2.0 GPL-2.0-only
    GPL-2.0-or-later GPL-3.0 GPL-3.0-only GPL-3.0-or-later HPND ICU IJG Intel ISC JSON
    LGPL-2.0 LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1 LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0
    LGPL-3.0-only LGPL-3.0-or-later libpng-2.0 Libpng MirOS MIT MIT-0 MPL-1.1 MPL-2.0
    MPL-2.0-no-copyleft-exception MS-PL MS-RL MulanPSL-2.0 NCSA OFL-1.1 OpenSSL OLDAP-2.8
    PHP-3.01 PostgreSQL PSF-2.0 Python-2.0 Ruby SSPL-1.0 Unicode-3.0 Unicode-DFS-2016
    Unlicense UPL-1.0 Vim W3C WTFPL X11 Zlib ZPL-2.1
    """
SPDX_IDS = frozenset(i.lower() for i in _SPDX_ID_LIST.split())
_SPDX_TOKEN = lazy_compile(r"\s*(\(|\)|[A-Za-z0-9.:+-]+)")
_SPDX_REF = lazy_compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")


def is_semver(value: str) -> bool:
    return bool(_SEMVER.match(value))


def is_git_hash(value: str) -> bool:
    """A full SHA-1 (40) or SHA-256 (64) commit id, or an abbreviation of 7 or more."""
    return bool(_GIT_HASH.match(value))


def is_rfc3339(value: str) -> bool:
    match = _RFC3339.match(value)
    if not match:
        return False
    from datetime import datetime

    year, month, day, hour, minute, second, off_h, off_m = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return False
    offset_ok = off_h is None or (int(off_h) < 24 and int(off_m) < 60)
    return int(second) <= 60 and offset_ok  # 60: a leap second


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def is_url(value: str) -> bool:
    if not _URL_SCHEME.match(value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() not in _HIERARCHICAL_SCHEMES or bool(parts.netloc)


def is_spdx_expression(value: str) -> bool:
    """An SPDX license expression: ids, `+`, `WITH` exceptions, `AND`/`OR`, parentheses."""
    tokens: list[str] = []
    position = 0
    text = value.strip()
    while position < len(text):
        match = _SPDX_TOKEN.match(text, position)
        if not match:
            return False
        tokens.append(match.group(1))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    parser = _SpdxParser(tokens)
    return bool(tokens) and parser.expression() and parser.done()


class _SpdxParser:
    """Recursive descent over `expr := term ((AND|OR) term)*`, `term := (expr) | id [WITH x]`."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.index = 0

    def done(self) -> bool:
        return self.index == len(self.tokens)

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.index += 1
        return token

    def expression(self) -> bool:
        if not self.term():
            return False
        while (self.peek() or "").upper() in ("AND", "OR"):
            self.take()
            if not self.term():
                return False
        return True

    def term(self) -> bool:
        token = self.take()
        if token == "(":
            return self.expression() and self.take() == ")"
        if token is None or not _is_license_id(token):
            return False
        if (self.peek() or "").upper() == "WITH":
            self.take()
            exception = self.take()
            return exception is not None and "exception" in exception.lower()
        return True


def _is_license_id(token: str) -> bool:
    if _SPDX_REF.match(token):
        return True
    return token.removesuffix("+").lower() in SPDX_IDS


class LabelType(Struct, frozen=True):
    rule_id: str
    check: Callable[[str], bool]
    expected: str


LABEL_TYPES: Mapping[str, LabelType] = {
    "url": LabelType("DW705", is_url, "a URL (scheme://host/...)"),
    "rfc3339": LabelType("DW706", is_rfc3339, "an RFC 3339 time (2024-05-01T12:00:00Z)"),
    "spdx": LabelType("DW707", is_spdx_expression, "an SPDX license id or expression"),
    "hash": LabelType("DW708", is_git_hash, "a git commit hash (7-40 or 64 lower-case hex)"),
    "semver": LabelType("DW709", is_semver, "a semantic version (1.4.2, 2.0.0-rc.1)"),
    "email": LabelType("DW710", is_email, "an e-mail address (team@example.com)"),
}


def _schema_labels(dockerfile: Dockerfile, project: Project) -> Iterator[tuple[Label, str]]:
    """(label, schema type) for each schema label the shipped image sets literally."""
    schema = project.config.label_schema
    if not schema:
        return
    for key, label in shipped_labels(dockerfile).items():
        kind = schema.get(key)
        if kind is not None:
            yield label, kind


def _typed_label_hits(dockerfile: Dockerfile, project: Project, kind: str) -> Iterator[Hit]:
    label_type = LABEL_TYPES[kind]
    for label, label_kind in _schema_labels(dockerfile, project):
        if label_kind != kind or label.from_variable or label.is_empty:
            continue
        if not label_type.check(label.value.strip()):
            yield at(
                dockerfile,
                label.instruction,
                f"label {label.key} is not {label_type.expected}: {label.value!r}",
            )


_SCHEMA = {
    "org.opencontainers.image.source": "url",
    "org.opencontainers.image.revision": "hash",
    "org.opencontainers.image.version": "semver",
    "org.opencontainers.image.created": "rfc3339",
    "org.opencontainers.image.licenses": "spdx",
    "org.opencontainers.image.authors": "email",
    "org.opencontainers.image.title": "text",
}
_EXAMPLE_CONFIG = {"label-schema": _SCHEMA}
_GOOD_LABELS = """
    FROM python:3.11-slim
    ARG GIT_SHA
    ARG BUILD_DATE
    LABEL org.opencontainers.image.source="https://github.com/acme/shop" \\
          org.opencontainers.image.revision=$GIT_SHA \\
          org.opencontainers.image.version="1.4.2" \\
          org.opencontainers.image.created=$BUILD_DATE \\
          org.opencontainers.image.licenses="MIT OR Apache-2.0" \\
          org.opencontainers.image.authors="shop-team@acme.example" \\
          org.opencontainers.image.title="shop"
    CMD ["python", "-m", "shop"]
"""
_VARIABLE_NOTE = """
    A value that comes from a build argument (`LABEL ...=$BUILD_DATE`) is only known at
    build time and is not judged (hadolint flags it; dockwise does not).
"""


def _good_with(line: str, replacement: str) -> str:
    return _GOOD_LABELS.replace(line, replacement)


@dockerfile_rule(
    "DW702",
    lesson="debugging",
    severity="info",
    title="Label required by the label schema is missing",
    why="""
        The project's label schema (`label-schema` in the dockwise configuration) lists the
        labels every image must carry, because registries, scanners, dashboards or the
        on-call's `docker inspect` rely on them. Only the shipped stage matters (builder
        stages never reach a registry); labels set in the stages it is built FROM count.
    """,
    fix="Add the missing label to the shipped stage (or a stage it is built FROM).",
    bad=_good_with('          org.opencontainers.image.title="shop"\n', "").replace(
        '.authors="shop-team@acme.example" \\', '.authors="shop-team@acme.example"'
    ),
    good=_GOOD_LABELS,
    also=["hadolint:DL3049"],
    example_config=_EXAMPLE_CONFIG,
)
def missing_schema_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    schema = project.config.label_schema
    stage = dockerfile.shipped_stage
    if not schema or stage is None:
        return
    labels = shipped_labels(dockerfile)
    for key in schema:
        if key not in labels:
            yield at(
                dockerfile,
                stage.from_instruction,
                f"label {key} required by the label schema is missing from the shipped "
                f"stage {stage.label}",
            )


@dockerfile_rule(
    "DW703",
    lesson="debugging",
    severity="info",
    title="Label not in the label schema (strict labels)",
    why="""
        With `strict-labels` on, the label schema is the complete list of labels an image
        may carry: anything else is a typo of a schema label (which then stays missing) or
        metadata nobody agreed to maintain.
    """,
    fix="Rename the label to its schema name, add it to `label-schema`, or remove it.",
    bad={
        "Dockerfile": """FROM python:3.11-slim
LABEL org.opencontainers.image.title="shop" \\
      org.opencontainers.image.authours="shop-team@acme.example"
""",
    },
    good={
        "Dockerfile": """FROM python:3.11-slim
LABEL org.opencontainers.image.title="shop" \\
      org.opencontainers.image.authors="shop-team@acme.example"
""",
    },
    also=["hadolint:DL3050"],
    example_config={
        "label-schema": {
            "org.opencontainers.image.title": "text",
            "org.opencontainers.image.authors": "email",
        },
        "strict-labels": True,
    },
)
def label_outside_schema(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    schema = project.config.label_schema
    if not schema or not project.config.strict_labels:
        return
    for key, label in shipped_labels(dockerfile).items():
        if key not in schema:
            yield at(
                dockerfile,
                label.instruction,
                f"label {key} is not in the label schema (strict labels)",
            )


@dockerfile_rule(
    "DW704",
    lesson="debugging",
    severity="warning",
    title="Schema label is empty",
    why="""
        An empty schema label satisfies "the label exists" while telling nobody anything:
        the revision, version or source it should carry is lost, usually because a build
        argument was not passed. A value taken from a build argument is not judged.
    """,
    fix="Give the label its value, or pass the build argument it is built from in CI.",
    bad=_good_with('.title="shop"', '.title=""'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3051"],
    example_config=_EXAMPLE_CONFIG,
)
def empty_schema_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for label, _kind in _schema_labels(dockerfile, project):
        if label.is_empty:
            yield at(dockerfile, label.instruction, f"schema label {label.key} is empty")


@dockerfile_rule(
    "DW705",
    lesson="debugging",
    severity="warning",
    title="URL label is not a URL",
    why="""
        Tools follow `url` labels (the source repository, documentation): a bare
        `github.com/org/repo` or an scp-style `git@github.com:org/repo` is not a link they
        can open.
    """
    + _VARIABLE_NOTE,
    fix='Write the full URL: `"https://github.com/acme/shop"`.',
    bad=_good_with('"https://github.com/acme/shop"', '"github.com/acme/shop"'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3052"],
    example_config=_EXAMPLE_CONFIG,
)
def url_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _typed_label_hits(dockerfile, project, "url")


@dockerfile_rule(
    "DW706",
    lesson="debugging",
    severity="warning",
    title="Time label is not an RFC 3339 timestamp",
    why="""
        `org.opencontainers.image.created` and other time labels are parsed by registries
        and scanners as RFC 3339 (`2024-05-01T12:00:00Z`); a date alone or a local format
        sorts wrong or is dropped.
    """
    + _VARIABLE_NOTE,
    fix='Use `date -u +%Y-%m-%dT%H:%M:%SZ` to produce the value: `"2024-05-01T12:00:00Z"`.',
    bad=_good_with(".created=$BUILD_DATE", '.created="01/05/2024 12:00"'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3053"],
    example_config=_EXAMPLE_CONFIG,
)
def rfc3339_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _typed_label_hits(dockerfile, project, "rfc3339")


@dockerfile_rule(
    "DW707",
    lesson="debugging",
    severity="warning",
    title="License label is not an SPDX expression",
    why="""
        License scanners and SBOM tools read `org.opencontainers.image.licenses` as an SPDX
        expression (`MIT`, `Apache-2.0 OR MIT`, `GPL-2.0-only WITH Classpath-exception-2.0`,
        `LicenseRef-Proprietary`); free text such as "Apache 2" fails their policies.
        Ids are matched case-insensitively, as the SPDX specification says, and
        expressions are accepted (hadolint only takes a single, exact-case id).
    """
    + _VARIABLE_NOTE,
    fix="Use SPDX ids (https://spdx.org/licenses/) or `LicenseRef-<name>` for your own.",
    bad=_good_with('"MIT OR Apache-2.0"', '"Apache 2"'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3054"],
    example_config=_EXAMPLE_CONFIG,
)
def spdx_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _typed_label_hits(dockerfile, project, "spdx")


@dockerfile_rule(
    "DW708",
    lesson="debugging",
    severity="warning",
    title="Hash label is not a git commit hash",
    why="""
        A revision label is how an image is traced back to its commit: a branch name or a
        tag moves, a commit hash does not. Abbreviated hashes (7 characters or more) and
        SHA-256 repositories' 64-character ids are accepted (hadolint only takes 7 or 40).
    """
    + _VARIABLE_NOTE,
    fix="Pass `git rev-parse HEAD` as a build argument and use it as the label's value.",
    bad=_good_with(".revision=$GIT_SHA", '.revision="main"'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3055"],
    example_config=_EXAMPLE_CONFIG,
)
def hash_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _typed_label_hits(dockerfile, project, "hash")


@dockerfile_rule(
    "DW709",
    lesson="debugging",
    severity="warning",
    title="Version label is not a semantic version",
    why="""
        Deployment tools and dashboards compare `semver` labels to order releases; `v1.4`
        or `latest` cannot be compared.
    """
    + _VARIABLE_NOTE,
    fix='Use MAJOR.MINOR.PATCH without a leading "v": `"1.4.2"`, `"2.0.0-rc.1"`.',
    bad=_good_with('.version="1.4.2"', '.version="v1.4"'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3056"],
    example_config=_EXAMPLE_CONFIG,
)
def semver_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _typed_label_hits(dockerfile, project, "semver")


@dockerfile_rule(
    "DW710",
    lesson="debugging",
    severity="warning",
    title="E-mail label is not an e-mail address",
    why="""
        An e-mail label says whom to page about an image; `Team <team@example.com>` or a
        bare team name cannot be mailed by tools that read it.
    """
    + _VARIABLE_NOTE,
    fix='Write the bare address: `"shop-team@acme.example"`.',
    bad=_good_with('"shop-team@acme.example"', '"Shop team <shop-team@acme.example>"'),
    good=_GOOD_LABELS,
    also=["hadolint:DL3058"],
    example_config=_EXAMPLE_CONFIG,
)
def email_label(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    yield from _typed_label_hits(dockerfile, project, "email")


# ---------------------------------------------------------------------------------------------
# DW711: label key syntax

_RESERVED_NAMESPACES = ("com.docker.", "io.docker.", "org.dockerproject.")
_KEY_CHARS = lazy_compile(r"^[a-z0-9._-]+$")
_DOUBLED_SEPARATOR = lazy_compile(r"\.\.|--")


def label_key_problem(key: str) -> str | None:
    """Why a label key breaks Docker's key guidelines, or None if it follows them."""
    if key.startswith(_RESERVED_NAMESPACES):
        return "uses a namespace reserved for Docker"
    if not _KEY_CHARS.match(key):
        return "has characters other than lower-case letters, digits, '.', '-' and '_'"
    if not key[0].isalpha():
        return "does not start with a lower-case letter"
    if not key[-1].isalnum():
        return "ends with a separator"
    if _DOUBLED_SEPARATOR.search(key):
        return "has consecutive dots or dashes"
    return None


@dockerfile_rule(
    "DW711",
    lesson="debugging",
    severity="info",
    title="Invalid label key",
    why="""
        Docker's label guidelines: keys are lower-case reverse-DNS names (letters, digits,
        dots and dashes; starting with a letter, no doubled separators), and the
        `com.docker.*`, `io.docker.*` and `org.dockerproject.*` namespaces are reserved.
        Tools that filter or group by label (`docker ps --filter label=...`, Kubernetes-style
        selectors) miss keys outside that shape.
    """,
    fix="Use a lower-case reverse-DNS key: `com.acme.team`, `org.opencontainers.image.title`.",
    bad="""
        FROM python:3.11-slim
        LABEL com.docker.Team="shop"
    """,
    good="""
        FROM python:3.11-slim
        LABEL com.acme.team="shop"
    """,
    also=["hadolint:DL3048"],
)
def invalid_label_key(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.iter_instructions():
        if instruction.cmd != "LABEL":
            continue
        for key, _value in label_pairs(instruction):
            if "$" in key:
                continue  # a key built from a variable: unknown until build time
            problem = label_key_problem(key)
            if problem:
                yield at(dockerfile, instruction, f"label key {key!r} {problem}")
