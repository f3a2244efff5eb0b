"""The compose loader: resolution as docker compose does it, and hostile input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockwise.sources.compose import (
    ComposeFile,
    interpolate,
    load_compose,
    load_compose_files,
    parse_dotenv,
    parse_duration,
    parse_size,
)
from dockwise.sources.yamlload import load_yaml


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def load(root: Path, text: str, files: dict[str, str] | None = None) -> ComposeFile:
    write(root, {"compose.yaml": text, **(files or {})})
    return load_compose(root / "compose.yaml", "compose.yaml", root)


def messages(compose: ComposeFile) -> list[str]:
    return [str(problem) for problem in compose.problems]


# --- the model ---------------------------------------------------------------------------


FULL = """\
services:
  web:
    image: app:1
    build:
      context: ./api
      dockerfile: Dockerfile.prod
      target: runtime
      args: [VERSION=1.2, PIP_INDEX]
    command: gunicorn -b 0.0.0.0:8000 "app:create()"
    entrypoint: ["/tini", "--"]
    environment:
      DEBUG: false
      WORKERS: 4
      TOKEN:
    env_file: [.env.web, {path: .env.local, required: false}]
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
      interval: 1m30s
      timeout: 500ms
      retries: 3
      start_period: 10s
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 512M}
        reservations: {memory: 128m}
    mem_limit: 1g
    cpus: 1.5
    logging:
      driver: json-file
      options: {max-size: 10m, max-file: 3}
    user: "1000:1000"
    privileged: true
    init: true
    read_only: "yes"
    stop_grace_period: 45s
    stop_signal: SIGINT
    ports: ["127.0.0.1:8000:8000/tcp", 9000, {target: 80, published: "8080"}]
    expose: [8000]
    secrets: [db_password, {source: api_key, target: /run/key}]
    volumes: ["./data:/data:ro", "cache:/cache", {type: tmpfs, target: /tmp}]
    depends_on:
      db: {condition: service_healthy}
      cache:
  db:
    image: postgres:16
    healthcheck: {test: "pg_isready", disable: false}
    depends_on: [cache]
  cache:
    image: redis
    profiles: [extra]
secrets:
  db_password: {file: ./db.txt}
  api_key: {environment: API_KEY}
"""


def test_full_service(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    compose = load(tmp_path, FULL)
    assert compose.problems == ()
    web = compose.services["web"]
    assert web.image and web.image.value == "app:1" and web.image.origin.line == 3
    assert web.build is not None
    assert web.build.context == tmp_path / "api"
    assert web.build.dockerfile == tmp_path / "api" / "Dockerfile.prod"
    assert web.build.target and web.build.target.value == "runtime"
    assert {k: v.value for k, v in web.build.args.items()} == {"VERSION": "1.2", "PIP_INDEX": None}
    assert web.command and web.command.shell_form
    assert web.command.argv == ("gunicorn", "-b", "0.0.0.0:8000", "app:create()")
    assert (
        web.entrypoint and web.entrypoint.argv == ("/tini", "--") and not web.entrypoint.shell_form
    )
    assert {k: v.value for k, v in web.environment.items()} == {
        "DEBUG": "false",
        "WORKERS": "4",
        "TOKEN": None,
    }
    assert web.environment["WORKERS"].origin.line == 13
    assert [(f.path.name, f.required) for f in web.env_files] == [
        (".env.web", True),
        (".env.local", False),
    ]
    check = web.healthcheck
    assert check is not None and check.kind == "CMD" and not check.disabled
    assert check.command[0] == "curl"
    assert check.interval and check.interval.seconds == 90
    assert check.timeout and check.timeout.seconds == 0.5
    assert check.retries and check.retries.value == 3
    assert web.limits and web.limits.memory and web.limits.memory.bytes == 512 * 1024**2
    assert web.limits.cpus and web.limits.cpus.value == 0.5
    assert web.reservations and web.reservations.memory
    assert web.mem_limit and web.mem_limit.bytes == 1024**3
    assert web.memory_limit == web.limits.memory
    assert web.cpus and web.cpus.value == 1.5
    assert web.logging and web.logging.driver and web.logging.driver.value == "json-file"
    assert web.logging.options["max-size"].value == "10m"
    assert web.user and web.user.value == "1000:1000"
    assert web.privileged and web.privileged.value
    assert web.init and web.init.value
    assert web.read_only and web.read_only.value
    assert web.stop_grace_period and web.stop_grace_period.seconds == 45
    assert web.stop_signal and web.stop_signal.value == "SIGINT"
    assert [(p.host_ip, p.published, p.target, p.protocol) for p in web.ports] == [
        ("127.0.0.1", "8000", "8000", "tcp"),
        (None, None, "9000", "tcp"),
        (None, "8080", "80", "tcp"),
    ]
    assert [e.value for e in web.expose] == ["8000"]
    assert [(s.source, s.target) for s in web.secrets] == [
        ("db_password", None),
        ("api_key", "/run/key"),
    ]
    assert [(v.type, v.source, v.target, v.read_only) for v in web.volumes] == [
        ("bind", "./data", "/data", True),
        ("volume", "cache", "/cache", False),
        ("tmpfs", None, "/tmp", False),
    ]
    assert web.depends_on["db"].condition == "service_healthy"
    assert web.depends_on["cache"].condition == "service_started"
    db = compose.services["db"]
    assert db.healthcheck and db.healthcheck.test == ("CMD-SHELL", "pg_isready")
    assert list(db.depends_on) == ["cache"]
    assert compose.services["cache"].profiles == ("extra",)
    assert compose.secrets["db_password"].file == "./db.txt"
    assert compose.secrets["api_key"].environment == "API_KEY"
    assert [b.service for b in compose.builds] == ["web"]
    assert compose.builds[0].target == "runtime" and compose.builds[0].line == 4
    assert web.raw["image"] == "app:1"


def test_healthcheck_disabled(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        "services:\n  a: {image: x, healthcheck: {test: [NONE]}}\n"
        "  b: {image: x, healthcheck: {disable: true}}\n",
    )
    assert all(s.healthcheck and s.healthcheck.disabled for s in compose.services.values())


# --- interpolation -----------------------------------------------------------------------


def test_interpolation_from_dotenv(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        """\
services:
  web:
    image: "${REGISTRY}/app:${TAG:-latest}"
    command: echo $$HOME ${EMPTY-unset} ${EMPTY:-empty}
    environment:
      PASSWORD: ${DB_PASSWORD}
      LITERAL: plain
      OPTIONAL: ${NOT_SET}
