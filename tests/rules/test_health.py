"""Edge cases of the health rules (DW201-DW208)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ruletest import folder_hits, hits, messages, text_findings

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import load_project, project_from_text
from dockwise.rules import rule_by_id
from dockwise.rules.health import parse_duration, probe_target
from dockwise.sources.dockerfile import parse_dockerfile

PY_CHECK = (
    'HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\"]"
)


# --- DW201 --------------------------------------------------------------------------


def test_dw201_curl_on_slim() -> None:
    text = """\
        FROM python:3.11-slim
        HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW201", text) == [2]
    [message] = messages("DW201", text)
    assert message.startswith("HEALTHCHECK runs curl, which the final stage (python:3.11-slim)")


def test_dw201_fix_names_the_probe_url() -> None:
    rule = rule_by_id("DW201")
    assert rule is not None
    text = "FROM python:3.11-slim\nHEALTHCHECK CMD curl -f http://localhost:9000/ping\n"
    outcome = check_project(project_from_text(text, Config(select=("DW201",))), [rule])
    [finding] = outcome.findings
    assert "http://127.0.0.1:9000/ping" in finding.fix


@pytest.mark.parametrize(
    ("base", "check", "expected"),
    [
        ("python:3.11-alpine", "wget -q --spider http://localhost:8000/ || exit 1", []),
        ("python:3.11-alpine", "curl -f http://localhost:8000/", [2]),
        ("python:3.11", "curl -f http://localhost:8000/", []),
        ("node:20-slim", "wget -q --spider http://localhost:3000/", [2]),
        ("gcr.io/distroless/python3-debian12", '["python3", "-c", "print(1)"]', []),
        ("gcr.io/distroless/python3-debian12", '["curl", "-f", "http://localhost/"]', [2]),
        ("gcr.io/distroless/static-debian12", '["python3", "-c", "import urllib"]', [2]),
        ("scratch", '["/app/server", "healthcheck"]', []),
        ("mycompany/base:1.0", "curl -f http://localhost:8000/", []),
        ("nginx:1.25", "curl -f http://localhost/", []),
    ],
)
def test_dw201_bases(base: str, check: str, expected: list[int]) -> None:
    assert hits("DW201", f"FROM {base}\nHEALTHCHECK CMD {check}\n") == expected


def test_dw201_shell_form_needs_a_shell() -> None:
    text = "FROM gcr.io/distroless/python3-debian12\nHEALTHCHECK CMD python3 /app/check.py\n"
    assert hits("DW201", text) == [2]
    assert "a shell (/bin/sh)" in messages("DW201", text)[0]


def test_dw201_distroless_debug_has_a_shell() -> None:
    text = "FROM gcr.io/distroless/python3-debian12:debug\nHEALTHCHECK CMD wget -q --spider http://localhost:8000/\n"
    assert hits("DW201", text) == []


def test_dw201_installed_by_run_counts() -> None:
    text = """\
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 \\
            && rm -rf /var/lib/apt/lists/*
        HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
    """
    assert hits("DW201", text) == []


def test_dw201_heredoc_run_install_counts() -> None:
    text = """\
        FROM python:3.11-slim
        RUN <<EOF
        apt-get update
        apt-get install -y --no-install-recommends curl
        EOF
        HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
    """
    assert hits("DW201", text) == []


def test_dw201_exec_form_run_install_counts() -> None:
    text = """\
        FROM python:3.11-slim
        RUN ["apt-get", "install", "-y", "curl"]
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == []


def test_dw201_python_m_pip_httpie_counts() -> None:
    text = """\
        FROM python:3.11-slim
        RUN python -m pip install --no-cache-dir httpie==3.2.2
        HEALTHCHECK CMD ["http", "--check-status", "localhost:8000/health"]
    """
    assert hits("DW201", text) == []


def test_dw201_copied_static_binary_counts() -> None:
    text = """\
        FROM alpine:3.19 AS builder
        RUN apk add --no-cache curl
        FROM python:3.11-slim
        COPY --from=builder /usr/bin/curl /usr/bin/curl
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == []


