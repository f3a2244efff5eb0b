"""Labelled secret-detection corpus: dockwise's detector against detect-secrets.

Run ``python bench/secrets_corpus.py`` from the repository root (options: ``--out DIR`` to
keep the generated corpus, ``--seed N``, ``--services N``, ``--detect-secrets PATH`` to
point at a detect-secrets executable; by default ``/tmp/peer/bin/detect-secrets`` is used
and, when missing, created with ``python3 -m venv /tmp/peer && /tmp/peer/bin/pip install
detect-secrets``). The script generates, from a seeded random generator, a deterministic
corpus of realistic project files (``.env``, ``config.yaml``, ``settings.py``,
``docker-compose.yml``, ``.npmrc``, service-account JSON, ``id_rsa``, shell scripts,
Dockerfiles, Kubernetes manifests, lockfiles, tests, READMEs) in which every secret is
synthesised from its format's specification and every decoy is something real repositories
contain (hashes, UUIDs, base64 blobs, documented example keys, placeholders, test fixtures,
public keys, integrity hashes, image digests). Each file carries the set of its lines that
hold a secret (a private-key file counts as one secret at line 1). Both tools are scored at
(file, line) granularity and a table of TP, FP, FN, precision, recall and F1 is printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shlex
import string
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dockwise.secrets import credential_file_kind, scan_text  # noqa: E402

B62 = string.ascii_letters + string.digits
B64 = B62 + "+/"
B64URL = B62 + "-_"
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
WHOLE_FILE_KINDS = {"ssh-private-key", "private-key", "pgp-private-key", "putty-private-key"}
PEER_VENV = Path("/tmp/peer")


# --------------------------------------------------------------------------- corpus model


@dataclass
class Doc:
    """A generated file: its lines and the 1-based numbers of the lines holding a secret."""

    relpath: str
    lines: list[str] = field(default_factory=list)
    secret_lines: set[int] = field(default_factory=set)
    decoys: int = 0

    def add(self, text: str, *, secret: bool = False, decoy: bool = False) -> None:
        """Append one or more lines; a secret/decoy block is labelled on its first line."""
        if secret:
            self.secret_lines.add(len(self.lines) + 1)
        self.decoys += decoy
        self.lines.extend(text.split("\n"))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


Line = tuple[str, bool]  # (text, is_secret)


class Gen:
    """Secret and decoy generators, each from its format's public specification."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def s(self, alphabet: str, size: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(size))

    def b64(self, size: int, *, url: bool = False) -> str:
        raw = self.rng.randbytes(size)
        return (base64.urlsafe_b64encode(raw) if url else base64.b64encode(raw)).decode()

    def digits(self, size: int) -> str:
        return str(self.rng.randint(1, 9)) + self.s(string.digits, size - 1)

    # ----------------------------------------------------------------- secrets by format
    def aws_key_id(self) -> str:
        return self.rng.choice(["AKIA", "AKIA", "ASIA"]) + self.s(
            string.ascii_uppercase + "234567", 16
        )

    def aws_secret(self) -> str:
        return self.s(B64, 40)

    def github(self) -> str:
        if self.rng.random() < 0.25:
            return f"github_pat_11{self.s(UPPER_DIGITS, 20)}_{self.s(B62, 59)}"
        body = self.s(B62, 30)
        crc, check = zlib.crc32(body.encode()), ""
        while crc:
            crc, rest = divmod(crc, 62)
            check = B62[rest] + check
        return f"{self.rng.choice('pousr').join(['gh', '_'])}{body}{check.rjust(6, '0')}"

    def gitlab(self) -> str:
        return "glpat-" + self.s(B62 + "-_", 20)

    def bitbucket(self) -> str:
        return "ATBB" + self.s(B62, 28) + self.s("0123456789ABCDEF", 8)

    def slack(self) -> str:
        if self.rng.random() < 0.5:
            return f"xoxb-{self.digits(11)}-{self.digits(13)}-{self.s(B62, 24)}"
        return f"xoxp-{self.digits(11)}-{self.digits(11)}-{self.digits(13)}-{self.s(HEX, 32)}"

    def slack_webhook(self) -> str:
        return (
            f"https://hooks.slack.com/services/T{self.s(UPPER_DIGITS, 10)}/"
            f"B{self.s(UPPER_DIGITS, 10)}/{self.s(B62, 24)}"
        )

    def stripe(self) -> str:
        prefix = self.rng.choice(["sk_live_", "sk_live_", "rk_live_", "sk_test_"])
        return prefix + self.s(B62, self.rng.choice([24, 99]))

    def twilio_key(self) -> str:
        return "SK" + self.s(HEX, 32)

    def sendgrid(self) -> str:
        return f"SG.{self.s(B64URL, 22)}.{self.s(B64URL, 43)}"

    def openai(self) -> str:
        if self.rng.random() < 0.4:
            return f"sk-{self.s(B62, 20)}T3BlbkFJ{self.s(B62, 20)}"
        return "sk-proj-" + self.s(B64URL, self.rng.choice([48, 124, 156]))

    def anthropic(self) -> str:
        return f"sk-ant-api03-{self.s(B64URL, 93)}AA"

    def npm(self) -> str:
        return "npm_" + self.s(B62, 36)

    def pypi(self) -> str:
        return "pypi-AgEIcHlwaS5vcmc" + self.b64(self.rng.randint(60, 120), url=True).rstrip("=")

    def gcp_api_key(self) -> str:
        return "AIza" + self.s(B64URL, 35)

    def azure_key(self) -> str:
        return self.b64(64)

    def jwt(self) -> str:
        header = {"alg": self.rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
        payload = {
            "sub": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "iat": self.rng.randint(1_600_000_000, 1_700_000_000),
            "exp": self.rng.randint(1_700_000_000, 1_900_000_000),
            "scope": self.rng.choice(["read write", "admin", "api"]),
        }

        def part(obj: object) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return f"{part(header)}.{part(payload)}.{self.b64(32, url=True).rstrip('=')}"

    def pem_private_key(self) -> str:
        kind, lead, size = self.rng.choice(
            [
                ("RSA ", "MIIEpAIBAAKCAQEA", 1190),
                ("", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 1210),
                ("EC ", "MHcCAQEEI", 90),
                (
                    "OPENSSH ",
                    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
                    300,
                ),
            ]
        )
        body = lead + self.b64(size)
        width = 70 if kind == "OPENSSH " else 64
        rows = [body[i : i + width] for i in range(0, len(body), width)]
        return "\n".join(
            [f"-----BEGIN {kind}PRIVATE KEY-----", *rows, f"-----END {kind}PRIVATE KEY-----"]
        )

    def password(self) -> str:
        style = self.rng.randrange(4)
        if style == 0:
            return self.b64(self.rng.choice([12, 16, 24]), url=True).rstrip("=")
        if style == 1:
            return self.s(B62, self.rng.choice([12, 16, 20, 32]))
        if style == 2:
            return self.s(B62 + "!#%^&*()-_=+", self.rng.choice([10, 14, 18]))
        word = self.rng.choice(
            ["Falcon", "Maple", "Orbit", "Copper", "Nimbus", "Harbor", "Quartz", "Velvet", "Tundra"]
        )
        return (
            f"{word}{self.rng.choice('!#%&*')}{self.digits(4)}{self.s(string.ascii_lowercase, 3)}"
        )

    def hex_secret(self) -> str:
        return self.s(HEX, self.rng.choice([32, 64]))

    def django_key(self) -> str:
        return self.s(string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50)

    def db_url(self) -> str:
        scheme, port = self.rng.choice(
            [
                ("postgres", 5432), ("postgresql", 5432), ("mysql", 3306),
                ("mongodb", 27017), ("mongodb+srv", 0), ("redis", 6379),
                ("rediss", 6380), ("amqp", 5672), ("amqps", 5671),
            ]
        )  # fmt: skip
        user = self.rng.choice(["app", "svc_orders", "admin", "reporting", "worker", "default"])
        host = self.rng.choice(["db", "10.0.3.12", "pg.internal", "cluster0.a1b2c.mongodb.net"])
        where = f"{host}:{port}" if port else host
        return (
            f"{scheme}://{user}:{self.password()}@{where}/{self.rng.choice(['app', 'orders', '0'])}"
        )

    # ----------------------------------------------------------------- decoys
    def git_sha(self) -> str:
        return self.s(HEX, 40)

    def sha256(self) -> str:
        return self.s(HEX, 64)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def integrity(self) -> str:
        return "sha512-" + self.b64(64)

    def ssh_public_key(self) -> str:
        return f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{self.b64(256)} deploy@ci-runner-{self.rng.randint(1, 9)}"

    def certificate(self) -> str:
        body = "MIIDdzCCAl+gAwIBAgIE" + self.b64(700)
        rows = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join(["-----BEGIN CERTIFICATE-----", *rows, "-----END CERTIFICATE-----"])

    def public_pem(self) -> str:
        body = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + self.b64(250)
        rows = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join(["-----BEGIN PUBLIC KEY-----", *rows, "-----END PUBLIC KEY-----"])

    def placeholder(self) -> str:
        return self.rng.choice(
            [
                "changeme", "xxx", "xxxxxxxxxxxxxxxx", "<token>", "<your-api-key>",
                "your-api-key-here", "${API_TOKEN}", "$SECRET", "{{ .Values.secret }}",
                "CHANGE_ME", "replace-me", "dummy", "REDACTED", "********", "",
                "<insert password>", "TODO", "example", "test", "password",
                "${{ secrets.DEPLOY_TOKEN }}", "%(password)s", "{password}",
            ]
        )  # fmt: skip


# --------------------------------------------------------------------------- file templates


def lines_env(g: Gen) -> list[Line]:
    rng = g.rng
    aws_id = g.aws_key_id()
    secrets: list[Line] = [
        (f"DATABASE_URL={g.db_url()}", True),
        (f"SECRET_KEY={g.hex_secret()}", True),
        (f"AWS_ACCESS_KEY_ID={aws_id}", True),
        (f"AWS_SECRET_ACCESS_KEY={g.aws_secret()}", True),
        (f"STRIPE_SECRET_KEY={g.stripe()}", True),
        (f"GITHUB_TOKEN={g.github()}", True),
        (f"SLACK_BOT_TOKEN={g.slack()}", True),
        (f"SLACK_WEBHOOK_URL={g.slack_webhook()}", True),
        (f"SENDGRID_API_KEY={g.sendgrid()}", True),
        (f"OPENAI_API_KEY={g.openai()}", True),
        (f"ANTHROPIC_API_KEY={g.anthropic()}", True),
        (f"TWILIO_API_KEY={g.twilio_key()}", True),
        (f"TWILIO_AUTH_TOKEN={g.s(HEX, 32)}", True),
        (f'DB_PASSWORD="{g.password()}"', True),
        (f"JWT_SECRET={g.b64(48)}", True),
        (f"GOOGLE_MAPS_API_KEY={g.gcp_api_key()}", True),
        (f"REDIS_PASSWORD={g.password()}", True),
        (f"MAILGUN_API_KEY=key-{g.s(HEX, 32)}", True),
        (f"GITLAB_TOKEN={g.gitlab()}", True),
    ]
    decoys: list[Line] = [
        (f"TWILIO_ACCOUNT_SID=AC{g.s(HEX, 32)}", False),
        ("PASSWORD_MIN_LENGTH=12", False),
        ("TOKEN_URL=https://auth.internal/oauth/token", False),
        (f"BUILD_SHA={g.git_sha()}", False),
        (f"REQUEST_ID={g.uuid()}", False),
        (f"SENTRY_DSN=https://{g.s(HEX, 32)}@o{g.digits(6)}.ingest.sentry.io/{g.digits(7)}", False),
        ("API_KEY_FILE=/run/secrets/api_key", False),
        ("POSTGRES_PASSWORD_FILE=/run/secrets/db_password", False),
        (f"STRIPE_PUBLISHABLE_KEY=pk_live_{g.s(B62, 24)}", False),
        (f"SECRET_NAME=prod/{rng.choice(['orders', 'billing'])}/db", False),
        (f"CLIENT_ID={g.uuid()}", False),
        (f"CACHE_BUSTER={g.s(HEX, 12)}", False),
        ("GOPRIVATE=github.com/acme/*", False),
        (f"API_TOKEN={g.placeholder()}", False),
        (f"DB_PASSWORD={g.placeholder()}", False),
    ]
    filler = ["APP_ENV=production", "PORT=8080", "LOG_LEVEL=info", "# service settings", ""]
    picked = rng.sample(secrets, 6) + rng.sample(decoys, 5)
    rng.shuffle(picked)
    return [(f, False) for f in rng.sample(filler, 3)] + picked


def lines_env_example(g: Gen) -> list[Line]:
    return [
        ("# copy to .env and fill in", False),
        ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", False),
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", False),
        (f"GITHUB_TOKEN=ghp_{'x' * 36}", False),
        ("STRIPE_SECRET_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc", False),
        (f"DATABASE_URL=postgres://user:{g.placeholder() or 'password'}@localhost:5432/app", False),
        (f"SECRET_KEY={g.placeholder()}", False),
        (f"OPENAI_API_KEY={g.rng.choice(['sk-...', 'sk-your-key-here', '<openai-key>'])}", False),
    ]


def lines_config_yaml(g: Gen) -> list[Line]:
    rng = g.rng
    out: list[Line] = [("server:", False), ("  port: 8080", False), ("database:", False)]
    out.append(("  host: db.internal", False))
    out.append(("  user: orders", False))
    if rng.random() < 0.7:
        quote = rng.choice(["", '"', "'"])
        out.append((f"  password: {quote}{g.password()}{quote}", True))
    else:
        out.append((f'  password: "{g.placeholder()}"', False))
    out.append(("  pool_size: 10", False))
    out += [("cache:", False), (f"  key_prefix: orders-{g.s(HEX, 8)}", False)]
    out += [("payments:", False), (f"  api_key: {g.stripe()}", True)]
    out += [(f"  webhook_secret: whsec_{g.s(B62, 32)}", True)]
    out += [("auth:", False), (f"  jwt_secret: {g.b64(32)}", True)]
    out += [("  token_ttl: 3600", False), ("  token_url: https://idp.internal/token", False)]
    out += [(f"  client_id: {g.uuid()}", False), (f"  client_secret: {g.s(B64URL, 40)}", True)]
    out += [("release:", False), (f"  commit: {g.git_sha()}", False)]
    out += [(f"  checksum: {g.sha256()}", False), (f"  build_id: {g.uuid()}", False)]
    return out


def lines_settings_py(g: Gen) -> list[Line]:
    rng = g.rng
    return [
        ("import os", False),
        ("from pathlib import Path", False),
        ("", False),
        (f'SECRET_KEY = "django-insecure-{g.django_key()}"', True),
        ('DEBUG = os.environ.get("DEBUG") == "1"', False),
        ("DATABASES = {", False),
        ('    "default": {', False),
        ('        "ENGINE": "django.db.backends.postgresql",', False),
        ('        "NAME": "orders",', False),
        ('        "USER": "orders",', False),
        (f'        "PASSWORD": "{g.password()}",', True),
        ('        "HOST": os.environ.get("DB_HOST", "db"),', False),
        ("    }", False),
        ("}", False),
        ('AWS_SECRET_ACCESS_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]', False),
        (f'SENDGRID_API_KEY = os.getenv("SENDGRID_API_KEY", "{g.sendgrid()}")', True),
        ("AUTH_PASSWORD_VALIDATORS = [", False),
        ('    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},', False),
        ("]", False),
        ('PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]', False),
        (f'CELERY_BROKER_URL = "{g.db_url()}"', True),
        (f'STATIC_VERSION = "{g.git_sha()[: rng.choice([7, 40])]}"', False),
        (f'GPG_FINGERPRINT = "{g.s(HEX.upper(), 40)}"', False),
        (f'FIXTURE_UUID = "{g.uuid()}"', False),
        ("def connect(password: str | None = None) -> None:", False),
        ('    password = password or os.environ.get("DB_PASSWORD", "")', False),
    ]


def lines_compose(g: Gen) -> list[Line]:
    db_pw = g.password()
    return [
        ("services:", False),
        ("  api:", False),
        (f"    image: ghcr.io/acme/api@sha256:{g.sha256()}", False),
        ("    environment:", False),
        (f"      - DATABASE_URL=postgresql://api:{db_pw}@db:5432/api", True),
        (f"      - API_TOKEN={g.s(B62, 32)}", True),
        ("      - LOG_LEVEL=info", False),
        ("      - SECRET_KEY=${SECRET_KEY}", False),
        (f"      - JWT_PUBLIC_KEY_ID={g.uuid()}", False),
        ("  db:", False),
        (f"    image: postgres:16@sha256:{g.sha256()}", False),
        ("    environment:", False),
        (f"      POSTGRES_PASSWORD: {db_pw}", True),
        ("      POSTGRES_USER: api", False),
        ('      PGDATA: "/var/lib/postgresql/data/pgdata"', False),
        ("    healthcheck:", False),
        ('      test: ["CMD-SHELL", "pg_isready -U api"]', False),
        ("  cache:", False),
        ("    image: redis:7", False),
        (f"    command: redis-server --requirepass {g.password()}", True),
        ("  mq:", False),
        ("    image: rabbitmq:3-management", False),
        ("    environment:", False),
        ("      RABBITMQ_DEFAULT_USER: guest", False),
        ("      RABBITMQ_DEFAULT_PASS: guest", False),
        ("secrets:", False),
        ("  db_password:", False),
        ("    file: ./secrets/db_password.txt", False),
    ]


def lines_dockerfile(g: Gen) -> list[Line]:
    rng = g.rng
    out: list[Line] = [
        (f"FROM python:3.12-slim@sha256:{g.sha256()} AS build", False),
        ("ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305", False),
        (f"ENV PYTHON_SHA256={g.sha256()}", False),
        (f'RUN echo "{g.sha256()}  app.tar.gz" | sha256sum -c -', False),
        ("ARG NPM_TOKEN", False),
        ("ENV APP_PASSWORD_FILE=/run/secrets/app_password", False),
    ]
    secrets: list[Line] = [
        (f"ENV API_KEY={g.s(B62, 32)}", True),
        (f"ARG GITHUB_TOKEN={g.github()}", True),
        (f'RUN echo "//registry.npmjs.org/:_authToken={g.npm()}" > ~/.npmrc', True),
        (f"ENV DB_PASSWORD {g.password()}", True),
        (f"ENV AWS_SECRET_ACCESS_KEY={g.aws_secret()}", True),
        (f"RUN pip install --index-url https://ci:{g.password()}@pypi.internal/simple app", True),
        (f"ENV SENTRY_AUTH_TOKEN={g.s(HEX, 64)}", True),
    ]
    out += rng.sample(secrets, 3)
    out += [("RUN pip install --no-cache-dir -r requirements.txt", False), ('CMD ["app"]', False)]
    return out


def lines_k8s(g: Gen) -> list[Line]:
    pw = g.password()
    return [
        ("apiVersion: apps/v1", False),
        ("kind: Deployment", False),
        ("spec:", False),
        ("  template:", False),
        ("    spec:", False),
        ("      containers:", False),
        (f"        - image: registry.acme.io/api@sha256:{g.sha256()}", False),
        ("          env:", False),
        ("            - name: DB_PASSWORD", False),
        (f'              value: "{g.password()}"', True),
        ("            - name: API_KEY", False),
        ("              valueFrom:", False),
        ("                secretKeyRef:", False),
        ("                  name: api-secrets", False),
        ("                  key: api-key", False),
        ("            - name: LOG_FORMAT", False),
        ("              value: json", False),
        ("---", False),
        ("apiVersion: v1", False),
        ("kind: Secret", False),
        ("metadata:", False),
        ("  name: api-secrets", False),
        ("data:", False),
        (f"  password: {base64.b64encode(pw.encode()).decode()}", True),
        (f"  username: {base64.b64encode(b'api').decode()}", False),
        (f"  placeholder: {base64.b64encode(b'changeme').decode()}", False),
        ("stringData:", False),
        (f"  api-token: {g.jwt()}", True),
        (f"  ca.crt: {g.b64(600)}", False),
    ]


def lines_shell(g: Gen) -> list[Line]:
    rng = g.rng
    out: list[Line] = [("#!/usr/bin/env bash", False), ("set -euo pipefail", False)]
    secrets: list[Line] = [
        (f"export GITLAB_TOKEN={g.gitlab()}", True),
        (f'curl -H "Authorization: Bearer {g.jwt()}" https://api.internal/v1/deploy', True),
        (f"curl -u {shlex.quote('deploy:' + g.password())} https://nexus.internal/raw/", True),
        (f"psql --password={shlex.quote(g.password())} -h db -U app", True),
        (f"aws configure set aws_secret_access_key {g.aws_secret()}", True),
        (f"export NPM_TOKEN={g.npm()}", True),
        (f'git clone "https://oauth2:{g.gitlab()}@gitlab.com/acme/api.git"', True),
        (f"export BITBUCKET_APP_PASSWORD={g.bitbucket()}", True),
    ]
    decoys: list[Line] = [
        ('curl -H "Authorization: Bearer ${TOKEN}" https://api.internal/v1/status', False),
        ('docker login -u "$REGISTRY_USER" --password-stdin < /run/secrets/registry', False),
        (f'echo "{g.sha256()}  terraform.zip" | sha256sum -c', False),
        (f"git checkout {g.git_sha()}", False),
        ('mysql -uroot -p"$MYSQL_ROOT_PASSWORD" -e "select 1"', False),
        (f"gpg --keyserver hkps://keys.openpgp.org --recv-keys {g.s(HEX.upper(), 40)}", False),
        (f"export RUN_ID={g.uuid()}", False),
        ('export DB_PASSWORD="$(cat /run/secrets/db_password)"', False),
    ]
    out += rng.sample(secrets, 3) + rng.sample(decoys, 3)
    return out


def lines_tests(g: Gen) -> list[Line]:
    rng = g.rng
    return [
        ("import pytest", False),
        ("", False),
        ("def test_login(client):", False),
        (
            '    response = client.post("/login", json={"user": "alice", "password": "testpass"})',
            False,
        ),
        ('    assert response.json()["token"] == "test-token"', False),
        ("", False),
        ("def test_jwt_decoding():", False),
        (
            '    token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZS'
            'I6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"',
            False,
        ),
        ('    settings = Settings(api_key="dummy", secret_key="not-a-real-secret")', False),
        ('    aws = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"}', False),
        (f'    expected_sha = "{g.git_sha()}"', False),
        (f'    order_id = "{g.uuid()}"', False),
        (f'    password_hash = "$2b$12${g.s(B62 + "./", 53)}"', False),
        (f'    blob = "{g.b64(rng.choice([48, 96]))}"', False),
        ('    monkeypatch.setenv("API_TOKEN", "fake-token")', False),
        (f'    etag = "{g.s(HEX, 32)}"', False),
    ]


def lines_js(g: Gen) -> list[Line]:
    return [
        ("const Stripe = require('stripe');", False),
        (f"const stripe = Stripe('{g.stripe()}');", True),
        ("export const firebaseConfig = {", False),
        (f'  apiKey: "{g.gcp_api_key()}",', True),
        ('  authDomain: "acme-prod.firebaseapp.com",', False),
        (f'  appId: "1:{g.digits(12)}:web:{g.s(HEX, 22)}",', False),
        ("};", False),
        ("const headers = { Authorization: `Bearer ${token}` };", False),
        (f"const OPENAI_KEY = '{g.openai()}';", True),
        (f"const cacheKey = `${{userId}}:{g.s(HEX, 16)}`;", False),
        (f'const nonce = "{g.b64(16)}";', False),
        ("const password = process.env.DB_PASSWORD;", False),
        ('export const apiKey = import.meta.env.VITE_API_KEY ?? "";', False),
    ]


def lines_terraform(g: Gen) -> list[Line]:
    return [
        ('variable "db_password" {', False),
        ("  type      = string", False),
        ("  sensitive = true", False),
        (f'  default   = "{g.password()}"', True),
        ("}", False),
        ('resource "aws_db_instance" "main" {', False),
        ('  username = "app"', False),
        ("  password = var.db_password", False),
        ('  kms_key_id = "arn:aws:kms:eu-west-1:123456789012:key/' + g.uuid() + '"', False),
        ("}", False),
        ('provider "aws" {', False),
        (f'  access_key = "{g.aws_key_id()}"', True),
        (f'  secret_key = "{g.aws_secret()}"', True),
        ("}", False),
    ]


def lines_appsettings(g: Gen) -> list[Line]:
    account = "acme" + g.s(string.ascii_lowercase, 6)
    return [
        ("{", False),
        ('  "ConnectionStrings": {', False),
        (
            f'    "Default": "Server=sql.internal;Database=orders;User Id=app;Password={g.password()};",',
            True,
        ),
        (
            f'    "Storage": "DefaultEndpointsProtocol=https;AccountName={account};'
            f'AccountKey={g.azure_key()};EndpointSuffix=core.windows.net",',
            True,
        ),
        (
            '    "Local": "Server=(localdb)\\\\mssqllocaldb;Database=orders;Trusted_Connection=True"',
            False,
        ),
        ("  },", False),
        ('  "Jwt": {', False),
        (f'    "Key": "{g.b64(32)}",', True),
        ('    "Issuer": "https://idp.acme.io",', False),
        (f'    "SigningKeyId": "{g.uuid()}"', False),
        ("  },", False),
        (f'  "InstrumentationKey": "{g.uuid()}",', False),
        (f'  "BuildHash": "{g.git_sha()}"', False),
        ("}", False),
    ]


def lines_npmrc(g: Gen) -> list[Line]:
    if g.rng.random() < 0.5:
        return [
            ("registry=https://registry.npmjs.org/", False),
            (f"//registry.npmjs.org/:_authToken={g.npm()}", True),
        ]
    return [
        ("@acme:registry=https://npm.pkg.github.com", False),
        ("//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}", False),
        ("always-auth=true", False),
    ]


def lines_pypirc(g: Gen) -> list[Line]:
    return [
        ("[distutils]", False),
        ("index-servers = pypi", False),
        ("[pypi]", False),
        ("username = __token__", False),
        (f"password = {g.pypi()}", True),
    ]


def lines_service_account(g: Gen) -> list[Line]:
    key = g.pem_private_key().replace("OPENSSH ", "").replace("EC ", "").replace("RSA ", "")
    project = "acme-" + g.s(string.ascii_lowercase, 6)
    body = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": g.s(HEX, 40),
        "private_key": key + "\n",
        "client_email": f"deployer@{project}.iam.gserviceaccount.com",
        "client_id": g.digits(21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    rendered = json.dumps(body, indent=2).split("\n")
    return [(line, '"private_key":' in line) for line in rendered]


def lines_lockfile(g: Gen) -> list[Line]:
    out: list[Line] = [("{", False), ('  "name": "web",', False), ('  "packages": {', False)]
    for name in g.rng.sample(["react", "lodash", "axios", "zod", "vite", "esbuild", "tslib"], 4):
        out += [
            (f'    "node_modules/{name}": {{', False),
            (f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.2.3.tgz",', False),
            (f'      "integrity": "{g.integrity()}",', False),
            ("    },", False),
        ]
    out += [("  }", False), ("}", False)]
    return out


def lines_requirements(g: Gen) -> list[Line]:
    out: list[Line] = []
    for name in g.rng.sample(["flask", "requests", "gunicorn", "pydantic", "sqlalchemy"], 3):
        out.append((f"{name}==2.1.0 \\", False))
        out.append((f"    --hash=sha256:{g.sha256()}", False))
    return out


def lines_readme(g: Gen) -> list[Line]:
    return [
        ("# Orders service", False),
        ("Set the credentials before running:", False),
        ("```sh", False),
        ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", False),
        ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", False),
        ("export DATABASE_URL=postgres://user:password@localhost:5432/orders", False),
        ('export GITHUB_TOKEN="<your personal access token>"', False),
        ("```", False),
        (f"Deployed from commit `{g.git_sha()}`; image digest `sha256:{g.sha256()}`.", False),
        ("Add your key to `~/.ssh/authorized_keys`:", False),
        (g.ssh_public_key(), False),
    ]


def lines_workflow(g: Gen) -> list[Line]:
    return [
        ("name: deploy", False),
        ("on: push", False),
        ("jobs:", False),
        ("  deploy:", False),
        ("    runs-on: ubuntu-latest", False),
        ("    env:", False),
        ("      REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}", False),
        (f"      SLACK_WEBHOOK: {g.slack_webhook()}", True),
        ("    steps:", False),
        (f"      - uses: actions/checkout@{g.git_sha()}", False),
        ("      - run: ./deploy.sh", False),
        ("        env:", False),
        ("          KUBE_TOKEN: ${{ secrets.KUBE_TOKEN }}", False),
    ]


def lines_kubeconfig(g: Gen) -> list[Line]:
    return [
        ("apiVersion: v1", False),
        ("kind: Config", False),
        ("clusters:", False),
        ("- cluster:", False),
        (f"    certificate-authority-data: {g.b64(900)}", False),
        ("    server: https://10.0.0.1:6443", False),
        ("  name: prod", False),
        ("users:", False),
        ("- name: ci", False),
        ("  user:", False),
        (f"    token: {g.jwt()}", True),
    ]


def lines_netrc(g: Gen) -> list[Line]:
    return [(f"machine api.heroku.com login ops@acme.io password {g.hex_secret()}", True)]


def lines_i18n(g: Gen) -> list[Line]:
    return [
        ("{", False),
        ('  "login": "Anmelden",', False),
        ('  "password": "Passwort",', False),
        ('  "forgot_password": "Passwort vergessen?",', False),
        ('  "new_password": "Neues Passwort",', False),
        ('  "api_key": "API-Schlüssel",', False),
        ('  "token_expired": "Sitzung abgelaufen",', False),
        ('  "secret_question": "Sicherheitsfrage"', False),
        ("}", False),
    ]


def lines_maven_settings(g: Gen) -> list[Line]:
    return [
        ("<settings>", False),
        ("  <servers>", False),
        ("    <server>", False),
        ("      <id>nexus-releases</id>", False),
        ("      <username>deploy</username>", False),
        (f"      <password>{g.password()}</password>", True),
        ("    </server>", False),
        ("    <server>", False),
        ("      <id>nexus-snapshots</id>", False),
        ("      <password>${env.NEXUS_PASSWORD}</password>", False),
        ("    </server>", False),
        ("  </servers>", False),
        ("</settings>", False),
    ]


def lines_app_code(g: Gen) -> list[Line]:
    rng = g.rng
    return [
        ("import os", False),
        ("import psycopg", False),
        ("", False),
        (f'DSN = "host=db port=5432 user=app password={g.password()} dbname=orders"', True),
        (f'REDIS_PASSWORD = os.getenv("REDIS_PASSWORD", "{g.password()}")', True),
        ('API_KEY_HEADER = "X-API-Key"', False),
        ("password = Column(String(128), nullable=False)", False),
        ('next_page_token = response.get("nextPageToken")', False),
        (f'PAGE_TOKEN_FIXTURE = "{g.b64(24, url=True)}"', False),
        (f'CONTRACT_ADDRESS = "0x{g.s(HEX, 40)}"', False),
        (f'CORRELATION_ID = "{g.s(HEX, 32)}"', False),
        ('logger.info("token refreshed for %s", user_id)', False),
        (
            f'headers = {{"Authorization": "Basic {base64.b64encode(f"svc:{g.password()}".encode()).decode()}"}}',
            True,
        ),
        (f'client = Client(api_key="{g.s(B62, rng.choice([32, 40]))}")', True),
        ("client = Client(api_key=settings.API_KEY)", False),
        (f'IMAGE = "data:image/png;base64,{g.b64(120)}"', False),
    ]


def lines_sealed_secret(g: Gen) -> list[Line]:
    return [
        ("apiVersion: bitnami.com/v1alpha1", False),
        ("kind: SealedSecret", False),
        ("metadata:", False),
        ("  name: db", False),
        ("spec:", False),
        ("  encryptedData:", False),
        (f"    password: Ag{g.b64(300)}", False),
        (f"    api-token: Ag{g.b64(300)}", False),
    ]


def lines_ansible(g: Gen) -> list[Line]:
    return [
        ("- hosts: db", False),
        ("  vars:", False),
        ('    db_password: "{{ vault_db_password }}"', False),
        ("    admin_password: !vault |", False),
        ("      $ANSIBLE_VAULT;1.1;AES256", False),
        (f"      {g.s(HEX, 80)}", False),
        (
            f"    sops_token: ENC[AES256_GCM,data:{g.b64(24)},iv:{g.b64(32)},tag:{g.b64(16)},type:str]",
            False,
        ),
        ("  tasks:", False),
        ("    - name: login to registry", False),
        (f"      shell: docker login -u ci -p {shlex.quote(g.password())} registry.acme.io", True),
        ("    - name: dump", False),
        (
            f"      shell: mysqldump -uroot -p{shlex.quote(g.password())} orders > /backup/db.sql",
            True,
        ),
        ("    - name: go.sum style hash", False),
        (f'      debug: msg="golang.org/x/net v0.17.0 h1:{g.b64(32)}"', False),
    ]


TEMPLATES: dict[str, Callable[[Gen], list[Line]]] = {
    ".env": lines_env,
    ".env.example": lines_env_example,
    "config/config.yaml": lines_config_yaml,
    "app/settings.py": lines_settings_py,
    "docker-compose.yml": lines_compose,
    "Dockerfile": lines_dockerfile,
    "deploy/k8s.yaml": lines_k8s,
    "scripts/deploy.sh": lines_shell,
    "tests/test_auth.py": lines_tests,
    "web/src/config.js": lines_js,
    "infra/main.tf": lines_terraform,
    "src/Api/appsettings.json": lines_appsettings,
    ".npmrc": lines_npmrc,
    ".pypirc": lines_pypirc,
    "deploy/service-account.json": lines_service_account,
    "web/package-lock.json": lines_lockfile,
    "requirements.txt": lines_requirements,
    "README.md": lines_readme,
    ".github/workflows/deploy.yml": lines_workflow,
    "deploy/kubeconfig": lines_kubeconfig,
    ".netrc": lines_netrc,
    "web/locales/de.json": lines_i18n,
    ".m2/settings.xml": lines_maven_settings,
    "app/db.py": lines_app_code,
    "deploy/sealed-secret.yaml": lines_sealed_secret,
    "ansible/site.yml": lines_ansible,
}


def key_files(g: Gen) -> list[Doc]:
    """Whole-file keys: private ones are one secret at line 1, public ones are decoys."""
    docs: list[Doc] = []
    name = g.rng.choice(["deploy/id_rsa", "keys/id_ed25519", "certs/server.key", "ci/deploy_key"])
    private = Doc(name)
    private.add(g.pem_private_key(), secret=True)
    docs.append(private)
    public = Doc(g.rng.choice(["deploy/id_rsa.pub", "keys/authorized_keys"]))
    public.add(g.ssh_public_key(), decoy=True)
    docs.append(public)
    cert = Doc(g.rng.choice(["certs/server.crt", "certs/ca.pem", "certs/jwt-public.pem"]))
    cert.add(g.rng.choice([g.certificate(), g.public_pem()]), decoy=True)
    docs.append(cert)
    return docs


def generate(root: Path, seed: int, services: int) -> list[Doc]:
    rng = random.Random(seed)
    g = Gen(rng)
    docs: list[Doc] = []
    for index in range(services):
        prefix = f"svc-{index:02d}"
        chosen = rng.sample(sorted(TEMPLATES), k=min(len(TEMPLATES), 9))
        for relpath in chosen:
            doc = Doc(f"{prefix}/{relpath}")
            for text, secret in TEMPLATES[relpath](g):
                doc.add(text, secret=secret, decoy=not secret and _is_decoy(text))
            docs.append(doc)
        docs += [
            Doc(f"{prefix}/{d.relpath}", d.lines, d.secret_lines, d.decoys) for d in key_files(g)
        ]
    for doc in docs:
        path = root / doc.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.text())
    return docs


def _is_decoy(text: str) -> bool:
    """A non-secret line that carries a secret-looking value (not plain filler)."""
    import re

    return bool(
        re.search(r"[0-9a-fA-F]{12,}|[A-Za-z0-9+/_\-]{16,}|=\S|:\s*\S|\$\{|<[a-z]", text)
    ) and not text.strip().startswith(("#", "//"))


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Score:
    tool: str
    tp: int
    fp: int
    fn: int
    seconds: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(tool: str, docs: list[Doc], reported: set[tuple[str, int]], seconds: float) -> Score:
    truth = {(d.relpath, n) for d in docs for n in d.secret_lines}
    return Score(tool, len(reported & truth), len(reported - truth), len(truth - reported), seconds)


def run_dockwise(root: Path, docs: list[Doc]) -> tuple[set[tuple[str, int]], float]:
    reported: set[tuple[str, int]] = set()
    started = time.perf_counter()
    for doc in docs:
        raw = (root / doc.relpath).read_bytes()
        if credential_file_kind(doc.relpath, raw[:4096]) in WHOLE_FILE_KINDS:
            reported.add((doc.relpath, 1))
        for match in scan_text(raw.decode("utf-8", "replace"), path=doc.relpath):
            reported.add((doc.relpath, match.line))
    return reported, time.perf_counter() - started


def find_detect_secrets(explicit: str | None) -> str | None:
    if explicit:
        return explicit if Path(explicit).exists() else None
    binary = PEER_VENV / "bin" / "detect-secrets"
    if binary.exists():
        return str(binary)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "-q", "detect-secrets"], check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return str(binary) if binary.exists() else None


def run_detect_secrets(binary: str, root: Path) -> tuple[set[tuple[str, int]], float]:
    started = time.perf_counter()
    completed = subprocess.run(
        [binary, "scan", "--all-files", "."], cwd=root, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    results = json.loads(completed.stdout).get("results", {})
    reported = {
        (path.replace("\\", "/"), item["line_number"])
        for path, items in results.items()
        for item in items
    }
    return reported, elapsed


def render(scores: list[Score]) -> str:
    rows = [
        f"{'tool':<16}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>8}{'F1':>7}{'time':>8}"
    ]
    for s in scores:
        rows.append(
            f"{s.tool:<16}{s.tp:>6}{s.fp:>6}{s.fn:>6}{s.precision:>11.3f}{s.recall:>8.3f}"
            f"{s.f1:>7.3f}{s.seconds:>7.2f}s"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="generate the corpus here and keep it")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--detect-secrets", dest="detect_secrets", help="detect-secrets executable")
    parser.add_argument("--misses", action="store_true", help="list dockwise's FP and FN lines")
    parser.add_argument("--no-peer", action="store_true", help="score dockwise only")
    args = parser.parse_args(argv)
    print(speed_figures())
    with tempfile.TemporaryDirectory(prefix="secrets-corpus-") as scratch:
        root = args.out or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        docs = generate(root, args.seed, args.services)
        secrets = sum(len(d.secret_lines) for d in docs)
        decoys = sum(d.decoys for d in docs)
        print(
            f"corpus: {len(docs)} files, {secrets} secret lines, {decoys} decoy lines, seed {args.seed}"
        )
        reported, seconds = run_dockwise(root, docs)
        scores = [score("dockwise", docs, reported, seconds)]
        if args.misses:
            print(_misses(root, docs, reported))
        binary = None if args.no_peer else find_detect_secrets(args.detect_secrets)
        if args.no_peer:
            pass
        elif binary is None:
            print("detect-secrets: not available")
        else:
            peer, peer_seconds = run_detect_secrets(binary, root)
            scores.append(score("detect-secrets", docs, peer, peer_seconds))
        print(render(scores))
    return 0


def speed_figures() -> str:
    """Seconds the detector takes on the hostile and large inputs its tests feed it (the
    tests check the answers; timing belongs here, where a busy machine misleads nobody)."""
    hex40 = "3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a"
    chunk = (
        "import os\n"
        "def handler(event, key=None):\n"
        "    token = event.get('token')  # refreshed by the caller\n"
        f"    digest = '{hex40}'\n"
        "    password = os.environ['DB_PASSWORD']\n"
        "    return {'statusCode': 200, 'body': json.dumps(event)}\n"
    )
    hostile = "a" * 50_000 + ":" + "b" * 50_000 + "@" * 3
    values = "".join(
        f"  k{i}: {base64.b64encode(f'https://host{i}.internal/p'.encode()).decode()}\n"
        for i in range(2000)
    )
    cases = [
        ("1 MB of Python", chunk * (1_000_000 // len(chunk)), "handler.py"),
        ("backtracking bait", "postgres://" + hostile + "\npassword=" + "=" * 50_000, None),
        (
            "2,000 base64 values + 768 KB blob",
            values + "  huge: " + base64.b64encode(bytes(range(256)) * 3000).decode() + "\n",
            "cm.yaml",
        ),
        (
            "300 KB one-line JSON",
            json.dumps({f"token_{i}": f"v{i}" for i in range(20_000)}),
            "bundle.json",
        ),
    ]
    rows = ["detector speed:"]
    for label, text, path in cases:
        started = time.perf_counter()
        scan_text(text, path=path)
        rows.append(f"  {label:<36}{time.perf_counter() - started:>7.3f}s")
    return "\n".join(rows)


def _misses(root: Path, docs: list[Doc], reported: set[tuple[str, int]]) -> str:
    out = []
    for doc in docs:
        lines = (root / doc.relpath).read_text().split("\n")
        for number in sorted({n for p, n in reported if p == doc.relpath} - doc.secret_lines):
            out.append(f"FP {doc.relpath}:{number}: {lines[number - 1][:110]}")
        for number in sorted(doc.secret_lines - {n for p, n in reported if p == doc.relpath}):
            out.append(f"FN {doc.relpath}:{number}: {lines[number - 1][:110]}")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
