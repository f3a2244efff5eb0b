"""Edge cases of the logging rules (DW301-DW304)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruletest import folder_hits, hits

from dockwise.rules.logging import python_entrypoint
from dockwise.sources.dockerfile import parse_dockerfile

# --- DW301 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('CMD ["gunicorn", "--access-logfile", "/var/log/access.log", "app:app"]', [2]),
        ('CMD ["gunicorn", "--error-logfile=/var/log/error.log", "app:app"]', [2]),
        ('CMD ["gunicorn", "--log-file", "app.log", "app:app"]', [2]),
        ('CMD ["gunicorn", "--access-logfile", "-", "--error-logfile", "-", "app:app"]', []),
        ('CMD ["gunicorn", "--access-logfile", "/dev/stdout", "app:app"]', []),
        ('CMD ["celery", "-A", "proj", "worker", "--logfile=/var/log/celery.log"]', [2]),
        ('CMD ["celery", "-A", "proj", "worker", "-f", "/var/log/celery.log"]', [2]),
        ('CMD ["celery", "-A", "proj", "worker", "-l", "info"]', []),
        ('CMD ["uvicorn", "--log-config", "logging.yaml", "app:app"]', []),
        ('CMD ["python", "app.py", "--log-file=/var/log/app.log"]', [2]),
        ('CMD ["sh", "-c", "exec gunicorn app:app >> /var/log/app.log 2>&1"]', [2]),
        ('CMD ["sh", "-c", "exec gunicorn app:app 2>&1"]', []),
        ("CMD python app.py > /var/log/app.log 2>&1", [2]),
        ("CMD python app.py > /dev/stdout", []),
        ("CMD python app.py &> /var/log/app.log", [2]),
        ("CMD python app.py 2>/var/log/app.err", [2]),
        ("CMD python app.py 2>&1 | tee -a /dev/stderr", []),
        ('CMD echo "tip: python app.py > /var/log/app.log"; exec python app.py', []),
        ('CMD if [ -n "$X" ]; then exec python a.py >> /var/log/a.log; fi', [2]),
        ("ENV LOG_FILE=/var/log/app.log", [2]),
        ("ENV APP_LOG_FILE=/var/log/app.log", [2]),
        ("ENV LOG_PATH=/srv/logs", [2]),
        ("ENV LOG_FILE=/dev/stdout", []),
        ("ENV LOG_FILE=-", []),
        ("ENV LOG_LEVEL=info", []),
        ('ENV GUNICORN_CMD_ARGS="--access-logfile /var/log/a.log --workers 2"', [2]),
        ('ENV GUNICORN_CMD_ARGS="--access-logfile - --workers 2"', []),
        ("RUN echo 'accesslog = \"/var/log/gunicorn/access.log\"' >> /app/gunicorn.conf.py", [2]),
        ("RUN echo 'accesslog = \"-\"' >> /app/gunicorn.conf.py", []),
        # rendering a config file before starting the service is not logging
        (
            "CMD envsubst < /tpl/nginx.conf > /etc/nginx/nginx.conf && exec nginx -g 'daemon off;'",
            [],
        ),
        ("CMD sed -e s/A/$B/ page.html > index.html ; nginx -g 'daemon off;'", []),
        ("CMD python render.py > /app/settings.py && exec gunicorn app:app", []),
        ("CMD ./migrate > /tmp/migrate.out; gunicorn app:app > /var/log/app.log 2>&1", [2]),
        ("CMD nginx > /var/log/nginx.out 2>&1 & exec python worker.py", [2]),
    ],
)
def test_dw301(line: str, expected: list[int]) -> None:
    assert hits("DW301", f"FROM python:3.11-slim\n{line}\n") == expected


def test_dw301_heredoc_config() -> None:
    text = """\
        FROM python:3.11-slim
        COPY <<EOF /etc/supervisor/conf.d/app.conf
        [program:app]
        command=gunicorn app:app
        stdout_logfile=/var/log/app.out.log
        EOF
    """
    assert hits("DW301", text) == [2]


def test_dw301_heredoc_config_to_stdout_is_fine() -> None:
    text = """\
        FROM python:3.11-slim
        COPY <<EOF /etc/supervisor/conf.d/app.conf
        [program:app]
        stdout_logfile=/dev/stdout
        stdout_logfile_maxbytes=0
        EOF
    """
    assert hits("DW301", text) == []


def test_dw301_builder_stage_is_not_judged() -> None:
    text = """\
        FROM python:3.11-slim AS builder
        ENV LOG_FILE=/tmp/build.log
        RUN pip wheel --no-cache-dir -w /wheels -r requirements.txt > /tmp/pip.log
        FROM python:3.11-slim
        CMD ["gunicorn", "--access-logfile", "-", "app:app"]
    """
    assert hits("DW301", text) == []


def test_dw301_env_inherited_from_parent_stage() -> None:
    text = """\
        FROM python:3.11-slim AS base
        ENV LOG_FILE=/var/log/app.log
        FROM base
        CMD ["python", "app.py"]
    """
    assert hits("DW301", text) == [2]


def test_dw301_variable_resolved_path() -> None:
    text = """\
        FROM python:3.11-slim
        ARG LOGS=/var/log
        CMD ["gunicorn", "--access-logfile", "$LOGS/a.log", "app:app"]
    """
    # exec form does not expand variables: the literal "$LOGS/a.log" is unknown, not reported
    assert hits("DW301", text) == []


# --- DW302 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("VOLUME /var/log", [2]),
        ('VOLUME ["/data", "/var/log/nginx"]', [2]),
        ("VOLUME /app/logs", [2]),
        ("VOLUME /data /srv/uploads", []),
        ("VOLUME /var/lib/postgresql/data", []),
        ("VOLUME /catalog", []),
    ],
)
def test_dw302(line: str, expected: list[int]) -> None:
    assert hits("DW302", f"FROM python:3.11-slim\n{line}\n") == expected


def test_dw302_variable_expanded() -> None:
    assert hits("DW302", "FROM python:3.11-slim\nENV LOG_DIR=/var/log/app\nVOLUME $LOG_DIR\n") == [
        3
    ]


# --- DW303 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('CMD ["python", "app.py"]', [2]),
        ('CMD ["python3.12", "-m", "app"]', [2]),
        ('CMD ["gunicorn", "app:app"]', [2]),
        ('CMD ["uvicorn", "app:app"]', [2]),
        ('CMD ["python", "manage.py", "runserver"]', [2]),
        ('CMD ["./manage.py", "runserver"]', [2]),
        ('CMD ["python", "-u", "app.py"]', []),
        ('CMD ["python", "-Bu", "app.py"]', []),
        ('CMD ["python", "app.py", "-u"]', [2]),
        ('ENV PYTHONUNBUFFERED=1\nCMD ["python", "app.py"]', []),
        ('ENV PYTHONUNBUFFERED=0\nCMD ["python", "app.py"]', []),
        ('ENV PYTHONUNBUFFERED=""\nCMD ["python", "app.py"]', [3]),
        ('ARG PYTHONUNBUFFERED=1\nCMD ["python", "app.py"]', [3]),
        ("CMD PYTHONUNBUFFERED=1 python app.py", []),
        ('ENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]', [3]),
        ('CMD ["node", "server.js"]', []),
        ('CMD ["./server"]', []),
    ],
)
def test_dw303(lines: str, expected: list[int]) -> None:
    assert hits("DW303", f"FROM python:3.11-slim\n{lines}\n") == expected


def test_dw303_env_from_parent_stage() -> None:
    text = """\
        FROM python:3.11-slim AS base
        ENV PYTHONUNBUFFERED=1
        FROM base
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW303", text) == []


