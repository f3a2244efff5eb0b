"""The one secret detector every dockwise loader and rule shares.

Three layers, cheapest first:

* known token formats (AWS, GitHub, Slack, Stripe, ...), each behind a literal prefilter;
* private key blocks and URLs carrying a password;
* values assigned to credential-like names (``PASSWORD=...``, ``"token": "..."``,
  ``--password=...``, ``- name: DB_PASSWORD`` / ``value: ...``), judged by placeholder
  heuristics and Shannon entropy.

Nothing here prints or logs a secret: :class:`SecretMatch` keeps the raw value out of its
``repr`` and offers :attr:`SecretMatch.redacted` and :attr:`SecretMatch.fingerprint` instead.
All regular expressions and tables are compiled once at import and never mutated.
"""

from __future__ import annotations

import binascii
import bisect
import math
import re
from collections.abc import Callable, Iterator
from functools import cache, cached_property, lru_cache
from itertools import accumulate, chain
from typing import Final, Literal

from msgspec import Struct
from msgspec.structs import replace

from dockwise.lazyre import lazy_compile

__all__ = [
    "KINDS",
    "MAX_SCAN_BYTES",
    "SecretMatch",
    "credential_file_kind",
    "credential_name_class",
    "is_binary",
    "is_credential_name",
    "is_made_up_uuid",
    "looks_like_placeholder",
    "redact",
    "redact_source_line",
    "redact_text",
    "scan_text",
    "scan_value",
]

MAX_SCAN_BYTES: Final = 2 * 1024 * 1024
"""Files larger than this are not content-scanned by callers."""

Confidence = Literal["high", "medium", "low"]

KINDS: Final[dict[str, str]] = {
    "aws-access-key-id": "AWS access key id",
    "aws-secret-access-key": "AWS secret access key",
    "gcp-api-key": "Google API key",
    "gcp-service-account-key": "GCP service account private key",
    "google-oauth-client-secret": "Google OAuth client secret",
    "azure-storage-key": "Azure storage account key",
    "azure-shared-access-key": "Azure shared access key",
    "azure-sas-token": "Azure shared access signature",
    "azure-ad-client-secret": "Azure AD client secret",
    "github-token": "GitHub token",
    "gitlab-token": "GitLab token",
    "bitbucket-app-password": "Bitbucket app password",
    "atlassian-api-token": "Atlassian API token",
    "slack-token": "Slack token",
    "slack-webhook": "Slack incoming webhook URL",
    "discord-webhook": "Discord webhook URL",
    "telegram-bot-token": "Telegram bot token",
    "stripe-secret-key": "Stripe live secret key",
    "stripe-test-key": "Stripe test secret key",
    "stripe-webhook-secret": "Stripe webhook signing secret",
    "twilio-api-key": "Twilio API key",
    "twilio-auth-token": "Twilio auth token",
    "sendgrid-api-key": "SendGrid API key",
    "openai-api-key": "OpenAI API key",
    "anthropic-api-key": "Anthropic API key",
    "npm-token": "npm access token",
    "pypi-token": "PyPI API token",
    "jwt": "JSON Web Token",
    "private-key": "private key",
    "url-password": "password in a URL",
    "basic-auth-credential": "basic auth user:password",
    "command-line-password": "password passed on a command line",
    "authorization-header": "credential in an Authorization header",
    "password-assignment": "password assigned to a credential name",
    "high-entropy-assignment": "high-entropy value assigned to a credential name",
}
"""Every ``SecretMatch.kind`` this module emits, with its human description."""


# --------------------------------------------------------------------------- the match


class SecretMatch(Struct, frozen=True):
    """One secret found in a text; ``value`` never appears in ``repr``/``str``."""

    kind: str
    description: str
    line: int
    column: int
    value: str
    confidence: Confidence = "high"

    def __repr__(self) -> str:
        return (
            f"SecretMatch(kind={self.kind!r}, description={self.description!r}, "
            f"line={self.line!r}, column={self.column!r}, confidence={self.confidence!r})"
        )

    @property
    def redacted(self) -> str:
        return redact(self.value)

    @property
    def fingerprint(self) -> str:
        import hashlib  # here: loading OpenSSL costs a clean check's start-up

        return hashlib.sha256(f"{self.kind}\x00{self.value}".encode()).hexdigest()


def redact(value: str) -> str:
    """A few leading characters (at most 4, fewer for short values) and a short hash."""
    import hashlib

    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    keep = min(4, len(value) // 4)
    prefix = "".join(c if c.isprintable() else "?" for c in value[:keep])
    return f"{prefix}…[sha256:{digest}]"


# --------------------------------------------------------------------------- entropy


def shannon_entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    size = len(value)
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / size * math.log2(n / size) for n in counts.values())


_HEX_RE: Final = lazy_compile(r"[0-9a-f]+|[0-9A-F]+")
_B64_RE: Final = lazy_compile(r"[A-Za-z0-9+/_\-]+={0,2}")
_UUID_RE: Final = lazy_compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _char_classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def _is_random_looking(value: str, *, min_len: int) -> bool:
    """Entropy test with thresholds by charset (hex is capped at 4 bits/char)."""
    if len(value) < min_len:
        return False
    entropy = shannon_entropy(value)
    if _HEX_RE.fullmatch(value):
        return len(value) >= 24 and entropy >= 3.0
    ceiling = math.log2(min(len(value), 64))
    return entropy >= min(3.5, 0.78 * ceiling) and _char_classes(value) >= 2


# --------------------------------------------------------------------------- placeholders

_AWS_EXAMPLES: Final = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)
_DOC_EXAMPLES: Final = _AWS_EXAMPLES | {
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe's documented test key
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",  # jwt.io sample signature
    # the Azure storage emulator's (Azurite's) published account key for devstoreaccount1
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
}

_PLACEHOLDER_WORDS: Final = frozenset(
    _words(
        """
        password passwd pass pwd passphrase passcode secret secrets token key apikey api
        changeme change me replace this that your yours my our the here insert put enter set
        example examples sample placeholder dummy fake mock test testing tests tester demo
        default defaults dev development local localhost staging prod production redacted
        hidden masked none null nil undefined true false empty blank string str bytes int
        value values required optional todo fixme tbd foo bar baz qux lorem ipsum admin root
        user username login guest postgres mysql mariadb mongo redis rabbit rabbitmq
        foobared super very long random some dont do not no real invalid private access auth
        credentials credential client db database app application service pw letmein qwerty
        welcome abc xyz new old temp tmp sa azure aws google github gitlab docker compose
        hunter secure insecure strong weak generated generate goes with it in of for to and
        is
        """
    )
)
_PLACEHOLDER_EXACT: Final = frozenset({"xxx", "***", "...", "…", "-", "_", "?", "tbd", "n/a"})
_PLACEHOLDER_MARKERS: Final = lazy_compile(
    r"your[-_ .]?|example|sample|placeholder|change[-_ ]?me|change[-_ ]?this|replace[-_ ]?(?:me|with)"
    r"|insert[-_ ]|put[-_ ]?your|dummy|fake|redacted|lorem|(?-i:xxxx|XXXX)|\*\*\*|not[-_ ]?(?:a[-_ ]?)?real"
    r"|todo|fixme|goes[-_ ]?here|_here\b|-here\b|canary|do[-_ ]?not[-_ ]?(?:use|expose|commit|share)",
    re.IGNORECASE,
)
_REFERENCE_RE: Final = lazy_compile(
    r"""^\$[{(A-Za-z_]|\$\{|\{\{|\}\}|\{%|<%|\#\{|%\(\w+\)[sdr]|(?<![A-Za-z0-9])%[sd](?![A-Za-z0-9])
    |^%[A-Za-z_]+%$|^__[A-Z0-9_]+__$|^@[A-Za-z_]+@$|^<[^<>]*>$|^\[[^\[\]]*\]$|^\{[^{}]*\}$|^ENC\[
    |^vault:|^op://|^ref\+|^env:[A-Za-z_][A-Za-z0-9_]*$
    |^arn:aws|^secret://|^sm://|process\.env|os\.environ|getenv|System\.getenv""",
    re.VERBOSE,
)
_FORMAT_FIELD: Final = lazy_compile(r"\{[a-z_][a-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}")
_FORMAT_SLOT: Final = lazy_compile(r"(?<![A-Za-z0-9])%[sd](?![A-Za-z0-9])")
"""A printf slot (``user_%s``, ``%s:%s``); ``aZ3%sQ`` inside a random value is no slot."""
_LEET: Final = str.maketrans("013457@$", "oleastas")


def _segments_into_words(letters: str) -> bool:
    """True when ``letters`` is a concatenation of placeholder vocabulary words."""
    size = len(letters)
    reachable = [True] + [False] * size
    for end in range(1, size + 1):
        for start in range(max(0, end - 14), end):
            if reachable[start] and letters[start:end] in _PLACEHOLDER_WORDS:
                reachable[end] = True
                break
    return reachable[size]


def _has_sequence(value: str, run: int = 8) -> bool:
    count = 1
    for prev, cur in zip(value, value[1:], strict=False):
        count = count + 1 if ord(cur) - ord(prev) == 1 else 1
        if count >= run:
            return True
    return False


def _low_variety(value: str) -> bool:
    distinct = len(set(value.lower()))
    return distinct <= 2 or (len(value) >= 8 and distinct <= 4)


_UUID_SHAPED: Final = lazy_compile(r"(?i)[0-9a-z]{4,12}(?:-[0-9a-z]{2,12}){3,4}")
_UUID_GROUPS: Final = (8, 4, 4, 4, 12)


def is_made_up_uuid(value: str) -> bool:
    """A hand-typed sample of a generated key (see `_made_up_uuid`)."""
    return _made_up_uuid(value.strip().strip("\"'"))


def _made_up_uuid(value: str) -> bool:
    """A UUID typed by hand for a sample (`8312341g-5678-abcd-4a2b2c-33bcsd655`): UUID-shaped
    but not a UUID (a letter past `f`, groups of the wrong length), with a counted run
    (`5678`, `abcd`) in a group. Generated keys are either real UUIDs or not shaped so."""
    if _UUID_SHAPED.fullmatch(value) is None:
        return False
    groups = value.lower().split("-")
    malformed = tuple(len(g) for g in groups) != _UUID_GROUPS or any(
        c not in "0123456789abcdef" for g in groups for c in g
    )
    return malformed and any(_has_sequence(g, 4) for g in groups)


