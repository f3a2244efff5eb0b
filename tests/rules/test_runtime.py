"""Edge cases of the runtime rules (DW601-DW607)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruletest import folder_hits, hits, text_findings

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import load_project, project_from_text
from dockwise.rules import rule_by_id
from dockwise.rules.runtime import missing_exec, signal_name, starts_background_jobs

# --- DW601 (shell form) ------------------------------------------------------------------


def test_dw601_builder_stage_is_not_judged() -> None:
    text = 'FROM python:3.11-slim AS builder\nCMD pytest\nFROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n'
    assert hits("DW601", text) == []


def _severities(rule_id: str, text: str) -> list[tuple[int | None, str]]:
    return [(f.line, f.severity.name.lower()) for f in text_findings(rule_id, text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # dash (Debian, Ubuntu and the official images built on them) forks and stays PID 1
        ("FROM python:3.11-slim\nCMD python /app/app.py\n", [(2, "warning")]),
        ("FROM ubuntu:22.04\nENTRYPOINT crunch -c 2\n", [(2, "warning")]),
        ("FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nCMD python3 /app.py\n", [(2, "warning")]),
        # busybox ash execs a lone command, and the last one of a plain list
        ("FROM python:3.11-alpine\nCMD python /app/app.py\n", []),
        ("FROM alpine:3.19\nCMD cd /app && ./server\n", []),
        ("FROM alpine:3.19\nCMD ./migrate | tee /dev/null && ./server\n", []),
        ("FROM alpine:3.19\nCMD ./worker & ./server\n", []),
        ("FROM alpine:3.19\nCMD ./server | tee /tmp/out\n", [(2, "warning")]),
        ("FROM alpine:3.19\nCMD for i in 1 2; do ./server; done\n", [(2, "warning")]),
        # bash execs a lone simple command, not a list
        ('FROM python:3.11-slim\nSHELL ["/bin/bash", "-c"]\nCMD python /app/app.py\n', []),
        ("FROM rockylinux:9\nCMD /usr/sbin/httpd -DFOREGROUND\n", []),
        (
            'FROM python:3.11-slim\nSHELL ["/bin/bash", "-c"]\nCMD cd /app && python app.py\n',
            [(3, "warning")],
        ),
        # an explicit exec settles it on every shell
        ("FROM python:3.11-slim\nCMD exec gunicorn --bind :$PORT app:app\n", []),
        # unknown base: could not verify, at info
        ("FROM example.com/team/base:1.0\nCMD python /app/app.py\n", [(2, "info")]),
        ("ARG BASE\nFROM $BASE\nCMD python /app/app.py\n", [(3, "info")]),
        # no shell at all: the command cannot even start
        ("FROM gcr.io/distroless/python3-debian12\nCMD python3 /app.py\n", [(2, "warning")]),
        # Windows images run cmd or PowerShell
        (
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
            'SHELL ["powershell", "-Command"]\nCMD .\\start.ps1\n',
            [],
        ),
    ],
)
def test_dw601_judges_the_shell_the_image_has(text: str, expected: list[tuple[int, str]]) -> None:
    assert _severities("DW601", text) == expected


def test_dw601_messages_name_the_shell() -> None:
    (message,) = [
        f.message for f in text_findings("DW601", "FROM python:3.11-slim\nCMD python a.py\n")
    ]
    assert "dash" in message and "python:3.11-slim" in message
    (message,) = [f.message for f in text_findings("DW601", "FROM x.io/y:1\nCMD python a.py\n")]
    assert "could not verify" in message


# --- DW602 ------------------------------------------------------------------------------


ENTRYPOINT_DOCKERFILE = """\
    FROM python:3.11-slim
    WORKDIR /app
    COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
    ENTRYPOINT ["docker-entrypoint.sh"]
    CMD ["gunicorn", "app:app"]