def test_dw303_env_in_builder_does_not_count() -> None:
    text = """\
        FROM python:3.11-slim AS builder
        ENV PYTHONUNBUFFERED=1
        FROM python:3.11-slim
        CMD ["gunicorn", "app:app"]
    """
    assert hits("DW303", text) == [4]


def test_dw303_compose_environment(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nCMD ["python", "app.py"]\n',
        "compose.yaml": """\
            services:
              app:
                build: .
                environment:
                  - PYTHONUNBUFFERED=1
        """,
    }
    assert folder_hits("DW303", files, tmp_path) == []


def test_dw303_uwsgi() -> None:
    assert hits("DW303", 'FROM python:3.11-slim\nCMD ["uwsgi", "--ini", "uwsgi.ini"]\n') == [2]
    text = 'FROM python:3.11-slim\nENV PYTHONUNBUFFERED=1\nCMD ["uwsgi", "--ini", "uwsgi.ini"]\n'
    assert hits("DW303", text) == []


@pytest.mark.parametrize(
    ("cmd", "script", "expected"),
    [
        (
            'CMD ["sh", "start.sh"]',
            "#!/bin/sh\npython manage.py migrate\nexec gunicorn app:app\n",
            [4],
        ),
        ("CMD ./start.sh", "#!/bin/bash\nset -e\nexec python -m app\n", [4]),
        ('CMD ["bash", "/app/start.sh"]', "#!/bin/bash\nexec uwsgi --ini app.ini\n", [4]),
        (
            'CMD ["sh", "start.sh"]',
            "#!/bin/sh\nexport PYTHONUNBUFFERED=1\nexec gunicorn app:app\n",
            [],
        ),
        ('CMD ["sh", "start.sh"]', "#!/bin/sh\nexec python -u app.py\n", []),
        ('CMD ["sh", "start.sh"]', "#!/bin/sh\nexec node server.js\n", []),
    ],
)
def test_dw303_script_that_starts_python(
    tmp_path: Path, cmd: str, script: str, expected: list[int]
) -> None:
    files = {
        "Dockerfile": f"FROM python:3.11-slim\nWORKDIR /app\nCOPY start.sh /app/start.sh\n{cmd}\n",
        "start.sh": script,
    }
    assert folder_hits("DW303", files, tmp_path) == [("Dockerfile", line) for line in expected]