def _looks_like_token_placeholder(value: str) -> bool:
    """Cheap checks for known-format tokens: exact doc examples, xxx fillers, sequences."""
    if value in _DOC_EXAMPLES:
        return True
    body = re.sub(r"^[A-Za-z]{2,6}[-_]((?:[a-z]{2,8}[-_])?)", "", value)
    return (
        _low_variety(body)
        or _has_sequence(body, 6)
        or bool(re.search(r"(?i)x{5,}|0{8,}|your|example|placeholder|redacted|<|\.\.\.", body))
    )


def looks_like_placeholder(value: str) -> bool:
    """True for empty values, references (``${VAR}``, ``{{ var }}``) and placeholder text."""
    stripped = value.strip().strip("\"'`").strip()
    if not stripped or stripped.lower() in _PLACEHOLDER_EXACT:
        return True
    if any(example in stripped for example in _DOC_EXAMPLES):
        return True
    if _REFERENCE_RE.search(stripped) or _PLACEHOLDER_MARKERS.search(stripped):
        return True
    if _FORMAT_FIELD.search(stripped):  # "{alert_id}_{query_id}": a str.format template
        return True
    if _low_variety(stripped) or _has_sequence(stripped) or _made_up_uuid(stripped):
        return True
    if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", stripped):  # SOME_ENV_NAME
        return True
    core = re.sub(r"[\d\W_]+$", "", stripped.lower())  # password123!, test1
    letters = re.sub(r"[^a-z]", "", core.translate(_LEET))
    if not re.search(r"[A-Za-z]", stripped):
        return len(stripped) < 12
    mostly_letters = len(letters) * 2 >= len(stripped) - sum(c.isdigit() for c in stripped)
    return len(letters) >= 2 and mostly_letters and _segments_into_words(letters)


# --------------------------------------------------------------------------- names

_NAME_TOKEN_RE: Final = lazy_compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_PASSWORD_WORDS: Final = frozenset(
    {"password", "passwd", "pass", "pwd", "pw", "pswd", "passphrase", "passcode", "passwords"}
)
_SECRET_WORDS: Final = frozenset(
    {
        "secret", "secrets", "token", "tokens", "apikey", "apikeys", "credential",
        "credentials", "creds", "cred", "auth", "authorization", "bearer", "sas", "privatekey",
        "secretkey", "accesskey", "authtoken", "accesstoken", "apitoken", "clientsecret",
        "masterkey", "authkey", "signingkey", "encryptionkey", "dbpassword", "licensekey",
    }
)  # fmt: skip
_KEY_WORDS: Final = frozenset({"key", "keys"})
_NEVER_TOKENS: Final = frozenset(
    {
        "public", "pub", "publishable", "fingerprint", "fingerprints", "hash", "hashed",
        "hashes", "checksum", "checksums", "digest", "md5", "sha", "sha1", "sha256", "sha512",
        "authorized", "known", "is", "has", "use", "enable", "allow", "require", "no", "skip",
        "show", "hide", "forgot", "salt", "site", "disabled", "disable", "without",
        "nopasswd",
    }
)  # fmt: skip
_NON_SECRET_HEADS: Final = frozenset(
    _words(
        """
        file files path paths dir dirs directory folder host hostname hosts url uri urls
        endpoint endpoints domain name names length len min max size type types enabled
        disabled required policy field fields header headers prefix suffix env var variable
        ttl expiry expires expiration expire used updated created changed modified last lifetime timeout count format algorithm algo
        alg mode version location ref refs arn provider source user username users login
        email hint question reset rotation pattern regex validator label placeholder id ids
        store manager backend class module scope scopes audience issuer method methods kind
        duration period interval age days hours seconds secs ms timestamp time date limit
        attempts retries strength complexity rules cmd command script helper program mount
        volume template config conf settings option options flag mapping map list index
        table column param parameter message msg error text title desc description help
        input form button link page view route server service plugin port uid gid owner
        group perm perms permissions encoding encoder decoder parser generator factory
        handler middleware callback request response prompt char chars characters symbols
        digits schema spec alias realm storage vault ring chain bits size policy cache
        location region account path status state enabled valid validity uppercase lowercase
        special number hasher hashers hashing attr attrs attribute attributes role roles namespace
        """
    )
)
_KEY_QUALIFIER_EXCLUDE: Final = frozenset(
    _words(
        """
        primary foreign sort partition cache hash shard routing idempotency lookup index
        public pub gpg pgp host dedup dedupe group object bucket map dict cursor row column
        table unique composite natural surrogate i18n translation message hot short shortcut
        press item list react kms site recaptcha captcha registry range meta recv receive
        trusted instrumentation topology spreadsheet sheet document doc
        """
    )
)
_TOKEN_QUALIFIER_EXCLUDE: Final = frozenset(
    _words(
        """
        page next continuation pagination cancellation cancel max min num sync csrf xsrf
        lexer parse bos eos pad unk sep cls mask special start end stop eot total input
        output prompt completion
        """
    )
)

NameClass = Literal["password", "secret", "key"]


def _name_tokens(name: str) -> list[str]:
    return [t.lower() for t in _NAME_TOKEN_RE.findall(name)]


def _word_class(token: str, previous: str | None) -> NameClass | None:
    if token in _PASSWORD_WORDS or (
        token.endswith(("password", "passwd", "passphrase"))
        or (token.endswith("pass") and token not in {"bypass", "compass", "surpass", "trespass"})
        or (token.endswith("pwd") and token != "oldpwd")
    ):
        return "password"
    if token in _SECRET_WORDS or token.endswith(("secret", "apikey", "accesskey", "secretkey")):
        if token in {"token", "tokens"} and previous in _TOKEN_QUALIFIER_EXCLUDE:
            return None
        return "secret"
    if token.endswith("token") and not token.endswith("tokenizer"):
        return "secret"
    if token in _KEY_WORDS:
        if previous is None:
            return "key"
        return None if previous in _KEY_QUALIFIER_EXCLUDE else "secret"
    return None


@lru_cache(maxsize=16384)  # the same names (`password`, `api_key`) recur file after file
def _classify_name(name: str) -> NameClass | None:
    tokens = _name_tokens(name.rstrip(".").rsplit(".", 1)[-1])  # the last dotted segment
    if not tokens or tokens == ["pwd"] or any(t in _NEVER_TOKENS for t in tokens):
        return None
    head = tokens[-1]
    if _access_key_id(tokens):
        return None
    if head == "id":
        if tokens[-2:-1] == ["secret"]:
            return "secret"
        return None
    if head in _NON_SECRET_HEADS or (head.isdigit() and len(tokens) == 1):
        return None
    classes = [_word_class(t, tokens[i - 1] if i else None) for i, t in enumerate(tokens)]
    if "password" in classes:
        return "password"
    if "secret" in classes:
        if _COUNT_WORDS.intersection(tokens) and all(
            t in {"token", "tokens"} for t, c in zip(tokens, classes, strict=True) if c
        ):
            return None  # max_num_batched_tokens, --max-batch-prefill-tokens: a count
        return "secret"
    if "key" in classes:
        return "key" if len(tokens) == 1 else "secret"
    return None


_COUNT_WORDS: Final = frozenset({"max", "min", "num", "number", "count", "total"})
# an access key of S3 and its clones is the account's id (MinIO's root user name), the
# secret key beside it the credential; Azure's and Sysdig's access keys are secrets
_ACCESS_KEY_SECRET_WORDS: Final = frozenset(
    {"secret", "private", "azure", "storage", "account", "shared", "sas", "sysdig"}
)


def _access_key_id(tokens: list[str]) -> bool:
    """`MINIO_ACCESS_KEY`, `AWS_ACCESS_KEY_ID`, `s3AccessKey`: the id half of a key pair,
    not a secret; a bare `ACCESS_KEY` (some services' only key) is not told apart."""
    body = tokens[:-1] if tokens[-1:] == ["id"] else tokens
    if body[-2:] == ["access", "key"]:
        prefix = body[:-2]
    elif body[-1:] == ["accesskey"]:
        prefix = body[:-1]
    else:
        return False
    if not prefix and tokens[-1:] != ["id"]:
        return False
    return not _ACCESS_KEY_SECRET_WORDS.intersection(tokens)


def is_credential_name(name: str) -> bool:
    """True for variable/key names that hold a credential (``DB_PASS``, ``apiKey``...)."""
    return _classify_name(name) is not None


def credential_name_class(name: str) -> NameClass | None:
    """What a credential name holds: "password" (chosen by a person), "secret" (a token,
    a generated key) or "key" (a bare `KEY`); None for other names."""
    return _classify_name(name)


# --------------------------------------------------------------------------- binary / files


def is_binary(head: bytes) -> bool:
    """True when the first bytes of a file are not text."""
    sample = head[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 4:  # not just a character cut at the end
            controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
            return controls * 10 > len(sample) or not _mostly_latin1_text(sample)
    return False


def _mostly_latin1_text(sample: bytes) -> bool:
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13) or b >= 160)
    return printable * 10 >= len(sample) * 9


_PRIVATE_KEY_HEADER: Final = lazy_compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----|PuTTY-User-Key-File-\d:"
)
_DOTENV_EXCLUDE: Final = lazy_compile(
    r"(?i)(?:^|[._-])(example|sample|template|dist|tpl|tmpl)(?:$|[._-])"
)
_SSH_KEY_NAMES: Final = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"}
)


def _auth_value(text: str, names: str) -> bool:
    pattern = rf"(?im)^[^#;\n]*?(?:{names})\s*[=:]\s*(\S+)"
    return any(not looks_like_placeholder(m.group(1)) for m in re.finditer(pattern, text))


def _private_key_file_kind(base: str, ext: str, text: str, head: bytes) -> str | None:
    stripped = text.lstrip("\ufeff \t\r\n")
    header = _PRIVATE_KEY_HEADER.match(stripped)
    if header is None and ext in {"pem", "key", "crt", "cer", "asc", "gpg", "ppk"}:
        header = _PRIVATE_KEY_HEADER.search(text)
    if header is not None:
        if header.group(0).startswith("PuTTY"):
            return "putty-private-key"
        label = header.group(1) or ""
        if "PGP" in label:
            return "pgp-private-key"
        if "OPENSSH" in label or base in _SSH_KEY_NAMES:
            return "ssh-private-key"
        return "private-key"
    if base in _SSH_KEY_NAMES:
        return "ssh-private-key"
    if ext in {"p12", "pfx"}:
        return "pkcs12"
    if ext in {"jks", "keystore"}:
        return "java-keystore"
    if ext == "key" and head[:2] == b"0\x82":  # DER-encoded key
        return "private-key"
    return None