def test_dw201_copied_into_path_folder_counts() -> None:
    text = """\
        FROM python:3.11-slim
        COPY --from=ghcr.io/grpc-ecosystem/grpc-health-probe:v0.4.25 /ko-app/grpc-health-probe /usr/local/bin/
        COPY --from=static-curl /curl /usr/local/bin/curl
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == []


def test_dw201_named_context_copying_bin_folder_is_unknown() -> None:
    text = """\
        FROM python:3.11-slim
        COPY --from=tools /usr/local/bin /usr/local/bin
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == []


def test_dw201_builder_install_does_not_reach_final_stage() -> None:
    text = """\
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y curl
        FROM python:3.11-slim
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == [4]


def test_dw201_walks_parent_stages_to_the_base() -> None:
    text = """\
        FROM python:3.11-slim AS base
        RUN apt-get update && apt-get install -y curl
        FROM base AS runtime
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
        FROM base AS bare
        HEALTHCHECK CMD ["wget", "-q", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == [6]


def test_dw201_arg_resolved_from() -> None:
    text = """\
        ARG BASE=python:3.11-slim
        FROM ${BASE}
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == [3]


def test_dw201_arg_without_default_is_unknown() -> None:
    text = 'ARG BASE\nFROM ${BASE}\nHEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n'
    assert hits("DW201", text) == []


def test_dw201_tag_arg_without_default_is_unknown() -> None:
    text = 'ARG TAG\nFROM python:${TAG}-slim\nHEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n'
    assert hits("DW201", text) == []


def test_dw201_judges_shipped_stage_only() -> None:
    text = """\
        FROM python:3.11-slim AS test
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
        FROM python:3.11 AS final
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
    """
    assert hits("DW201", text) == []


def test_dw201_target_selects_shipped_stage() -> None:
    rule = rule_by_id("DW201")
    assert rule is not None
    text = """\
        FROM python:3.11-slim AS app
        HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]
        FROM python:3.11 AS dev
    """
    config = Config(select=("DW201",), target="app")
    outcome = check_project(project_from_text(textwrap.dedent(text), config), [rule])
    assert [f.line for f in outcome.findings] == [2]


def test_dw201_sh_c_in_exec_form() -> None:
    text = 'FROM python:3.11-slim\nHEALTHCHECK CMD ["sh", "-c", "wget -q -O- http://localhost:8000/"]\n'
    assert hits("DW201", text) == [2]


def test_dw201_none_is_not_judged() -> None:
    assert hits("DW201", "FROM scratch\nHEALTHCHECK NONE\n") == []


# --- DW202 --------------------------------------------------------------------------


def test_dw202_reports_at_shipped_from() -> None:
    text = """\
        FROM python:3.11-slim AS builder
        RUN pip wheel --no-cache-dir -w /wheels flask==3.0.3
        FROM python:3.11-slim AS runtime
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW202", text) == [3]


def test_dw202_inherited_healthcheck_counts() -> None:
    text = f"""\
        FROM python:3.11-slim AS base
        {PY_CHECK}
        FROM base
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW202", text) == []


def test_dw202_builder_healthcheck_does_not_count() -> None:
    text = f"""\
        FROM python:3.11-slim AS builder
        {PY_CHECK}
        FROM python:3.11-slim
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW202", text) == [3]


def test_dw202_image_without_process_is_a_base_image() -> None:
    assert (
        hits("DW202", "FROM python:3.11-slim\nRUN pip install --no-cache-dir flask==3.0.3\n") == []
    )


def test_dw202_compose_healthcheck_silences(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n',
        "compose.yaml": """\
            services:
              web:
                build: .
                healthcheck:
                  test: ["CMD", "python", "-c", "print(1)"]
        """,
    }
    assert folder_hits("DW202", files, tmp_path) == []


def test_dw202_disabled_compose_healthcheck_does_not_silence(tmp_path: Path) -> None:
    files = {
        "app/Dockerfile": 'FROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n',
        "compose.yaml": """\
            services:
              web:
                build:
                  context: app
                healthcheck:
                  disable: true
        """,
    }
    assert folder_hits("DW202", files, tmp_path) == [("app/Dockerfile", 1)]