"""


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('#!/bin/sh\nset -e\npython manage.py migrate\n"$@"\n', [("Dockerfile", 4)]),
        ("#!/bin/bash\npython manage.py migrate\ngunicorn app:app\n", [("Dockerfile", 4)]),
        ('#!/bin/sh\nset -e\npython manage.py migrate\nexec "$@"\n', []),
        ('#!/bin/sh\nif [ -n "$DEBUG" ]; then\n  exec flask run\nfi\nexec gosu app "$@"\n', []),
        (
            "#!/bin/sh\n# exec is mentioned in a comment only\ngunicorn app:app\n",
            [("Dockerfile", 4)],
        ),
        ("#!/bin/sh\ntrap 'kill -TERM $PID' TERM\ngunicorn app:app &\nPID=$!\nwait $PID\n", []),
        ("#!/usr/bin/env python3\nimport os\nos.execvp('gunicorn', ['gunicorn'])\n", []),
        ("#!/bin/sh\nexec >/proc/1/fd/1\ngunicorn app:app\n", [("Dockerfile", 4)]),
    ],
)
def test_dw602_script_from_context(
    script: str, expected: list[tuple[str, int]], tmp_path: Path
) -> None:
    files = {"Dockerfile": ENTRYPOINT_DOCKERFILE, "docker/entrypoint.sh": script}
    assert folder_hits("DW602", files, tmp_path) == expected


def test_dw602_heredoc_script() -> None:
    text = """\
        FROM python:3.11-slim
        COPY --chmod=755 <<EOF /entrypoint.sh
        #!/bin/sh
        python manage.py migrate
        gunicorn app:app
        EOF
        ENTRYPOINT ["/entrypoint.sh"]
    """
    assert hits("DW602", text) == [7]


def test_dw602_heredoc_script_with_exec() -> None:
    text = """\
        FROM python:3.11-slim
        COPY --chmod=755 <<EOF /entrypoint.sh
        #!/bin/sh
        python manage.py migrate
        exec gunicorn app:app
        EOF
        ENTRYPOINT ["/entrypoint.sh"]
    """
    assert hits("DW602", text) == []


def test_dw602_relative_destination_uses_workdir(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.11-slim
            WORKDIR /app
            COPY entrypoint.sh .
            ENTRYPOINT ["./entrypoint.sh"]
        """,
        "entrypoint.sh": "#!/bin/sh\ngunicorn app:app\n",
    }
    assert folder_hits("DW602", files, tmp_path) == [("Dockerfile", 4)]


def test_dw602_script_run_through_sh(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nCOPY start.sh /start.sh\nENTRYPOINT ["tini", "--", "sh", "/start.sh"]\n',
        "start.sh": "gunicorn app:app\n",
    }
    assert folder_hits("DW602", files, tmp_path) == [("Dockerfile", 3)]


def test_dw602_script_from_other_stage_is_unknown() -> None:
    text = """\
        FROM python:3.11-slim AS builder
        RUN printf 'gunicorn app:app\\n' > /entrypoint.sh
        FROM python:3.11-slim
        COPY --from=builder /entrypoint.sh /entrypoint.sh
        ENTRYPOINT ["/entrypoint.sh"]
    """
    assert hits("DW602", text) == []


def test_dw602_missing_file_is_unknown(tmp_path: Path) -> None:
    files = {"Dockerfile": ENTRYPOINT_DOCKERFILE}
    assert folder_hits("DW602", files, tmp_path) == []


def test_missing_exec_reasons() -> None:
    assert missing_exec('"$@"\n') == 'runs "$@" without exec'
    assert missing_exec("gunicorn app\n") == "never execs the service"
    assert missing_exec('set -e; exec "$@"') is None


# --- DW603 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('CMD ["celery", "-A", "proj", "worker"]', [2]),
        ('CMD ["gunicorn", "--workers", "4", "app:app"]', [2]),
        ('CMD ["python", "-m", "gunicorn", "app:app"]', [2]),
        ('CMD ["sh", "-c", "celery -A proj beat & exec celery -A proj worker"]', [2]),
        ('CMD ["uvicorn", "app:app"]', []),
        ('CMD ["supervisord", "-n"]', []),
        ('ENTRYPOINT ["tini", "--"]\nCMD ["celery", "-A", "proj", "worker"]', []),
        ('ENTRYPOINT ["/usr/bin/dumb-init", "--"]\nCMD ["gunicorn", "app:app"]', []),
        ('ENTRYPOINT ["/sbin/tini", "-g", "--", "gunicorn", "app:app"]', []),
    ],
)
def test_dw603(lines: str, expected: list[int]) -> None:
    assert hits("DW603", f"FROM python:3.11-slim\n{lines}\n") == expected