def credential_file_kind(relpath: str, head: bytes) -> str | None:
    """A slug when the file is a credential store by name or by content, else None."""
    path = relpath.replace("\\", "/").lower()
    base = path.rsplit("/", 1)[-1]
    ext = base.rsplit(".", 1)[-1] if "." in base.lstrip(".") else ""
    text = "" if is_binary(head) else head.decode("utf-8", "replace")
    if base.endswith(".pub") or base.endswith((".crt", ".cer")) and "PRIVATE KEY" not in text:
        return None
    if (base == ".env" or base.startswith(".env.") or base.endswith(".env")) and not (
        _DOTENV_EXCLUDE.search(base.removeprefix(".env"))
        or _DOTENV_EXCLUDE.search(base.removesuffix(".env"))
    ):
        return "dotenv"
    key_kind = _private_key_file_kind(base, ext, text, head)
    if key_kind is not None:
        return key_kind
    return _named_credential_kind(path, base, ext, text)


def _named_credential_kind(path: str, base: str, ext: str, text: str) -> str | None:
    checks: tuple[tuple[bool, Callable[[], bool], str], ...] = (
        (path.endswith(".aws/credentials") or base == "credentials",
         lambda: "aws_secret_access_key" in text.lower() or path.endswith(".aws/credentials"),
         "aws-credentials"),
        (base == ".npmrc", lambda: _auth_value(text, r"_authToken|_auth|_password"), "npmrc-auth"),
        (base == ".pypirc", lambda: _auth_value(text, r"password"), "pypirc-auth"),
        (base in {".netrc", "_netrc"},
         lambda: any(not looks_like_placeholder(m) for m in
                     re.findall(r"\bpassword\s+(\S+)", text)), "netrc"),
        (base == ".git-credentials", lambda: True, "git-credentials"),
        (base in {".htpasswd", "htpasswd"} or base.endswith(".htpasswd"), lambda: True, "htpasswd"),
        (base == ".pgpass", lambda: True, "pgpass"),
        (base in {".dockercfg", "config.json"},
         lambda: '"auths"' in text and re.search(r'"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"', text)
         is not None, "docker-config-auth"),
        (ext in {"tfstate"} or base.endswith(".tfstate.backup"), lambda: True, "terraform-state"),
        (ext == "json",
         lambda: re.search(r'"type"\s*:\s*"service_account"', text) is not None
         and '"private_key"' in text, "gcp-service-account"),
        (base in {"kubeconfig", "config"} or ext in {"kubeconfig", "yaml", "yml", ""},
         lambda: _is_kubeconfig(text), "kubeconfig"),
        (base == ".vault-token", lambda: bool(text.strip()), "vault-token"),
    )  # fmt: skip
    for applies, confirm, kind in checks:
        if applies and confirm():
            return kind
    return None


def _is_kubeconfig(text: str) -> bool:
    return (
        re.search(r"(?m)^kind:\s*Config\s*$", text) is not None
        and "apiVersion" in text
        and re.search(r"(?m)^\s*(client-key-data|token|password|auth-provider):", text) is not None
    )


# --------------------------------------------------------------------------- text model


class _Hit(Struct, frozen=True):
    priority: int
    start: int
    end: int
    kind: str
    value: str
    description: str = ""
    confidence: Confidence = "high"


class _Text(Struct, frozen=True, dict=True):
    text: str
    style: Literal["code", "json", "config"]
    path: str
    raw: bytes
    """The text one byte a character (`?` beyond Latin-1): the offsets of the text, for
    literal searches that cost half or less on bytes than on a wide string."""
    folded: bytes
    """`raw` with ASCII letters lowered: where `str.lower()` finds an ASCII word, this does,
    at the text's own offsets (`İ`, lowered to two characters, would shift those)."""

    @classmethod
    def of(cls, text: str, style: Literal["code", "json", "config"], path: str) -> _Text:
        raw = text.encode("latin-1", "replace")
        if "\u212a" in text:  # KELVIN SIGN, which str.lower() makes a `k`
            folded = text.replace("\u212a", "k").encode("latin-1", "replace").lower()
        else:
            folded = raw.lower()
        return cls(text, style, path, raw, folded)

    @cached_property
    def words(self) -> _Words:
        return _Words.of(self.text)

    def line_bounds(self, offset: int) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return start, len(self.text) if end < 0 else end


_CODE_EXTENSIONS: Final = frozenset(
    _words(
        """
        py pyi js jsx mjs cjs ts tsx go java kt kts scala rb php cs c h cc cpp hpp rs swift
        m dart lua pl groovy gradle r ex exs erl clj fs vb
        """
    )
)


def _style(path: str | None) -> Literal["code", "json", "config"]:
    if not path:
        return "config"
    base = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    ext = base.rsplit(".", 1)[-1] if "." in base else ""
    if ext in {"json", "jsonc", "json5", "ipynb"}:
        return "json"
    return "code" if ext in _CODE_EXTENSIONS else "config"


def _prepare(text: str, path: str | None) -> _Text:
    return _Text.of(text, _style(path), (path or "").lower())


def _boundary_before(text: str, start: int) -> bool:
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "_")


def _boundary_after(text: str, end: int, extra: str = "") -> bool:
    return end >= len(text) or not (text[end].isalnum() or text[end] in "_" + extra)


# --------------------------------------------------------------------------- known formats


class _Format(Struct, frozen=True):
    kind: str
    signature: str  # a regex every match of `pattern` contains, led by a literal character
    pattern: re.Pattern[str]
    group: int = 0
    confidence: Confidence = "high"
    check: Callable[[str], bool] | None = None
    tail: str = ""  # characters that must not follow the match


def _mixed(body: str) -> bool:
    return _char_classes(body) >= 2 and shannon_entropy(body) >= 3.0


def _openai_ok(token: str) -> bool:
    body = (
        token.split("-", 2)[-1]
        if token.startswith(("sk-proj-", "sk-svcacct-", "sk-admin-"))
        else token[3:]
    )
    return (
        not token.startswith("sk-ant-")
        and _char_classes(body) >= 3
        and shannon_entropy(body) >= 3.5
    )


def _jwt_ok(token: str) -> bool:
    import base64
    import json

    header_part, _, rest = token.partition(".")
    signature = rest.partition(".")[2]
    try:
        header = json.loads(base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4)))
    except (ValueError, binascii.Error):
        return False
    if not isinstance(header, dict) or "alg" not in header or signature in _DOC_EXAMPLES:
        return False
    return bool(signature) or str(header.get("alg")).lower() != "none"


