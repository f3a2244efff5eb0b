"""Secrets in compose services, Kubernetes containers and Secrets, and shipped settings
modules (DW520-DW526): grading, development discounts, what is never reported, redaction."""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path

import pytest
from msgspec.structs import replace

from dockwise.cli import main
from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding, Severity
from dockwise.project import load_project
from dockwise.rules import all_rules

RULES = {rule.id: rule for rule in all_rules()}
SERVICE_RULES = ("DW520", "DW521", "DW522", "DW523", "DW524", "DW525", "DW526")

# fake credentials, random enough for the detector, used nowhere
PASSWORD = "Zk3v9Q2mX8pLr7Tw"
GITHUB_TOKEN = "ghp_4f8Zk2Lq9Xw3Rt7Yp1Bn6Mc0Vd5Hs2Ja8EuK"
NPM_TOKEN = "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
DOTENV_SECRET = "Qm7vT2xK9pLw4Zr8Hs"
SECRETS = (PASSWORD, GITHUB_TOKEN, NPM_TOKEN, DOTENV_SECRET)

DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "shop.wsgi"]\n'


def check(files: dict[str, str], folder: Path, *ids: str) -> list[Finding]:
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    selected = ids or SERVICE_RULES
    project = load_project(folder, replace(Config(), select=tuple(selected)))
    outcome = check_project(project, [RULES[i] for i in selected])
    assert not outcome.problems, outcome.problems
    for finding in outcome.findings:
        shown = finding.message + " " + finding.fix
        assert not any(secret in shown for secret in SECRETS), shown
    return [f for f in outcome.findings if f.rule in selected]


def graded(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.rule, f.line, f.severity.label) for f in findings]


# --- compose environment (DW520) -----------------------------------------------------------


def test_literal_password_in_both_environment_forms_is_an_error(tmp_path: Path) -> None:
    compose = f"""\
        services:
          api:
            image: ghcr.io/acme/api:1.4
            environment:
              DB_PASSWORD: {PASSWORD}
          worker:
            image: ghcr.io/acme/worker:1.4
            environment:
              - GITHUB_TOKEN={GITHUB_TOKEN}
              - LOG_LEVEL=info
        """
    found = check({"compose.yaml": compose}, tmp_path, "DW520")
    assert graded(found) == [("DW520", 5, "error"), ("DW520", 9, "error")]
    assert "environment DB_PASSWORD of compose service api" in found[0].message
    assert "secrets:" in found[0].fix and "DB_PASSWORD_FILE" in found[0].fix


def test_values_from_dotenv_are_not_literal_nor_printed(tmp_path: Path) -> None:
    files = {
        ".env": f"DB_PASSWORD={DOTENV_SECRET}\nAPI_TOKEN={GITHUB_TOKEN}\n",
        "compose.yaml": """\
            services:
              api:
                image: ghcr.io/acme/api:1.4
                environment:
                  DB_PASSWORD: ${DB_PASSWORD}
                  API_TOKEN: "${API_TOKEN:?set it}"
                  DATABASE_URL: postgres://api:${DB_PASSWORD}@db:5432/api
            """,
    }
    assert check(files, tmp_path) == []


def test_a_written_default_is_judged(tmp_path: Path) -> None:
    compose = f"""\
        services:
          db:
            image: postgres:16
            environment:
              POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD:-postgres}}
          api:
            image: ghcr.io/acme/api:1.4
            environment:
              API_TOKEN: ${{API_TOKEN:-{GITHUB_TOKEN}}}
        """
    found = check({"compose.yaml": compose}, tmp_path, "DW520")
    assert graded(found) == [("DW520", 5, "warning"), ("DW520", 9, "error")]
    assert found[0].message.startswith("the default of ${POSTGRES_PASSWORD}")