def test_dw202_other_service_healthcheck_does_not_silence(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n',
        "worker/Dockerfile": 'FROM python:3.11-slim\nCMD ["celery", "-A", "proj", "worker"]\n',
        "compose.yaml": """\
            services:
              web:
                build: .
                healthcheck:
                  test: ["CMD", "true"]
              worker:
                build: worker
        """,
    }
    assert folder_hits("DW202", files, tmp_path) == [("worker/Dockerfile", 1)]


# --- DW203 --------------------------------------------------------------------------


def test_dw203_none_in_shipped_chain() -> None:
    text = """\
        FROM python:3.11-slim AS base
        HEALTHCHECK NONE
        FROM base
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW203", text) == [2]


def test_dw203_none_overridden_later_is_fine() -> None:
    text = f"FROM python:3.11-slim AS base\nHEALTHCHECK NONE\nFROM base\n{PY_CHECK}\n"
    assert hits("DW203", text) == []


def test_dw203_builder_none_is_fine() -> None:
    text = 'FROM python:3.11-slim AS builder\nHEALTHCHECK NONE\nFROM python:3.11-slim\nCMD ["x"]\n'
    assert hits("DW203", text) == []


# --- DW204 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        "true",
        "exit 0",
        "kill -0 1",
        "pgrep gunicorn",
        "ps aux | grep gunicorn",
        "echo ok",
        '["python", "-c", "print(1)"]',
        '["python", "-c", "import sys; sys.exit(0)"]',
        '["sh", "-c", "pgrep -f celery"]',
    ],
)
def test_dw204_tests_nothing(check: str) -> None:
    assert hits("DW204", f"FROM python:3.11-slim\nHEALTHCHECK CMD {check}\n") == [2]


@pytest.mark.parametrize(
    "check",
    [
        "curl -f http://localhost:8000/ || true",
        "wget -q --spider http://localhost:8000/; exit 0",
        "curl http://localhost:8000/health",
    ],
)
def test_dw204_ignores_failure(check: str) -> None:
    assert hits("DW204", f"FROM python:3.11\nHEALTHCHECK CMD {check}\n") == [2]


@pytest.mark.parametrize(
    "check",
    [
        "curl -fsS http://localhost:8000/health || exit 1",
        "curl --fail-with-body http://localhost:8000/health",
        "wget -q --spider http://localhost:8000/health",
        PY_CHECK.removeprefix("HEALTHCHECK CMD "),
        '["python", "-c", "import socket; socket.create_connection((\'localhost\', 8000), 2)"]',
        '["celery", "-A", "proj", "inspect", "ping"]',
        "redis-cli ping",
        "pg_isready -U postgres",
        "test -f /tmp/healthy",
        "curl -s http://localhost:8000/health | grep -q ok",
    ],
)
def test_dw204_real_probes_pass(check: str) -> None:
    assert hits("DW204", f"FROM python:3.11\nHEALTHCHECK CMD {check}\n") == []


# --- DW205 / DW208 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("0", 0.0),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "abc", "1m30", "s", "", "30 s", "1d"])
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("flags", "count"),
    [
        ("--interval=10s --timeout=10s", 1),
        ("--interval=1m --timeout=90s", 1),
        ("--timeout=45s", 1),  # the default interval is 30s
        ("--interval=1s --timeout=500ms", 1),
        ("--retries=0", 1),
        ("--interval=30s --timeout=3s --start-period=1m --retries=3", 0),
        ("--interval=10s", 0),  # implicit 30s timeout: slower detection, not broken
        ("--interval=${INTERVAL} --timeout=5s", 0),
    ],
)
def test_dw205_timing(flags: str, count: int) -> None:
    assert (
        len(hits("DW205", f"FROM python:3.11\nHEALTHCHECK {flags} CMD wget -q http://localhost/\n"))
        == count
    )


@pytest.mark.parametrize(
    "flags",
    [
        "--interval=30",
        "--timeout=abc",
        "--retries=x",
        "--retries=-1",
        "--retries=" + "9" * 5000,  # issue 6: int() refused it (ValueError)
        "--retries=٣",
        "--interval=1ns",
        "--intervall=30s",
    ],
)
def test_dw208_invalid_options(flags: str) -> None:
    assert hits(
        "DW208", f"FROM python:3.11\nHEALTHCHECK {flags} CMD wget -q http://localhost/\n"
    ) == [2]


def test_dw208_checks_builder_stages_too() -> None:
    text = "FROM python:3.11 AS builder\nHEALTHCHECK --interval=5 CMD true\nFROM python:3.11\n"
    assert hits("DW208", text) == [2]


def test_dw208_bad_types() -> None:
    text = "FROM python:3.11\nHEALTHCHECK NONE --x\nHEALTHCHECK CMD-SHELL true\nHEALTHCHECK CMD\n"
    assert hits("DW208", text) == [2, 3, 4]


def test_dw208_valid_variants() -> None:
    text = "FROM python:3.11\nHEALTHCHECK --interval=1m30s --start-interval=2s --retries=5 CMD true\nHEALTHCHECK NONE\n"
    assert hits("DW208", text) == []


# --- DW206 --------------------------------------------------------------------------


def test_dw206_per_stage() -> None:
    text = f"""\
        FROM python:3.11-slim AS base
        {PY_CHECK}
        FROM base
        {PY_CHECK}
        HEALTHCHECK NONE
        {PY_CHECK}
    """
    assert hits("DW206", text) == [5, 6]


# --- DW207 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expose", "check", "expected"),
    [
        ("EXPOSE 8000", "curl -f http://localhost:8080/health", [3]),
        ("EXPOSE 8000/tcp", "curl -f http://localhost:8000/health", []),
        ("EXPOSE 8000-8010", "curl -f http://127.0.0.1:8005/", []),
        ("EXPOSE 80", "curl -f http://localhost/", []),
        ("EXPOSE 8000", "curl -f http://localhost/", [3]),
        ("EXPOSE 8000", "curl -f http://db.internal:5432/", []),
        ("EXPOSE 8000", "nc -z localhost 9000", [3]),
        ("EXPOSE $PORT", "curl -f http://localhost:9000/", []),
        ("ENV PORT=8000", "curl -f http://localhost:$PORT/", []),
    ],
)
def test_dw207(expose: str, check: str, expected: list[int]) -> None:
    text = f"FROM python:3.11\n{expose}\nHEALTHCHECK CMD {check}\n"
    assert hits("DW207", text) == expected


def test_dw207_port_from_env() -> None:
    text = "FROM python:3.11\nENV PORT=8000\nEXPOSE ${PORT}\nHEALTHCHECK CMD curl -f http://localhost:${PORT}/health\n"
    assert hits("DW207", text) == []


def _check(text: str) -> object:
    dockerfile = parse_dockerfile(text)
    return dockerfile.stages[-1].last("HEALTHCHECK")


@pytest.mark.parametrize(
    ("check", "target"),
    [
        ("curl -fsS http://localhost:8000/health || exit 1", ("localhost", 8000, "/health")),
        ("wget -q --spider https://127.0.0.1/ready", ("127.0.0.1", 443, "/ready")),
        (PY_CHECK.removeprefix("HEALTHCHECK CMD "), ("127.0.0.1", 8000, "/health")),
        (
            '["python", "-c", "import httpx; httpx.get(\'http://localhost:5000/\').raise_for_status()"]',
            ("localhost", 5000, "/"),
        ),
        (
            '["python", "-c", "import socket; socket.create_connection((\'0.0.0.0\', 6379))"]',
            ("0.0.0.0", 6379, ""),
        ),
        ("nc -z localhost 5432", ("localhost", 5432, "")),
        ("pgrep gunicorn", None),
    ],
)
def test_probe_target(check: str, target: tuple[str, int, str] | None) -> None:
    instruction = _check(f"FROM python:3.11\nHEALTHCHECK CMD {check}\n")
    assert probe_target(instruction) == target  # type: ignore[arg-type]


# --- DW201: what the build may add unseen ----------------------------------------------


def _severities(text: str) -> list[tuple[int | None, str]]:
    return [(f.line, f.severity.name.lower()) for f in text_findings("DW201", text)]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ("", "error"),
        ("RUN echo hi > /etc/motd", "error"),
        ("RUN pip install --no-cache-dir flask==3.0.0", "error"),
        ("COPY install.sh /install.sh\nRUN /install.sh", "info"),
        ("RUN ./scripts/setup", "info"),
        ("RUN sh /tmp/bootstrap.sh", "info"),
        ("RUN curl -fsSL https://example.com/get | sh", "info"),
        ("RUN apt-get update && apt-get install -y $RUNTIME_PACKAGES", "info"),
        ("RUN xargs apt-get install -y < packages.txt", "info"),
        ("RUN ./configure && make && make install", "info"),
        ("RUN /usr/local/bin/install-php-extensions gd", "info"),
        ("COPY rootfs/ /", "info"),
        ("COPY app.py /usr/local/bin/app.py", "error"),
    ],
)
def test_dw201_unseen_installers_make_it_info(build: str, expected: str) -> None:
    text = f"FROM python:3.11-slim\n{build}\nHEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1\n"
    line = text.count("\n")
    assert _severities(text) == [(line, expected)]


def test_dw201_could_not_verify_message_names_the_step() -> None:
    text = "FROM python:3.11-slim\nRUN /install.sh\nHEALTHCHECK CMD curl -f http://localhost/\n"
    (finding,) = text_findings("DW201", text)
    assert "could not verify" in finding.message and "/install.sh" in finding.message
    assert "line 2" in finding.message


def test_dw202_kubernetes_probes_check_the_service(tmp_path: Path) -> None:
    deployment = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: myapp
        spec:
          selector:
            matchLabels: {app: myapp}
          template:
            metadata:
              labels: {app: myapp}
            spec:
              containers:
                - name: myapp
                  image: ghcr.io/example/myapp:1.0
                  %s
    """
    probe = "livenessProbe: {httpGet: {path: /healthz, port: 8000}}"
    dockerfile = 'FROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n'
    with_probe = {"myapp/Dockerfile": dockerfile, "deploy/deployment.yaml": deployment % probe}
    assert folder_hits("DW202", with_probe, tmp_path / "a") == []
    without = {"myapp/Dockerfile": dockerfile, "deploy/deployment.yaml": deployment % ""}
    assert folder_hits("DW202", without, tmp_path / "b") == [("myapp/Dockerfile", 1)]