_FORMATS: Final[tuple[_Format, ...]] = (
    _Format("aws-access-key-id", r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}",
            lazy_compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}")),
    _Format("gcp-api-key", r"AIza", lazy_compile(r"AIza[0-9A-Za-z_\-]{35}"), tail="-"),
    _Format("google-oauth-client-secret", r"S(?<=GOCS)PX-",
            lazy_compile(r"GOCSPX-[A-Za-z0-9_\-]{28}")),
    _Format("azure-storage-key", r"AccountKey=",
            lazy_compile(r"AccountKey=([A-Za-z0-9+/]{86}==)"), group=1),
    _Format("azure-shared-access-key", r"A(?<=SharedA)ccessKey=",
            lazy_compile(r"SharedAccessKey=([A-Za-z0-9+/]{42,43}=)"), group=1),
    _Format("azure-sas-token", r"g=(?<=[?&;]sig=)",
            lazy_compile(r"[?&;]sig=([A-Za-z0-9%+/]{40,100}(?:%3D|=)*)"), group=1,
            check=lambda v: _mixed(v)),
    _Format("azure-ad-client-secret", r"Q~[A-Za-z0-9_~.\-]{31}",
            lazy_compile(r"[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}"), check=_mixed),
    _Format("github-token", r"gh[pousr]_[A-Za-z0-9]{36}",
            lazy_compile(r"gh[pousr]_[A-Za-z0-9]{36,251}")),
    _Format("github-token", r"github_pat_",
            lazy_compile(r"github_pat_[A-Za-z0-9_]{60,255}")),
    _Format("gitlab-token",
            r"gl(?:pat|rt|dt|ptt|cbt|ft|soat|imt)-[A-Za-z0-9_\-]{20}",
            lazy_compile(r"gl(?:pat|rt|dt|ptt|cbt|ft|soat|imt)-[A-Za-z0-9_\-]{20,64}"
                       r"(?:\.[A-Za-z0-9_\-]{2,}){0,2}"), check=_mixed),
    _Format("bitbucket-app-password", r"ATBB", lazy_compile(r"ATBB[A-Za-z0-9_=.\-]{24,}"),
            check=_mixed),
    _Format("atlassian-api-token", r"ATATT", lazy_compile(r"ATATT[A-Za-z0-9_=\-]{40,}"),
            check=_mixed),
    _Format("slack-token", r"xox[abposre]-",
            lazy_compile(r"xox[abposre]-[0-9A-Za-z]{1,16}-[0-9A-Za-z\-]{10,}"),
            check=lambda v: sum(c.isdigit() for c in v) >= 6, tail="-"),
    _Format("slack-token", r"xapp-",
            lazy_compile(r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}")),
    _Format("slack-webhook", r"/(?<=hooks\.slack\.com/)",
            lazy_compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_]{6,}/"
                       r"[A-Za-z0-9_]{6,}/[A-Za-z0-9_]{8,}")),
    _Format("discord-webhook", r"/api/webhooks/",
            lazy_compile(r"discord(?:app)?\.com/api/webhooks/\d{5,}/[A-Za-z0-9_\-]{40,}")),
    _Format("telegram-bot-token", r"A(?<=:A)A[A-Za-z0-9_\-]{33}",
            lazy_compile(r"\d{8,10}:AA[A-Za-z0-9_\-]{33}"), tail="-"),
    _Format("stripe-secret-key", r"k_live_(?<=[rs]k_live_)",
            lazy_compile(r"[rs]k_live_[0-9A-Za-z]{10,247}")),
    _Format("stripe-test-key", r"k_test_(?<=[rs]k_test_)",
            lazy_compile(r"[rs]k_test_[0-9A-Za-z]{10,247}"), confidence="low"),
    _Format("stripe-webhook-secret", r"whsec_",
            lazy_compile(r"whsec_[A-Za-z0-9+/]{32,}")),
    _Format("twilio-api-key", r"SK[0-9a-fA-F]{32}", lazy_compile(r"SK[0-9a-fA-F]{32}"),
            check=_mixed),
    _Format("twilio-auth-token", r"AC[0-9a-f]{32}:",
            lazy_compile(r"AC[0-9a-f]{32}:([0-9a-f]{32})"), group=1),
    _Format("sendgrid-api-key", r"SG\.",
            lazy_compile(r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{30,50}"), tail="-"),
    _Format("anthropic-api-key", r"k-(?<=sk-)ant-",
            lazy_compile(r"sk-ant-[a-z0-9]+-[A-Za-z0-9_\-]{32,}"), tail="-"),
    _Format("openai-api-key", r"k-(?<=sk-)[A-Za-z0-9_\-]{32}",
            lazy_compile(r"sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_\-]{32,}"),
            check=_openai_ok, tail="-"),
    _Format("npm-token", r"m_(?<=npm_)", lazy_compile(r"npm_[A-Za-z0-9]{36}")),
    _Format("pypi-token", r"A(?<=pypi-A)g", lazy_compile(r"pypi-Ag[A-Za-z0-9_\-]{60,}")),
    _Format("jwt", r"J(?<=eyJ)",
            lazy_compile(r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
            check=_jwt_ok, tail="-."),
)  # fmt: skip

# formats that name a provider and are issued by it (AWS, GitHub, Stripe live, Slack...):
# such a token is a real one wherever it appears, a test folder included. Not JWTs (test
# suites mint their own) nor Stripe test-mode keys (public by design).
_PROVIDER_KINDS: Final = frozenset(f.kind for f in _FORMATS) - {"jwt", "stripe-test-key"}


def is_provider_token(kind: str) -> bool:
    """A secret in a provider's own token format, not a generic password, key or value."""
    return kind in _PROVIDER_KINDS


class _Words(Struct, frozen=True):
    """The long whitespace-separated words of a text, joined: every token format lives in one.

    Scanning this much smaller text instead of the whole file keeps the per-format regex
    passes cheap on source code; offsets are mapped back to the original text on demand.
    """

    joined: str
    starts: tuple[int, ...]
    words: tuple[str, ...]

    @classmethod
    def of(cls, text: str, min_len: int = 16) -> _Words:
        words = tuple([w for w in text.split() if len(w) >= min_len])
        starts = tuple(accumulate((len(w) + 1 for w in words), initial=0))[:-1]
        return cls("\n".join(words), starts, words)


def _locate_words(text: str, words: _Words, indexes: list[int]) -> dict[int, int]:
    """Original offsets of the given (sorted) word indexes."""
    located: dict[int, int] = {}
    cursor = 0
    for index in indexes:
        word = words.words[index]
        position = text.find(word, cursor)
        while (
            position > 0
            and not text[position - 1].isspace()
            or (position + len(word) < len(text) and not text[position + len(word)].isspace())
        ):
            position = text.find(word, position + 1)
        located[index] = position
        cursor = position + len(word)
    return located


_SIGNATURES: Final = tuple(lazy_compile(fmt.signature) for fmt in _FORMATS)


@lru_cache(maxsize=1)
def _signature_groups() -> tuple[tuple[re.Pattern[str], tuple[int, ...]], ...]:
    """The signatures joined by their first character, each group one regex: the engine
    skips from one such character to the next as fast as `str.find` (a set of first
    characters would be tested at every character, several times slower)."""
    groups: dict[str, list[int]] = {}
    for number, fmt in enumerate(_FORMATS):
        groups.setdefault(fmt.signature[0], []).append(number)
    return tuple(
        (re.compile("|".join(_FORMATS[n].signature for n in numbers)), tuple(numbers))
        for numbers in groups.values()
    )


def _present_formats(joined: str) -> list[_Format]:
    """The formats whose signature is in ``joined``: the only ones that can match there."""
    found: set[int] = set()
    if not joined:  # no long word: a short line, most texts handed over one by one
        return []
    for group, numbers in _signature_groups():
        match = group.search(joined)
        if match is None:
            continue
        missing = set(numbers)
        while match is not None and missing:
            at = match.start()
            for number in sorted(missing):
                if _SIGNATURES[number].match(joined, at) is not None:
                    missing.discard(number)
                    found.add(number)
            match = group.search(joined, at + 1)
    return [fmt for number, fmt in enumerate(_FORMATS) if number in found]


def _known_format_hits(doc: _Text) -> Iterator[_Hit]:
    words = doc.words
    joined = words.joined
    found: list[tuple[int, int, int, _Format, str]] = []  # (word, start, end, format, value)
    for fmt in _present_formats(joined):
        for match in fmt.pattern.finditer(joined):
            start, end = match.span()
            if not _boundary_before(joined, start) or not _boundary_after(joined, end, fmt.tail):
                continue
            value = match.group(fmt.group)
            if _looks_like_token_placeholder(value) or (fmt.check and not fmt.check(value)):
                continue
            index = bisect.bisect_right(words.starts, start) - 1
            vstart = match.start(fmt.group) - words.starts[index]
            found.append((index, vstart, vstart + len(value), fmt, value))
    if not found:
        return
    located = _locate_words(doc.text, words, sorted({f[0] for f in found}))
    for index, start, end, fmt, value in found:
        base = located[index]
        yield _Hit(1, base + start, base + end, fmt.kind, value, confidence=fmt.confidence)


# --------------------------------------------------------------------------- base64 values

_ENCODED_BODY: Final = r"[\"']?(?P<b64>[A-Za-z0-9+/]{20,}={0,2})[\"']?[,;]?"
_ENCODED_VALUE: Final = lazy_compile(rf"{_ENCODED_BODY}(?=\n|\Z)")
_ENCODED_NEXT: Final = lazy_compile(rf"\n{_ENCODED_BODY}(?=\n|\Z)")
"""One whole word of _Words.joined: a YAML/JSON value (``key: value``, ``"key": "value"``).
The first word is matched at 0, the others after their newline: the engine skips from newline
to newline, where a `^` in multiline mode is tried at every character."""
_MAX_DECODED: Final = 16 * 1024
"""Encoded characters decoded per value: enough for a PEM key or any URL, bounded for speed."""


def _decode_base64_text(encoded: str) -> str | None:
    """The UTF-8 text a (padded, standard) base64 value encodes; the first 16 KB of it only."""
    import base64

    chunk = encoded[:_MAX_DECODED]
    truncated = len(chunk) < len(encoded)
    if truncated:
        chunk = chunk[: len(chunk) - len(chunk) % 4]
    elif len(chunk) % 4:
        return None
    try:
        data = base64.b64decode(chunk, validate=True)
    except (ValueError, binascii.Error):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if truncated and error.start >= len(data) - 3:  # a character cut by the 16 KB bound
            return data[: error.start].decode("utf-8")
        return None


def _encoded_hits(doc: _Text) -> Iterator[_Hit]:
    """Base64 values whose text is a secret: a kubeconfig ``client-key-data`` (a PEM key), a
    Kubernetes Secret's ``data:`` value holding a URL with a password or a known token.

    The decoded texts go through the key-block, URL and token layers; a hit is reported on
    the encoded value, which is what appears in the file. The decoded texts are joined, one a
    line, so that those layers run once per file rather than once per value.
    """
    words = doc.words
    values: list[tuple[int, int, int]] = []  # (word index, start, end) of each encoded value
    decoded_texts: list[str] = []
    first = _ENCODED_VALUE.match(words.joined)
    for match in chain((first,) if first else (), _ENCODED_NEXT.finditer(words.joined)):
        decoded = _decode_base64_text(match.group("b64"))
        if decoded is None or not decoded.strip():
            continue
        index = bisect.bisect_right(words.starts, match.start("b64")) - 1
        start, end = (p - words.starts[index] for p in match.span("b64"))
        values.append((index, start, end))
        decoded_texts.append(decoded)
    if not values:
        return
    found: dict[int, _Hit] = {}  # value number -> the first hit in its decoded text
    for number, decoded in enumerate(decoded_texts):
        if "PRIVATE KEY" in decoded or "PuTTY-User-Key-File" in decoded:
            key = next(_private_key_hits(_Text.of(decoded, "config", doc.path)), None)
            if key is not None:
                found[number] = key
    combined = _Text.of("\n".join(decoded_texts), "config", doc.path)
    bounds = list(accumulate((len(t) + 1 for t in decoded_texts[:-1]), initial=0))
    for hit in sorted(chain(_known_format_hits(combined), _url_hits(combined)),
                      key=lambda h: (h.priority, h.start)):  # fmt: skip
        found.setdefault(bisect.bisect_right(bounds, hit.start) - 1, hit)
    located = _locate_words(doc.text, words, sorted({values[n][0] for n in found}))
    for number, hit in sorted(found.items()):
        index, start, end = values[number]
        base = located[index]
        description = f"{hit.description or _DESCRIPTIONS[hit.kind]} (base64-encoded)"
        value = words.words[index][start:end]
        yield _Hit(1, base + start, base + end, hit.kind, value, description, hit.confidence)


# --------------------------------------------------------------------------- private keys

_KEY_BODY_CHARS: Final = lazy_compile(r"[A-Za-z0-9+/=]")
_KEY_LABELS: Final = {"RSA": "RSA", "EC": "EC", "DSA": "DSA", "OPENSSH": "OpenSSH",
                      "ENCRYPTED": "encrypted", "PGP": "PGP"}  # fmt: skip


def _private_key_hits(doc: _Text) -> Iterator[_Hit]:
    text = doc.text
    if _bytes_re(rb"P(?:RIVATE KEY|uTTY-User-Key-File)").search(doc.raw) is None:
        return
    for match in _PRIVATE_KEY_HEADER.finditer(text):
        start, header_end = match.span()
        if match.group(0).startswith("PuTTY"):
            end_marker = text.find("Private-MAC:", header_end, header_end + 20000)
            label = "PuTTY"
        else:
            end_marker = text.find("-----END", header_end, header_end + 20000)
            label = " ".join(_KEY_LABELS.get(word, word) for word in (match.group(1) or "").split())
        end = header_end + 400 if end_marker < 0 else text.find("-----", end_marker + 8) + 5
        end = min(max(end, header_end), len(text))
        body = text[header_end : end_marker if end_marker >= 0 else end]
        body = body.replace("\\n", "\n")
        body = re.sub(r"(?m)^[ \t\"'|+]*(?:[A-Za-z-]+:.*)?$", "", body)  # headers, quoting
        payload = "".join(_KEY_BODY_CHARS.findall(body))
        if len(payload) < 40 or len(set(payload)) < 16:
            continue
        kind = "private-key"
        if '"private_key"' in text[max(0, start - 40) : start] and "service_account" in text:
            kind = "gcp-service-account-key"
        description = f"{label} private key".strip() if label else "private key"
        description = description[0].upper() + description[1:]
        yield _Hit(0, start, end, kind, text[start:end], description=description)


# --------------------------------------------------------------------------- URLs

_SCHEME_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-"
)
_USERINFO: Final = lazy_compile(
    r"(?P<user>[^\s:/?#@'\"<>\[\]{}\\]{0,128}):(?P<pw>[^\s/@'\"<>\\]{1,256})@"
    r"(?P<host>[A-Za-z0-9\[][A-Za-z0-9.\-_\[\]:%]*)"
)
_DB_SCHEMES: Final = {
    "postgres": "PostgreSQL", "postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB",
    "mongodb": "MongoDB", "mongodb+srv": "MongoDB", "redis": "Redis", "rediss": "Redis",
    "amqp": "AMQP", "amqps": "AMQP", "mssql": "SQL Server", "sqlserver": "SQL Server",
}  # fmt: skip
_DOC_HOSTS: Final = lazy_compile(r"(?i)(?:^|\.)(example\.(?:com|org|net)|example|invalid|test)$")


def _url_hits(doc: _Text) -> Iterator[_Hit]:
    text = doc.text
    userinfo = _USERINFO.match
    for separator in _bytes_re(rb"://").finditer(doc.raw):
        position = separator.start()
        match = userinfo(text, position + 3)  # most URLs have none: no scheme needed
        if match is not None:
            start = position
            while start > 0 and position - start < 32 and text[start - 1] in _SCHEME_CHARS:
                start -= 1
            scheme = text[start:position].lstrip("+.-0123456789").lower()
            hit = _judge_url(scheme, match) if scheme else None
            if hit is not None:
                yield hit


def _judge_url(scheme: str, match: re.Match[str]) -> _Hit | None:
    user, password, host = match.group("user", "pw", "host")
    host = host.split(":", 1)[0].rstrip(".")
    if (
        len(password) < 4
        or password == user
        or (len(password) >= 4 and password.lower() in user.lower())  # saleor_ro:saleor
        or password.isdigit()
        or looks_like_placeholder(password)
        or _FORMAT_SLOT.search(password) is not None
        or _DOC_HOSTS.search(host)
    ):
        return None
    label = _DB_SCHEMES.get(scheme.split("+")[-1] if scheme.startswith("jdbc") else scheme)
    description = f"Password in a {label or scheme} URL"
    confidence: Confidence = "low" if _LOCAL_HOSTS.fullmatch(host) else "high"
    return _Hit(
        2, match.start("pw"), match.end("pw"), "url-password", password, description, confidence
    )


_LOCAL_HOSTS: Final = lazy_compile(r"(?i)localhost|127\.0\.0\.1|0\.0\.0\.0|\[?::1\]?")


_CURL_USER: Final = lazy_compile(
    r"\s?(?:-u|--user)[ \t]*[\"']?(?P<user>[^\s:'\"$]+):(?P<pw>[^\s'\"@]+)"
)


def _curl_hits(doc: _Text) -> Iterator[_Hit]:
    text = doc.text
    flags: tuple[list[int], list[int]] = ([], [])  # where ` -u` is, where `--user` is
    for flag in _bytes_re(rb"-u(?:(?<= -u)|(?<=--u)ser)").finditer(doc.raw):
        flags[flag.end() - flag.start() > 2].append(flag.start() - 1)
    for positions in flags:
        for position in positions:
            match = _CURL_USER.match(text, position)
            if match is not None:
                password = match.group("pw")
                if (
                    len(password) >= 4
                    and password != match["user"]
                    and not looks_like_placeholder(password)
                ):
                    yield _Hit(
                        2, match.start("pw"), match.end("pw"), "basic-auth-credential", password
                    )


_CLI_P_COMMAND: Final = lazy_compile(
    r"\b(?:(?:docker|podman|buildah|nerdctl|helm|oras|skopeo|crane)\b.*\blogin\b.*"
    r"|(?P<attached>(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b.*)|sshpass\b.*)$"
)
_CLI_P_VALUE: Final = lazy_compile(r"-p(?P<gap>[ \t]*)(?P<pw>\"[^\"\n]+\"|'[^'\n]+'|[^\s\"';|&]+)")


def _cli_password_hits(doc: _Text) -> Iterator[_Hit]:
    """``docker login -p PW``, ``mysql -pPW``, ``sshpass -p PW``."""
    text = doc.text
    for flag in _bytes_re(rb"-p(?<= -p)").finditer(doc.raw):
        position = flag.start() - 1
        line_start, line_end = doc.line_bounds(position)
        command = _CLI_P_COMMAND.search(text, line_start, position)
        value = _CLI_P_VALUE.match(text, position + 1, line_end) if command else None
        if command and value and not (command.group("attached") and value.group("gap")):
            password = value.group("pw").strip("\"'")
            if len(password) >= 4 and not looks_like_placeholder(password):
                start = value.start("pw") + (value.group("pw")[0] in "\"'")
                yield _Hit(2, start, start + len(password), "command-line-password", password)


# --------------------------------------------------------------------------- assignments

_KEYWORDS: Final = ("pass", "pw", "secret", "token", "key", "auth", "cred")
_NAME_CHARS: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
_NAME_END: Final = lazy_compile(r"[\w.\-]*")
_QUOTED: Final = r"\"(?:[^\"\\\n]|\\.){0,2000}\"|'(?:[^'\\\n]|\\.){0,2000}'|`[^`\n]{0,2000}`"
_UNQUOTED: Final = r"[^\s\"'`,;<>\\]{1,2000}"
_ASSIGN: Final = lazy_compile(
    r"(?:[\"']\]|[\"'\]])?[ \t]*"  # NAME=, "NAME":, NAME]=, ["NAME"] =
    r"(?P<sep>:[ \t]*[A-Za-z_][\w\[\]., |]{0,40}?[ \t]+=(?=[ \t])"  # python annotation
    r"|:=|=>|\?=|\+=|=(?![=~>])|:(?![:/\\])|[ \t]*(?:\|\||\?\?))"
    r"[ \t]*(?:!!?[A-Za-z]+[ \t]+)?"
    rf"(?P<val>{_QUOTED}|{_UNQUOTED})"
)
_EXPANSION: Final = lazy_compile(r"(?P<op>:?[-=?+])(?P<val>[^}\s\"'`]{1,500})\}")
_XML_VALUE: Final = lazy_compile(r">(?P<val>[^<\n]{1,500})</")
_BEFORE_WINDOW: Final = 512
_CALL_BEFORE: Final = lazy_compile(
    r"(?:getenv|get|setdefault|define|env|fetch|getProperty|GetEnvironmentVariable)\(\s*[\"']$"
)
_DOC_URL_BEFORE: Final = lazy_compile(
    r"(?i)://(?:[^/?#\s@]*@)?(?:[\w\-]+\.)*(?:example\.(?:com|org|net)|example|invalid|test)"
    r"(?::\d+)?(?:/[^?\s]*)?\?[^\s]*$"
)
_CALL_DEFAULT: Final = lazy_compile(rf"[\"'][ \t]*,[ \t]*(?P<val>{_QUOTED})")
_SPACED_VALUE: Final = lazy_compile(rf"[\"']?[ \t]+(?P<val>{_QUOTED}|{_UNQUOTED})")
_NAME_KEY_BEFORE: Final = lazy_compile(
    r"""(?:(?:^|[\s{,\-])["']?(?:name|key|Name|Key)["']?\s*[:=]\s*|variable\s+|ENV\[|environ\[)["']?$"""
)
_LATER_VALUE: Final = lazy_compile(
    rf"""["']?(?:value|default|Value)["']?[ \t]*(?::|=(?!=))[ \t]*(?P<val>{_QUOTED}|{_UNQUOTED})"""
)
_CONCATENATED: Final = lazy_compile(r"[ \t]*(?:\+|%[ \t(]|\.(?:format|join|replace)\b|\[)")
_FOLLOWING_WORD: Final = lazy_compile(r"[ \t]+([^\s\"'`,;]+)")
_AUTH_SCHEMES: Final = frozenset({"bearer", "basic", "token", "digest"})


def _keyword_offsets(doc: _Text) -> list[int]:
    """Where each keyword is in the text, whatever its case (each keyword's occurrences
    taken left to right without overlap, as `find` from the end of the previous one)."""
    low = doc.folded
    offsets = [m.start() for m in _bytes_re(rb"p(?:ass|w)").finditer(low)]
    offsets += [m.start() for m in _bytes_re(rb"auth").finditer(low)]
    # `token` and `secret` are found by their `k` and `c`, with `key` and `cred`
    for match in _bytes_re(rb"k(?:ey|en(?<=token))").finditer(low):
        offsets.append(match.start() - 2 * (low[match.start() + 2] == 0x6E))  # k(en)
    for match in _bytes_re(rb"c(?:red|ret(?<=secret))").finditer(low):
        offsets.append(match.start() - 2 * (low[match.start() + 3] == 0x74))  # c(ret)
    offsets.sort()
    return offsets


@cache
def _bytes_re(pattern: bytes) -> re.Pattern[bytes]:
    """A compiled pattern for the one-byte copies of a text. Each begins with a literal the
    engine skips to in a tight loop, twice as fast as `bytes.find` with a short needle."""
    return re.compile(pattern)


def _assignment_hits(doc: _Text) -> Iterator[_Hit]:
    text = doc.text
    if b"kind: SealedSecret" in doc.raw:  # values are ciphertext for the cluster's key
        return
    covered = -1
    name_end = _NAME_END.match
    for offset in _keyword_offsets(doc):
        if offset < covered:
            continue
        # the name runs back over name characters, 100 at most
        window = text[max(0, offset - 100) : offset]
        start = offset - len(window) + len(window.rstrip(_NAME_CHARS))
        end = name_end(text, offset).end()  # type: ignore[union-attr]  # `*` always matches
        covered = end
        raw_name = text[start:end]
        name = raw_name.strip(".-")
        if not name or len(name) > 100:
            continue
        name_class = _classify_name(name)
        if name_class is None and name.lower() == "pwd" and _pwd_is_password(text, start, end):
            name_class = "password"
        if name_class is None or (
            start and text[start - 1] in ":/" and text[start - 2 : start] != "/:"
        ):
            continue  # unknown name, or a segment of an ARN, path or type name
        hit = _assignment_at(doc, start, end, raw_name, name, name_class)
        if hit is not None:
            yield hit


_PWD_KEY_AFTER: Final = lazy_compile(r"[\"']?[ \t]*:(?:[ \t]|$)", re.MULTILINE)
_PWD_ODBC_AFTER: Final = lazy_compile(r"[ \t]*=")
_YAML_KEY_BEFORE: Final = lazy_compile(r"[ \t]*(?:-[ \t]+)?[\"']?")


def _pwd_is_password(text: str, start: int, end: int) -> bool:
    """``PWD`` is the shell's working directory, except as a lowercase mapping key
    (``"pwd": ...``, ``pwd: ...``) and in an ODBC/ADO.NET connection string (``;PWD=...``)."""
    if start and text[start - 1] == ";":
        return _PWD_ODBC_AFTER.match(text, end) is not None
    if text[start:end] != "pwd":
        return False
    quote = text[start - 1 : start] if start and text[start - 1] in "\"'" else ""
    if quote and not text.startswith(quote, end):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    return (
        _YAML_KEY_BEFORE.fullmatch(text, line_start, start) is not None
        or (quote != "" and text[line_start:start].rstrip(quote).rstrip().endswith(("{", ",")))
    ) and _PWD_KEY_AFTER.match(text, end) is not None


_JSON_STRING: Final = lazy_compile(r'"(?P<body>(?:[^"\\\n]|\\.)*)"')
_JSON_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_MAX_EMBEDDED: Final = 4000  # a line of code; longer strings are outputs and data


def _decode_json_string(raw: str) -> tuple[str, list[int]]:
    """The text of a JSON string body, with the offset in ``raw`` of each decoded character."""
    chars: list[str] = []
    offsets: list[int] = []
    index, size = 0, len(raw)
    while index < size:
        char, step = raw[index], 1
        if char == "\\" and index + 1 < size:
            escape, step = raw[index + 1], 2
            char = _JSON_ESCAPES.get(escape, escape)
            if escape == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", raw[index + 2 : index + 6]):
                char, step = chr(int(raw[index + 2 : index + 6], 16)), 6
        chars.append(char)
        offsets.append(index)
        index += step
    return "".join(chars), offsets


def _embedded_code_hits(doc: _Text) -> Iterator[_Hit]:
    """Assignments in code held by JSON strings (notebook cells: ``"key = \\"...\\"\\n"``).

    The escaped quotes hide the literal from the assignment pass; each such string is
    unescaped and judged as code, and its hits are mapped back to the JSON text.
    """
    text = doc.text
    if doc.style != "json":
        return
    position = text.find('\\"')
    while position >= 0:
        line_start, line_end = doc.line_bounds(position)
        for literal in _JSON_STRING.finditer(text, line_start, line_end):
            raw = literal.group("body")
            low = raw.lower()
            if (
                '\\"' not in raw
                or len(raw) > _MAX_EMBEDDED
                or not any(keyword in low for keyword in _KEYWORDS)
            ):
                continue
            decoded, offsets = _decode_json_string(raw)
            base = literal.start("body")
            for hit in _assignment_hits(_Text.of(decoded, "code", doc.path)):
                start = base + offsets[hit.start]
                end = base + (offsets[hit.end] if hit.end < len(offsets) else len(raw))
                yield replace(hit, start=start, end=end)
        position = text.find('\\"', line_end)


def _assignment_at(
    doc: _Text, start: int, end: int, raw_name: str, name: str, name_class: NameClass
) -> _Hit | None:
    text = doc.text
    line_start, line_end = doc.line_bounds(start)
    # only the end of the line before the name matters; a bounded window keeps minified
    # one-line files (bundles, notebooks) linear instead of quadratic
    before = text[max(line_start, start - _BEFORE_WINDOW) : start]
    name_key = _may_end_name_key(before)
    if text[end : end + 1] not in _AFTER_NAME and not name_key:
        return None  # no value can follow the name (`pass`, `key)`, `token.`)
    previous = text[start - 1 : start] if start else ""
    if previous == "<" and text.startswith(">", end):
        xml = _XML_VALUE.match(text, end, line_end)
        return _judge_value(doc, xml, name, name_class, "<") if xml else None
    if previous in "?&" and _DOC_URL_BEFORE.search(before):
        return None  # a query parameter of a documentation URL (RFC examples, example.com)
    if previous == "$" and text.startswith(":", end):
        return None  # a GraphQL variable and its type: `$key: String!`
    if before.endswith(_QUOTES) and _CALL_BEFORE.search(before):  # (`$` ends on a quote)
        call = _CALL_DEFAULT.match(text, end, line_end)
        return _judge_value(doc, call, name, name_class, previous) if call else None
    if before.endswith("${"):  # shell parameter expansion: only a default is a literal
        expansion = _EXPANSION.match(text, end, line_end)
        if expansion is None or expansion.group("op")[-1] in "?+":
            return None  # ${NAME}, ${NAME:?message}, ${NAME:+alternate}
        return _judge_value(doc, expansion, name, name_class, previous)
    match = _ASSIGN.match(text, end, line_end)
    if match is None:
        spaced = _SPACED_VALUE.match(text, end, line_end)
        if spaced is not None and _spaced_context(doc, before, raw_name, start):
            if _OPTION_LIST.match(spaced.group("val").strip("\"'")):
                return None  # `--secret id=npm_token,env=NPM_TOKEN`: options naming a secret
            match = spaced
    if match is None and name_key and _NAME_KEY_BEFORE.search(before):
        tail_end = line_end
        for _ in range(3):
            nxt = text.find("\n", tail_end + 1)
            tail_end = len(text) if nxt < 0 else nxt
        match = _LATER_VALUE.search(text, end, tail_end)
    if match is None:
        return None
    if doc.style != "config" and _inside_string(before) and previous not in ("?", "&"):
        previous = ";"  # a key=value list inside a string literal (DSN, connection string)
    return _judge_value(doc, match, name, name_class, previous)


_QUOTES: Final = ("'", '"')
_AFTER_NAME: Final = frozenset("\"'`]: \t=?+|>-")
"""What a value that follows its name begins with: a quote, a separator, a space (`ENV`),
`>` (XML), `:-` (a shell default). Every such pattern's first character is one of these."""


def _may_end_name_key(before: str) -> bool:
    """False when `_NAME_KEY_BEFORE` cannot match: it ends on `:` or `=` (then spaces),
    `variable` (then spaces) or `[`, and then an optional quote (`before` is one line: its
    `$` is its end)."""
    core = (before[:-1] if before.endswith(_QUOTES) else before).rstrip()
    return core.endswith((":", "=", "[", "variable"))


def _inside_string(before: str) -> bool:
    before = before[:-1] if before.endswith(("'", '"')) else before  # the key's own quote
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1


def _spaced_context(doc: _Text, before: str, raw_name: str, start: int) -> bool:
    stripped = before.strip()
    if raw_name.lower() == "password" and _in_sql_role_statement(doc.text, start):
        return True  # CREATE USER x WITH [ENCRYPTED] PASSWORD '...'
    if raw_name.startswith("--"):
        return True
    upper = stripped.upper()
    if upper in {"ENV", "ARG"} or upper.endswith(" ENV"):
        return True
    if stripped.endswith((" set", " config")):  # aws configure set NAME VALUE
        return True
    netrc = doc.path.endswith("netrc") or "machine " in before or "login " in before
    return netrc and raw_name.lower() == "password"


_SQL_ROLE_STATEMENT: Final = lazy_compile(
    r"(?i)\b(?:create|alter)\s+(?:user|role|login)\b|\bgrant\b[^;]*\bto\b"
)
_SQL_IDENTIFIED_BY: Final = lazy_compile(
    r"(?i)\bidentified[ \t]+(?:with[ \t]+[\w'\"]+[ \t]+)?by[ \t]+(?!password\b|values\b)"
    r"(?P<val>'(?:[^'\\\n]|\\.){1,256}'|\"(?:[^\"\\\n]|\\.){1,256}\"|(?![:@?$%])[^\s'\";,)]{1,256})"
)


def _sql_identified_by(doc: _Text) -> Iterator[re.Match[str]]:
    """`_SQL_IDENTIFIED_BY.finditer(doc.text)`, tried only where `identified` is: the regex,
    being case-insensitive, would be tried at every character. Its `i` also matches `İ` and
    `ı`, which `folded` does not see: a text holding one is searched whole."""
    text = doc.text
    if "\u0130" in text or "\u0131" in text:
        yield from _SQL_IDENTIFIED_BY.finditer(text)
        return
    folded = doc.folded
    position = folded.find(b"identified")
    while position >= 0:
        match = _SQL_IDENTIFIED_BY.match(text, position)
        if match is not None:
            yield match
            position = folded.find(b"identified", match.end())
        else:
            position = folded.find(b"identified", position + 1)


def _in_sql_role_statement(text: str, start: int) -> bool:
    """True inside ``CREATE|ALTER USER|ROLE|LOGIN ...`` or ``GRANT ... TO ...`` (same statement)."""
    window = max(0, start - 300, text.rfind(";", max(0, start - 300), start) + 1)
    return _SQL_ROLE_STATEMENT.search(text, window, start) is not None


def _sql_password_hits(doc: _Text) -> Iterator[_Hit]:
    """``CREATE USER x IDENTIFIED BY '...'`` (MySQL, Oracle), ``ALTER USER ... IDENTIFIED BY``."""
    if b"identified" not in doc.folded:
        return
    for match in _sql_identified_by(doc):
        if _in_sql_role_statement(doc.text, match.start()):
            hit = _judge_value(doc, match, "password", "password", ";")
            if hit is not None:
                yield hit


def _judge_value(
    doc: _Text, match: re.Match[str], name: str, name_class: NameClass, previous: str
) -> _Hit | None:
    raw = match.group("val")
    if raw[:1] in "\"'`" and _CONCATENATED.match(doc.text, match.end()):
        return None  # a string template being assembled, not a literal credential
    quoted = raw[:1] in "\"'`" or previous == "<"  # XML text is a literal
    value = raw[1:-1] if raw[:1] in "\"'`" else raw
    offset = match.start("val") + (1 if raw[:1] in "\"'`" else 0)
    if not quoted:
        if doc.style != "config" and previous not in ("?", "&", ";"):
            return None
        if value.startswith(("|", ">")) or re.fullmatch(r"!!?[A-Za-z]+", value):  # YAML
            return None
        if previous in ("?", "&"):  # a query string or form body: the value ends at `&`
            value = value.partition("&")[0]
        value = _strip_unbalanced_closers(value)
    lowered = value.lower()
    scheme, _, credential = value.partition(" ")
    if scheme.lower() in _AUTH_SCHEMES:
        if not credential and not quoted:
            follow = _FOLLOWING_WORD.match(doc.text, match.end())
            credential = follow.group(1) if follow else ""
            offset = follow.start(1) if follow else match.end()
        else:
            offset += len(scheme) + 1
        value, lowered = credential.strip(), credential.strip().lower()
        name_class = "secret"
        if scheme.lower() == "basic" and value and not _basic_credential(value):
            return None  # `Basic not_base64`: a test of a malformed header, no credential
    kind = _value_kind(name, name_class, value, lowered, quoted=quoted)
    if kind is None:
        return None
    return _Hit(3, offset, offset + len(value), kind, value)


_BASIC_B64: Final = lazy_compile(r"[A-Za-z0-9+/]+={0,2}")


def _basic_credential(value: str) -> bool:
    """True when `value` can be an HTTP Basic credential: base64 of `user:password`
    (padding may be left out). A reference (`${AUTH}`) is judged elsewhere."""
    import base64

    if "$" in value or "{" in value or not _BASIC_B64.fullmatch(value):
        return "$" in value or "{" in value
    padded = value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4)
    try:
        decoded = base64.b64decode(padded, validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _strip_unbalanced_closers(value: str) -> str:
    for opener, closer in ("()", "[]", "{}"):
        while value.endswith(closer) and value.count(closer) > value.count(opener):
            value = value[:-1]
    return value


_BOOTSTRAP_TOKEN: Final = lazy_compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")
"""A kubeadm bootstrap token (``kubeadm join --token``): host-name shaped, yet a credential."""


def _is_bootstrap_token(name: str, value: str) -> bool:
    return (
        _BOOTSTRAP_TOKEN.fullmatch(value) is not None
        and any(t.endswith("token") for t in _name_tokens(name))
        and not looks_like_placeholder(value)
        and _is_random_looking(value.replace(".", ""), min_len=16)
    )


@lru_cache(maxsize=4096)  # values repeat across files (`password: 123456`); the answer is pure
def _value_kind(
    name: str, name_class: NameClass, value: str, lowered: str, *, quoted: bool = True
) -> str | None:
    if name_class == "secret" and _is_bootstrap_token(name, value):
        return "high-entropy-assignment"
    if (
        not value
        or len(value) > 1000
        or looks_like_placeholder(value)
        or _normalize(value) == _normalize(name)
        or _names_a_credential(value)
        or "://" in value
        or _is_non_secret_shape(value, quoted=quoted)
        or _is_prose(value)
    ):
        return None
    if _TRUNCATED_TOKEN.fullmatch(value):
        return None  # `sk_test_123`: a token prefix with a stub body, too short to be a key
    tokens = _name_tokens(name)
    if (
        re.fullmatch(r"[A-Za-z0-9/+]{40}", value)
        and "secret" in tokens
        and ("aws" in tokens or "access" in tokens)
    ):
        return "aws-secret-access-key"
    if "twilio" in tokens and re.fullmatch(r"[0-9a-f]{32}", value):
        return "twilio-auth-token"
    if _UUID_RE.fullmatch(value):
        strong = name_class == "password" or any(t in _UUID_SECRET_WORDS for t in tokens)
        return "high-entropy-assignment" if strong or _is_api_key(tokens) else None
    decoded = _decoded_base64_text(value)
    if decoded is not None and looks_like_placeholder(decoded):
        return None
    if name_class == "password":
        return "password-assignment" if _password_like(value) else None
    if _is_dotted_path(value):
        return None  # `ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"`: an import path
    if name_class == "key" and _HEX_RE.fullmatch(value):
        return None
    if any(c.isspace() for c in value):
        return None
    min_len = 16 if name_class == "key" else 10
    if _is_identifier_like(value):
        return None
    return "high-entropy-assignment" if _is_random_looking(value, min_len=min_len) else None


_TRUNCATED_TOKEN: Final = lazy_compile(
    r"(?:[spr]k|whsec|xox[abpr]|gh[pousr]|npm)[_\-](?:(?:test|live)_)?\w{0,9}"
)
_SNAKE_CASE: Final = lazy_compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def _names_a_credential(value: str) -> bool:
    """``reporting_password``, ``db_api_key``: the name of a variable, secret or setting that
    holds the credential (a psql ``:'var'``, a Docker secret, a vault path), not the credential."""
    name = value.strip("_")  # `_password_timestamp`: a private attribute's or a key's name
    if _SNAKE_CASE.fullmatch(name) is None:
        return False
    return _classify_name(name) is not None or any(
        _word_class(token, None) is not None for token in _name_tokens(name)
    )


def _is_identifier_like(value: str) -> bool:
    """``ProductUserVisibleVersion``, ``edge_key_name``, ``a.b.c``: words, not randomness."""
    if any(c.isdigit() for c in value) or not re.fullmatch(r"[A-Za-z_.\-:/]+", value):
        return False
    parts = _NAME_TOKEN_RE.findall(value)
    return bool(parts) and all(len(p) >= 2 for p in parts) and len(value) / len(parts) >= 3.5


_UUID_SECRET_WORDS: Final = _PASSWORD_WORDS | {"secret", "token", "apikey", "credential", "auth"}


def _is_api_key(tokens: list[str]) -> bool:
    return any(a == "api" and b == "key" for a, b in zip(tokens, tokens[1:], strict=False))


def _normalize(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _is_prose(value: str) -> bool:
    """Natural-language text (labels, translations), never a generated credential."""
    if not value.isascii():
        return True
    words = value.split()
    return len(words) >= 2 and all(w.strip(".,!?:;'\"()-").isalpha() for w in words)


def _password_like(value: str) -> bool:
    if len(value) < 6 or any(c.isspace() for c in value):
        return False
    if _char_classes(value[1:] if value[:1].isupper() else value) < 2:  # a plain word
        return len(value) >= 12 and shannon_entropy(value) >= 3.2
    return shannon_entropy(value) >= 2.3


_NON_SECRET_SHAPES: Final = lazy_compile(
    r"""(?x)
    (?:~|\.{1,2})?(?:/[\w.@\-]+)+/?        # absolute or relative path
    | [A-Za-z]:\\.*                        # windows path
    | [\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+      # e-mail
    | (?P<host>[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?::\d+)?)  # host name, version
    | \d+(?:\.\d+)*[a-z]{0,3}              # number, size
    | [a-z][a-z_\-]*(?::[a-z][a-z_\-]*)+    # namespaced key name (rq:rl-keys)
    | \d{4}-\d\d-\d\d(?:[T\ ][\d:.]+)?(?:Z|[+-]\d\d:?\d\d)?  # date, timestamp
    | (?:sha(?:1|256|384|512)|md5)[:\-].*  # digests, integrity
    | (?:ssh|ecdsa)-[\w\-]+\ AAAA.*        # public key
    | (?P<hash>                            # password hashes:
        \$(?:\d[a-z]?|[a-z]{1,2}|[PH]|md5|sha1|apr1|argon2(?:id|i|d)|pbkdf2(?:-sha(?:1|256|512))?
          |bcrypt(?:-sha256)?|scrypt|scram|yescrypt|sm3)[$,].*  # crypt(3), phpass, passlib
      | (?:pbkdf2_sha(?:1|256|512)|argon2|bcrypt(?:_sha256)?|scrypt|sha1|md5)\$.*  # Django
      | (?:pbkdf2:sha(?:1|256|512)(?::\d+)?|scrypt(?::\d+){3})\$.*  # Werkzeug
      | md5[0-9a-f]{32} | SCRAM-SHA-256\$.*  # PostgreSQL
      | \*[0-9A-F]{40}                     # MySQL native
      )
    | (?P<code>[a-z]+(?:[_\-][a-z]+)*\(.*\)?        # function call
      | (?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*(?:\(.*)?)  # dotted identifier
    """
)


_FILE_NAME: Final = lazy_compile(
    r"[\w.\-]+\.(?:ya?ml|json|toml|ini|cfg|conf|txt|md|py|sh|js|ts|pem|crt|key|p12|env|xml|csv)"
)


_DOTTED_PATH: Final = lazy_compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _is_dotted_path(value: str) -> bool:
    """``oauth2_provider.AccessToken``, ``myapp.auth.TokenBackend``: a Python import path (a
    Django model, a class or a setting), each part made of words, not random characters."""
    if _DOTTED_PATH.fullmatch(value) is None:
        return False
    for part in value.split("."):
        words = [w for w in _NAME_TOKEN_RE.findall(part) if not w.isdigit()]
        if not words or any(len(w) < 2 for w in words) or sum(map(len, words)) / len(words) < 3.5:
            return False
    return True


def _is_non_secret_shape(value: str, *, quoted: bool) -> bool:
    if _FILE_NAME.fullmatch(value):
        return True  # a file name (`tiiuae--falcon-7b-instruct.yaml`, `server.key`)
    shape = _NON_SECRET_SHAPES.fullmatch(value)
    if shape is None or (quoted and shape.lastgroup == "code"):
        return False
    if value.startswith("/") and any(
        _is_random_looking(part, min_len=16) for part in value.split("/")
    ):
        return False  # a base64 secret that happens to start with a slash
    # a dotted identifier or host name made of random-looking parts is still a secret
    # (JWT-like, keys); hashes, e-mails, public keys and dates never are
    return not (
        shape.lastgroup in {"code", "host"}
        and "." in value
        and _is_random_looking(value.replace(".", ""), min_len=24)
    )


def _decoded_base64_text(value: str) -> str | None:
    import base64

    if len(value) < 8 or len(value) % 4 or not _B64_RE.fullmatch(value):
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    decoded = decoded.removesuffix("\n").removesuffix("\r")  # `echo value | base64`
    return decoded if decoded.isprintable() else None


# --------------------------------------------------------------------------- public scanning

_DESCRIPTIONS: Final = KINDS


def _collect(doc: _Text) -> list[_Hit]:
    hits = [
        *_private_key_hits(doc),
        *_known_format_hits(doc),
        *_encoded_hits(doc),
        *_url_hits(doc),
        *_curl_hits(doc),
        *_cli_password_hits(doc),
        *_sql_password_hits(doc),
        *_assignment_hits(doc),
        *_embedded_code_hits(doc),
    ]
    hits.sort(key=lambda h: (h.priority, h.start))
    accepted: list[_Hit] = []
    spans: list[tuple[int, int]] = []
    for hit in hits:
        index = bisect.bisect_left(spans, (hit.start, hit.end))
        if any(s < hit.end and hit.start < e for s, e in spans[max(0, index - 1) : index + 1]):
            continue
        spans.insert(index, (hit.start, hit.end))
        accepted.append(hit)
    accepted.sort(key=lambda h: h.start)
    return accepted


_DEBUG_ON: Final = lazy_compile(
    r"(?im)^[ \t]*(?:export[ \t]+|-[ \t]+)?[\"']?(?:DJANGO_)?DEBUG[\"']?[ \t]*[:=][ \t]*"
    r"[\"']?(?:true|1|yes|on)\b"
)


def _development_key(hit: _Hit, doc: _Text) -> bool:
    """A Django ``startproject`` key (``django-insecure-``) in a text that also turns
    DEBUG on (settings.py, a compose or .env file): a development setup's key."""
    return hit.value.startswith("django-insecure-") and _DEBUG_ON.search(doc.text) is not None


def scan_text(text: str, *, path: str | None = None) -> list[SecretMatch]:
    """Every secret in ``text``; ``path`` (a file name) tunes how assignments are parsed."""
    doc = _prepare(text, path)
    matches: list[SecretMatch] = []
    line, counted = 1, 0
    for hit in _collect(doc):
        if hit.confidence != "low" and _development_key(hit, doc):
            hit = replace(hit, confidence="low")
        line += text.count("\n", counted, hit.start)
        counted = hit.start
        column = hit.start - text.rfind("\n", 0, hit.start)
        description = hit.description or _DESCRIPTIONS[hit.kind]
        matches.append(SecretMatch(hit.kind, description, line, column, hit.value, hit.confidence))
    return matches


@lru_cache(maxsize=4096)  # finding messages repeat across files; the answer is pure
def redact_text(text: str) -> str:
    """The text with every secret the detector sees replaced by its redacted form."""
    for match in scan_text(text):
        text = text.replace(match.value, match.redacted)
    return text


# --------------------------------------------------------------------------- shown lines
# A source line shown in a report passes a conservative redaction of its own, whatever any
# rule thought of it: the detector above is tuned to be right (no example.com passwords,
# no placeholders), this pass is tuned to never show a credential. It hides every value in a
# credential-shaped place (URL userinfo, a credential name's value, a credential flag's
# argument, an Authorization header, a key block) and every word shaped like a token.

_SHOWN_URL_USERINFO: Final = lazy_compile(
    r"[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s:/?#@'\"<>\[\]{}\\]{0,128}:(?P<val>[^\s/?#@'\"<>\\]{1,256})@"
)
_SHOWN_ASSIGNMENT: Final = lazy_compile(
    r"""(?<![\w.\-/$:])(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,100})["']?"""
    r"""(?:[ \t]*(?::=|=>|\?=|=(?!=)|:)[ \t]*)"""
    r"""(?P<val>"[^"\n]*"|'[^'\n]*'|[^\s"',;]+)"""
)
_SHOWN_SPACED: Final = lazy_compile(
    r"""(?i)(?:^|\s)(?:ENV|ARG)[ \t]+(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]+(?P<val>\S.*)$"""
)
_SHOWN_FLAG: Final = lazy_compile(
    r"""(?<![^\s"'\[,(])(?P<name>--?[A-Za-z][A-Za-z0-9_\-]{0,60})"""
    r"""(?:=|["'][ \t]*,[ \t]*["']|[ \t]+)"""
    r"""(?P<val>"[^"\n]*"|'[^'\n]*'|[^\s"',;]+)"""
)
_SHOWN_AUTH: Final = lazy_compile(
    r"(?i:authorization[\"']?[ \t]*[:=][ \t]*[\"']?(?:bearer|basic|token|digest)|\bBearer)"
    r"[ \t]+(?P<val>[A-Za-z0-9._~+/=\-]{8,})"
)
_SHOWN_USER: Final = lazy_compile(
    r"""(?:^|\s)(?:-u|--user)(?:[ \t]+|=)?["']?[^\s:'"]+:(?P<val>[^\s'"@]+)"""
)
_SHOWN_TOKEN: Final = lazy_compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_OPTION_LIST: Final = lazy_compile(r"[a-z]+=[^,\s]*(?:,[a-z]+=[^,\s]*)*$")
_HEX_DASHED: Final = lazy_compile(r"[0-9A-Fa-f\-]+")
_SHOWN_KEY_BLOCK: Final = lazy_compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d:"
)
_SHOWN_CLI_P: Final = lazy_compile(
    r"\b(?:mysql\w*|mariadb\w*)\b[^|;&\n]*?\s-p(?P<val>[^\s\"';|&]+)"
    r"|\b(?:login|sshpass)\b[^|;&\n]*?\s-p[ \t]+(?P<val2>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"';|&]+)"
)
_SHOWN_PIPED_PASSWORD: Final = lazy_compile(
    r"""\b(?:echo|printf)[ \t]+(?:-[neE]+[ \t]+)?(?P<val>"[^"\n]*"|'[^'\n]*'|[^\s|]+)[ \t]*\|"""
    r"""[^|;&\n]*--password-stdin"""
)
_SHOWN_REFERENCE: Final = lazy_compile(
    r"\$\{[^}]*\}|\$\([^)]*\)|\$env:\w+|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|%\(\w+\)[sd]|%[sd]"
)
_SHOWN_NOT_LITERAL: Final = lazy_compile(
    r"(?:\$\(|`|\{\{|\{%|<%|!!?[A-Za-z]+$|\d{1,2}$|(?:~|\.{1,2})?/[\w.@+\-/]*$)"
)
_SHOWN_BENIGN: Final = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "none", "nil", "undefined", "-"}
)