def test_defaults_and_names_around_make_a_warning(tmp_path: Path) -> None:
    compose = """\
        services:
          db:
            image: mysql:8
            environment:
              MYSQL_USER: shop
              MYSQL_PASSWORD: shop
              MYSQL_ROOT_PASSWORD: changeme
          cache:
            image: redis:7
            environment:
              REDIS_PASSWORD: redis123
        """
    found = check({"compose.yaml": compose}, tmp_path, "DW520")
    assert graded(found) == [
        ("DW520", 6, "warning"),
        ("DW520", 7, "warning"),
        ("DW520", 11, "warning"),
    ]
    assert "placeholder or default credential" in found[0].message


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("docker-compose.dev.yml", ""),
        ("compose.yaml", "    volumes: ['.:/app']\n"),
        ("compose.yaml", "    command: flask run --reload\n"),
    ],
)
def test_development_compose_files_are_one_step_milder(
    tmp_path: Path, name: str, extra: str
) -> None:
    compose = (
        "services:\n  web:\n    build: .\n"
        + extra
        + f"    environment:\n      SECRET_KEY: {PASSWORD}\n      DB_PASSWORD: changeme\n"
    )
    files = {name: compose, (str(Path(name).parent) + "/Dockerfile").lstrip("./"): DOCKERFILE}
    found = check(files, tmp_path, "DW520")
    assert [f.severity for f in found] == [Severity.WARNING, Severity.INFO]
    assert all("development" in f.message for f in found)


@pytest.mark.parametrize("name", [".ci/compose.ci.yaml", "ci/compose.yaml"])
def test_ci_compose_passwords_are_info(tmp_path: Path, name: str) -> None:
    """A CI run's database lives for one run: its password is info, a provider token found
    there still a warning (it works outside CI too)."""
    compose = (
        "services:\n  web:\n    build: .\n"
        f"    environment:\n      SECRET_KEY: {PASSWORD}\n      DB_PASSWORD: changeme\n"
        "      GH_TOKEN: ghp_R2m8Kq7ZtW4xN9vB3cH6jL1pD5sF0gY8aE2u\n"
    )
    files = {name: compose, str(Path(name).parent) + "/Dockerfile": DOCKERFILE}
    found = check(files, tmp_path, "DW520")
    assert [(f.line, f.severity) for f in found] == [
        (5, Severity.INFO),
        (6, Severity.INFO),
        (7, Severity.WARNING),
    ]
    assert all("CI file" in f.message for f in found)


def test_fill_in_markers_are_info(tmp_path: Path) -> None:
    compose = """\
        services:
          bot:
            image: ghcr.io/acme/bot:1
            environment:
              OPENAI_API_KEY: <your-openai-key>
              HF_TOKEN: HF_TOKEN
        """
    found = check({"compose.yaml": compose}, tmp_path, "DW520")
    assert graded(found) == [("DW520", 5, "info"), ("DW520", 6, "info")]
    assert "fill-in placeholder" in found[0].message


def test_services_sharing_an_anchor_are_reported_once(tmp_path: Path) -> None:
    compose = f"""\
        x-env: &env
          DB_PASSWORD: {PASSWORD}
        services:
          web:
            image: ghcr.io/acme/api:1.4
            environment: *env
          worker:
            image: ghcr.io/acme/api:1.4
            environment: *env
        """
    found = check({"compose.yaml": compose}, tmp_path, "DW520")
    assert len(found) == 1


def test_not_credentials(tmp_path: Path) -> None:
    compose = """\
        services:
          api:
            image: ghcr.io/acme/api:1.4
            environment:
              DB_PASSWORD_FILE: /run/secrets/db_password
              GOOGLE_APPLICATION_CREDENTIALS: /run/secrets/gcp.json
              POSTGRES_HOST_AUTH_METHOD: trust
              TOKEN_TTL: "3600"
              SECRET_KEY: "{{ cookiecutter.secret_key }}"
              API_KEY:
        """
    assert check({"compose.yaml": compose}, tmp_path) == []


# --- compose command and build args (DW521, DW522) -----------------------------------------


def test_credential_in_compose_command(tmp_path: Path) -> None:
    compose = f"""\
        services:
          worker:
            image: ghcr.io/acme/worker:2
            command: worker --db-password {PASSWORD} --queue default
          beat:
            image: ghcr.io/acme/worker:2
            entrypoint: ["worker", "--token", "changeme"]
          safe:
            image: ghcr.io/acme/worker:2
            command: worker --db-password ${{DB_PASSWORD}}
        """
    found = check({"compose.yaml": compose}, tmp_path, "DW521")
    assert graded(found) == [("DW521", 4, "error"), ("DW521", 7, "warning")]
    assert found[0].message.startswith("command of compose service worker passes a literal")


