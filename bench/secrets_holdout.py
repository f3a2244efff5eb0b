"""An independent holdout measurement of dockwise's secret detector, against detect-secrets.

    .venv/bin/python bench/secrets_holdout.py [--seed 2024] [--projects 60] [--keep DIR]

bench/secrets_corpus.py was written side by side with the detector; this corpus was not. It
was written from the public format specifications and from what real repositories look like,
without reading src/dockwise/secrets.py or its tests, and its figures were recorded before
any look at the detector.

The generator is seeded and deterministic. It writes a tree of small projects, each made of
the files real projects carry: Python and Django settings, .env files, docker-compose.yml,
Kubernetes Secret/ConfigMap/Deployment manifests, kubeconfigs, Terraform .tf/.tfvars and lock
files, GitHub Actions workflows, Helm values and templates, JSON config, .npmrc/.pypirc/
.netrc, Docker config.json, shell scripts, Dockerfiles, Java .properties, INI files, READMEs
with code blocks, notebooks, test fixtures and cassettes, lockfiles, key and certificate
files, GCP service-account files.

Every line that holds a true secret is labelled (file, line). A private-key file, or a key
block embedded in another file, is one secret at the line of its BEGIN marker; a report on
any line of the block counts for it. In files that are credential stores as a whole (key
files, service-account JSON, .netrc, .pypirc, .docker/config.json) a file-level report at line
1 also counts for the file's first secret. Every other reported line is a false positive.

Decoys are labelled too (only so that false positives can be classified): git SHAs, sha256
and image digests, UUIDs, base64 of non-secret data, lockfile integrity hashes, public keys
and certificates, AWS's documented example keys, placeholders, variable references, env var
names without values, password-policy settings, field names in code, and password hashes.

Labelling choices, stated once:
- bcrypt/argon2/PBKDF2 hashes in a users fixture are decoys: a hash is not a credential one
  can log in with, and every Django/Rails fixture in the wild holds them.
- the Stripe publishable key (pk_live_), the Twilio Account SID (AC...), and GPG key
  fingerprints are public identifiers, hence decoys.
- AWS's documented example keys and the jwt.io example token are decoys.
- a legacy npm token that is a UUID in `_authToken=` is a secret; a Kubernetes Secret's
  base64 `data:` value of a password is a secret; a `username:` in the same Secret is not.
- a Django key starting `django-insecure-` is a secret (it signs sessions whatever its name).

Output: a table (tool, TP, FP, FN, precision, recall, F1), then every dockwise false negative
and false positive with the line's text, secrets masked to their first 4 characters.
detect-secrets comes from a throwaway venv, /tmp/peer by default, created when missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
BASE62 = DIGITS + UPPER + LOWER
BCRYPT = "./" + UPPER + LOWER + DIGITS

AWS_EXAMPLE_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT_IO_EXAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwia"
    "WF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

WORDS = [
    "amber",
    "lantern",
    "opal",
    "rivet",
    "harbor",
    "falcon",
    "cedar",
    "quartz",
    "meadow",
    "ember",
    "willow",
    "cobalt",
    "saffron",
    "thistle",
    "granite",
    "juniper",
    "marble",
    "velvet",
    "orchid",
    "canyon",
    "sparrow",
    "walnut",
    "copper",
    "glacier",
]


@dataclass
class Label:
    kind: str
    value: str
    secret: bool
    span: int = 1  # lines covered from the labelled line on (key blocks)


Line = tuple[str, "Label | None"]


@dataclass
class FileBuilder:
    path: str
    lines: list[str] = field(default_factory=list)
    labels: dict[int, Label] = field(default_factory=dict)
    whole_file_store: bool = False  # a credential store: a report at line 1 counts

    def add(self, text: str, label: Label | None = None) -> None:
        self.lines.append(text)
        if label is not None:
            self.labels[len(self.lines)] = label

    def extend(self, items: list[Line]) -> None:
        for text, label in items:
            self.add(text, label)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def S(kind: str, value: str, span: int = 1) -> Label:
    return Label(kind, value, True, span)


def D(kind: str, value: str = "") -> Label:
    return Label(kind, value, False)


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # ---- primitives ------------------------------------------------------------------
    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def hex(self, n: int) -> str:
        return self.s(HEX, n)

    def bytes(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def b64(self, data: bytes, url: bool = False, pad: bool = True) -> str:
        out = base64.urlsafe_b64encode(data) if url else base64.b64encode(data)
        text = out.decode()
        return text if pad else text.rstrip("=")

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # ---- true secrets, from the public formats ---------------------------------------
    def aws_key_id(self) -> str:
        return self.pick(["AKIA", "AKIA", "AKIA", "ASIA"]) + self.s(UPPER + "234567", 16)

    def aws_secret(self) -> str:
        return self.s(ALNUM + "/+", 40)

    def gcp_api_key(self) -> str:
        return "AIza" + self.s(B64URL, 35)

    def azure_conn(self) -> str:
        account = self.pick(["prod", "st", "data", "media"]) + self.s(LOWER + DIGITS, 8)
        key = self.b64(self.bytes(64))
        return (
            f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};"
            "EndpointSuffix=core.windows.net"
        )

    def gh_classic(self) -> str:
        body = self.s(ALNUM, 30)
        crc = zlib.crc32(body.encode())
        digits = ""
        while crc:
            crc, r = divmod(crc, 62)
            digits = BASE62[r] + digits
        return (
            self.pick(["ghp_", "ghp_", "ghp_", "gho_", "ghs_", "ghu_"])
            + body
            + digits.rjust(6, "0")
        )

    def gh_fine(self) -> str:
        return "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)

    def gitlab(self) -> str:
        return "glpat-" + self.s(B64URL, 20)

    def slack_bot(self) -> str:
        return f"xoxb-{self.s(DIGITS, 11)}-{self.s(DIGITS, 13)}-{self.s(ALNUM, 24)}"

    def slack_user(self) -> str:
        return f"xoxp-{self.s(DIGITS, 11)}-{self.s(DIGITS, 11)}-{self.s(DIGITS, 13)}-{self.hex(32)}"

    def slack_webhook(self) -> str:
        return (
            f"https://hooks.slack.com/services/T{self.s(UPPER + DIGITS, 8)}/"
            f"B{self.s(UPPER + DIGITS, 10)}/{self.s(ALNUM, 24)}"
        )

    def stripe(self) -> str:
        return self.pick(["sk_live_", "sk_live_", "rk_live_"]) + self.s(ALNUM, self.pick([24, 99]))

    def twilio_token(self) -> str:
        return self.hex(32)

    def sendgrid(self) -> str:
        return "SG." + self.s(B64URL, 22) + "." + self.s(B64URL, 43)

    def openai(self) -> str:
        style = self.rng.randrange(3)
        if style == 0:
            return "sk-" + self.s(ALNUM, 20) + "T3BlbkFJ" + self.s(ALNUM, 20)
        if style == 1:
            return "sk-proj-" + self.s(B64URL, 74) + "T3BlbkFJ" + self.s(B64URL, 74)
        return "sk-svcacct-" + self.s(B64URL, 74) + "T3BlbkFJ" + self.s(B64URL, 74)

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.s(B64URL, 93) + "AA"

    def npm(self) -> str:
        return "npm_" + self.s(ALNUM, 36)

    def pypi(self) -> str:
        return "pypi-AgEIcHlwaS5vcmc" + self.s(B64URL, self.rng.randint(150, 190))

    def jwt(self) -> str:
        alg = self.pick(["HS256", "HS256", "RS256"])
        header = {"alg": alg, "typ": "JWT"}
        payload = {
            "sub": self.pick([self.uuid(), str(self.rng.randint(1000, 999999))]),
            "role": self.pick(["service", "admin", "ci", "reader"]),
            "iat": 1700000000 + self.rng.randint(0, 10**7),
            "exp": 1800000000 + self.rng.randint(0, 10**7),
        }
        enc = lambda obj: self.b64(json.dumps(obj, separators=(",", ":")).encode(), True, False)  # noqa: E731
        sig = self.b64(self.bytes(32 if alg == "HS256" else 256), True, False)
        return f"{enc(header)}.{enc(payload)}.{sig}"

    def password(self) -> str:
        style = self.rng.randrange(5)
        if style == 0:
            return self.s(ALNUM + "!%^*-_+=", self.rng.randint(14, 26))
        if style == 1:
            return (
                self.pick(WORDS).capitalize()
                + str(self.rng.randint(1990, 2025))
                + self.pick("!?*%")
            )
        if style == 2:
            return "-".join(self.rng.sample(WORDS, 3)) + "-" + str(self.rng.randint(10, 99))
        if style == 3:
            return self.s(ALNUM, self.rng.randint(16, 32))
        return self.b64(self.bytes(self.pick([18, 24, 32])))

    def url_password(self) -> str:
        return self.s(ALNUM + "-_", self.rng.randint(12, 24))

    def api_key(self) -> str:
        style = self.rng.randrange(4)
        if style == 0:
            return self.hex(self.pick([32, 40, 64]))
        if style == 1:
            return self.s(ALNUM, self.pick([32, 40, 48]))
        if style == 2:
            return self.b64(self.bytes(32), url=self.chance(0.5), pad=self.chance(0.5))
        return self.pick(["live_", "prod_", "key_", "sec_"]) + self.s(ALNUM, 32)

    def django_key(self) -> str:
        body = self.s(LOWER + DIGITS + "!@#%^&*(-_=+)", 50)
        return ("django-insecure-" + body) if self.chance(0.4) else body

    def db_url(self, scheme: str | None = None) -> str:
        scheme = scheme or self.pick(
            [
                "postgres",
                "postgresql",
                "postgresql+psycopg2",
                "mysql",
                "mysql+pymysql",
                "mongodb",
                "mongodb+srv",
                "redis",
                "rediss",
                "amqp",
                "amqps",
            ]
        )
        user = self.pick(["app", "admin", "svc_billing", "root", "api", "worker", "etl"])
        pw = self.url_password()
        host = self.pick(
            [
                "db.internal",
                "10.0.3.14",
                "prod-db.cluster-c9xk2.eu-west-1.rds.amazonaws.com",
                "mongo0.example.net",
                "cache.prod.svc",
                "rabbitmq",
                "pg-primary",
            ]
        )
        if scheme.startswith("redis"):
            return (
                f"{scheme}://{self.pick(['', 'default'])}:{pw}@{host}:6379/{self.rng.randint(0, 3)}"
            )
        if scheme.startswith("amqp"):
            return f"{scheme}://{user}:{pw}@{host}:5672/{self.pick(['%2F', 'jobs', 'prod'])}"
        if scheme == "mongodb+srv":
            return f"{scheme}://{user}:{pw}@cluster0.{self.s(LOWER + DIGITS, 5)}.mongodb.net/app?retryWrites=true"
        port = {"mysql": 3306, "mongodb": 27017}.get(scheme.split("+")[0], 5432)
        return f"{scheme}://{user}:{pw}@{host}:{port}/{self.pick(['app', 'billing', 'orders', 'prod'])}"

    def basic_url(self) -> str:
        user = self.pick(["deploy", "ci", "admin", "jenkins", "oauth2", "x-access-token", "bot"])
        pw = self.pick([self.url_password(), self.gitlab(), self.gh_classic()])
        host = self.pick(
            [
                "https://{}:{}@pypi.corp.example.com/simple/",
                "https://{}:{}@nexus.internal/repository/npm/",
                "https://{}:{}@gitlab.com/acme/platform.git",
                "https://{}:{}@github.com/acme/infra.git",
                "https://{}:{}@artifactory.acme.io/artifactory/api/pypi/pypi/simple",
                "http://{}:{}@proxy.internal:3128",
                "https://{}:{}@registry.acme.io/v2/",
            ]
        )
        return host.format(user, pw)

    # ---- PEM blocks -------------------------------------------------------------------
    def _wrap(self, body: str, width: int) -> list[str]:
        return [body[i : i + width] for i in range(0, len(body), width)]

    def private_key_block(self, kind: str | None = None) -> tuple[str, list[str]]:
        kind = kind or self.pick(["RSA", "RSA", "PKCS8", "EC", "OPENSSH", "OPENSSH"])
        if kind == "RSA":
            der = bytes.fromhex("308204a40201000282010100") + self.bytes(1180)
            return "rsa-private-key", [
                "-----BEGIN RSA PRIVATE KEY-----",
                *self._wrap(self.b64(der), 64),
                "-----END RSA PRIVATE KEY-----",
            ]
        if kind == "PKCS8":
            der = bytes.fromhex(
                "308204be020100300d06092a864886f70d0101010500048204a8"
            ) + self.bytes(1192)
            return "pkcs8-private-key", [
                "-----BEGIN PRIVATE KEY-----",
                *self._wrap(self.b64(der), 64),
                "-----END PRIVATE KEY-----",
            ]
        if kind == "EC":
            der = (
                bytes.fromhex("30770201010420")
                + self.bytes(32)
                + bytes.fromhex("a00a06082a8648ce3d030107a14403420004")
                + self.bytes(64)
            )
            return "ec-private-key", [
                "-----BEGIN EC PRIVATE KEY-----",
                *self._wrap(self.b64(der), 64),
                "-----END EC PRIVATE KEY-----",
            ]
        raw = (
            b"openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none\x00\x00\x00\x00"
            b"\x00\x00\x00\x01\x00\x00\x00\x33\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"
            + self.bytes(32)
            + b"\x00\x00\x00\x88"
            + self.bytes(136)
        )
        return "openssh-private-key", [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            *self._wrap(self.b64(raw), 70),
            "-----END OPENSSH PRIVATE KEY-----",
        ]

    def cert_block(self) -> list[str]:
        der = bytes.fromhex("3082030d308201f5a003020102021400") + self.bytes(760)
        return [
            "-----BEGIN CERTIFICATE-----",
            *self._wrap(self.b64(der), 64),
            "-----END CERTIFICATE-----",
        ]

    def public_key_block(self) -> list[str]:
        der = bytes.fromhex(
            "30820122300d06092a864886f70d01010105000382010f003082010a0282010100"
        ) + self.bytes(262)
        return [
            "-----BEGIN PUBLIC KEY-----",
            *self._wrap(self.b64(der), 64),
            "-----END PUBLIC KEY-----",
        ]

    def ssh_public(self) -> str:
        if self.chance(0.5):
            blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.bytes(32)
            return f"ssh-ed25519 {self.b64(blob)} {self.pick(['deploy@ci', 'alice@laptop', 'bastion'])}"
        blob = (
            b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01\x00"
            + self.bytes(256)
        )
        return f"ssh-rsa {self.b64(blob)} {self.pick(['ops@acme', 'jenkins', 'bob@workstation'])}"

    # ---- decoy values -----------------------------------------------------------------
    def bcrypt(self) -> str:
        return f"$2{self.pick('aby')}${self.pick(['10', '12', '12', '14'])}$" + self.s(BCRYPT, 53)

    def argon2(self) -> str:
        return (
            "$argon2id$v=19$m=65536,t=3,p=4$"
            + self.b64(self.bytes(16), pad=False)
            + "$"
            + self.b64(self.bytes(32), pad=False)
        )

    def pbkdf2(self) -> str:
        return f"pbkdf2_sha256$600000${self.s(ALNUM, 22)}${self.b64(self.bytes(32))}"

    def b64_data(self) -> str:
        if self.chance(0.5):
            data = json.dumps(
                {
                    "theme": self.pick(["dark", "light"]),
                    "locale": self.pick(["en-GB", "de-DE"]),
                    "features": self.rng.sample(["search", "export", "beta", "sso", "audit"], 3),
                    "version": self.rng.randint(1, 40),
                }
            ).encode()
        else:
            data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + self.bytes(self.rng.randint(30, 90))
        return self.b64(data)

    def integrity(self) -> str:
        return "sha512-" + self.b64(self.bytes(64))


# ---------------------------------------------------------------------------------------
# Secret and decoy kinds for assignment-style lines, with the names they are assigned to.

NEUTRAL_NAMES = ["default", "value", "fallback", "upstream", "cfg_b", "primary", "conn", "x"]

SECRET_KINDS: dict[str, tuple[str, list[str], float]] = {
    # kind: (Gen method, names in snake_case, weight)
    "aws-access-key-id": (
        "aws_key_id",
        ["aws_access_key_id", "access_key_id", "aws_access_key", "s3_access_key"],
        6,
    ),
    "aws-secret-access-key": (
        "aws_secret",
        ["aws_secret_access_key", "aws_secret_key", "secret_access_key", "s3_secret_key"],
        6,
    ),
    "gcp-api-key": (
        "gcp_api_key",
        ["google_api_key", "maps_api_key", "gcp_api_key", "youtube_api_key"],
        4,
    ),
    "azure-storage-connection-string": (
        "azure_conn",
        [
            "azure_storage_connection_string",
            "storage_connection_string",
            "azure_webjobs_storage",
            "blob_connection",
        ],
        4,
    ),
    "github-token": ("gh_classic", ["github_token", "gh_token", "git_token", "github_pat"], 6),
    "github-fine-grained-token": ("gh_fine", ["github_token", "gh_pat", "release_token"], 3),
    "gitlab-token": ("gitlab", ["gitlab_token", "gitlab_pat", "ci_job_pat", "private_token"], 4),
    "slack-bot-token": ("slack_bot", ["slack_bot_token", "slack_token", "bot_token"], 3),
    "slack-user-token": ("slack_user", ["slack_user_token", "slack_oauth_token"], 2),
    "slack-webhook": (
        "slack_webhook",
        ["slack_webhook_url", "alerts_webhook", "webhook_url", "notify_url"],
        4,
    ),
    "stripe-live-key": (
        "stripe",
        ["stripe_secret_key", "stripe_api_key", "stripe_key", "payments_key"],
        4,
    ),
    "twilio-auth-token": ("twilio_token", ["twilio_auth_token"], 2),
    "sendgrid-key": (
        "sendgrid",
        ["sendgrid_api_key", "sendgrid_key", "email_api_key", "mail_password"],
        3,
    ),
    "openai-key": ("openai", ["openai_api_key", "openai_key", "llm_api_key"], 4),
    "anthropic-key": ("anthropic", ["anthropic_api_key", "claude_api_key", "llm_key"], 3),
    "npm-token": ("npm", ["npm_token", "npm_auth_token", "node_auth_token"], 3),
    "pypi-token": ("pypi", ["pypi_token", "twine_password", "pypi_api_token"], 2),
    "jwt": ("jwt", ["jwt_token", "auth_token", "service_token", "bearer_token", "access_token"], 4),
    "db-url": (
        "db_url",
        [
            "database_url",
            "db_url",
            "sqlalchemy_database_uri",
            "mongo_uri",
            "redis_url",
            "broker_url",
            "celery_broker_url",
        ],
        7,
    ),
    "basic-auth-url": (
        "basic_url",
        ["pip_extra_index_url", "repo_url", "registry_url", "git_remote", "proxy_url"],
        4,
    ),
    "password": (
        "password",
        [
            "db_password",
            "password",
            "postgres_password",
            "mysql_root_password",
            "admin_password",
            "smtp_password",
            "redis_password",
            "ldap_bind_password",
            "keystore_password",
            "rabbitmq_password",
            "db_pass",
            "pwd",
            "passwd",
            "master_password",
        ],
        14,
    ),
    "generic-api-key": (
        "api_key",
        [
            "api_key",
            "apikey",
            "secret_key",
            "client_secret",
            "auth_token",
            "access_token",
            "webhook_secret",
            "signing_secret",
            "encryption_key",
            "app_secret",
            "session_secret",
            "jwt_secret",
            "master_key",
            "private_token",
            "api_secret",
            "secret",
            "mapbox_token",
            "datadog_api_key",
            "sentry_auth_token",
        ],
        12,
    ),
}
PREFIXED = {
    k
    for k in SECRET_KINDS
    if k not in {"password", "generic-api-key", "twilio-auth-token", "db-url", "basic-auth-url"}
}

PLACEHOLDERS = [
    "changeme",
    "change-me",
    "<your-token>",
    "<YOUR_API_KEY>",
    "your-api-key-here",
    "xxxxxxxxxxxxxxxx",
    "XXXXXXXXXXXXXXXXXXXX",
    "REPLACE_ME",
    "TODO",
    "dummy",
    "example",
    "***",
    "<password>",
    "secret",
    "password",
    "your_password",
    "insert-key-here",
    "<redacted>",
    "********",
    "test",
    "none",
    "{{ .Values.token }}",
    "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "AKIAXXXXXXXXXXXXXXXX",
    "sk-...",
    "xoxb-your-bot-token",
    "glpat-xxxxxxxxxxxxxxxxxxxx",
    "${TOKEN}",
    "<insert secret>",
    "CHANGE_ME_IN_PROD",
    "my-secret-key",
]
SECRET_NAMES = [
    "password",
    "db_password",
    "api_key",
    "secret_key",
    "auth_token",
    "github_token",
    "client_secret",
    "stripe_secret_key",
    "aws_secret_access_key",
    "slack_webhook_url",
    "openai_api_key",
    "access_token",
    "smtp_password",
    "jwt_secret",
    "npm_token",
    "encryption_key",
]

POLICY = [
    ("password_min_length", "12"),
    ("password_max_age_days", "90"),
    ("token_expiry_seconds", "3600"),
    ("secret_rotation_days", "30"),
    ("password_history", "5"),
    ("api_key_header", "X-API-Key"),
    ("token_type", "Bearer"),
    ("password_hasher", "argon2"),
    ("session_secret_file", "/run/secrets/session_key"),
    ("secret_name", "db-credentials"),
    ("auth_token_ttl", "15m"),
    ("password_require_symbol", "true"),
    ("jwt_algorithm", "RS256"),
    ("credentials_file", "~/.aws/credentials"),
    ("ssh_key_path", "~/.ssh/id_ed25519"),
    ("api_key_env", "OPENAI_API_KEY"),
    ("vault_secret_path", "secret/data/billing/db"),
    ("max_password_attempts", "5"),
    ("token_url", "https://oauth2.googleapis.com/token"),
    ("password_reset_timeout", "259200"),
    ("secret_key_base_length", "64"),
    ("key_vault_name", "kv-prod-weu"),
    ("api_key_prefix", "ak_"),
    ("tls_secret_name", "ingress-tls"),
    ("token_audience", "https://api.acme.io"),
]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def style_name(fmt: str, base: str, rng: random.Random) -> str:
    if fmt in {
        "env",
        "shell",
        "docker",
        "py",
        "compose_list",
        "compose_map",
        "k8s_env",
        "gha",
        "md_shell",
    }:
        return base.upper()
    if fmt in {"json", "yaml"}:
        return camel(base) if rng.random() < 0.4 else base
    if fmt == "properties":
        return rng.choice(["app.", "spring.", "service.", ""]) + base.replace(
            "_", rng.choice([".", "-"])
        )
    return base


def assign(
    g: Gen, fmt: str, name: str, value: str, indent: str = "", raw: bool = False
) -> list[str]:
    """One assignment of value to name, as fmt writes it; returns the lines (value on the last)."""
    rng = g.rng
    needs_quote = any(c in value for c in " ;&$#|<>(){}*!'\"") or value == ""
    if fmt == "env":
        if raw:
            return [f"{name}={value}"]
        opts = [f'{name}="{value}"', f"{name}='{value}'"]
        if not needs_quote:
            opts += [
                f"{name}={value}",
                f"{name}={value}",
                f"export {name}={value}",
                f"{name}={value}  # prod",
            ]
        return [rng.choice(opts)]
    if fmt in {"shell", "md_shell"}:
        q = "'" if "$" in value or "!" in value else '"'
        if raw:
            return [f"export {name}={value}"]
        return [
            rng.choice(
                [
                    f"export {name}={q}{value}{q}",
                    f"{name}={q}{value}{q}",
                    f"export {name}={q}{value}{q}",
                ]
            )
        ]
    if fmt == "docker":
        q = '"' if needs_quote else rng.choice(['"', ""])
        if raw:
            return [rng.choice([f"ENV {name}={value}", f"ARG {name}={value}"])]
        return [
            rng.choice(
                [
                    f"ENV {name}={q}{value}{q}",
                    f"ENV {name} {value}" if not needs_quote else f"ENV {name}={q}{value}{q}",
                    f"ARG {name}={q}{value}{q}",
                ]
            )
        ]
    if fmt == "py":
        if raw:
            return [f"{name} = {value}"]
        q = rng.choice(['"', "'"]) if "'" not in value and '"' not in value else '"'
        lower = name.lower()
        return [
            rng.choice(
                [
                    f"{name} = {q}{value}{q}",
                    f"{name} = {q}{value}{q}",
                    f'{name} = os.environ.get("{name}", {q}{value}{q})',
                    f"{lower}: str = {q}{value}{q}",
                    f'CONFIG["{lower}"] = {q}{value}{q}',
                    f"{name} = {q}{value}{q}  # TODO move to vault",
                ]
            )
        ]
    if fmt in {"yaml", "compose_map", "gha"}:
        if raw:
            return [f"{indent}{name}: {value}"]
        plain_ok = (
            not needs_quote and not value.startswith(("-", "@", "`", "%")) and ": " not in value
        )
        opts = [f'{indent}{name}: "{value}"', f"{indent}{name}: '{value}'"]
        if plain_ok:
            opts += [f"{indent}{name}: {value}"] * 3
        return [rng.choice(opts)]
    if fmt == "compose_list":
        return [f"{indent}- {name}={value}"]
    if fmt == "k8s_env":
        v = value if raw else f'"{value}"'
        return [f"{indent}- name: {name}", f"{indent}  value: {v}"]
    if fmt == "json":
        v = value if raw else json.dumps(value)
        return [f'{indent}"{name}": {v}']
    if fmt == "tf":
        v = value if raw else json.dumps(value)
        return [f"{indent}{name} = {v}"]
    if fmt == "properties":
        return [rng.choice([f"{name}={value}", f"{name} = {value}", f"{name}: {value}"])]
    if fmt == "ini":
        return [rng.choice([f"{name} = {value}", f"{name}={value}"])]
    if fmt == "toml":
        v = value if raw else json.dumps(value)
        return [f"{name} = {v}"]
    raise ValueError(fmt)


def var_ref(g: Gen, fmt: str, base: str) -> tuple[str, bool]:
    """A reference to a secret kept elsewhere; returns (text, raw)."""
    up = base.upper()
    c = g.pick
    if fmt in {"env", "compose_list"}:
        return c([f"${{{up}}}", f"${up}", f"${{{up}:?required}}"]), True
    if fmt in {"shell", "md_shell"}:
        return c(
            [
                f'"${up}"',
                f'"${{{up}:?missing}}"',
                f'"$(cat /run/secrets/{base})"',
                f'"$(vault kv get -field={base} secret/app)"',
            ]
        ), True
    if fmt == "docker":
        return c([f"${up}", f"${{{up}}}"]), True
    if fmt == "py":
        return c(
            [
                f'os.environ["{up}"]',
                f'os.getenv("{up}")',
                f'env("{up}")',
                f'config("{up}")',
                f"settings.{up}",
                f'get_secret("{base}")',
                f'os.environ.get("{up}", "")',
            ]
        ), True
    if fmt in {"yaml", "compose_map"}:
        return c(
            [
                f'"${{{up}}}"',
                f'"{{{{ .Values.{camel(base)} }}}}"',
                f'"{{{{ vault_{base} }}}}"',
                f"${{{up}}}",
                f'"{{{{ .Values.auth.{camel(base)} | b64enc }}}}"',
            ]
        ), True
    if fmt == "gha":
        return c(
            [f"${{{{ secrets.{up} }}}}", f"${{{{ secrets.{up} }}}}", f"${{{{ vars.{up} }}}}"]
        ), True
    if fmt == "k8s_env":
        return f"$({up})", True
    if fmt == "json":
        return json.dumps(c([f"${{{up}}}", f"{{{{{up}}}}}", f"%{up}%", f"env:{up}"])), True
    if fmt == "tf":
        return c(
            [
                f"var.{base}",
                f'"${{var.{base}}}"',
                f"random_password.{base}.result",
                f"data.aws_secretsmanager_secret_version.{base}.secret_string",
                f"local.{base}",
            ]
        ), True
    if fmt == "properties":
        return c([f"${{{up}}}", f"${{{up}:}}", f"${{vault.{base}}}"]), True
    if fmt == "ini":
        return c([f"%({base})s", f"${{{up}}}", f"env:{up}"]), True
    if fmt == "toml":
        return json.dumps(c([f"${{{up}}}", f"env:{up}"])), True
    raise ValueError(fmt)


ASSIGN_FORMATS = {
    "env",
    "shell",
    "docker",
    "py",
    "yaml",
    "compose_map",
    "compose_list",
    "k8s_env",
    "gha",
    "json",
    "tf",
    "properties",
    "ini",
    "toml",
    "md_shell",
}


class Corpus:
    def __init__(self, seed: int) -> None:
        self.g = Gen(seed)
        self.files: list[FileBuilder] = []

    # ---- generic items ------------------------------------------------------------------
    def secret_item(self, fmt: str, indent: str = "", kinds: list[str] | None = None) -> list[Line]:
        g = self.g
        pool = kinds or list(SECRET_KINDS)
        weights = [SECRET_KINDS[k][2] for k in pool]
        kind = g.rng.choices(pool, weights)[0]
        method, names, _ = SECRET_KINDS[kind]
        if kind == "db-url":
            value = g.db_url()
            scheme = value.split(":")[0]
            base = (
                "redis_url"
                if scheme.startswith("redis")
                else "mongo_uri"
                if scheme.startswith("mongo")
                else "broker_url"
                if scheme.startswith("amqp")
                else g.pick(["database_url", "db_url", "sqlalchemy_database_uri"])
            )
        else:
            value = getattr(g, method)()
            base = g.pick(NEUTRAL_NAMES) if kind in PREFIXED and g.chance(0.12) else g.pick(names)
        name = style_name(fmt, base, g.rng)
        lines = assign(g, fmt, name, value, indent)
        return [(t, None) for t in lines[:-1]] + [(lines[-1], S(kind, value))]

    def decoy_item(self, fmt: str, indent: str = "") -> list[Line]:
        g = self.g
        cats = [
            "git-sha",
            "sha256",
            "uuid",
            "base64-data",
            "aws-example",
            "placeholder",
            "placeholder",
            "var-ref",
            "var-ref",
            "policy",
            "policy",
            "publishable-id",
            "gpg-fingerprint",
            "ssh-public-key",
            "empty-value",
            "arn",
        ]
        if fmt in {"k8s_env", "compose_list"}:
            cats = [c for c in cats if c not in {"ssh-public-key", "base64-data"}]
        cat = g.pick(cats)
        raw = False
        if cat == "git-sha":
            base, value = (
                g.pick(
                    [
                        "git_sha",
                        "commit_sha",
                        "revision",
                        "build_commit",
                        "source_commit",
                        "git_commit",
                    ]
                ),
                g.hex(40),
            )
        elif cat == "sha256":
            base, value = (
                g.pick(
                    [
                        "checksum",
                        "sha256",
                        "artifact_sha256",
                        "expected_digest",
                        "file_hash",
                        "content_hash",
                    ]
                ),
                g.hex(64),
            )
        elif cat == "uuid":
            base, value = (
                g.pick(
                    [
                        "request_id",
                        "tenant_id",
                        "project_uuid",
                        "instance_id",
                        "correlation_id",
                        "workspace_id",
                        "installation_id",
                        "subscription_id",
                    ]
                ),
                g.uuid(),
            )
        elif cat == "base64-data":
            base, value = (
                g.pick(
                    [
                        "logo_png",
                        "icon_data",
                        "sample_payload",
                        "default_avatar",
                        "feature_flags_b64",
                    ]
                ),
                g.b64_data(),
            )
        elif cat == "aws-example":
            if g.chance(0.5):
                base, value = g.pick(["aws_access_key_id", "access_key_id"]), AWS_EXAMPLE_ID
            else:
                base, value = (
                    g.pick(["aws_secret_access_key", "aws_secret_key"]),
                    AWS_EXAMPLE_SECRET,
                )
        elif cat == "placeholder":
            base, value = g.pick(SECRET_NAMES), g.pick(PLACEHOLDERS)
        elif cat == "empty-value":
            base = g.pick(SECRET_NAMES)
            value = {"json": "null", "tf": "null", "py": "None", "toml": '""'}.get(fmt, "")
            raw = fmt in {"json", "tf", "py", "toml"} or fmt in {
                "env",
                "properties",
                "ini",
                "docker",
                "compose_list",
            }
            if fmt in {"yaml", "compose_map", "gha"}:
                value, raw = g.pick(['""', "", "~", "null"]), True
            if fmt == "k8s_env":
                value, raw = '""', True
            if fmt in {"shell", "md_shell"}:
                value, raw = '""', True
        elif cat == "var-ref":
            base = g.pick(SECRET_NAMES)
            value, raw = var_ref(g, fmt, base)
        elif cat == "policy":
            base, value = g.pick(POLICY)
        elif cat == "publishable-id":
            if g.chance(0.5):
                base, value = (
                    g.pick(["stripe_publishable_key", "stripe_pk", "publishable_key"]),
                    "pk_live_" + g.s(ALNUM, g.pick([24, 99])),
                )
            else:
                base, value = g.pick(["twilio_account_sid", "twilio_sid"]), "AC" + g.hex(32)
        elif cat == "gpg-fingerprint":
            base, value = (
                g.pick(["gpg_key", "gpg_key_id", "signing_key_fingerprint", "node_gpg_key"]),
                g.hex(40).upper(),
            )
        elif cat == "ssh-public-key":
            base, value = (
                g.pick(["ssh_public_key", "deploy_public_key", "authorized_key"]),
                g.ssh_public(),
            )
        else:  # arn
            base = g.pick(["db_secret_arn", "secret_arn", "kms_key_arn"])
            value = (
                f"arn:aws:secretsmanager:eu-west-1:{g.s(DIGITS, 12)}:secret:prod/db-{g.s(ALNUM, 6)}"
                if "kms" not in base
                else f"arn:aws:kms:eu-west-1:{g.s(DIGITS, 12)}:key/{g.uuid()}"
            )
        name = style_name(fmt, base, g.rng)
        lines = assign(g, fmt, name, value, indent, raw=raw)
        return [(t, None) for t in lines[:-1]] + [(lines[-1], D(cat, value))]

    def env_name_item(self, fmt: str, indent: str = "") -> list[Line]:
        """An env var NAME without a value."""
        g = self.g
        up = g.pick(SECRET_NAMES).upper()
        two = g.pick(SECRET_NAMES).upper()
        if fmt == "docker":
            return [(f"ARG {up}", D("env-name"))]
        if fmt == "compose_list":
            return [(f"{indent}- {up}", D("env-name"))]
        if fmt == "py":
            return [(f'REQUIRED_ENV = ["{up}", "{two}"]', D("env-name"))]
        if fmt in {"shell", "md_shell"}:
            return [(f': "${{{up}:?{up} must be set}}"', D("env-name"))]
        if fmt == "env":
            return [(f"# {up} is injected by the platform", D("env-name"))]
        if fmt == "tf":
            return [
                (f'variable "{up.lower()}" {{', D("env-name")),
                ("  type      = string", None),
                ("  sensitive = true", None),
                ("}", None),
            ]
        return []

    def fill(
        self,
        fb: FileBuilder,
        fmt: str,
        nsec: int,
        ndec: int,
        indent: str = "",
        filler: list[str] | None = None,
        kinds: list[str] | None = None,
        env_names: bool = True,
    ) -> None:
        """Secret and decoy items interleaved with neutral filler lines."""
        g = self.g
        items: list[list[Line]] = [self.secret_item(fmt, indent, kinds) for _ in range(nsec)]
        items += [self.decoy_item(fmt, indent) for _ in range(ndec)]
        if env_names and g.chance(0.4):
            item = self.env_name_item(fmt, indent)
            if item:
                items.append(item)
        if filler:
            items += [
                [(indent + t, None)]
                for t in g.rng.sample(filler, min(len(filler), g.rng.randint(2, 5)))
            ]
        g.rng.shuffle(items)
        for item in items:
            fb.extend(item)

    def nsec(self) -> int:
        return self.g.pick([0, 1, 1, 1, 2, 2, 2, 3])

    def ndec(self) -> int:
        return self.g.rng.randint(1, 4)

    def new(self, path: str) -> FileBuilder:
        fb = FileBuilder(path)
        self.files.append(fb)
        return fb

    # ---- file kinds -----------------------------------------------------------------
    def py_settings(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/{g.pick(['config', 'app', 'src/app'])}/{g.pick(['settings.py', 'config.py', 'conf.py'])}"
        )
        fb.extend([('"""Runtime configuration."""', None), ("import os", None), ("", None)])
        filler = [
            "DEBUG = False",
            'LOG_LEVEL = "INFO"',
            'ALLOWED_HOSTS = ["api.acme.io"]',
            "TIMEOUT = 30",
            'REGION = "eu-west-1"',
            "MAX_WORKERS = 8",
            'BUCKET = "acme-prod-uploads"',
            "RETRIES = 3",
            'FEATURE_FLAGS = {"beta": False}',
            "CACHE_TTL = 300",
        ]
        self.fill(fb, "py", self.nsec(), self.ndec(), filler=filler)
        if g.chance(0.5):
            fb.add("")
            fb.extend(self.py_code_items())

    def py_code_items(self) -> list[Line]:
        """Python call sites: secrets as keyword arguments and headers, field names as decoys."""
        g = self.g
        out: list[Line] = []
        for _ in range(g.rng.randint(1, 3)):
            r = g.rng.randrange(10)
            if r == 0:
                kid, sk = g.aws_key_id(), g.aws_secret()
                out += [
                    ("s3 = boto3.client(", None),
                    ('    "s3",', None),
                    (f'    aws_access_key_id="{kid}",', S("aws-access-key-id", kid)),
                    (f'    aws_secret_access_key="{sk}",', S("aws-secret-access-key", sk)),
                    (")", None),
                ]
            elif r == 1:
                tok = g.pick([g.gh_classic(), g.openai(), g.jwt(), g.api_key()])
                out.append(
                    (
                        f'resp = requests.get(url, headers={{"Authorization": "Bearer {tok}"}}, timeout=10)',
                        S("bearer-header", tok),
                    )
                )
            elif r == 2:
                pw = g.password()
                out += [
                    ("conn = psycopg2.connect(", None),
                    ('    host="db.internal", user="app", dbname="app",', None),
                    (f'    password="{pw}",', S("password", pw)),
                    (")", None),
                ]
            elif r == 3:
                k = g.pick([g.openai(), g.anthropic()])
                out.append(
                    (
                        g.pick(
                            [
                                f'openai.api_key = "{k}"',
                                f'client = Anthropic(api_key="{k}")',
                                f'client = OpenAI(api_key="{k}")',
                            ]
                        ),
                        S("llm-key", k),
                    )
                )
            elif r == 4:
                pw = g.password()
                out.append(
                    (
                        f'cache = redis.Redis(host="cache", port=6379, password="{pw}")',
                        S("password", pw),
                    )
                )
            elif r == 5:
                tok = g.slack_bot()
                out.append((f'slack = WebClient(token="{tok}")', S("slack-bot-token", tok)))
            else:
                line = g.pick(CODE_DECOYS_PY)
                out.append((line, D("code-field")))
        return out

    def django_settings(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['mysite', 'project', 'backend'])}/settings.py")
        fb.extend(
            [
                ("from pathlib import Path", None),
                ("import os", None),
                ("", None),
                ("BASE_DIR = Path(__file__).resolve().parent.parent", None),
                ("", None),
            ]
        )
        if g.chance(0.6):
            k = g.django_key()
            fb.add(f"SECRET_KEY = '{k}'", S("django-secret-key", k))
        else:
            fb.add(
                g.pick(
                    [
                        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
                        "SECRET_KEY = env('SECRET_KEY')",
                        'SECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "")',
                    ]
                ),
                D("var-ref"),
            )
        fb.extend(
            [
                ("", None),
                ("DEBUG = False", None),
                ('ALLOWED_HOSTS = ["*"]', None),
                ("", None),
                ("DATABASES = {", None),
                ("    'default': {", None),
                ("        'ENGINE': 'django.db.backends.postgresql',", None),
                ("        'NAME': 'app',", None),
                ("        'USER': 'app',", None),
            ]
        )
        if g.chance(0.6):
            pw = g.password()
            fb.add(f"        'PASSWORD': '{pw}',", S("password", pw))
        else:
            fb.add(
                g.pick(
                    [
                        "        'PASSWORD': os.environ['DB_PASSWORD'],",
                        "        'PASSWORD': '',",
                        "        'PASSWORD': env('DATABASE_PASSWORD'),",
                    ]
                ),
                D("var-ref"),
            )
        fb.extend(
            [
                ("        'HOST': 'db',", None),
                ("        'PORT': '5432',", None),
                ("    }", None),
                ("}", None),
                ("", None),
                ("AUTH_PASSWORD_VALIDATORS = [", D("policy")),
            ]
        )
        for v in [
            "UserAttributeSimilarityValidator",
            "MinimumLengthValidator",
            "CommonPasswordValidator",
        ]:
            fb.add(f"    {{'NAME': 'django.contrib.auth.password_validation.{v}'}},", D("policy"))
        fb.extend(
            [
                ("]", None),
                ("", None),
                (
                    'PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]',
                    D("policy"),
                ),
                ("PASSWORD_RESET_TIMEOUT = 259200", D("policy")),
                ("SESSION_COOKIE_SECURE = True", None),
                ('EMAIL_HOST = "smtp.sendgrid.net"', None),
                ('EMAIL_HOST_USER = "apikey"', D("policy")),
            ]
        )
        if g.chance(0.5):
            k = g.sendgrid()
            fb.add(f'EMAIL_HOST_PASSWORD = "{k}"', S("sendgrid-key", k))
        else:
            fb.add('EMAIL_HOST_PASSWORD = os.environ.get("SENDGRID_API_KEY")', D("var-ref"))
        self.fill(fb, "py", g.pick([0, 1, 1]), self.ndec())

    def dotenv(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/{g.pick(['.env', '.env.production', 'deploy/.env', '.env.local', 'config/prod.env'])}"
        )
        fb.add(
            g.pick(["# production settings", "# generated by bootstrap.sh", "NODE_ENV=production"])
        )
        filler = [
            "PORT=8080",
            "LOG_LEVEL=info",
            "APP_NAME=billing",
            "WORKERS=4",
            "TZ=UTC",
            "S3_BUCKET=acme-prod-assets",
            "FEATURE_SSO=true",
            "SENTRY_ENVIRONMENT=production",
        ]
        self.fill(fb, "env", self.nsec() + 1, self.ndec(), filler=filler)

    def dotenv_example(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['.env.example', '.env.sample', '.env.template'])}")
        fb.add("# Copy to .env and fill in")
        for _ in range(g.rng.randint(4, 8)):
            name = g.pick(SECRET_NAMES).upper()
            v = g.pick(
                [
                    "",
                    "",
                    "changeme",
                    "<your-token>",
                    "your-api-key-here",
                    "xxxxxxxx",
                    "${" + name + "}",
                    "REPLACE_ME",
                ]
            )
            fb.add(f"{name}={v}", D("placeholder" if v else "empty-value", v))
        fb.add("PORT=8080")

    def compose(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/{g.pick(['docker-compose.yml', 'compose.yaml', 'docker-compose.prod.yml'])}"
        )
        fb.extend([("services:", None), ("  app:", None)])
        if g.chance(0.4):
            d = g.hex(64)
            fb.add(f"    image: ghcr.io/acme/app@sha256:{d}", D("image-digest", d))
        else:
            fb.add("    build: .")
        fb.add('    ports: ["8080:8080"]')
        if g.chance(0.5):
            fb.add("    environment:")
            self.fill(
                fb,
                "compose_map",
                self.nsec(),
                self.ndec(),
                indent="      ",
                filler=["LOG_LEVEL: info", 'PORT: "8080"'],
            )
        else:
            fb.add("    environment:")
            self.fill(
                fb,
                "compose_list",
                self.nsec(),
                self.ndec(),
                indent="      ",
                filler=["- LOG_LEVEL=info", "- PORT=8080"],
            )
        fb.extend([("  db:", None)])
        d = g.hex(64)
        fb.add(f"    image: postgres:16@sha256:{d}", D("image-digest", d))
        fb.add("    environment:")
        as_list = g.chance(0.4)
        if g.chance(0.5):
            pw = g.password()
            fb.add(
                f"      - POSTGRES_PASSWORD={pw}"
                if as_list
                else f"      POSTGRES_PASSWORD: {json.dumps(pw)}",
                S("password", pw),
            )
        else:
            fb.add(
                g.pick(
                    [
                        "      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD:?set it}",
                        "      - POSTGRES_PASSWORD_FILE=/run/secrets/db_password",
                    ]
                )
                if as_list
                else g.pick(
                    [
                        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}",
                        "      POSTGRES_PASSWORD_FILE: /run/secrets/db_password",
                    ]
                ),
                D("var-ref"),
            )
        fb.add("      - POSTGRES_USER=app" if as_list else "      POSTGRES_USER: app")
        fb.extend(
            [
                ("    secrets:", None),
                ("      - db_password", D("env-name")),
                ("secrets:", None),
                ("  db_password:", None),
                ("    file: ./secrets/db_password.txt", D("policy")),
            ]
        )

    def k8s_secret(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/k8s/{g.pick(['secret.yaml', 'secrets.yaml', 'db-secret.yaml'])}")
        fb.extend(
            [
                ("apiVersion: v1", None),
                ("kind: Secret", None),
                ("metadata:", None),
                (f"  name: {g.pick(['db-credentials', 'app-secrets', 'api-keys'])}", D("policy")),
                (f"  uid: {g.uuid()}", D("uuid")),
                ("type: Opaque", None),
            ]
        )
        if g.chance(0.6):
            fb.add("data:")
            user = g.pick(["admin", "app", "postgres"])
            fb.add(f"  username: {g.b64(user.encode())}", D("base64-data"))
            for _ in range(g.rng.randint(1, 3)):
                secret = g.pick([g.password(), g.api_key(), g.db_url(), g.stripe()])
                enc = g.b64(secret.encode())
                fb.add(
                    f"  {g.pick(['password', 'api-key', 'DATABASE_URL', 'token', 'STRIPE_KEY', 'secret'])}: {enc}",
                    S("k8s-secret-data", enc),
                )
            if g.chance(0.3):
                cert = "\n".join(g.cert_block()).encode()
                enc = g.b64(cert)
                fb.add(f"  ca.crt: {enc}", D("certificate-b64", enc))
        else:
            fb.add("stringData:")
            self.fill(fb, "yaml", self.nsec() + 1, self.ndec(), indent="  ", env_names=False)

    def k8s_deploy(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/k8s/{g.pick(['deployment.yaml', 'deploy.yaml', 'worker.yaml'])}")
        d = g.hex(64)
        fb.extend(
            [
                ("apiVersion: apps/v1", None),
                ("kind: Deployment", None),
                ("metadata:", None),
                ("  name: app", None),
                ("  annotations:", None),
            ]
        )
        fb.add(f"    checksum/config: {g.hex(64)}", D("sha256"))
        fb.extend(
            [
                ("spec:", None),
                ("  template:", None),
                ("    spec:", None),
                ("      containers:", None),
                ("        - name: app", None),
                (f"          image: registry.acme.io/app@sha256:{d}", D("image-digest", d)),
                ("          env:", None),
            ]
        )
        self.fill(fb, "k8s_env", self.nsec(), self.ndec(), indent="            ", env_names=False)
        for _ in range(g.rng.randint(0, 2)):
            name = g.pick(SECRET_NAMES).upper()
            fb.extend(
                [
                    (f"            - name: {name}", D("env-name")),
                    ("              valueFrom:", None),
                    ("                secretKeyRef:", None),
                    ("                  name: app-secrets", D("policy")),
                    (f"                  key: {name.lower().replace('_', '-')}", D("policy")),
                ]
            )

    def k8s_configmap(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/k8s/configmap.yaml")
        fb.extend(
            [
                ("apiVersion: v1", None),
                ("kind: ConfigMap", None),
                ("metadata:", None),
                ("  name: app-config", None),
                ("data:", None),
            ]
        )
        self.fill(
            fb,
            "yaml",
            g.pick([0, 0, 1]),
            self.ndec() + 1,
            indent="  ",
            filler=['LOG_LEVEL: "info"', 'REGION: "eu-west-1"', 'WORKERS: "4"'],
        )
        if g.chance(0.4):
            fb.add("binaryData:")
            v = g.b64_data()
            fb.add(f"  logo.png: {v}", D("base64-data", v))

    def kubeconfig(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['kubeconfig', '.kube/config', 'deploy/kubeconfig.yaml'])}")
        ca = g.b64("\n".join(g.cert_block()).encode())
        fb.extend(
            [
                ("apiVersion: v1", None),
                ("kind: Config", None),
                ("clusters:", None),
                ("- cluster:", None),
                (f"    certificate-authority-data: {ca}", D("certificate-b64", ca)),
                ("    server: https://10.0.0.1:6443", None),
                ("  name: prod", None),
                ("users:", None),
                ("- name: admin", None),
                ("  user:", None),
            ]
        )
        if g.chance(0.5):
            cc = g.b64("\n".join(g.cert_block()).encode())
            _, block = g.private_key_block(g.pick(["RSA", "EC"]))
            ck = g.b64("\n".join(block).encode())
            fb.add(f"    client-certificate-data: {cc}", D("certificate-b64", cc))
            fb.add(f"    client-key-data: {ck}", S("kubeconfig-client-key", ck))
        else:
            tok = g.pick([g.jwt(), g.s(ALNUM, 6) + "." + g.s(LOWER + DIGITS, 16)])
            fb.add(f"    token: {tok}", S("kube-token", tok))

    def terraform(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/infra/{g.pick(['main.tf', 'providers.tf', 'rds.tf'])}")
        fb.extend([('provider "aws" {', None), ('  region     = "eu-west-1"', None)])
        if g.chance(0.4):
            kid, sk = g.aws_key_id(), g.aws_secret()
            fb.add(f'  access_key = "{kid}"', S("aws-access-key-id", kid))
            fb.add(f'  secret_key = "{sk}"', S("aws-secret-access-key", sk))
        fb.extend([("}", None), ("", None)])
        # variable with a default value: the name is two lines above the value
        if g.chance(0.6):
            name = g.pick(["db_password", "admin_password", "api_token", "datadog_api_key"])
            fb.extend([(f'variable "{name}" {{', None), ("  type      = string", None)])
            if g.chance(0.6):
                v = g.password() if "password" in name else g.api_key()
                fb.add(f'  default   = "{v}"', S("tf-variable-default", v))
            else:
                fb.add("  sensitive = true", D("policy"))
            fb.extend([("}", None), ("", None)])
        fb.extend(
            [
                ('resource "aws_db_instance" "main" {', None),
                ('  engine         = "postgres"', None),
                ('  instance_class = "db.t3.medium"', None),
                ('  username       = "app"', None),
            ]
        )
        self.fill(fb, "tf", g.pick([0, 1, 1, 2]), self.ndec(), indent="  ", env_names=False)
        fb.add("}")
        if g.chance(0.5):
            fb.add("")
            item = self.env_name_item("tf")
            fb.extend(item)

    def tfvars(self, p: str) -> None:
        fb = self.new(
            f"{p}/infra/{self.g.pick(['terraform.tfvars', 'prod.tfvars', 'secrets.auto.tfvars'])}"
        )
        fb.add('environment = "prod"')
        self.fill(
            fb,
            "tf",
            self.nsec() + 1,
            self.ndec(),
            env_names=False,
            filler=["instance_count = 3", 'region = "eu-west-1"', "enable_waf = true"],
        )

    def tf_lock(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/infra/.terraform.lock.hcl")
        fb.extend(
            [
                ('# This file is maintained automatically by "terraform init".', None),
                ("", None),
                ('provider "registry.terraform.io/hashicorp/aws" {', None),
                ('  version     = "5.31.0"', None),
                ('  constraints = "~> 5.0"', None),
                ("  hashes = [", None),
            ]
        )
        h = g.b64(g.bytes(32))
        fb.add(f'    "h1:{h}",', D("lockfile-hash", h))
        for _ in range(g.rng.randint(3, 6)):
            h = g.hex(64)
            fb.add(f'    "zh:{h}",', D("lockfile-hash", h))
        fb.extend([("  ]", None), ("}", None)])

    def gha(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/.github/workflows/{g.pick(['ci.yml', 'release.yml', 'deploy.yaml'])}")
        fb.extend([("name: CI", None), ("on: [push]", None), ("env:", None)])
        self.fill(
            fb,
            "gha",
            self.nsec(),
            self.ndec(),
            indent="  ",
            env_names=False,
            filler=["NODE_VERSION: 20", "REGISTRY: ghcr.io"],
        )
        fb.extend(
            [
                ("jobs:", None),
                ("  build:", None),
                ("    runs-on: ubuntu-latest", None),
                ("    steps:", None),
            ]
        )
        sha = g.hex(40)
        fb.add(f"      - uses: actions/checkout@{sha} # v4", D("git-sha", sha))
        sha = g.hex(40)
        fb.add(f"      - uses: docker/login-action@{sha}", D("git-sha", sha))
        fb.extend(
            [
                ("        with:", None),
                ("          registry: ghcr.io", None),
                ("          username: ${{ github.actor }}", None),
            ]
        )
        if g.chance(0.3):
            t = g.gh_classic()
            fb.add(f"          password: {t}", S("github-token", t))
        else:
            fb.add("          password: ${{ secrets.GITHUB_TOKEN }}", D("var-ref"))
        fb.add("      - run: npm ci")
        if g.chance(0.4):
            pw = g.url_password()
            fb.add(
                f"      - run: curl -fsS -u admin:{pw} https://nexus.acme.io/service/rest/v1/status",
                S("curl-basic-auth", pw),
            )
        if g.chance(0.3):
            w = g.slack_webhook()
            fb.add(
                f'      - run: curl -X POST -d \'{{"text":"deployed"}}\' {w}', S("slack-webhook", w)
            )

    def helm_values(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/charts/app/values.yaml")
        fb.extend(
            [
                ("replicaCount: 2", None),
                ("image:", None),
                ("  repository: ghcr.io/acme/app", None),
                ('  tag: "1.4.2"', None),
            ]
        )
        d = g.hex(64)
        fb.add(f'  digest: "sha256:{d}"', D("image-digest", d))
        fb.extend([("postgresql:", None), ("  auth:", None), ("    username: app", None)])
        if g.chance(0.5):
            pw = g.password()
            fb.add(f'    password: "{pw}"', S("password", pw))
        else:
            fb.add(
                g.pick(
                    ['    password: ""', '    existingSecret: "app-db"', "    password: changeme"]
                ),
                D("placeholder"),
            )
        fb.add("config:")
        self.fill(fb, "yaml", self.nsec(), self.ndec(), indent="  ", env_names=False)
        tpl = self.new(f"{p}/charts/app/templates/secret.yaml")
        tpl.extend(
            [
                ("apiVersion: v1", None),
                ("kind: Secret", None),
                ("metadata:", None),
                ('  name: {{ include "app.fullname" . }}', None),
                ("data:", None),
                (
                    "  password: {{ .Values.postgresql.auth.password | b64enc | quote }}",
                    D("var-ref"),
                ),
                ('  api-key: {{ required "apiKey" .Values.config.apiKey | b64enc }}', D("var-ref")),
            ]
        )

    def json_config(self, p: str) -> None:
        g = self.g
        path = g.pick(
            [
                "config/production.json",
                "appsettings.Production.json",
                "config.json",
                "src/config/default.json",
            ]
        )
        fb = self.new(f"{p}/{path}")
        entries: list[list[Line]] = []
        for _ in range(self.nsec()):
            entries.append(self.secret_item("json", "    "))
        for _ in range(self.ndec()):
            entries.append(self.decoy_item("json", "    "))
        entries += [[('    "port": 8080', None)], [('    "logLevel": "info"', None)]]
        if "appsettings" in path and g.chance(0.7):
            pw = g.password().replace(";", "")
            cs = f"Server=tcp:sql-prod.database.windows.net,1433;Database=app;User Id=sa;Password={pw};"
            entries.append(
                [
                    ('    "ConnectionStrings": {', None),
                    (f'      "Default": {json.dumps(cs)}', S("sqlserver-conn", pw)),
                    ("    }", None),
                ]
            )
        g.rng.shuffle(entries)
        fb.add("{")
        for i, entry in enumerate(entries):
            last = i == len(entries) - 1
            for j, (t, lab) in enumerate(entry):
                fb.add(t + ("," if j == len(entry) - 1 and not last else ""), lab)
        fb.add("}")

    def npmrc(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/.npmrc")
        fb.add("registry=https://registry.npmjs.org/")
        if g.chance(0.55):
            t = g.pick([g.npm(), g.npm(), g.uuid()])
            fb.add(f"//registry.npmjs.org/:_authToken={t}", S("npm-token", t))
        else:
            fb.add("//registry.npmjs.org/:_authToken=${NPM_TOKEN}", D("var-ref"))
        fb.add("@acme:registry=https://npm.pkg.github.com")
        if g.chance(0.4):
            t = g.gh_classic()
            fb.add(f"//npm.pkg.github.com/:_authToken={t}", S("github-token", t))
        if g.chance(0.25):
            a = g.b64(f"deploy:{g.url_password()}".encode())
            fb.add(f"//nexus.acme.io/repository/npm/:_auth={a}", S("npm-basic-auth", a))
        fb.add("always-auth=true")

    def pypirc(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/.pypirc")
        fb.whole_file_store = True
        fb.extend(
            [
                ("[distutils]", None),
                ("index-servers =", None),
                ("    pypi", None),
                ("    internal", None),
                ("", None),
                ("[pypi]", None),
                ("username = __token__", None),
            ]
        )
        if g.chance(0.6):
            t = g.pypi()
            fb.add(f"password = {t}", S("pypi-token", t))
        else:
            fb.add("password = %(PYPI_TOKEN)s", D("var-ref"))
        fb.extend(
            [
                ("", None),
                ("[internal]", None),
                ("repository = https://pypi.corp.example.com/", None),
                ("username = deploy", None),
            ]
        )
        if g.chance(0.5):
            pw = g.password()
            fb.add(f"password = {pw}", S("password", pw))

    def netrc(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['.netrc', 'ci/netrc', '_netrc'])}")
        fb.whole_file_store = True
        if g.chance(0.5):
            t = g.pick([g.gh_classic(), g.password()])
            fb.add(f"machine github.com login ci-bot password {t}", S("netrc-password", t))
        else:
            fb.extend([("machine api.heroku.com", None), ("  login ops@acme.io", None)])
            t = g.uuid()
            fb.add(f"  password {t}", S("netrc-password", t))
        if g.chance(0.4):
            t = g.password()
            fb.add(f"machine artifactory.acme.io login deploy password {t}", S("netrc-password", t))

    def docker_config(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['.docker/config.json', 'ci/docker-config.json'])}")
        fb.whole_file_store = True
        a = g.b64(
            f"{g.pick(['deploy', '_json_key', 'AWS'])}:{g.pick([g.gh_classic(), g.url_password()])}".encode()
        )
        fb.extend(
            [
                ("{", None),
                ('  "auths": {', None),
                ('    "ghcr.io": {', None),
                (f'      "auth": "{a}"', S("docker-auth", a)),
                ("    }", None),
                ("  },", None),
                ('  "credsStore": "desktop"', None),
                ("}", None),
            ]
        )

    def shell(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/scripts/{g.pick(['deploy.sh', 'bootstrap.sh', 'release.sh', 'backup.sh'])}"
        )
        fb.extend([("#!/usr/bin/env bash", None), ("set -euo pipefail", None), ("", None)])
        self.fill(
            fb,
            "shell",
            g.pick([0, 1, 1]),
            self.ndec(),
            filler=['cd "$(dirname "$0")/.."', "echo 'deploying'"],
        )
        for _ in range(g.rng.randint(1, 3)):
            r = g.rng.randrange(9)
            if r == 0:
                t = g.pick([g.gh_classic(), g.jwt(), g.openai()])
                fb.add(
                    f'curl -fsSL -H "Authorization: Bearer {t}" https://api.acme.io/v1/deploy',
                    S("bearer-header", t),
                )
            elif r == 1:
                pw = g.url_password()
                fb.add(f"docker login -u deploy -p {pw} registry.acme.io", S("cli-password", pw))
            elif r == 2:
                pw = g.url_password()
                fb.add(f"mysql -h db.internal -u root -p{pw} app < dump.sql", S("cli-password", pw))
            elif r == 3:
                pw = g.url_password()
                fb.add(
                    f"PGPASSWORD={pw} pg_dump -h db.internal -U app app > backup.sql",
                    S("password", pw),
                )
            elif r == 4:
                t = g.gitlab()
                fb.add(
                    f"git clone https://oauth2:{t}@gitlab.com/acme/deploy-config.git",
                    S("gitlab-token", t),
                )
            elif r == 5:
                t = g.gh_classic()
                fb.add(f'echo "{t}" | gh auth login --with-token', S("github-token", t))
            else:
                fb.add(g.pick(SHELL_DECOYS), D("shell-ref"))
        if g.chance(0.5):
            d = g.hex(64)
            fb.add(f'echo "{d}  terraform.zip" | sha256sum -c -', D("sha256", d))

    def dockerfile(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['Dockerfile', 'docker/Dockerfile', 'Dockerfile.prod'])}")
        d = g.hex(64)
        fb.add(f"FROM python:3.12-slim@sha256:{d}", D("image-digest", d))
        gpg = g.hex(40).upper()
        fb.add(f"ENV GPG_KEY {gpg}", D("gpg-fingerprint", gpg))
        fb.add("WORKDIR /app")
        self.fill(
            fb,
            "docker",
            g.pick([0, 1, 1, 2]),
            self.ndec(),
            filler=["ENV PYTHONUNBUFFERED=1", "EXPOSE 8080"],
        )
        r = g.rng.randrange(5)
        if r == 0:
            u = g.basic_url()
            fb.add(
                f"RUN pip install --no-cache-dir --extra-index-url {u} -r requirements.txt",
                S("basic-auth-url", u),
            )
        elif r == 1:
            t = g.npm()
            fb.add(
                f'RUN echo "//registry.npmjs.org/:_authToken={t}" > .npmrc && npm ci',
                S("npm-token", t),
            )
        elif r == 2:
            fb.add(
                "RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci",
                D("var-ref"),
            )
        else:
            d = g.hex(64)
            fb.add(
                f'RUN curl -fsSLo tool.tgz https://example.com/tool.tgz && echo "{d}  tool.tgz" | sha256sum -c -',
                D("sha256", d),
            )
        fb.extend([("COPY . .", None), ('CMD ["gunicorn", "app:app"]', None)])

    def properties(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/src/main/resources/{g.pick(['application.properties', 'application-prod.properties'])}"
        )
        fb.extend(
            [
                ("server.port=8080", None),
                ("spring.datasource.url=jdbc:postgresql://db:5432/app", None),
                ("spring.datasource.username=app", None),
            ]
        )
        if g.chance(0.5):
            pw = g.password()
            fb.add(f"spring.datasource.password={pw}", S("password", pw))
        else:
            fb.add("spring.datasource.password=${DB_PASSWORD}", D("var-ref"))
        if g.chance(0.3):
            pw = g.url_password()
            fb.add(
                f"legacy.datasource.url=jdbc:mysql://mysql.internal:3306/orders?user=app&password={pw}&useSSL=true",
                S("jdbc-password", pw),
            )
        if g.chance(0.3):
            cs = g.s(ALNUM, 40)
            fb.add(
                f"spring.security.oauth2.client.registration.github.client-secret={cs}",
                S("generic-api-key", cs),
            )
        fb.add("security.password.min-length=12", D("policy"))
        self.fill(fb, "properties", self.nsec(), self.ndec())

    def ini(self, p: str) -> None:
        g = self.g
        which = g.pick(["alembic.ini", "config.ini", "my.cnf", "setup.cfg"])
        fb = self.new(f"{p}/{which}")
        if which == "alembic.ini":
            fb.extend([("[alembic]", None), ("script_location = migrations", None)])
            if g.chance(0.6):
                u = g.db_url(g.pick(["postgresql", "mysql+pymysql"]))
                fb.add(f"sqlalchemy.url = {u}", S("db-url", u))
            else:
                fb.add("sqlalchemy.url = postgresql://app@localhost/app", D("url-no-password"))
        elif which == "my.cnf":
            fb.extend([("[client]", None), ("user = root", None)])
            pw = g.password()
            fb.add(f"password = {pw}", S("password", pw))
            fb.add("host = db.internal")
        else:
            fb.add(g.pick(["[app]", "[service]", "[database]"]))
        self.fill(
            fb,
            "ini",
            g.pick([0, 1, 1]),
            self.ndec(),
            env_names=False,
            filler=["timeout = 30", "retries = 3"],
        )

    def readme(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/{g.pick(['README.md', 'docs/setup.md', 'CONTRIBUTING.md'])}")
        fb.extend(
            [
                ("# Billing service", None),
                ("", None),
                ("## Configuration", None),
                ("", None),
                ("| Variable | Description |", None),
                ("|---|---|", None),
            ]
        )
        for _ in range(g.rng.randint(2, 4)):
            fb.add(
                f"| `{g.pick(SECRET_NAMES).upper()}` | {g.pick(['your API key', 'database password', 'token from the console'])} |",
                D("env-name"),
            )
        fb.extend([("", None), ("Set your credentials:", None), ("", None), ("```bash", None)])
        for _ in range(g.rng.randint(1, 3)):
            name = g.pick(SECRET_NAMES).upper()
            v = g.pick(
                [
                    "<your-token>",
                    "your-api-key-here",
                    "changeme",
                    "...",
                    "sk-...",
                    "$(pass show acme/token)",
                ]
            )
            fb.add(
                f"export {name}={v}" if " " not in v else f'export {name}="{v}"',
                D("placeholder", v),
            )
        if g.chance(0.5):
            fb.add(f"export AWS_ACCESS_KEY_ID={AWS_EXAMPLE_ID}", D("aws-example"))
            fb.add(f"export AWS_SECRET_ACCESS_KEY={AWS_EXAMPLE_SECRET}", D("aws-example"))
        # a real key pasted into a how-to: it happens
        if g.chance(0.45):
            self.fill(fb, "md_shell", 1, 0, env_names=False)
        fb.extend([("```", None), ("", None)])
        if g.chance(0.3):
            fb.add(f"Example token (from jwt.io): `{JWT_IO_EXAMPLE}`", D("jwt-example"))
        fb.add(
            "Connect with `psql postgres://user:password@localhost:5432/app` locally.",
            D("placeholder-url"),
        )
        if g.chance(0.3):
            u = g.db_url("postgres")
            fb.add(f"The staging database is at `{u}`.", S("db-url", u))
        fb.extend(
            [
                ("", None),
                ("```python", None),
                ('client = Client(api_key=os.environ["ACME_API_KEY"])', D("var-ref")),
                ("```", None),
            ]
        )

    def notebook(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/notebooks/{g.pick(['explore.ipynb', 'eda.ipynb', 'train.ipynb'])}")
        fb.extend([("{", None), (' "cells": [', None)])
        ncell = g.rng.randint(2, 4)
        for c in range(ncell):
            fb.extend(
                [
                    ("  {", None),
                    ('   "cell_type": "code",', None),
                    ('   "execution_count": 1,', None),
                ]
            )
            cid = g.uuid()[:8] if g.chance(0.5) else g.hex(8)
            fb.add(f'   "id": "{cid}",', None)
            fb.add('   "metadata": {},')
            fb.add('   "outputs": [')
            if g.chance(0.4):
                png = g.b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + g.bytes(120))
                fb.extend(
                    [
                        ("    {", None),
                        ('     "data": {', None),
                        (f'      "image/png": "{png}"', D("base64-data", png)),
                        ("     },", None),
                        ('     "output_type": "display_data"', None),
                        ("    }", None),
                    ]
                )
            fb.add("   ],")
            fb.add('   "source": [')
            src: list[Line] = [('    "import pandas as pd\\n",', None)]
            if g.chance(0.55):
                k = g.pick(
                    [g.openai(), g.aws_secret(), g.gcp_api_key(), g.anthropic(), g.api_key()]
                )
                name = g.pick(
                    [
                        "openai.api_key",
                        "API_KEY",
                        'os.environ[\\"OPENAI_API_KEY\\"]',
                        "key",
                        "HF_TOKEN",
                    ]
                )
                src.append((f'    "{name} = \\"{k}\\"\\n",', S("notebook-key", k)))
            else:
                src.append(('    "api_key = os.environ[\\"OPENAI_API_KEY\\"]\\n",', D("var-ref")))
            src.append(('    "df = pd.read_csv(\\"data.csv\\")"', None))
            fb.extend(src)
            fb.add("   ]")
            fb.add("  }," if c < ncell - 1 else "  }")
        fb.extend(
            [
                (" ],", None),
                (' "metadata": {"kernelspec": {"name": "python3"}},', None),
                (' "nbformat": 4,', None),
                (' "nbformat_minor": 5', None),
                ("}", None),
            ]
        )

    def users_fixture(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/{g.pick(['tests/fixtures/users.json', 'fixtures/users.json', 'app/fixtures/initial_users.json'])}"
        )
        fb.add("[")
        n = g.rng.randint(2, 4)
        for i in range(n):
            h = g.pick([g.bcrypt(), g.bcrypt(), g.argon2(), g.pbkdf2()])
            fb.extend(
                [
                    ("  {", None),
                    ('    "model": "auth.user",', None),
                    (f'    "pk": {i + 1},', None),
                    ('    "fields": {', None),
                    (f'      "username": "{g.pick(["alice", "bob", "carol", "admin"])}{i}",', None),
                    (f'      "password": "{h}",', D("password-hash", h)),
                    ('      "last_login": null', None),
                    ("    }", None),
                    ("  }" + ("," if i < n - 1 else ""), None),
                ]
            )
        fb.add("]")

    def sql_seed(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/db/seed.sql")
        fb.add("-- seed data for local development")
        for i in range(g.rng.randint(1, 3)):
            h = g.bcrypt()
            fb.add(
                f"INSERT INTO users (email, password_hash) VALUES ('user{i}@example.com', '{h}');",
                D("password-hash", h),
            )
        if g.chance(0.4):
            pw = g.password().replace("'", "")
            fb.add(f"CREATE USER reporting WITH PASSWORD '{pw}';", S("sql-password", pw))
        else:
            fb.add("CREATE USER reporting WITH PASSWORD :'reporting_password';", D("var-ref"))

    def cassette(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/tests/cassettes/{g.pick(['test_charge.yaml', 'test_sync.yaml', 'test_upload.yaml'])}"
        )
        fb.extend(
            [
                ("interactions:", None),
                ("- request:", None),
                ("    body: null", None),
                ("    headers:", None),
                ("      Accept: ['*/*']", None),
            ]
        )
        if g.chance(0.6):
            t = g.pick([g.stripe(), g.gh_classic(), g.openai(), g.jwt(), g.sendgrid()])
            fb.add(f"      Authorization: [Bearer {t}]", S("bearer-header", t))
        else:
            fb.add("      Authorization: [DUMMY]", D("placeholder"))
        rid = g.uuid()
        fb.extend(
            [
                ("    method: POST", None),
                ("    uri: https://api.stripe.com/v1/charges", None),
                ("  response:", None),
                ("    headers:", None),
                (f"      Request-Id: [{rid}]", D("uuid", rid)),
            ]
        )
        etag = g.hex(32)
        fb.add(f"      ETag: ['W/\"{etag}\"']", D("etag", etag))
        fb.add("    status: {code: 200, message: OK}")

    def conftest(self, p: str) -> None:
        g = self.g
        fb = self.new(f"{p}/tests/conftest.py")
        fb.extend(
            [
                ("import pytest", None),
                ("", None),
                ("", None),
                ("@pytest.fixture", None),
                ("def client(app):", None),
                ("    return app.test_client()", None),
                ("", None),
            ]
        )
        for line in g.rng.sample(CODE_DECOYS_PY, 3):
            fb.add(line, D("code-field"))
        fb.add(f'TEST_USER_ID = "{g.uuid()}"', D("uuid"))
        fb.add(f'FAKE_AWS_KEY = "{AWS_EXAMPLE_ID}"', D("aws-example"))
        fb.add(
            'os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_placeholder")', D("placeholder")
        )

    def lockfiles(self, p: str) -> None:
        g = self.g
        which = g.pick(
            ["package-lock.json", "yarn.lock", "poetry.lock", "requirements.txt", "go.sum"]
        )
        fb = self.new(f"{p}/{which}")
        pkgs = g.rng.sample(
            [
                "lodash",
                "express",
                "react",
                "axios",
                "chalk",
                "debug",
                "ms",
                "semver",
                "uuid",
                "jsonwebtoken",
            ],
            4,
        )
        if which == "package-lock.json":
            fb.extend(
                [
                    ("{", None),
                    ('  "name": "app",', None),
                    ('  "lockfileVersion": 3,', None),
                    ('  "packages": {', None),
                ]
            )
            for i, name in enumerate(pkgs):
                integ = g.integrity()
                fb.extend(
                    [
                        (f'    "node_modules/{name}": {{', None),
                        (f'      "version": "4.{g.rng.randint(0, 20)}.1",', None),
                        (
                            f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-4.0.1.tgz",',
                            None,
                        ),
                        (f'      "integrity": "{integ}"', D("lockfile-integrity", integ)),
                        ("    }" + ("," if i < len(pkgs) - 1 else ""), None),
                    ]
                )
            fb.extend([("  }", None), ("}", None)])
        elif which == "yarn.lock":
            fb.add("# yarn lockfile v1")
            for name in pkgs:
                integ = g.integrity()
                fb.extend(
                    [
                        ("", None),
                        (f"{name}@^4.0.0:", None),
                        ('  version "4.0.1"', None),
                        (
                            f'  resolved "https://registry.yarnpkg.com/{name}/-/{name}-4.0.1.tgz#{g.hex(40)}"',
                            D("git-sha"),
                        ),
                        (f"  integrity {integ}", D("lockfile-integrity", integ)),
                    ]
                )
        elif which == "poetry.lock":
            for name in pkgs:
                fb.extend(
                    [
                        ("[[package]]", None),
                        (f'name = "{name}"', None),
                        ('version = "2.1.0"', None),
                        ("files = [", None),
                    ]
                )
                h = g.hex(64)
                fb.add(
                    f'    {{file = "{name}-2.1.0-py3-none-any.whl", hash = "sha256:{h}"}},',
                    D("lockfile-hash", h),
                )
                fb.extend([("]", None), ("", None)])
        elif which == "requirements.txt":
            for name in pkgs:
                h = g.hex(64)
                fb.add(f"{name}==2.1.0 \\")
                fb.add(f"    --hash=sha256:{h}", D("lockfile-hash", h))
        else:
            for name in pkgs:
                h = g.b64(g.bytes(32))
                fb.add(f"github.com/acme/{name} v1.2.3 h1:{h}", D("lockfile-hash", h))

    def key_files(self, p: str) -> None:
        g = self.g
        path = g.pick(
            [
                "deploy/id_rsa",
                ".ssh/id_ed25519",
                "certs/server.key",
                "secrets/private.pem",
                "config/jwt/private.pem",
                "tls/tls.key",
                "keys/deploy_key",
            ]
        )
        kind = (
            "OPENSSH"
            if "id_ed25519" in path or "deploy_key" in path
            else g.pick(["RSA", "PKCS8", "EC", "OPENSSH"])
        )
        slug, block = g.private_key_block(kind)
        fb = self.new(f"{p}/{path}")
        fb.whole_file_store = True
        fb.add(block[0], S(slug, block[1], span=len(block)))
        for t in block[1:]:
            fb.add(t)

    def public_files(self, p: str) -> None:
        g = self.g
        r = g.rng.randrange(3)
        if r == 0:
            fb = self.new(
                f"{p}/{g.pick(['deploy/id_rsa.pub', '.ssh/id_ed25519.pub', 'keys/deploy_key.pub'])}"
            )
            k = g.ssh_public()
            fb.add(k, D("ssh-public-key", k))
        elif r == 1:
            fb = self.new(f"{p}/{g.pick(['certs/server.crt', 'certs/ca.pem', 'tls/tls.crt'])}")
            block = g.cert_block()
            fb.add(block[0], D("certificate"))
            for t in block[1:]:
                fb.add(t)
        else:
            fb = self.new(f"{p}/{g.pick(['config/jwt/public.pem', 'keys/signing.pub.pem'])}")
            block = g.public_key_block()
            fb.add(block[0], D("public-key"))
            for t in block[1:]:
                fb.add(t)

    def embedded_key(self, p: str) -> None:
        """A private key in a YAML/Terraform/.env file: one secret at its BEGIN line."""
        g = self.g
        slug, block = g.private_key_block()
        r = g.rng.randrange(3)
        if r == 0:
            fb = self.new(f"{p}/k8s/tls-secret.yaml")
            fb.extend(
                [
                    ("apiVersion: v1", None),
                    ("kind: Secret", None),
                    ("metadata:", None),
                    ("  name: ingress-tls", None),
                    ("type: kubernetes.io/tls", None),
                    ("stringData:", None),
                    ("  tls.crt: |", None),
                ]
            )
            for t in g.cert_block():
                fb.add("    " + t)
            fb.add("  tls.key: |")
            fb.add("    " + block[0], S(slug, block[1], span=len(block)))
            for t in block[1:]:
                fb.add("    " + t)
        elif r == 1:
            fb = self.new(f"{p}/infra/bastion.tf")
            fb.extend(
                [
                    ('resource "tls_private_key" "unused" {', None),
                    ('  algorithm = "RSA"', None),
                    ("}", None),
                    ("", None),
                    ("locals {", None),
                    ("  deploy_key = <<EOT", None),
                ]
            )
            fb.add(block[0], S(slug, block[1], span=len(block)))
            for t in block[1:]:
                fb.add(t)
            fb.extend([("EOT", None), ("}", None)])
        else:
            fb = self.new(f"{p}/{g.pick(['.env.production', 'config/.env.signing'])}")
            fb.add("APP_ENV=production")
            joined = "\\n".join(block) + "\\n"
            fb.add(f'JWT_PRIVATE_KEY="{joined}"', S(slug, block[1]))
            fb.add("JWT_ALGORITHM=RS256", D("policy"))

    def gcp_sa(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/{g.pick(['gcp-sa.json', 'credentials/service-account.json', 'secrets/gcp-key.json', 'terraform/key.json'])}"
        )
        fb.whole_file_store = True
        _, block = g.private_key_block("PKCS8")
        pk = "\\n".join(block) + "\\n"
        proj = g.pick(["acme-prod", "billing-382910", "data-platform-7"])
        email = f"{g.pick(['deployer', 'ci', 'etl'])}@{proj}.iam.gserviceaccount.com"
        fb.extend(
            [
                ("{", None),
                ('  "type": "service_account",', None),
                (f'  "project_id": "{proj}",', None),
                (f'  "private_key_id": "{g.hex(40)}",', D("key-id")),
            ]
        )
        fb.add(f'  "private_key": "{pk}",', S("gcp-service-account", block[1]))
        fb.extend(
            [
                (f'  "client_email": "{email}",', None),
                (f'  "client_id": "{g.s(DIGITS, 21)}",', None),
                ('  "auth_uri": "https://accounts.google.com/o/oauth2/auth",', None),
                ('  "token_uri": "https://oauth2.googleapis.com/token",', D("policy")),
                (
                    f'  "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/{email}"',
                    None,
                ),
                ("}", None),
            ]
        )

    def toml(self, p: str) -> None:
        g = self.g
        fb = self.new(
            f"{p}/{g.pick(['config/prod.toml', 'pyproject.toml', '.streamlit/secrets.toml'])}"
        )
        fb.add(g.pick(["[tool.app]", "[app]", "[connections.db]"]))
        self.fill(
            fb,
            "toml",
            self.nsec(),
            self.ndec(),
            env_names=False,
            filler=["timeout = 30", 'region = "eu-west-1"'],
        )


CODE_DECOYS_PY = [
    'password = request.form["password"]',
    'token = request.headers.get("Authorization", "")',
    "api_key = settings.API_KEY",
    "if not user.check_password(password):",
    "self.secret_key = secret_key",
    "def authenticate(username: str, password: str) -> bool:",
    "password = forms.CharField(widget=forms.PasswordInput)",
    'secret = get_secret("prod/db/password")',
    'token = jwt.encode(payload, signing_key, algorithm="HS256")',
    "hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
    'password = getpass.getpass("Password: ")',
    'access_token = response.json()["access_token"]',
    'headers = {"Authorization": f"Bearer {token}"}',
    'PASSWORD_FIELD = "password"',
    'TOKEN_HEADER = "X-Auth-Token"',
    "secret_key = Fernet.generate_key()",
    '"password": fields.String(required=True, load_only=True),',
    "api_key: str | None = None",
    'client_secret = credentials["client_secret"]',
    "user.set_password(form.cleaned_data['password1'])",
]

SHELL_DECOYS = [
    'export GITHUB_TOKEN="$(gh auth token)"',
    'aws configure set aws_access_key_id "$AWS_ACCESS_KEY_ID"',
    'echo "$DOCKER_PASSWORD" | docker login -u "$DOCKER_USER" --password-stdin',
    'TOKEN=$(curl -s -X POST "$AUTH_URL" | jq -r .access_token)',
    'kubectl create secret generic app --from-literal=password="$DB_PASSWORD"',
    'read -rsp "Password: " PASSWORD',
    "vault kv get -field=api_key secret/app",
]


FILE_KINDS = [
    ("py_settings", 0.8),
    ("django_settings", 0.4),
    ("dotenv", 0.7),
    ("dotenv_example", 0.5),
    ("compose", 0.6),
    ("k8s_secret", 0.45),
    ("k8s_deploy", 0.5),
    ("k8s_configmap", 0.4),
    ("kubeconfig", 0.15),
    ("terraform", 0.45),
    ("tfvars", 0.35),
    ("tf_lock", 0.3),
    ("gha", 0.6),
    ("helm_values", 0.3),
    ("json_config", 0.55),
    ("npmrc", 0.3),
    ("pypirc", 0.15),
    ("netrc", 0.15),
    ("docker_config", 0.1),
    ("shell", 0.6),
    ("dockerfile", 0.7),
    ("properties", 0.3),
    ("ini", 0.35),
    ("readme", 0.6),
    ("notebook", 0.3),
    ("users_fixture", 0.35),
    ("sql_seed", 0.25),
    ("cassette", 0.3),
    ("conftest", 0.35),
    ("lockfiles", 0.6),
    ("key_files", 0.25),
    ("public_files", 0.35),
    ("embedded_key", 0.15),
    ("gcp_sa", 0.12),
    ("toml", 0.25),
]


def build(seed: int, projects: int) -> list[FileBuilder]:
    corpus = Corpus(seed)
    g = corpus.g
    for i in range(projects):
        p = f"p{i:03d}-{g.pick(['billing', 'auth', 'etl', 'web', 'api', 'worker', 'infra', 'ml'])}"
        for kind, prob in FILE_KINDS:
            if g.chance(prob):
                getattr(corpus, kind)(p)
    # one file per path: a later file of the same path would overwrite an earlier one
    seen: dict[str, FileBuilder] = {}
    for fb in corpus.files:
        seen[fb.path] = fb
    return list(seen.values())


def write(files: list[FileBuilder], root: Path) -> None:
    for fb in files:
        target = root / fb.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fb.text(), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Scoring


def dockwise_reports(files: list[FileBuilder], root: Path) -> set[tuple[str, int]]:
    """The lines dockwise reports, as its context rules do: one finding per secret (DW510),
    and a whole-file finding at line 1 (DW511) for key files, or for a credential file in
    which no single secret was found."""
    from dockwise.rules.secrets import WHOLE_FILE_KINDS
    from dockwise.secrets import credential_file_kind, is_binary, scan_text

    out: set[tuple[str, int]] = set()
    for fb in files:
        data = (root / fb.path).read_bytes()
        kind = credential_file_kind(fb.path, data[:8192])
        lines: set[int] = set()
        if not is_binary(data[:8192]):
            text = data.decode("utf-8", errors="replace")
            lines = {m.line for m in scan_text(text, path=fb.path)}
        out |= {(fb.path, line) for line in lines}
        if kind and (kind in WHOLE_FILE_KINDS or not lines):
            out.add((fb.path, 1))
    return out


def detect_secrets_reports(root: Path, peer: Path) -> set[tuple[str, int]]:
    exe = peer / "bin" / "detect-secrets"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(peer)], check=True)
        subprocess.run([str(peer / "bin" / "pip"), "install", "-q", "detect-secrets"], check=True)
    proc = subprocess.run(
        [str(exe), "scan", "--all-files", "."], cwd=root, capture_output=True, text=True, check=True
    )
    results = json.loads(proc.stdout)["results"]
    return {
        (path.removeprefix("./"), r["line_number"])
        for path, found in results.items()
        for r in found
    }


@dataclass
class Score:
    tp: int
    fp: list[tuple[str, int]]
    fn: list[tuple[str, int]]

    def row(self, tool: str) -> str:
        tp, fp, fn = self.tp, len(self.fp), len(self.fn)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return f"{tool:<16}{tp:>6}{fp:>6}{fn:>6}{p:>11.3f}{r:>9.3f}{f1:>8.3f}"


def score(files: list[FileBuilder], reports: set[tuple[str, int]]) -> Score:
    covered: dict[tuple[str, int], tuple[str, int]] = {}  # reported line -> secret it counts for
    secrets: list[tuple[str, int]] = []
    for fb in files:
        first = True
        for line, lab in sorted(fb.labels.items()):
            if not lab.secret:
                continue
            secrets.append((fb.path, line))
            for n in range(line, line + lab.span):
                covered[(fb.path, n)] = (fb.path, line)
            if fb.whole_file_store and first:
                covered.setdefault((fb.path, 1), (fb.path, line))
            first = False
    hit = {covered[r] for r in reports if r in covered}
    fp = sorted(r for r in reports if r not in covered)
    fn = sorted(s for s in secrets if s not in hit)
    return Score(len(hit), fp, fn)


TOKEN = re.compile(r"[A-Za-z0-9+/=_\-.$]{16,}")


def mask(text: str, value: str) -> str:
    text = text.strip()
    if value and value in text:
        return text.replace(value, value[:4] + "…")
    return TOKEN.sub(lambda m: m.group(0)[:4] + "…", text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--projects", type=int, default=60)
    ap.add_argument("--peer", type=Path, default=Path("/tmp/peer"))
    ap.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    ap.add_argument("--no-peer", action="store_true", help="score dockwise only")
    args = ap.parse_args()

    files = build(args.seed, args.projects)
    nsec = sum(1 for fb in files for lab in fb.labels.values() if lab.secret)
    decoys = Counter(lab.kind for fb in files for lab in fb.labels.values() if not lab.secret)
    kinds = Counter(lab.kind for fb in files for lab in fb.labels.values() if lab.secret)
    print(
        f"corpus: {len(files)} files, {sum(len(fb.lines) for fb in files)} lines, "
        f"{nsec} secrets, {sum(decoys.values())} labelled decoy lines (seed {args.seed})"
    )
    print("secrets by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print("decoys by kind:  " + ", ".join(f"{k} {n}" for k, n in sorted(decoys.items())))

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "corpus"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        write(files, root)
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
        scores = {"dockwise": score(files, dockwise_reports(files, root))}
        if not args.no_peer:
            scores["detect-secrets"] = score(files, detect_secrets_reports(root, args.peer))

    print()
    print(f"{'tool':<16}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>9}{'F1':>8}")
    for tool, sc in scores.items():
        print(sc.row(tool))

    by_path = {fb.path: fb for fb in files}
    dw = scores["dockwise"]
    print(f"\ndockwise false negatives ({len(dw.fn)}):")
    for path, line in dw.fn:
        lab = by_path[path].labels[line]
        print(f"  FN {path}:{line} [{lab.kind}] {mask(by_path[path].lines[line - 1], lab.value)}")
    print(f"\ndockwise false positives ({len(dw.fp)}):")
    for path, line in dw.fp:
        fb = by_path[path]
        lab = fb.labels.get(line)
        kind = lab.kind if lab else "unlabelled"
        text = fb.lines[line - 1] if line <= len(fb.lines) else "<past end>"
        print(f"  FP {path}:{line} [{kind}] {mask(text, lab.value if lab else '')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