def _shown_name_is_credential(name: str) -> bool:
    """A credential name whose value is hidden; a bare `key` is a map or lookup key."""
    last = name.rsplit(".", 1)[-1].lower()
    return last not in {"key", "keys"} and is_credential_name(name)


def _shown_flag_is_credential(flag: str) -> bool:
    name = flag.lstrip("-")
    if len(flag) - len(name) == 1 and len(name) > 1:
        return False  # `-pass` is a bundle of short options for most tools
    return is_credential_name(name) and not name.lower().endswith(("stdin", "file", "-fd"))


def _shown_literal(value: str) -> bool:
    """True when a value in a credential place holds literal text: not a pure reference."""
    text = value.strip().strip("\"'").strip()
    if (
        not text
        or text.lower() in _SHOWN_BENIGN
        or _SHOWN_NOT_LITERAL.match(text)
        or _REFERENCE_RE.search(text)
    ):
        return False
    return bool(_SHOWN_REFERENCE.sub("", text).strip(" \"'`:-"))


def _token_shaped(word: str) -> bool:
    """A generated token: long, letters of both cases and digits, no word structure."""
    body = word.rstrip("=")
    if len(body) < 16 or _HEX_RE.fullmatch(body):
        return False  # hex is digests, checksums, fingerprints and commits in a shown line
    if not (
        any(c.islower() for c in body)
        and any(c.isupper() for c in body)
        and any(c.isdigit() for c in body)
    ):
        return False
    average = len(body) / max(1, len(_NAME_TOKEN_RE.findall(body)))
    if len(body) >= 40:  # a key or certificate body line; no identifier is this long
        separators = body.count("-") + body.count("_")
        return average < 4.5 and shannon_entropy(body) >= 3.5 and separators * 16 <= len(body)
    return average < 3 and shannon_entropy(body) >= 3.5


