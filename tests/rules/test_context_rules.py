"""Build context rules: what COPY/ADD take from the context (DW120-122, DW510-512, DW941-943)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from ruletest import folder_hits

from dockwise.cli import main
from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project
from dockwise.rules import all_rules, rule_by_id

CONTEXT_RULES = ("DW120", "DW121", "DW122", "DW510", "DW511", "DW512", "DW941", "DW942", "DW943")

# Fake but well-formed credentials, built so no real-looking literal sits in the source.
AWS_KEY_ID = "AKIA" + "QZ7XK2LMP9VR4ST8"
AWS_SECRET = "wJz8Kq3Lm9Xp2Vr7Ty4Bn6Cd1Fg5Hj0Qa" + "Ze3Wx8Rt"
STRIPE_KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
DB_PASSWORD = "Hx5mQ9tRw2LpK7vZ"
DATABASE_URL = f"postgres://app:{DB_PASSWORD}@db.internal:5432/app"
OPENSSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACBq9TxQ2mFkR7sL0vWcYh3ZpN8eUaJgB4dK6yXoC1iSrwAAAJiQ1w3kkNcN\n"
    "5AAAAAtzc2gtZWQyNTUxOQAAACBq9TxQ2mFkR7sL0vWcYh3ZpN8eUaJgB4dK6yXoC1iSrw\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
SECRET_VALUES = (AWS_KEY_ID, AWS_SECRET, STRIPE_KEY, DB_PASSWORD, DATABASE_URL, "b3BlbnNzaC1")

PYTHON_DOCKERFILE = (
    "# syntax=docker/dockerfile:1\n"
    "FROM python:3.12-slim\n"
    "WORKDIR /app\n"
    "COPY . /app\n"
    'CMD ["python", "app/main.py"]\n'
)


def write(root: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def findings(root: Path, *ids: str) -> list[Finding]:
    wanted = ids or CONTEXT_RULES
    rules = [r for r in all_rules() if r.id in wanted]
    outcome = check_project(load_project(root, Config()), rules)
    assert not outcome.problems, outcome.problems
    return list(outcome.findings)


def places(found: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.path, f.line) for f in found]


@pytest.fixture
def reinclude_project(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "app/main.py": "print('hello')\n",
            ".dockerignore": "# secrets stay home\n.git\n.env*\n!.env.production\n",
            ".env": f"STRIPE_KEY={STRIPE_KEY}\n",
            ".env.production": f"DEBUG=false\nDATABASE_URL={DATABASE_URL}\n",
        },
    )


# --------------------------------------------------------------------------- done-when


def test_reincluded_secret_names_copy_and_exception_line(reinclude_project: Path) -> None:
    found = findings(reinclude_project)
    assert places(found) == [("DW510", ".env.production", 2)]
    finding = found[0]
    assert "reaches the image via COPY at Dockerfile:4" in finding.message
    assert ".dockerignore line 4 `!.env.production` re-includes it" in finding.message
    assert [(r.path, r.line) for r in finding.related] == [("Dockerfile", 4), (".dockerignore", 4)]
    assert finding.fingerprint is not None
    assert DB_PASSWORD not in finding.message


def test_reincluded_secret_related_locations_in_json_and_sarif(
    reinclude_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", str(reinclude_project), "--format", "json", "--fail-on", "never"])
    data = json.loads(capsys.readouterr().out)
    secret = [f for f in data["findings"] if f["rule"] == "DW510"]
    assert len(secret) == 1
    assert secret[0]["path"] == ".env.production" and secret[0]["line"] == 2
    assert [(r["path"], r["line"]) for r in secret[0]["related"]] == [
        ("Dockerfile", 4),
        (".dockerignore", 4),
    ]
    main(["check", str(reinclude_project), "--format", "sarif", "--fail-on", "never"])
    sarif = json.loads(capsys.readouterr().out)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "DW510"]
    related = results[0]["relatedLocations"]
    assert [
        (r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"])
        for r in related
    ] == [("Dockerfile", {"startLine": 4}), (".dockerignore", {"startLine": 4})]


def test_ssh_key_without_extension_not_excluded(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "app/main.py": "print('hello')\n",
            ".dockerignore": ".git\n.env\n*.pem\n",
            "deploy/deploy_key": OPENSSH_KEY,
            "deploy/deploy_key.pub": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq9 deploy\n",
        },
    )
    found = findings(tmp_path)
    assert places(found) == [("DW511", "deploy/deploy_key", 1)]
    message = found[0].message
    assert "SSH private key deploy/deploy_key reaches the image via COPY at Dockerfile:4" in (
        message
    )
    assert "no .dockerignore pattern excludes it" in message
    assert [(r.path, r.line) for r in found[0].related] == [
        ("Dockerfile", 4),
        (".dockerignore", None),
    ]


def test_whitelist_dockerignore_is_clean(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            ".dockerignore": "*\n!app/\n",
            "app/main.py": "print('hello')\n",
            ".env": f"DATABASE_URL={DATABASE_URL}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
            "id_rsa": OPENSSH_KEY,
            "deploy/deploy_key": OPENSSH_KEY,
            ".aws/credentials": f"[default]\naws_access_key_id = {AWS_KEY_ID}\n",
            ".git/config": "[core]\n\tbare = false\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "node_modules/left-pad/index.js": "module.exports = 1\n",
        },
    )
    assert findings(tmp_path) == []


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_no_secret_value_in_any_output(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "app/main.py": "print('hello')\n",
            ".env": (
                f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
                f"STRIPE_KEY={STRIPE_KEY}\nDATABASE_URL={DATABASE_URL}\n"
            ),
            "deploy/deploy_key": OPENSSH_KEY,
        },
    )
    status = main(["check", str(tmp_path), "--format", fmt])
    out = capsys.readouterr()
    assert status == 1
    assert "DW510" in out.out and "DW511" in out.out
    for value in SECRET_VALUES:
        assert value not in out.out and value not in out.err, f"{fmt} leaks {value[:4]}"


# --------------------------------------------------------------------------- DW510 / DW511


def test_env_with_three_secrets_gives_three_findings_and_no_file_finding(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "app/main.py": "print('hello')\n",
            ".dockerignore": ".git\n",
            ".env": f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\nSTRIPE_KEY={STRIPE_KEY}\n"
            f"LOG_LEVEL=info\nDATABASE_URL={DATABASE_URL}\n",
        },
    )
    found = findings(tmp_path)
    assert places(found) == [("DW510", ".env", 1), ("DW510", ".env", 2), ("DW510", ".env", 4)]
    assert len({f.fingerprint for f in found}) == 3


def test_env_without_detectable_secret_is_a_credential_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "app/main.py": "print('hello')\n",
            ".dockerignore": ".git\n",
            ".env": "LOG_LEVEL=info\n",
            ".env.example": "DATABASE_URL=postgres://user:changeme@localhost/app\n",
        },
    )
    assert places(findings(tmp_path)) == [("DW511", ".env", 1)]


def test_one_finding_per_secret_when_two_dockerfiles_copy_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "worker.Dockerfile": "FROM python:3.12-slim\nCOPY . /srv\n",
            "app/main.py": "print('hello')\n",
            ".dockerignore": ".git\n",
            "settings.py": f"STRIPE_KEY = '{STRIPE_KEY}'\n",
        },
    )
    found = findings(tmp_path, "DW510")
    assert places(found) == [("DW510", "settings.py", 1)]
    assert [(r.path, r.line) for r in found[0].related] == [
        ("Dockerfile", 4),
        (".dockerignore", None),
        ("worker.Dockerfile", 2),
    ]


def test_secret_in_a_file_copied_twice_is_reported_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY config/ /etc/app/\nCOPY . /app\n",
            ".dockerignore": ".git\n",
            "config/app.ini": f"[db]\nurl = {DATABASE_URL}\n",
        },
    )
    found = findings(tmp_path, "DW510")
    assert places(found) == [("DW510", "config/app.ini", 2)]
    assert "COPY at Dockerfile:2" in found[0].message


def test_builder_only_credential_is_a_warning_not_an_image_leak(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": (
                "FROM node:20 AS build\n"
                "WORKDIR /src\n"
                "COPY package.json .npmrc ./\n"
                "RUN npm ci\n"
                "FROM node:20-slim\n"
                "COPY --from=build /src/node_modules /app/node_modules\n"
                "COPY server.js /app/\n"
            ),
            ".dockerignore": ".git\n",
            "package.json": "{}\n",
            "server.js": "console.log(1)\n",
            ".npmrc": "//registry.npmjs.org/:_authToken=npm_Z7xQk2LmP9vR4sT8wY1bN6cD3fG5hJ0aKqWe\n",
        },
    )
    found = findings(tmp_path)
    assert places(found) == [("DW512", ".npmrc", 1)]
    assert found[0].severity.label == "warning"
    assert "builder stage 'build'" in found[0].message


def test_target_stage_decides_what_ships(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim AS test\nCOPY . /app\n"
                "FROM python:3.12-slim AS prod\nCOPY app/ /app/\n"
            ),
            ".dockerignore": ".git\n",
            "app/main.py": "print(1)\n",
            "id_ed25519": OPENSSH_KEY,
        },
    )
    assert places(findings(tmp_path)) == [("DW512", "id_ed25519", 1)]


def test_named_build_context_and_stage_copies_take_nothing(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\n"
                "COPY --from=shared . /shared\n"
                "COPY --from=python:3.12 /usr/local/bin/python3 /usr/bin/\n"
                "COPY app/ /app/\n"
            ),
            ".dockerignore": ".git\n",
            "app/main.py": "print(1)\n",
            ".env": f"DATABASE_URL={DATABASE_URL}\n",
        },
    )
    assert findings(tmp_path) == []


def test_arg_resolved_source_is_followed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nARG CONF=conf\nCOPY ${CONF}/ /etc/app/\n",
            ".dockerignore": ".git\n",
            "conf/app.env": f"DATABASE_URL={DATABASE_URL}\n",
        },
    )
    found = findings(tmp_path)
    assert places(found) == [("DW510", "conf/app.env", 1)]


def test_copy_exclude_flag_is_honoured(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "# syntax=docker/dockerfile:1.7\nFROM python:3.12-slim\n"
            "COPY --exclude=*.env app/ /app/\n",
            ".dockerignore": ".git\n",
            "app/main.py": "print(1)\n",
            "app/prod.env": f"DATABASE_URL={DATABASE_URL}\n",
        },
    )
    assert findings(tmp_path) == []


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            "Dockerfile.dockerignore": "*\n!app/\n",
            ".dockerignore": ".git\n",
            "app/main.py": "print(1)\n",
            ".env": f"DATABASE_URL={DATABASE_URL}\n",
        },
    )
    assert findings(tmp_path) == []


def test_compose_build_context_prefixes_paths(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": "services:\n  api:\n    build:\n      context: ./api\n"
            "      dockerfile: ../docker/api.Dockerfile\n",
            "docker/api.Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "api/.dockerignore": ".git\n",
            "api/main.py": "print(1)\n",
            "api/.env.local": f"DATABASE_URL={DATABASE_URL}\n",
        },
    )
    found = findings(tmp_path, "DW510")
    assert places(found) == [("DW510", "api/.env.local", 1)]
    assert "COPY at docker/api.Dockerfile:2" in found[0].message
    assert "no api/.dockerignore pattern excludes it" in found[0].message


# --------------------------------------------------------------------------- DW120-DW122


def test_junk_one_finding_per_directory(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": PYTHON_DOCKERFILE,
            ".dockerignore": "*.log\n",
            "app/main.py": "print(1)\n",
            "app/__pycache__/main.cpython-312.pyc": "x" * 100,
            "node_modules/a/index.js": "1\n",
            "node_modules/a/node_modules/b/index.js": "2\n",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/site.py": "x = 1\n",
            "app/.DS_Store": "ds",
            ".DS_Store": "ds",
            "tests/fixtures/small.json": "{}\n",
            ".idea/workspace.xml": "<x/>\n",
        },
    )
    found = findings(tmp_path, "DW120")
    assert sorted(f.message.split(" (")[0] for f in found) == [
        "Finder metadata **/.DS_Store",
        "IDE settings .idea/",
        "Python bytecode cache app/__pycache__/",
        "host node_modules node_modules/",
        "virtualenv env/",
    ]
    assert all((f.path, f.line) == ("Dockerfile", 4) for f in found)
    node = next(f for f in found if "node_modules" in f.message)
    assert "(4 B, 2 files)" in node.message
    assert "no .dockerignore pattern excludes it" in node.message


def test_junk_in_large_test_data_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY tests/ /app/tests/\n",
            ".dockerignore": ".git\n",
            "tests/test_app.py": "def test(): pass\n",
        },
    )
    (tmp_path / "tests/fixtures").mkdir()
    with open(tmp_path / "tests/fixtures/dump.bin", "wb") as handle:
        handle.truncate(11 * 1024 * 1024)
    found = findings(tmp_path, "DW120")
    assert places(found) == [("DW120", "Dockerfile", 2)]
    assert found[0].message.startswith("test data tests/fixtures/ (11.0 MB, 1 file)")


def test_junk_not_reported_when_excluded_or_not_copied(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app/ /app/\n",
            "app/main.py": "print(1)\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".venv/pyvenv.cfg": "home = /usr/bin\n",
        },
    )
    assert findings(tmp_path) == []


def test_whole_context_without_ignore_reported_once_with_sizes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nADD . /srv\n",
            "app/main.py": "print(1)\n" * 100,
            "README.md": "hi\n",
        },
    )
    found = findings(tmp_path, "DW121")
    assert places(found) == [("DW121", "Dockerfile", 2)]
    assert "whole build context (" in found[0].message
    assert "biggest entries: app/ (900 B), Dockerfile (45 B), README.md (3 B)" in found[0].message


def test_dw122_counts_a_sparse_5gb_file_without_reading_it(tmp_path: Path) -> None:
    write(
        tmp_path, {"Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n", ".dockerignore": ".git\n"}
    )
    with open(tmp_path / "disk.img", "wb") as handle:
        handle.truncate(5 * 1024**3)
    found = findings(tmp_path)
    assert places(found) == [("DW122", "Dockerfile", None)]
    assert "5.0 GB" in found[0].message and "disk.img (5.0 GB)" in found[0].message


# --------------------------------------------------------------------------- DW941-DW943


def test_ignore_file_findings_once_per_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app/ /app/\n",
            "worker.Dockerfile": "FROM python:3.12-slim\nCOPY app/ /srv/\n",
            ".dockerignore": ".git\nlogs/[abc\n *.tmp # temp\n  # indented comment\n",
            "app/main.py": "print(1)\n",
        },
    )
    found = findings(tmp_path, "DW941", "DW942")
    assert places(found) == [
        ("DW941", ".dockerignore", 2),
        ("DW942", ".dockerignore", 3),
        ("DW942", ".dockerignore", 4),
    ]


def test_symlink_outside_fifo_and_socket(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"shared.py": "X = 1\n"})
    root = write(
        tmp_path / "proj",
        {"Dockerfile": "FROM python:3.12-slim\nCOPY app/ /app/\n", ".dockerignore": ".git\n"},
    )
    (root / "app").mkdir()
    (root / "app/main.py").write_text("print(1)\n")
    (root / "app/shared.py").symlink_to(outside / "shared.py")
    (root / "app/inside.py").symlink_to(root / "app/main.py")
    os.mkfifo(root / "app/pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "docker.sock"))  # not taken by any COPY: not reported
    try:
        found = findings(root)
    finally:
        server.close()
    assert places(found) == [
        ("DW943", "app/pipe", None),
        ("DW943", "app/shared.py", None),
    ]
    assert "a FIFO (named pipe)" in found[0].message
    assert "copies the link itself" in found[1].message
    assert [(r.path, r.line) for r in found[1].related] == [("Dockerfile", 2)]


def test_copy_source_outside_context(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY ../lib /app/lib\nCOPY ./app /app\n",
            ".dockerignore": ".git\n",
            "app/main.py": "print(1)\n",
        },
    )
    assert places(findings(tmp_path)) == [("DW943", "Dockerfile", 2)]


def test_rules_registered_with_their_lessons() -> None:
    lessons = {rid: rule_by_id(rid).meta.lesson for rid in CONTEXT_RULES}  # type: ignore[union-attr]
    assert lessons == {
        "DW120": "size",
        "DW121": "size",
        "DW122": "size",
        "DW510": "secrets",
        "DW511": "secrets",
        "DW512": "secrets",
        "DW941": "general",
        "DW942": "general",
        "DW943": "general",
    }


def test_dockerfile_secrets_are_left_to_the_dockerfile_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": f"FROM python:3.12-slim\nENV DATABASE_URL={DATABASE_URL}\nCOPY . /app\n",
            ".dockerignore": ".git\n",
            "app.py": "print(1)\n",
        },
    )
    assert findings(tmp_path, "DW510") == []


def test_dw122_sizes_the_context_as_buildkit_sends_it(tmp_path: Path) -> None:
    """A large folder next to a Dockerfile that copies one script is never transferred."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"\0" * (101 * 1024 * 1024))
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY app.py /app/\n")
    assert folder_hits("DW122", {}, tmp_path) == []
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app/\n")
    assert folder_hits("DW122", {}, tmp_path) == [("Dockerfile", None)]