def test_dw603_compose_init(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nCMD ["celery", "-A", "proj", "worker"]\n',
        "compose.yaml": "services:\n  worker:\n    build: .\n    init: true\n",
    }
    assert folder_hits("DW603", files, tmp_path) == []


def test_dw603_entrypoint_script_with_background_jobs(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nCOPY run.sh /run.sh\nENTRYPOINT ["/run.sh"]\n',
        "run.sh": "#!/bin/sh\npython worker.py &\nexec gunicorn app:app\n",
    }
    assert folder_hits("DW603", files, tmp_path) == [("Dockerfile", 3)]


def test_background_detection() -> None:
    assert starts_background_jobs("worker &\nexec web")
    assert not starts_background_jobs("a && b\nexec c 2>&1")
    assert starts_background_jobs("./worker & ./server")
    assert not starts_background_jobs("# run & forget\nexec c")


# --- DW604 / DW605 ----------------------------------------------------------------------


def test_dw604_per_stage() -> None:
    text = """\
        FROM python:3.11-slim AS builder
        CMD ["a"]
        FROM python:3.11-slim
        CMD ["b"]
        CMD ["c"]
        CMD ["d"]
    """
    assert hits("DW604", text) == [5, 6]


def test_dw604_onbuild_cmd_is_not_counted() -> None:
    assert hits("DW604", 'FROM python:3.11-slim\nONBUILD CMD ["a"]\nCMD ["b"]\n') == []


def test_dw605() -> None:
    text = 'FROM python:3.11-slim\nENTRYPOINT ["a"]\nCMD ["x"]\nENTRYPOINT ["b"]\n'
    assert hits("DW605", text) == [4]


# --- DW606 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("STOPSIGNAL SIGKILL", [2]),
        ("STOPSIGNAL 9", [2]),
        ("STOPSIGNAL kill", [2]),
        ("STOPSIGNAL SIGSTOP", [2]),
        ("STOPSIGNAL SIGFOO", [2]),
        ('STOPSIGNAL SIGINT\nCMD ["gunicorn", "app:app"]', [2]),
        ('STOPSIGNAL SIGQUIT\nCMD ["celery", "-A", "proj", "worker"]', [2]),
        ('STOPSIGNAL SIGINT\nCMD ["uvicorn", "app:app"]', []),
        ('STOPSIGNAL SIGQUIT\nCMD ["nginx", "-g", "daemon off;"]', []),
        ("STOPSIGNAL SIGTERM", []),
        ("STOPSIGNAL SIGRTMIN+3", []),
        ("ARG SIG=SIGTERM\nSTOPSIGNAL $SIG", []),
    ],
)
def test_dw606(lines: str, expected: list[int]) -> None:
    assert hits("DW606", f"FROM python:3.11-slim\n{lines}\n") == expected


def test_dw606_inherited_stop_signal() -> None:
    text = 'FROM python:3.11-slim AS base\nSTOPSIGNAL SIGKILL\nFROM base\nCMD ["gunicorn", "app:app"]\n'
    assert hits("DW606", text) == [2]


def test_signal_names() -> None:
    assert signal_name("SIGTERM") == "TERM"
    assert signal_name("15") == "TERM"
    assert signal_name("sigquit") == "QUIT"
    assert signal_name("nope") is None