def _shown_token_spans(line: str) -> Iterator[tuple[int, int]]:
    for match in _SHOWN_TOKEN.finditer(line):
        word = match.group(0)
        if "/" not in word:
            if _token_shaped(word.strip("_-")):
                yield match.span()
            continue
        # a path or URL path is words; a base64 value is random as a whole or in long parts
        parts = re.split(r"[/+]", word)
        joined = "".join(
            part for part in parts if len(part) >= 4 and not _HEX_DASHED.fullmatch(part)
        )
        if (len(joined) >= 24 and _token_shaped(joined)) or any(
            len(part) >= 20 and _token_shaped(part.strip("_-")) for part in parts
        ):
            yield match.span()


def _shown_key_spans(line: str) -> Iterator[tuple[int, int]]:
    for match in _SHOWN_KEY_BLOCK.finditer(line):
        end = line.find("-----END", match.end())
        end = len(line) if end < 0 else end
        if line[match.end() : end].strip(" \t\\n\"'"):
            yield match.end(), end


def _shown_value_span(match: re.Match[str]) -> tuple[int, int] | None:
    value = match.group("val")
    if not _shown_literal(value) or value.lower() in _AUTH_SCHEMES:
        return None
    if _OPTION_LIST.match(value.strip("\"'")):
        return None  # `--secret id=npm_token,env=NPM_TOKEN`: options naming a secret
    start, end = match.span("val")
    if value[:1] in "\"'`" and value[-1:] == value[:1] and len(value) >= 2:
        start, end = start + 1, end - 1
    return start, end


