"""Edge cases of the Dockerfile-level secret rules (DW501-DW505)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from msgspec.structs import replace
from ruletest import folder_hits

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project, project_from_text
from dockwise.rules import all_rules
from dockwise.rules.secrets import credential_file_name

RULES = {rule.id: rule for rule in all_rules() if rule.meta.lesson == "secrets"}
DOCKERFILE_RULES = ("DW501", "DW502", "DW503", "DW504", "DW505", "DW506")

# fake credentials, random enough for the detector, used nowhere
URL_PASSWORD = "Zk3v9Q2mX8pLr7Tw"
GITHUB_TOKEN = "ghp_4f8Zk2Lq9Xw3Rt7Yp1Bn6Mc0Vd5Hs2Ja8EuK"
NPM_TOKEN = "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PYPI_TOKEN = "pypi-AgEIcHlwaS5vcmcCJGY3ZWQ2YzA2LTAxMjMtNDU2Ny04OWFiLWNkZWYwMTIzNDU2Nw"
SECRETS = (URL_PASSWORD, GITHUB_TOKEN, NPM_TOKEN, PYPI_TOKEN, "a3f9c2e8b7d1f0e4", "Pr0dS3cr3t")


def findings(text: str, *rule_ids: str, target: str | None = None) -> list[Finding]:
    ids = rule_ids or DOCKERFILE_RULES
    config = replace(Config(), select=tuple(ids), target=target)
    project = project_from_text(dedent(text).lstrip(), config)
    outcome = check_project(project, [RULES[i] for i in ids])
    assert not outcome.problems, outcome.problems
    for finding in outcome.findings:
        assert not any(secret in finding.message for secret in SECRETS), finding.message
    return list(outcome.findings)


def run(text: str, *rule_ids: str, target: str | None = None) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in findings(text, *rule_ids, target=target)]


# ------------------------------------------------------------------------------- DW501


def test_names_alone_are_not_secrets() -> None:
    # hadolint's DL3064 reports most of these (hadolint#1230, #1245)
    text = """
        FROM python:3.11-slim
        ARG GITHUB_TOKEN
        ARG NPM_TOKEN=""
        ENV USERNAME=app \\
            NPM_TOKEN_FILE=/run/secrets/npm_token \\
            GOPRIVATE=github.com/acme \\
            PYTHON_GET_PIP_SHA256=dbf0c85fd5d7d4d29e2b5c5ef1cae3d8e6bfe0e4d6ee3c4b4dbcb0b4b7b1b0c2 \\
            SSH_PUBLIC_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs0bWUga2V5IGJ5dGVz bot" \\
            GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json \\
            PASSWORD_MIN_LENGTH=12 \\
            AUTH_LDAP_USER_SEARCH_ATTR=sAMAccountName \\
            API_TOKEN=none
        ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305
    """
    assert run(text, "DW501") == []


AWS_DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"


@pytest.mark.parametrize(
    "assignment",
    [
        "DB_PASSWORD=changeme",
        "SECRET_KEY=changeme",
        f"AWS_SECRET_ACCESS_KEY={AWS_DOC_SECRET}",
        "AWS_SECRET_ACCESS_KEY=" + "kR9vT2xQ8mZ4nP7w" + "EXAMPLE" + "bH3jF0gD5cA+eU/i",
        "OPENAI_API_KEY=sk-CANARY-SECRET-DO-NOT-EXPOSE",
        "DB_PASSWORD password",
    ],
)
def test_placeholder_under_a_credential_name_is_a_warning(assignment: str) -> None:
    (finding,) = findings(f"FROM python:3.11-slim\nENV {assignment}\n", "DW501")
    assert finding.severity.label == "warning"
    assert "placeholder or default credential" in finding.message


def test_literal_password_under_a_credential_name_is_an_error() -> None:
    (finding,) = findings("FROM mysql:8\nENV MYSQL_PASSWORD gordonpass\n", "DW501")
    assert finding.severity.label == "error"
    assert "literal value under a credential name" in finding.message
    assert "literal literal" not in finding.message


def test_token_in_a_label_is_reported() -> None:
    slack = "xo" + "xb-" + "40817352961-5820394716253-" + "q7Lm2ZxR9tVb4NcW8pKd3HsJ"
    (finding,) = findings(f"FROM python:3.11-slim\nLABEL com.acme.notify={slack}\n", "DW501")
    assert finding.severity.label == "error" and "LABEL com.acme.notify" in finding.message
    assert slack[5:] not in finding.message
    assert run("FROM python:3.11-slim\nLABEL org.opencontainers.image.title=shop\n", "DW501") == []


def test_variable_references_are_not_literals() -> None:
    text = """
        FROM python:3.11-slim
        ARG TOKEN
        ENV TOKEN=${TOKEN} API_KEY=$API_KEY DATABASE_URL=postgres://shop:${DB_PASSWORD}@db/shop
    """
    assert run(text, "DW501") == []


def test_literal_in_arg_default_is_reported_where_it_lives() -> None:
    text = f"""
        FROM python:3.11-slim
        ARG GH_TOKEN={GITHUB_TOKEN}
        ENV GH_TOKEN=$GH_TOKEN
    """
    (finding,) = findings(text, "DW501")
    assert (finding.line, finding.severity.label) == (2, "error")
    assert "ARG GH_TOKEN" in finding.message and "history" in finding.message
    assert finding.fingerprint and GITHUB_TOKEN[:4] in finding.message


def test_env_in_shipped_and_builder_stage_and_global_arg() -> None:
    text = f"""
        ARG PIP_INDEX_URL=https://__token__:{PYPI_TOKEN}@pypi.acme.example/simple
        FROM python:3.11 AS build
        ENV SECRET_KEY=a3f9c2e8b7d1f0e4
        FROM python:3.11-slim
        ENV DATABASE_URL=postgres://shop:{URL_PASSWORD}@db.internal/shop
    """
    found = findings(text, "DW501")
    assert [(f.line) for f in found] == [1, 3, 5]
    assert "before the first FROM" in found[0].message
    assert "builder stage build" in found[1].message and "build cache" in found[1].message
    assert "shipped stage 1" in found[2].message and "docker inspect" in found[2].message


def test_onbuild_env_is_checked() -> None:
    text = f"""
        FROM python:3.11-slim
        ONBUILD ENV DATABASE_URL=postgres://shop:{URL_PASSWORD}@db.internal/shop
    """
    assert run(text, "DW501") == [("DW501", 2)]


# ------------------------------------------------------------------------------- DW502


def test_credential_arg_used_by_run_in_shipped_stage() -> None:
    text = """
        FROM node:20-slim
        ARG NPM_TOKEN
        RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
    """
    (finding,) = findings(text, "DW502")
    assert finding.line == 2 and "used by the RUN at line 3" in finding.message
    assert finding.related[0].line == 3


def test_credential_arg_read_from_environment_still_recorded() -> None:
    text = """
        FROM node:20-slim
        ARG NODE_AUTH_TOKEN
        RUN npm ci
    """
    (finding,) = findings(text, "DW502")
    assert "visible to the RUN at line 3" in finding.message


def test_credential_arg_in_builder_stage_is_not_reported() -> None:
    text = """
        FROM node:20 AS build
        ARG NPM_TOKEN
        RUN NPM_TOKEN=$NPM_TOKEN npm ci
        FROM node:20-slim
        COPY --from=build /app /app
    """
    assert run(text, "DW502") == []


def test_credential_arg_in_base_stage_of_shipped_chain() -> None:
    text = """
        FROM node:20-slim AS base
        ARG NPM_TOKEN
        RUN npm ci
        FROM base
        CMD ["node", "server.js"]
    """
    assert run(text, "DW502") == [("DW502", 2)]


def test_target_stage_decides_what_ships() -> None:
    text = """
        FROM node:20 AS build
        ARG NPM_TOKEN
        RUN npm ci
        FROM node:20-slim AS prod
        CMD ["node", "server.js"]
    """
    assert run(text, "DW502") == []
    assert run(text, "DW502", target="build") == [("DW502", 2)]


def test_secret_mount_for_the_name_is_not_reported() -> None:
    text = """
        # syntax=docker/dockerfile:1.10
        FROM node:20-slim
        ARG NPM_TOKEN
        RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci
    """
    assert run(text, "DW502") == []


def test_leftover_arg_next_to_secret_mounts_is_not_reported() -> None:
    text = """
        FROM node:20-slim
        ARG NPM_TOKEN
        RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
        RUN npm run build
    """
    assert run(text, "DW502") == []


def test_arg_without_later_run_or_global_only_is_not_reported() -> None:
    text = """
        ARG NPM_TOKEN
        FROM node:20-slim
        RUN npm ci
        ARG GITHUB_TOKEN
        CMD ["node", "server.js"]
    """
    assert run(text, "DW502") == []


def test_env_copying_a_credential_arg() -> None:
    text = """
        FROM python:3.11 AS build
        ARG API_TOKEN
        ENV API_TOKEN=$API_TOKEN
        FROM python:3.11-slim
        ARG SENTRY_AUTH_TOKEN
        ENV SENTRY_AUTH_TOKEN=${SENTRY_AUTH_TOKEN} APP_VERSION=$SENTRY_AUTH_TOKEN
    """
    assert run(text, "DW502") == [("DW502", 6)]


# ------------------------------------------------------------------------------- DW503


@pytest.mark.parametrize(
    ("path", "credential"),
    [
        (".env", True),
        ("config/prod.env", True),
        (".env.production", True),
        (".env.example", False),
        (".env.sample", False),
        (".env.template", False),
        ("id_rsa", True),
        ("id_ed25519", True),
        ("id_rsa.pub", False),
        ("server.key", True),
        ("private.pem", True),
        ("ca.pem", False),
        ("fullchain.pem", False),
        ("certs/ca-bundle.pem", False),
        ("Release.key", False),
        (".aws/credentials", True),
        (".aws", True),
        (".ssh/", True),
        (".npmrc", True),
        (".pypirc", True),
        (".netrc", True),
        (".git-credentials", True),
        ("credentials.json", True),
        ("service-account-prod.json", True),
        ("package.json", False),
        ("keystore.p12", True),
        ("cert.pfx", True),
        ("kubeconfig", True),
        (".docker/config.json", True),
        ("config.json", False),
        ("requirements.txt", False),
    ],
)
def test_credential_file_names(path: str, credential: bool) -> None:
    assert (credential_file_name(path) is not None) is credential


def test_copy_of_credential_files_shipped_and_builder() -> None:
    text = """
        FROM node:20 AS build
        COPY package.json .npmrc ./
        RUN npm ci
        FROM node:20-slim
        COPY --from=build /app/node_modules /app/node_modules
        COPY [".env", "/app/"]
    """
    found = findings(text, "DW503")
    assert [(f.line) for f in found] == [2, 6]
    assert "builder stage build" in found[0].message and "build cache" in found[0].message
    assert "shipped stage 1" in found[1].message and "dotenv" in found[1].message


def test_copy_from_stage_or_named_context_and_destination_names() -> None:
    text = """
        FROM python:3.11-slim
        COPY --from=build-secrets /root/.npmrc /root/
        COPY deploy_key /root/.ssh/id_ed25519
        COPY .env.example .env
        COPY . /app
        ADD https://pki.acme.example/server.pem /etc/ssl/
        COPY <<EOF /app/.env
        DEBUG=0
        EOF
    """
    assert run(text, "DW503") == [("DW503", 2), ("DW503", 3)]


def test_copy_source_from_arg() -> None:
    text = """
        FROM python:3.11-slim
        ARG KEY_FILE=server.key
        COPY ${KEY_FILE} /etc/ssl/private/
    """
    assert run(text, "DW503") == [("DW503", 3)]


# ------------------------------------------------------------------------------- DW504


@pytest.mark.parametrize(
    "script",
    [
        f"git clone https://deploy:{URL_PASSWORD}@github.com/acme/shop.git",
        f"git clone https://{GITHUB_TOKEN}@github.com/acme/shop.git",
        f"pip install --index-url https://__token__:{PYPI_TOKEN}@pypi.acme.example/simple shop",
        f"npm config set //registry.npmjs.org/:_authToken={NPM_TOKEN}",
        'echo "Pr0dS3cr3t" | docker login -u bot --password-stdin registry.acme.example',
        "docker login -u bot -p Pr0dS3cr3t registry.acme.example",
        "mysql -uroot -pPr0dS3cr3t -e 'CREATE DATABASE shop'",
        "curl -fsSL -u admin:Pr0dS3cr3t https://nexus.acme.example/raw/x.tgz -o x.tgz",
        "sshpass -p Pr0dS3cr3t scp bot@host:/x /x",
        "wget --http-password=Pr0dS3cr3t https://nexus.acme.example/x",
        f"PGPASSWORD={URL_PASSWORD} psql -h db -U shop -c 'select 1'",
    ],
)
def test_literal_credentials_on_run_lines(script: str) -> None:
    text = f"""
        FROM python:3.11-slim
        RUN {script}
    """
    assert run(text, "DW504") == [("DW504", 2)]


@pytest.mark.parametrize(
    "script",
    [
        'git clone "https://x-access-token:${GH_TOKEN}@github.com/acme/shop.git"',
        "docker login -u bot -p $REGISTRY_PASSWORD registry.acme.example",
        "cat /run/secrets/registry | docker login -u bot --password-stdin registry",
        'echo "$REGISTRY_PASSWORD" | docker login -u bot --password-stdin registry',
        "mysql -uroot -p$MYSQL_ROOT_PASSWORD -e 'select 1'",
        "mysql -uroot -p shop < /docker-entrypoint-initdb.d/schema.sql",
        "curl -u admin:$NEXUS_PASSWORD https://nexus.acme.example/x",
        "curl -u admin https://nexus.acme.example/x",
        "pip install --no-cache-dir -r requirements.txt",
    ],
)
def test_references_and_prompts_are_not_literals(script: str) -> None:
    text = f"""
        FROM python:3.11-slim
        RUN {script}
    """
    assert run(text, "DW504") == []


def test_one_finding_per_value_and_heredoc_and_exec_form() -> None:
    text = f"""
        FROM python:3.11 AS build
        RUN curl -u admin:{URL_PASSWORD} https://a.example/x && curl -u admin:{URL_PASSWORD} https://b.example/y
        RUN <<EOF
        set -e
        git clone https://deploy:{URL_PASSWORD}@github.com/acme/shop.git
        EOF
        FROM python:3.11-slim
        RUN ["sh", "-c", "git clone https://{GITHUB_TOKEN}@github.com/acme/shop.git"]
    """
    found = findings(text, "DW504")
    assert [f.line for f in found] == [2, 3, 8]
    assert "builder stage build" in found[0].message


# ------------------------------------------------------------------------------- DW505


@pytest.mark.parametrize(
    "run_line",
    [
        "RUN --mount=type=secret,id=npmrc cp /run/secrets/npmrc /root/.npmrc && npm ci",
        "RUN --mount=type=secret,id=npmrc cat /run/secrets/npmrc > /app/.npmrc; npm ci",
        "RUN --mount=type=secret,id=tok,target=/tmp/tok cat /tmp/tok | tee /app/token",
        'RUN --mount=type=secret,id=npm,env=NPM_TOKEN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" >> ~/.npmrc && npm ci',
        "RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm config set //registry.npmjs.org/:_authToken=$NPM_TOKEN && npm ci",
        'RUN --mount=type=secret,id=tok TOKEN="$(cat /run/secrets/tok)" && echo "$TOKEN" > /app/token',
    ],
)
def test_secret_mount_written_into_the_image(run_line: str) -> None:
    text = f"""
        FROM node:20-slim
        {run_line}
    """
    assert run(text, "DW505") == [("DW505", 2)]


@pytest.mark.parametrize(
    "run_line",
    [
        "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
        "RUN --mount=type=secret,id=npmrc cp /run/secrets/npmrc /root/.npmrc && npm ci && rm -f /root/.npmrc",
        "RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm config set //r/:_authToken=$NPM_TOKEN && npm ci && npm config delete //r/:_authToken",
        'RUN --mount=type=secret,id=tok curl -H "Authorization: Bearer $(cat /run/secrets/tok)" https://x.example/a > /app/a.json',
        "RUN --mount=type=secret,id=npmrc --mount=type=tmpfs,target=/scratch cp /run/secrets/npmrc /scratch/.npmrc && npm ci --userconfig /scratch/.npmrc",
        "RUN --mount=type=secret,id=tok cat /run/secrets/tok | docker login -u bot --password-stdin r 2>/dev/null",
        "RUN npm ci > /tmp/npm.log",
    ],
)
def test_secret_mount_used_properly(run_line: str) -> None:
    text = f"""
        FROM node:20-slim
        {run_line}
    """
    assert run(text, "DW505") == []


# ------------------------------------------------------------------------------- all rules


def test_careful_dockerfile_is_clean() -> None:
    text = """
        # syntax=docker/dockerfile:1.10
        ARG BASE=python:3.11-slim
        FROM ${BASE} AS build
        ARG PIP_INDEX_URL
        RUN --mount=type=secret,id=pip_conf,target=/etc/pip.conf \\
            --mount=type=cache,target=/root/.cache/pip \\
            python -m pip install --prefix=/install -r requirements.txt
        FROM ${BASE}
        ENV GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305 \\
            DATABASE_URL_FILE=/run/secrets/database_url \\
            USERNAME=app
        COPY --from=build /install /usr/local
        COPY --chown=app:app . /app
        COPY certs/ca.pem /usr/local/share/ca-certificates/acme.crt
        USER app
        CMD ["gunicorn", "shop.wsgi"]
    """
    assert run(text) == []


# ------------------------------------------------------------------------------- DW503 heredoc

OPENSSH_BODY = (
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACBvXq3kZ2Y8pL0mN7rT4sW9uA1bC6dE3fG5hJ8kL2mN4pQAAAJjR7xYk0e8W\n"
)


def test_key_written_by_a_copy_heredoc() -> None:
    text = (
        "FROM python:3.11-slim\nCOPY <<EOF /root/.ssh/id_ed25519\n-----BEGIN OPENSSH PRIVATE"
        f" KEY-----\n{OPENSSH_BODY}-----END OPENSSH PRIVATE KEY-----\nEOF\n"
    )
    (finding,) = findings(text, "DW503")
    assert (finding.line, finding.severity.label) == (2, "error")
    assert "heredoc" in finding.message and "OpenSSH private key" in finding.message


def test_config_written_by_a_copy_heredoc_is_not_reported() -> None:
    text = "FROM python:3.11-slim\nCOPY <<EOF /etc/app.conf\nlog_level = info\nEOF\n"
    assert run(text, "DW503") == []


def test_credential_file_by_name_in_a_test_image_is_a_warning() -> None:
    text = "FROM python:3.11-slim\nCOPY tests/ssl_config/private.pem /certs/\n"
    (finding,) = findings(text, "DW503")
    assert finding.severity.label == "warning" and "test or CI fixture" in finding.message


def test_test_image_taking_its_own_fixture_key_is_info(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.11-slim\nCOPY tests/ssl_config/private.pem /certs/\n"
    for relpath in ("tests/Dockerfile", "Dockerfile"):
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(dockerfile)
    project = load_project(tmp_path, replace(Config(), select=("DW503",)))
    found = check_project(project, [RULES["DW503"]]).findings
    # the test image's own fixture: info; the same file in the app's image: a warning
    assert sorted((f.path, f.severity.label) for f in found) == [
        ("Dockerfile", "warning"),
        ("tests/Dockerfile", "info"),
    ]


def test_unread_npmrc_is_could_not_verify_and_a_key_stays_an_error() -> None:
    text = (
        "FROM node:20-slim\nCOPY .npmrc package.json ./\nCOPY id_rsa /root/.ssh/\n"
        "COPY deploy/server.key /etc/ssl/\n"
    )
    found = findings(text, "DW503")
    assert [(f.line, f.severity.label) for f in found] == [
        (2, "info"),  # .npmrc by name only: most hold settings (engine-strict, registry)
        (3, "error"),
        (4, "warning"),  # a private key by name, unread: still worth a warning
    ]
    assert "could not verify" in found[0].message


def test_npmrc_without_credentials_in_the_context_is_not_reported(tmp_path: Path) -> None:
    dockerfile = "FROM node:20-slim\nCOPY package.json .npmrc ./\nRUN npm ci\n"
    files = {
        "Dockerfile": dockerfile,
        "package.json": "{}\n",
        ".npmrc": "auto-install-peers=true\n",
    }
    assert folder_hits("DW503", files, tmp_path) == []
    files[".npmrc"] = "//registry.npmjs.org/:_authToken=" + NPM_TOKEN + "\n"
    assert folder_hits("DW503", files, tmp_path) == [("Dockerfile", 2)]


# ------------------------------------------------------------------------------- DW504


def test_throwaway_key_for_a_build_step_is_not_a_leak() -> None:
    text = """
        FROM python:3.11-slim
        RUN SECRET_KEY=build-key ./manage.py collectstatic --noinput
        RUN SECRET_KEY=dummy STATIC_URL=${STATIC_URL} python3 manage.py collectstatic
        RUN adduser --disabled-password --gecos "" app
    """
    assert run(text, "DW504") == []
    assert run(f"FROM python:3.11-slim\nRUN PGPASSWORD={URL_PASSWORD} psql -c 1\n", "DW504")


# ------------------------------------------------------------------------------- DW506


@pytest.mark.parametrize(
    ("instruction", "severity"),
    [
        (f'CMD ["app", "--password", "{URL_PASSWORD}"]', "error"),
        (f"CMD app --api-token={URL_PASSWORD}", "error"),
        (f'ENTRYPOINT ["app", "--token", "{GITHUB_TOKEN}"]', "error"),
        (f"HEALTHCHECK CMD curl -f http://admin:{URL_PASSWORD}@api.internal/health", "error"),
        ("HEALTHCHECK CMD curl -f http://admin:S3cr3tPw9@localhost:8000/health", "warning"),
        ('CMD ["app", "--password", "changeme"]', "warning"),
    ],
)
def test_credentials_in_the_command_the_image_runs(instruction: str, severity: str) -> None:
    (finding,) = findings(f"FROM python:3.11-slim\n{instruction}\n", "DW506")
    assert (finding.line, finding.severity.label) == (2, severity)


@pytest.mark.parametrize(
    "instruction",
    [
        'CMD ["app", "--password-file", "/run/secrets/db"]',
        'CMD app --password "$DB_PASSWORD" --token=${TOKEN}',
        'CMD ["app", "--no-password", "--auth", "none"]',
        'ENTRYPOINT ["docker-entrypoint.sh", "--requirepass", "false"]',
        "HEALTHCHECK CMD curl -f http://localhost:8000/health",
        'CMD ["vllm", "serve", "--max-num-batched-tokens", "8192"]',
    ],
)
def test_commands_without_credentials(instruction: str) -> None:
    assert run(f"FROM python:3.11-slim\n{instruction}\n", "DW506") == []


# ------------------------------------------------------------------------------- DW510 grades


def test_copied_secrets_are_graded_by_where_they_live(tmp_path: Path) -> None:
    from textwrap import dedent as _dedent

    from dockwise.project import load_project

    files = {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ['python', 'app.py']\n",
        "app.py": f"DATABASE_URL = 'postgres://shop:{URL_PASSWORD}@db.internal/shop'\n",
        "tests/test_app.py": f"DATABASE_URL = 'postgres://shop:{URL_PASSWORD}x@db.internal/t'\n",
        "conftest.py": f"GITHUB_TOKEN = '{GITHUB_TOKEN}'\n",
        "settings.py": "SECRET_KEY = 'django-insecure-" + "q7Lm2ZxR9tVb4NcW8pKd3HsJ6fGy1AeU'\n",
        "dev/settings.py": "DEBUG = True\nSECRET_KEY = 'django-insecure-"
        + "p3Xk8WqZ2mRv7TbN4cLs9HdJ5fGy1AeU'\n",
        "local.py": "STRIPE_KEY = 'sk" + "_test_" + "4fR9vT2xQ8mZ4nP7wL1sY6bH'\n",
        "docs.py": "URL = 'https://example.com/introspect?token=mF_9.B5f-4.1JqM'\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(_dedent(text))
    project = load_project(tmp_path, replace(Config(), select=("DW510",)))
    outcome = check_project(project, [RULES["DW510"]])
    graded = sorted((f.path, f.severity.label) for f in outcome.findings)
    assert graded == [
        ("app.py", "error"),
        ("conftest.py", "warning"),
        ("dev/settings.py", "info"),  # Django's startproject key beside DEBUG = True
        ("local.py", "info"),  # a Stripe test-mode key: public by design
        ("settings.py", "warning"),  # an insecure key with nothing saying it is development
        ("tests/test_app.py", "info"),  # a fixture's database password: likely a fake
    ]


def test_command_line_scan_is_linear_on_long_words() -> None:
    # issue 6: the URL-password regex rescanned a run of letters from every position
    # (a 30,000-letter compose command took 4 s)
    from dockwise.rules.secrets import argv_credentials

    for text in ("a" * 60_000, "x://" + "b" * 60_000, "a" * 60_000 + "://"):
        assert argv_credentials((text,), (text,)) == []
    url = "postgres://app:Zq8vN3rT7wLp@db.internal/app"
    (found,) = argv_credentials((url,), (url,))
    assert found.match.value == "Zq8vN3rT7wLp"