def test_python_entrypoint_helper() -> None:
    dockerfile = parse_dockerfile(
        'FROM python:3.11-slim\nENTRYPOINT ["tini", "--"]\nCMD ["gunicorn", "app:app"]\n'
    )
    found = python_entrypoint(dockerfile)
    assert found is not None and found.cmd == "CMD" and found.start_line == 3
    assert python_entrypoint(parse_dockerfile('FROM node:20\nCMD ["node", "x.js"]\n')) is None


# --- DW304 --------------------------------------------------------------------------


def test_dw304_installed_nginx_without_links() -> None:
    text = """\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y nginx && rm -rf /var/lib/apt/lists/*
        CMD ["nginx", "-g", "daemon off;"]
    """
    assert hits("DW304", text) == [2]


def test_dw304_only_error_log_missing() -> None:
    text = """\
        FROM alpine:3.19
        RUN apk add --no-cache nginx && ln -sf /dev/stdout /var/log/nginx/access.log
    """
    assert hits("DW304", text) == [2]


def test_dw304_official_image_is_fine() -> None:
    assert hits("DW304", "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\n") == []


def test_dw304_heredoc_config_logging_to_stdout() -> None:
    text = """\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y nginx
        COPY <<EOF /etc/nginx/conf.d/default.conf
        access_log /dev/stdout;
        error_log /dev/stderr;
        EOF
    """
    assert hits("DW304", text) == []


def test_dw304_unreadable_copied_config_is_unknown() -> None:
    text = """\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y nginx
        COPY nginx.conf /etc/nginx/nginx.conf
    """
    assert hits("DW304", text) == []


def test_dw304_reads_copied_config(tmp_path: Path) -> None:
    dockerfile = """\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y nginx
        COPY nginx.conf /etc/nginx/nginx.conf
    """
    bad = {"Dockerfile": dockerfile, "nginx.conf": "access_log /var/log/nginx/access.log;\n"}
    assert folder_hits("DW304", bad, tmp_path) == [("Dockerfile", 2)]


def test_dw304_builder_nginx_is_not_judged() -> None:
    text = """\
        FROM debian:bookworm-slim AS builder
        RUN apt-get update && apt-get install -y nginx
        FROM python:3.11-slim
    """
    assert hits("DW304", text) == []