def _shown_spans(line: str, *, prose: bool) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    spans += ((hit.start, hit.end) for hit in _collect(_prepare(line, None)))
    spans += _shown_key_spans(line)
    for match in _SHOWN_URL_USERINFO.finditer(line):
        span = _shown_value_span(match)
        if span:
            spans.append(span)
    for pattern, judge in (
        (_SHOWN_ASSIGNMENT, _shown_name_is_credential),
        (_SHOWN_SPACED, _shown_name_is_credential),
        (_SHOWN_FLAG, _shown_flag_is_credential),
    ):
        if prose and pattern is not _SHOWN_ASSIGNMENT:
            continue  # "ENV sa_password in stage 0", "--secret id=...": words about a value
        for match in pattern.finditer(line):
            if judge(match.group("name").strip(".-")):
                span = _shown_value_span(match)
                if span:
                    spans.append(span)
    for pattern in (_SHOWN_AUTH, _SHOWN_USER, _SHOWN_PIPED_PASSWORD):
        for match in pattern.finditer(line):
            span = _shown_value_span(match)
            if span:
                spans.append(span)
    for match in _SHOWN_CLI_P.finditer(line):
        group = "val" if match.group("val") is not None else "val2"
        if _shown_literal(match.group(group)):
            spans.append(match.span(group))
    spans += _shown_token_spans(line)
    return spans