def test_credential_in_compose_build_arg(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM node:20-slim\nARG NPM_TOKEN\nRUN npm ci\n",
        "compose.yaml": f"""\
            services:
              web:
                build:
                  context: .
                  args:
                    NPM_TOKEN: {NPM_TOKEN}
                    NODE_ENV: production
                    GIT_TOKEN: ${{GIT_TOKEN}}
              test:
                build:
                  context: .
                  args: [NPM_TOKEN={NPM_TOKEN}]
            """,
    }
    found = check(files, tmp_path, "DW522")
    assert graded(found) == [("DW522", 6, "error"), ("DW522", 12, "warning")]
    assert "image history" in found[0].message


# --- Kubernetes (DW523, DW524) ------------------------------------------------------------

DEPLOYMENT = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
      namespace: {namespace}
    spec:
      template:
        spec:
          containers:
            - name: api
              image: ghcr.io/acme/api:1.4
              args: {args}
              env:
                - name: DB_USER
                  value: api
                - name: DB_PASSWORD
                  value: {password}
                - name: API_TOKEN
                  valueFrom:
                    secretKeyRef: {{name: api, key: token}}
                - name: DB_URL
                  value: postgres://api:$(DB_PASSWORD)@db/api
    """


def deployment(password: str, namespace: str = "shop", args: str = "[serve]") -> str:
    return DEPLOYMENT.format(password=password, namespace=namespace, args=args)


@pytest.mark.parametrize(
    ("password", "namespace", "expected"),
    [
        (PASSWORD, "shop", "error"),
        ("changeme", "shop", "warning"),
        ("api", "shop", "warning"),  # the user name beside it
        ("<db-password>", "shop", "info"),
        (PASSWORD, "dev", "warning"),
        ("changeme", "dev", "info"),
    ],
)
def test_container_env_values(tmp_path: Path, password: str, namespace: str, expected: str) -> None:
    found = check({"k8s/deploy.yaml": deployment(password, namespace)}, tmp_path, "DW523")
    assert graded(found) == [("DW523", 17, expected)]
    assert "env DB_PASSWORD of Deployment/api container api" in found[0].message


def test_secret_references_are_fine(tmp_path: Path) -> None:
    found = check({"deploy.yaml": deployment("$(VAULT_PASSWORD)")}, tmp_path, "DW523")
    assert found == []


def test_credential_in_container_args(tmp_path: Path) -> None:
    files = {
        "a.yaml": deployment("$(X)", args=f"[serve, --api-token={GITHUB_TOKEN}]"),
        "b/deploy.yaml": deployment("$(X)", args="[serve, --password, $(DB_PASSWORD)]"),
    }
    found = check(files, tmp_path, "DW524")
    assert [(f.path, f.severity.label) for f in found] == [("a.yaml", "error")]


# --- Secret manifests (DW525) -------------------------------------------------------------


def secret_manifest(entries: str, section: str = "data", kind: str = "Secret") -> str:
    return (
        f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: db\ntype: Opaque\n{section}:\n{entries}"
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_secret_with_a_real_value_is_an_error(tmp_path: Path) -> None:
    files = {
        "deploy/secret.yaml": secret_manifest(
            f"  username: {b64('shop')}\n  password: {b64(PASSWORD)}\n"
        ),
        "deploy/token.yaml": secret_manifest(f"  token: {GITHUB_TOKEN}\n", "stringData"),
        "tests/fixtures/secret.yaml": secret_manifest(f"  password: {b64(PASSWORD)}\n"),
    }
    found = check(files, tmp_path, "DW525")
    assert [(f.path, f.line, f.severity.label) for f in found] == [
        ("deploy/secret.yaml", 8, "error"),
        ("deploy/token.yaml", 7, "error"),
        ("tests/fixtures/secret.yaml", 7, "warning"),
    ]
    assert "base64, not encryption" in found[0].message


def test_secret_templates_and_sealed_secrets_are_normal(tmp_path: Path) -> None:
    files = {
        "template.yaml": secret_manifest(
            "  password: <set-me>\n  token: ''\n  api-key: changeme\n  user: admin\n",
            "stringData",
        ),
        "default.yaml": secret_manifest(f"  password: {b64('db')}\n"),
        "broken.yaml": secret_manifest("  password: not~base64!\n"),
        "sealed.yaml": secret_manifest(
            f"  password: AgB{PASSWORD}{PASSWORD}xyz==\n", "spec", "SealedSecret"
        ),
        "tls.yaml": secret_manifest(
            "  tls.crt: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n"
            "    -----END CERTIFICATE-----\n",
            "stringData",
        ),
    }
    assert check(files, tmp_path, "DW525") == []


# --- settings modules (DW526) -------------------------------------------------------------


def test_settings_placeholder_in_a_shipped_module(tmp_path: Path) -> None:
    files = {
        "Dockerfile": DOCKERFILE,
        "shop/__init__.py": "",
        "shop/settings.py": (
            "DEBUG = False\n"
            'SECRET_KEY = "changeme"\n'
            'AUTH_USER_MODEL = "accounts.User"\n'
            'CACHE_KEY = "shop:v1"\n'
            'OPENAI_API_KEY = "not-set"\n'
        ),
        "tests/settings.py": 'SECRET_KEY = "changeme"\n',
    }
    found = check(files, tmp_path, "DW526")
    assert [(f.path, f.line, f.severity.label) for f in found] == [
        ("shop/settings.py", 2, "warning")
    ]
    assert found[0].message.startswith("SECRET_KEY in shop.settings holds a placeholder")


def test_real_looking_setting_is_reported_once_with_the_copied_file_rule(tmp_path: Path) -> None:
    files = {
        "Dockerfile": DOCKERFILE,
        "shop/__init__.py": "",
        "shop/settings.py": f'SECRET_KEY = "{PASSWORD}x9QmZ"\nGITHUB = "{GITHUB_TOKEN}"\n',
    }
    found = check(files, tmp_path, "DW510", "DW526")
    assert sorted((f.line, f.severity.label) for f in found) == [(1, "error"), (2, "error")]
    assert len(found) == 2


def test_a_default_replaced_in_production_settings_is_info(tmp_path: Path) -> None:
    files = {
        "Dockerfile": DOCKERFILE,
        "shop/__init__.py": "",
        "shop/settings/__init__.py": "",
        "shop/settings/base.py": 'SECRET_KEY = "its-a-secret-to-everybody"\n',
        "shop/settings/production.py": (
            'import os\nfrom .base import *\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
        ),
    }
    found = check(files, tmp_path, "DW526")
    assert graded(found) == [("DW526", 1, "info")]
    assert "shop/settings/production.py sets SECRET_KEY from code" in found[0].message


def test_settings_the_image_does_not_ship(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nCOPY app/ /app/\nCMD ["python", "/app/main.py"]\n',
        "app/main.py": "print('hi')\n",
        "scripts/settings.py": 'SECRET_KEY = "changeme"\n',
        "app/local_settings.py": 'SECRET_KEY = "changeme"\n',
    }
    found = check(files, tmp_path, "DW526")
    assert [(f.path, f.severity.label) for f in found] == [("app/local_settings.py", "info")]


# --- output ---------------------------------------------------------------------------------


def test_json_output_never_shows_a_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        ".env": f"DB_PASSWORD={DOTENV_SECRET}\n",
        "compose.yaml": f"""\
            services:
              api:
                image: ghcr.io/acme/api:1.4
                command: serve --db-password {PASSWORD}
                environment:
                  API_TOKEN: {GITHUB_TOKEN}
                  DB_PASSWORD: ${{DB_PASSWORD}}
            """,
        "secret.yaml": secret_manifest(f"  token: {b64(NPM_TOKEN)}\n"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    main(["check", str(tmp_path), "--format", "json", "--select", ",".join(SERVICE_RULES)])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert {f["rule"] for f in report["findings"]} == {"DW520", "DW521", "DW525"}
    assert not any(secret in out for secret in SECRETS)


def test_a_hand_typed_sample_of_a_provider_key_is_info(tmp_path: Path) -> None:
    """`8312341g-5678-abcd-4a2b2c-33bcsd655` next to "replace with your access key": a
    UUID-shaped value nobody generated (a `g`, wrong groups, counted runs) works nowhere."""
    manifest = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n"
        "  selector: {matchLabels: {app: agent}}\n  template:\n    spec:\n      containers:\n"
        "        - name: agent\n          image: acme/agent:1.2\n          env:\n"
        "            - name: ACCESS_KEY\n"
        "              value: 8312341g-5678-abcd-4a2b2c-33bcsd655 # replace with your key\n"
        "            - name: MINIO_ACCESS_KEY\n              value: minio-root\n"
    )
    found = check({"k8s/agent.yaml": manifest}, tmp_path, "DW523")
    assert [(f.line, f.severity) for f in found] == [(13, Severity.INFO)]
    assert "does not look like a generated key" in found[0].message