""",
        {".env": "REGISTRY=ghcr.io/me\nEMPTY=\nexport DB_PASSWORD='s3cr3t value'\n"},
    )
    web = compose.services["web"]
    assert web.image and web.image.value == "ghcr.io/me/app:latest" and web.image.interpolated
    assert web.command and web.command.argv == ("echo", "$HOME", "empty")
    password = web.environment["PASSWORD"]
    assert password.value == "s3cr3t value" and password.interpolated
    assert password.written == "${DB_PASSWORD}"
    assert not web.environment["LITERAL"].interpolated
    assert [(u.name, u.required, u.origin.line) for u in compose.unset] == [
        ("TAG", False, 3),
        ("NOT_SET", False, 8),
    ]
    assert "s3cr3t" not in " ".join(messages(compose))


def test_required_variable(tmp_path: Path) -> None:
    compose = load(tmp_path, "services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n")
    assert [(u.name, u.required) for u in compose.unset] == [("IMAGE", True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$$", "$"),
        ("${A}", "a"),
        ("$A-x", "a-x"),
        ("${B:-d}", "d"),
        ("${B-d}", ""),
        ("${U-d}", "d"),
        ("${A:+r}", "r"),
        ("${B:+r}", ""),
        ("${U:-${A}}", "a"),
        ("$1 and $", "$1 and $"),
    ],
)
def test_interpolate(text: str, expected: str) -> None:
    assert interpolate(text, {"A": "a", "B": ""}, lambda *_: None).text == expected


def test_invalid_interpolation_is_a_problem(tmp_path: Path) -> None:
    compose = load(tmp_path, "services:\n  web:\n    image: ${oops\n")
    assert "invalid interpolation format" in compose.problems[0].message
    assert compose.error is not None


def test_dotenv() -> None:
    env = parse_dotenv("# c\nA=1 # comment\nB=\"x\\ny\"\nC=${A}2\nexport D='$A'\nbad line\n")
    assert env == {"A": "1", "B": "x\ny", "C": "12", "D": "$A"}


# --- overrides, extends, include ---------------------------------------------------------


def test_override_file_merges(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": """\
services:
  web:
    build: .
    command: [a]
    environment: [A=1, B=2]
    ports: ["8000:8000"]
    labels: {x: "1"}
""",
            "compose.override.yaml": """\
services:
  web:
    command: [b]
    environment: {B: "3"}
    ports: ["9000:9000"]
    labels: !reset {}
    build: {target: dev}