@lru_cache(maxsize=4096)
def redact_source_line(line: str, *, prose: bool = False) -> str:
    """A source line fit to be shown: every value in a credential place, every token-shaped
    word and everything the detector finds replaced by its redacted form.

    Conservative on purpose (a shown line is context, not evidence): a placeholder or a
    password on an example.com host is hidden too. Variable references stay readable.
    ``prose=True`` is for a finding's own text, which quotes pieces of lines inside
    sentences: names followed by words (`ENV DB_PASSWORD in stage 0`) are left alone there.
    """
    spans = _shown_spans(line, prose=prose)
    if not spans:
        return line
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    cursor = 0
    for start, end in merged:
        out.append(line[cursor:start])
        out.append(redact(line[start:end]))
        cursor = end
    out.append(line[cursor:])
    return "".join(out)


def scan_value(value: str, name: str | None = None) -> SecretMatch | None:
    """Judge one ARG/ENV/env-var value, optionally with its variable name."""
    stripped = value.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        stripped = stripped[1:-1]
    found = scan_text(stripped)
    if found:
        return replace(found[0], line=1, column=1)
    name_class = _classify_name(name) if name else None
    if name is None or name_class is None:
        return None
    kind = _value_kind(name, name_class, stripped, stripped.lower())
    if kind is None:
        return None
    return SecretMatch(kind, _DESCRIPTIONS[kind], 1, 1, stripped)
