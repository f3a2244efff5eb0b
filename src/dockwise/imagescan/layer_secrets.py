"""Secrets in image layers: credential files by name and secrets in file contents.

The analysis (analysis.py) makes one streaming pass over every layer; for each file it asks
`LayerSecretScanner.wants(layer, entry)` how many bytes it wants (0: skip), reads them and
hands them to `inspect`. The scanner must keep that pass fast, so it decides from the name
and the size alone where it can: files installed by package managers (system libraries,
site-packages, node_modules, dpkg's records) and binaries are skipped, large files too; the
rest is read, skipped again when it is binary, and a keyword prefilter runs before the
shared detector (secrets.py, the one detector) sees the text. Every layer is scanned, so a
secret a later layer deletes is still found: it still ships, and `docker save` extracts it.

Nothing here keeps a secret's value: a `LayerSecret` holds the redacted preview and a
fingerprint.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from msgspec import Struct

if TYPE_CHECKING:
    from dockwise.sources.image.model import Entry, Layer

# a text file larger than this is data (a bundle, a dump), not configuration or code
MAX_TEXT_BYTES: Final = 512 * 1024
# what is read of a file whose name says it may hold credentials
MAX_CREDENTIAL_FILE_BYTES: Final = 64 * 1024
# the user and group tables, kept whole (the image rules resolve User names with them)
ACCOUNT_FILES: Final = frozenset({"etc/passwd", "etc/group"})
MAX_ACCOUNT_FILE_BYTES: Final = 1024 * 1024
# the matches kept per file, and per image (a dump of keys is one finding, not thousands)
MAX_PER_FILE: Final = 5
MAX_FOUND: Final = 500

# installed by package managers, or not files at all: never the user's own secrets
_VENDOR_PREFIXES: Final = (
    "usr/lib/",
    "usr/lib32/",
    "usr/lib64/",
    "usr/libexec/",
    "usr/share/",
    "usr/include/",
    "usr/bin/",
    "usr/sbin/",
    "usr/local/lib/",
    "usr/local/include/",
    "usr/local/share/",
    "usr/src/",
    "lib/",
    "lib32/",
    "lib64/",
    "bin/",
    "sbin/",
    "boot/",
    "proc/",
    "sys/",
    "dev/",
    "run/",
    "var/lib/",
    "var/cache/",
    "var/log/",
    "etc/ssl/",
    "etc/ca-certificates/",
    "etc/pki/",
    "etc/ssh/",  # host keys made when openssh-server installs
    "etc/alternatives/",
    "etc/apt/",
    "etc/dpkg/",
    "etc/pam.d/",
    "etc/security/",
)
_VENDOR_PARTS: Final = (
    "/site-packages/",
    "/dist-packages/",
    "/node_modules/",
    "/__pycache__/",
    "/.git/",
    "/vendor/",
    "/.cache/",
)
# extensions of files that are never configuration or code worth reading
_BINARY_EXTENSIONS: Final = frozenset(
    [
        "so",
        "a",
        "o",
        "pyc",
        "pyo",
        "pyd",
        "whl",
        "egg",
        "jar",
        "war",
        "class",
        "dll",
        "exe",
        "bin",
        "dat",
        "db",
        "sqlite",
        "sqlite3",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "ico",
        "webp",
        "bmp",
        "tiff",
        "svgz",
        "woff",
        "woff2",
        "ttf",
        "otf",
        "eot",
        "mo",
        "gz",
        "tgz",
        "bz2",
        "xz",
        "zst",
        "lz4",
        "zip",
        "7z",
        "rar",
        "tar",
        "deb",
        "rpm",
        "apk",
        "mp3",
        "mp4",
        "ogg",
        "wav",
        "avi",
        "mov",
        "pdf",
        "map",
        "wasm",
        "node",
        "pack",
        "idx",
    ]
)
# names that can be credential stores (secrets.credential_file_kind confirms by content)
_CREDENTIAL_NAMES: Final = frozenset(
    {
        ".npmrc",
        ".pypirc",
        ".netrc",
        "_netrc",
        ".git-credentials",
        "config.json",
        ".dockercfg",
        "credentials",
        ".pgpass",
        ".htpasswd",
        "htpasswd",
        ".vault-token",
        "kubeconfig",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ecdsa_sk",
        "id_ed25519_sk",
        "identity",
    }
)
_CREDENTIAL_SUFFIXES: Final = (
    ".env",
    ".pem",
    ".key",
    ".p12",
    ".pfx",
    ".ppk",
    ".jks",
    ".keystore",
    ".tfstate",
    ".htpasswd",
    ".kubeconfig",
)
# a file without one of these cannot hold a secret the detector reports: credential words
# (the assignments it judges; matched lower-cased), the literal prefixes of the token
# formats it knows, URLs with a password. Plain `in` tests run at memory speed; one regular
# expression alternating them all ran at 10 MB/s.
_WORDS: Final = (b"pass", b"pwd", b"secret", b"token", b"key", b"auth", b"cred", b"bearer")
_TOKEN_PREFIXES: Final = (
    b"AKIA", b"ASIA", b"AIza", b"GOCSPX-", b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_",
    b"github_pat_", b"glpat-", b"xox", b"xapp-", b"hooks.slack", b"/api/webhooks/",
    b"_live_", b"_test_", b"whsec_", b"SG.", b"sk-", b"npm_", b"pypi-Ag", b"eyJ", b"ATBB",
    b"ATATT", b":AA", b"sig=", b"PuTTY", b"-----BEGIN",
)  # fmt: skip
_URL_PASSWORD: Final = re.compile(rb"://[^\s/@:]{1,64}:[^\s/@]{1,128}@")
# prefixes sharing a first letter rare in text are searched as one pattern (its literal first
# byte is found at memchr speed): one pass over the file instead of one per prefix. The
# prefilter is ~all of the scanner's cost on code without credential words (37 -> 20 passes)
_PREFIX_GROUPS: Final = (
    re.compile(rb"gh[oprsu]_"),
    re.compile(rb"A(?:KIA|SIA|Iza|TBB|TATT)"),
    re.compile(rb"x(?:ox|app-)"),
)
_SINGLE_PREFIXES: Final = tuple(
    p for p in _TOKEN_PREFIXES if not any(g.fullmatch(p) for g in _PREFIX_GROUPS)
)
# A prefix holding one of these marks cannot be in a file without that mark: one pass
# (translate) tells which marks a file has, and the prefixes of the others are never searched.
# Prose and generated text lack most marks; half the passes go.
_MARKS: Final = b"_-.:=/"
_NOT_A_MARK: Final = bytes(b for b in range(256) if b not in _MARKS)


def _mark_of(needle: bytes) -> int | None:
    return next((b for b in needle if b in _MARKS), None)


_UNMARKED_PREFIXES: Final = tuple(p for p in _SINGLE_PREFIXES if _mark_of(p) is None)
_PREFIXES_BY_MARK: Final = {
    mark: tuple(p for p in _SINGLE_PREFIXES if _mark_of(p) == mark) for mark in _MARKS
}
# a group's mark: one that every prefix it matches holds (the pattern's syntax has others)
_GROUP_MARK: Final = {_PREFIX_GROUPS[0]: ord("_")}
_GROUPS_BY_MARK: Final = {
    mark: tuple(g for g in _PREFIX_GROUPS if _GROUP_MARK.get(g) == mark) for mark in _MARKS
}
_UNMARKED_GROUPS: Final = tuple(g for g in _PREFIX_GROUPS if g not in _GROUP_MARK)


def _may_hold_secret(data: bytes) -> bool:
    lowered = data.lower()
    if any(word in lowered for word in _WORDS):
        return True
    if any(prefix in data for prefix in _UNMARKED_PREFIXES):
        return True
    if any(group.search(data) for group in _UNMARKED_GROUPS):
        return True
    marks = set(data.translate(None, _NOT_A_MARK))
    for mark in marks:
        if any(prefix in data for prefix in _PREFIXES_BY_MARK[mark]):
            return True
        if any(group.search(data) for group in _GROUPS_BY_MARK[mark]):
            return True
    return (
        ord(":") in marks
        and ord("/") in marks
        and b"@" in data
        and _URL_PASSWORD.search(data) is not None
    )


# credential file kinds whose content is not a text assignment: the file is the finding
_WHOLE_FILE_MARKERS: Final = (b"-----BEGIN", b"PuTTY-User-Key-File", b"service_account")


class LayerSecret(Struct, frozen=True):
    """A secret in a file of one layer. `preview` is redacted; the value is never kept."""

    path: str  # absolute, as the container sees it: "/app/.env"
    layer: int  # index of the layer that stores this copy (0 = base layer)
    kind: str  # a detector kind ("aws-access-key-id") or a credential file kind ("dotenv")
    description: str  # for messages: "AWS access key id", "dotenv file"
    preview: str  # redacted: a few leading characters and a hash; "" for a whole file
    line: int | None  # in the file, when the secret is a line of it
    fingerprint: str  # stable identity (baselines); a hash, never the value


class LayerSecretScanner:
    """Collects the secrets of every layer during the analysis' single pass. `capped=False`
    reads on past MAX_FOUND (a share of the work: the cap is applied when shares merge)."""

    def __init__(self, capped: bool = True) -> None:
        self.capped = capped
        self._found: list[LayerSecret] = []
        self.files_read = 0
        self.bytes_read = 0
        self.files_scanned = 0  # passed the prefilter: the detector ran
        # the last copy of each account file a layer stored: (layer, text)
        self.accounts: dict[str, tuple[int, str]] = {}

    @property
    def found(self) -> tuple[LayerSecret, ...]:
        return tuple(self._found)

    def found_since(self, count: int) -> tuple[LayerSecret, ...]:
        """What was found after the first `count` (see `found_count`)."""
        return tuple(self._found[count:])

    @property
    def found_count(self) -> int:
        return len(self._found)

    def wants(self, layer: Layer, entry: Entry) -> int:
        """How many bytes of this entry to read (0: skip it)."""
        path = entry.path
        if path in ACCOUNT_FILES and entry.kind == "file":
            return min(entry.size, MAX_ACCOUNT_FILE_BYTES)
        if entry.kind != "file" or entry.size == 0:
            return 0
        if self.capped and len(self._found) >= MAX_FOUND:
            return 0
        base = path.rpartition("/")[2]
        if base.startswith(".wh."):
            return 0
        if _vendor(path):
            return 0
        if _credential_name(base):
            return min(entry.size, MAX_CREDENTIAL_FILE_BYTES)
        if entry.size > MAX_TEXT_BYTES:
            return 0
        extension = base.rpartition(".")[2].lower() if "." in base else ""
        if extension in _BINARY_EXTENSIONS:
            return 0
        return entry.size

    def inspect(self, layer: Layer, entry: Entry, data: bytes) -> None:
        """Look for secrets in what `wants` asked for of this entry."""
        from dockwise.secrets import is_binary

        self.files_read += 1
        self.bytes_read += len(data)
        if entry.path in ACCOUNT_FILES:
            self.accounts[entry.path] = (layer.index, data.decode("utf-8", "replace"))
            return  # no credential of anyone's: the hashes are in /etc/shadow
        base = entry.path.rpartition("/")[2]
        named = _credential_name(base)
        if not named and is_binary(data[:8192]):
            return
        if (
            not named
            and not any(marker in data for marker in _WHOLE_FILE_MARKERS)
            and not _may_hold_secret(data)
        ):
            return
        self._scan(layer.index, "/" + entry.path, data, binary=named and is_binary(data[:8192]))

    def _scan(self, layer: int, path: str, data: bytes, *, binary: bool) -> None:
        import hashlib

        from dockwise.secrets import credential_file_kind, scan_text

        self.files_scanned += 1
        kind = credential_file_kind(path, data[:8192])
        text = "" if binary else data.decode("utf-8", "replace")
        matches = [m for m in scan_text(text, path=path) if m.confidence != "low"] if text else []
        if kind == "dotenv" and not matches:
            return  # settings without a credential (`DEBUG=0`, `PORT=8000`)
        if kind is not None:
            first = matches[0] if matches else None
            digest = hashlib.sha256(data).hexdigest()
            self._found.append(
                LayerSecret(
                    path=path,
                    layer=layer,
                    kind=kind,
                    description=FILE_KINDS.get(kind, kind.replace("-", " ")),
                    preview=first.redacted if first else "",
                    line=first.line if first else None,
                    fingerprint=hashlib.sha256(f"{kind}\x00{digest}".encode()).hexdigest(),
                )
            )
            return
        # a credential name whose content is no credential (an app's config.json): only
        # what its text holds counts
        for match in matches[:MAX_PER_FILE]:
            self._found.append(
                LayerSecret(
                    path=path,
                    layer=layer,
                    kind=match.kind,
                    description=match.description,
                    preview=match.redacted,
                    line=match.line,
                    fingerprint=match.fingerprint,
                )
            )


FILE_KINDS: Final = {
    "dotenv": ".env file with credentials",
    "ssh-private-key": "SSH private key",
    "private-key": "private key",
    "pgp-private-key": "PGP private key",
    "putty-private-key": "PuTTY private key",
    "pkcs12": "PKCS#12 key store",
    "java-keystore": "Java key store",
    "aws-credentials": "AWS credentials file",
    "npmrc-auth": ".npmrc with a registry token",
    "pypirc-auth": ".pypirc with a password",
    "netrc": ".netrc with a password",
    "git-credentials": "git credentials file",
    "htpasswd": "htpasswd file",
    "pgpass": "PostgreSQL password file",
    "docker-config-auth": "Docker config.json with registry credentials",
    "terraform-state": "Terraform state",
    "gcp-service-account": "GCP service account key",
    "kubeconfig": "kubeconfig with credentials",
    "vault-token": "Vault token",
}


def _vendor(path: str) -> bool:
    if path.startswith(_VENDOR_PREFIXES):
        return True
    slashed = "/" + path + "/"
    return any(part in slashed for part in _VENDOR_PARTS)


def _credential_name(base: str) -> bool:
    lowered = base.lower()
    return (
        lowered in _CREDENTIAL_NAMES
        or lowered.startswith(".env")
        or lowered.endswith(_CREDENTIAL_SUFFIXES)
    )