def test_dw202_onbuild_base_image_is_not_a_service() -> None:
    text = "FROM node:20-slim\nONBUILD COPY . /app\nONBUILD RUN npm ci\nCMD node main.js\n"
    assert hits("DW202", text) == []
    assert hits("DW202", "FROM node:20-slim\nCOPY . /app\nCMD node main.js\n") == [1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('FROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n', "warning"),
        ('FROM python:3.11-slim\nEXPOSE 8080\nCMD ["python", "main.py"]\n', "warning"),
        ('FROM python:3.11-slim\nCMD ["python", "manage.py", "runserver", "0:8000"]\n', "warning"),
        # nothing says it serves: a worker, a batch job, a CLI
        ('FROM python:3.11-slim\nCMD ["python", "worker.py"]\n', "info"),
        ("FROM ubuntu:22.04\nCMD crunch -c 2\n", "info"),
    ],
)
def test_dw202_severity_follows_what_the_image_is(text: str, expected: str) -> None:
    assert [f.severity.name.lower() for f in text_findings("DW202", text)] == [expected]


def test_dw202_kubernetes_next_to_it_is_info(tmp_path: Path) -> None:
    deployment = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: example.com/other-name:1.0
    """
    files = {
        "svc/app/Dockerfile": 'FROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n',
        "svc/k8s/deployment.yaml": deployment,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    project = load_project(tmp_path, Config(select=("DW202",)))
    outcome = check_project(project, [rule_by_id("DW202")])
    (finding,) = outcome.findings
    assert finding.severity.name == "INFO" and "svc/k8s/deployment.yaml" in finding.message


def test_dw202_generated_image_variant_is_info() -> None:
    text = (
        '#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA "apply-templates.sh"\n#\n'
        "# PLEASE DO NOT EDIT IT DIRECTLY.\n#\n\nFROM debian:bookworm-slim\nEXPOSE 6379\n"
        'CMD ["redis-server"]\n'
    )
    assert [f.severity.name for f in text_findings("DW202", text)] == ["INFO"]


def test_parse_duration_is_linear_on_digit_runs() -> None:
    # issue 6: HEALTHCHECK --interval=<60,000 digits> took minutes (finditer rescanned)
    assert parse_duration("9" * 200_000) is None
    assert parse_duration("1s" * 50_000) == 50_000.0