# --- DW607 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('CMD ["sh", "-c", "gunicorn --bind 0.0.0.0:$PORT app:app"]', [2]),
        ('CMD ["/bin/bash", "-ec", "python manage.py migrate && gunicorn app:app"]', [2]),
        ('CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:$PORT app:app"]', []),
        ('CMD ["sh", "-c", "python manage.py migrate && exec gunicorn app:app"]', []),
        ('ENTRYPOINT ["tini", "--", "sh", "-c", "gunicorn app:app"]', [2]),
        ('ENTRYPOINT ["/bin/sh", "-c"]\nCMD ["gunicorn app:app"]', [2]),
        ('ENTRYPOINT ["/bin/sh", "-c"]\nCMD ["exec gunicorn app:app"]', []),
        ('CMD ["sh", "/start.sh"]', []),
        ('CMD ["gunicorn", "app:app"]', []),
    ],
)
def test_dw607(lines: str, expected: list[int]) -> None:
    assert hits("DW607", f"FROM python:3.11-slim\n{lines}\n") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # bash execs a lone simple command given to -c
        ('FROM python:3.11-slim\nCMD ["bash", "-c", "/run.sh"]\n', []),
        ('FROM alpine:3.8\nCMD ["/run.sh"]\nENTRYPOINT ["bash", "-c"]\n', []),
        ('FROM python:3.11-slim\nCMD ["bash", "-c", "/run.sh > /tmp/out"]\n', [(2, "warning")]),
        # sh is whatever /bin/sh the image has
        ('FROM python:3.13-alpine\nCMD ["sh", "-c", "uvicorn main:app --port $PORT"]\n', []),
        (
            'FROM python:3.13-slim\nCMD ["sh", "-c", "uvicorn main:app --port $PORT"]\n',
            [(2, "warning")],
        ),
        (
            'FROM example.com/x:1\nCMD ["sh", "-c", "uvicorn main:app --port $PORT"]\n',
            [(2, "info")],
        ),
    ],
)
def test_dw607_judges_the_shell(text: str, expected: list[tuple[int, str]]) -> None:
    assert _severities("DW607", text) == expected


def test_dw607_builder_stage_is_not_judged() -> None:
    text = 'FROM python:3.11-slim AS test\nCMD ["sh", "-c", "pytest -q"]\nFROM python:3.11-slim\nCMD ["gunicorn", "app:app"]\n'
    assert hits("DW607", text) == []


@pytest.mark.parametrize(
    ("command", "base"),
    [
        ('CMD ["python3"]', True),
        ('CMD ["bash"]', True),
        ('CMD ["node"]', True),
        ('CMD ["python3", "-i"]', True),
        ('CMD ["python3", "app.py"]', False),
        ('CMD ["gunicorn", "app:app"]', False),
        ('ENTRYPOINT ["tini", "--"]\nCMD ["bash"]', True),
        ("", False),
    ],
)
def test_base_images_only_start_an_interpreter(command: str, base: bool) -> None:
    from dockwise.rules._commands import is_base_image
    from dockwise.sources.dockerfile import parse_dockerfile

    assert is_base_image(parse_dockerfile(f"FROM debian:bookworm-slim\n{command}\n")) is base


def test_base_image_is_not_asked_for_user_healthcheck_or_unbuffered_output() -> None:

    rules = [rule_by_id(i) for i in ("DW202", "DW303", "DW801")]
    text = 'FROM debian:bookworm-slim\nRUN echo build python here\nCMD ["python3"]\n'
    outcome = check_project(project_from_text(text, Config()), rules)  # type: ignore[arg-type]
    assert outcome.findings == ()
    served = text.replace('["python3"]', '["python3", "-m", "http.server"]')
    found = check_project(project_from_text(served, Config()), rules)  # type: ignore[arg-type]
    assert sorted(f.rule for f in found.findings) == ["DW202", "DW303", "DW801"]


def test_dw601_test_image_is_advice(tmp_path: Path) -> None:
    files = {"tests/Dockerfile": "FROM ubuntu:22.04\nCMD redis-server & tox\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    project = load_project(tmp_path, Config(select=("DW601",)))
    outcome = check_project(project, [rule_by_id("DW601")])
    assert [(f.line, f.severity.name) for f in outcome.findings] == [(2, "INFO")]