""",
        },
    )
    paths = [tmp_path / "compose.yaml", tmp_path / "compose.override.yaml"]
    primary, override = load_compose_files(paths, tmp_path)
    web = primary.services["web"]
    assert web.command and web.command.argv == ("b",)
    assert {k: v.value for k, v in web.environment.items()} == {"A": "1", "B": "3"}
    assert web.environment["B"].origin.path == "compose.override.yaml"
    assert [p.written for p in web.ports] == ["8000:8000", "9000:9000"]
    assert "labels" not in web.raw
    assert web.build and web.build.target and web.build.target.value == "dev"
    assert web.build.context == tmp_path
    assert override.merged_into == "compose.yaml" and override.services == {}
    assert primary.files == ("compose.yaml", "compose.override.yaml")


def test_extends_same_and_other_file(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        """\
services:
  base:
    image: base
    environment: {A: "1"}
  web:
    extends: base
    environment: {B: "2"}
  worker:
    extends: {file: common/services.yaml, service: job}
""",
        {"common/services.yaml": "services:\n  job:\n    build: ./ctx\n    init: true\n"},
    )
    (tmp_path / "common" / "ctx").mkdir()
    compose = load_compose(tmp_path / "compose.yaml", "compose.yaml", tmp_path)
    web = compose.services["web"]
    assert web.image and web.image.value == "base"
    assert set(web.environment) == {"A", "B"}
    assert web.extends == ("compose.yaml:base",)
    worker = compose.services["worker"]
    assert worker.build and worker.build.context == tmp_path / "common" / "ctx"
    assert worker.init and worker.init.value
    assert worker.init.origin.path == "common/services.yaml"


def test_circular_extends(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        "services:\n  a: {image: x, extends: b}\n  b: {extends: c}\n  c: {extends: a}\n",
    )
    assert any("circular extends: a -> b -> c -> a" in m for m in messages(compose))
    assert set(compose.services) == {"a", "b", "c"}


def test_include(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        "include:\n  - db/compose.yaml\nservices:\n  web: {image: web, depends_on: [db]}\n",
        {
            "db/compose.yaml": "services:\n  db:\n    image: ${DB_IMAGE}\n",
            "db/.env": "DB_IMAGE=postgres:16\n",
        },
    )
    assert compose.problems == ()
    db = compose.services["db"]
    assert db.image and db.image.value == "postgres:16" and db.origin.path == "db/compose.yaml"


def test_include_cycle(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        "include: [other.yaml]\nservices: {web: {image: x}}\n",
        {"other.yaml": "include: [compose.yaml]\nservices: {db: {image: y}}\n"},
    )
    assert any("include cycle" in m for m in messages(compose))


# --- bad values: one problem naming file:line, never an exception -----------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ("{context: ., args: 5}", "compose.yaml:3: services.web.build.args must be a mapping"),
        ("{context: ., args: abc}", "compose.yaml:3: services.web.build.args must be a mapping"),
        ("{context: ., target: 0x" + "f" * 3600 + "}", "build.target must be a string"),
        ("{context: 0x" + "f" * 3600 + "}", "build.context must be a string"),
        ('"a\\0b"', "compose.yaml:3: services.web.build must be a path without NUL"),
        ("[a, b]", "compose.yaml:3: services.web.build must be a string or a mapping"),
        ("{context: ., target: {a: 1}}", "build.target must be a string"),
    ],
)
def test_bad_build_values(tmp_path: Path, build: str, expected: str) -> None:
    compose = load(tmp_path, f"services:\n  web:\n    build: {build}\n")
    assert any(expected in m for m in messages(compose)), messages(compose)
    assert compose.error is not None


def test_args_set_is_names_without_values(tmp_path: Path) -> None:
    compose = load(tmp_path, "services:\n  web:\n    build: {context: ., args: !!set {a, b}}\n")
    assert compose.problems == ()
    assert compose.builds[0].args == {"a": None, "b": None}


def test_symlink_loop_context(tmp_path: Path) -> None:
    os.symlink("loop", tmp_path / "loop")
    compose = load(tmp_path, "services:\n  web:\n    build: ./loop\n")
    assert "symbolic links" in compose.problems[0].message
    assert compose.builds == ()
    assert compose.services["web"].build is not None


def test_context_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    compose = load(
        root, "services:\n  a: {build: ..}\n  b: {build: {context: /}}\n  c: {build: .}\n"
    )
    assert [b.outside_root for b in compose.builds] == [True, True, False]


def test_remote_and_inline_builds(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        "services:\n  a: {build: 'https://github.com/me/app.git#main'}\n"
        "  b: {build: {context: ., dockerfile_inline: 'FROM alpine'}}\n",
    )
    a, b = compose.services["a"].build, compose.services["b"].build
    assert a and a.remote and a.context is None
    assert b and b.dockerfile_inline and b.dockerfile is None
    assert compose.builds == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "services:\n  web:\n    image: [x]\n",
            "compose.yaml:3: services.web.image must be a string",
        ),
        ("services:\n  web: {privileged: maybe}\n", "privileged must be true or false"),
        ("services:\n  web: {stop_grace_period: soon}\n", "must be a duration"),
        ("services:\n  web: {mem_limit: lots}\n", "mem_limit must be a size"),
        ("services:\n  web: {healthcheck: {retries: many}}\n", "retries must be an integer"),
        ("services:\n  web: {environment: 5}\n", "environment must be a mapping or a list"),
        ("services:\n  web: {command: 'a \"b'}\n", "No closing quotation"),
        ("services:\n  web: {depends_on: 3}\n", "depends_on must be a list or a mapping"),
        ("services:\n  web: {ports: 80}\n", "ports must be a list"),
        ("services:\n  web: 5\n", "services.web must be a mapping"),
        ("services: [a]\n", "services must be a mapping"),
        ("- a\n- b\n", "must be a mapping"),
        ("", "empty compose file"),
        (
            "services:\n  web: {image: a}\n  web: {image: b}\n",
            'key "web" already defined at line 2',
        ),
        ("services:\n  web: {image: [a\n", "compose.yaml:3: invalid YAML"),
        ("services:\n  web: {image: a\0}\n", "invalid YAML: character 0x0000 is not allowed"),
        ("a: &a [*a]\n", "recursive YAML alias"),
    ],
)
def test_bad_values_are_problems(tmp_path: Path, text: str, expected: str) -> None:
    compose = load(tmp_path, text)
    assert any(expected in m for m in messages(compose)), messages(compose)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 8):
        lines.append(f"x-a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\nservices:\n  web:\n    build:\n      context: .\n      args: *a7\n"
    compose = load(tmp_path, text)
    assert compose.services == {}
    assert "alias bomb" in compose.problems[0].message and compose.problems[0].line == 6


def test_aliases_within_budget_are_expanded(tmp_path: Path) -> None:
    compose = load(
        tmp_path,
        "x-env: &env {A: '1'}\nservices:\n  a: {image: x, environment: *env}\n"
        "  b: {image: x, environment: {<<: *env, B: '2'}}\n",
    )
    assert set(compose.services["b"].environment) == {"A", "B"}
    assert compose.services["a"].environment["A"].value == "1"


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "compose.yaml")
    compose = load_compose(tmp_path / "compose.yaml", "compose.yaml", tmp_path)
    assert compose.error == "not a regular file: not read"


def test_too_many_lines(tmp_path: Path) -> None:
    text = "services:\n" + "".join(f"  s{i}: {{image: x}}\n" for i in range(6000))
    compose = load(tmp_path, text)
    assert "not loaded" in (compose.error or "")


def test_yaml_nodes_keep_huge_numbers_as_text() -> None:
    loaded = load_yaml("a: 0x" + "f" * 3600 + "\nb: 1e999\nc: 12\n")
    a, b, c = (loaded.documents[0].entries[k] for k in "abc")  # type: ignore[union-attr]
    assert a.kind == "int" and isinstance(a.value, str)  # type: ignore[union-attr]
    assert b.value == float("inf") and c.value == 12  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("1m30s", 90), ("1.5h", 5400), ("500ms", 0.5), ("x", None)]
)
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"), [("512m", 512 * 1024**2), ("1gb", 1024**3), ("100", 100), ("1x", None)]
)
def test_sizes(text: str, size: int | None) -> None:
    assert parse_size(text) == size


def test_durations_are_read_in_linear_time() -> None:
    # issue 6: a run of digits with no unit was rescanned from every position (quadratic:
    # 5,000 digits took 0.5 s, a 60 KB value minutes); read now in one pass
    assert parse_duration("9" * 200_000) is None
    assert parse_duration("1" * 100_000 + "x") is None
    assert parse_duration("1m" * 50_000) == 3_000_000.0


def test_template_markers_are_found_in_linear_time() -> None:
    # issue 6: the lazy marker regex rescanned the rest of the line from every `{{a`
    from dockwise.sources.templates import template_marker

    assert template_marker("{{a" * 50_000) is None
    assert template_marker("{" * 100_000) is None
    assert template_marker("x: 1\n" + "{{a" * 50_000 + "\ny: {{ .Values.image }}\n") == (
        3,
        "{{ .Values.image }}",
    )
