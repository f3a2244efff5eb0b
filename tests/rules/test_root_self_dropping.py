"""DW801: a database server that drops root itself (mysqld, mariadbd, postgres) is info."""

from __future__ import annotations

from pathlib import Path

from health_projects import run

from dockwise.findings import Severity

MYSQL = """FROM ubuntu:22.04
RUN groupadd -r mysql && useradd -r -g mysql mysql \\
    && apt-get update && apt-get install -y --no-install-recommends mysql-server \\
    && rm -rf /var/lib/apt/lists/*
COPY docker-entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
EXPOSE 3306
CMD ["{program}"]
"""


def _dw801(tmp_path: Path, program: str) -> list[tuple[Severity, str]]:
    (tmp_path / "Dockerfile").write_text(MYSQL.format(program=program))
    (tmp_path / "docker-entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    return [(f.severity, f.message) for f in run(tmp_path, "DW801")]


def test_mysqld_and_postgres_drop_root_themselves(tmp_path: Path) -> None:
    for program in ("mysqld", "/usr/sbin/mariadbd", "postgres"):
        [(severity, message)] = _dw801(tmp_path, program)
        assert severity == Severity.INFO
        assert f"it starts {program.rsplit('/', 1)[-1]}" in message


def test_another_server_as_root_still_warns(tmp_path: Path) -> None:
    [(severity, _)] = _dw801(tmp_path, "myserver")
    assert severity == Severity.WARNING
