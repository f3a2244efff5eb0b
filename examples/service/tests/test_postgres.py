"""The notes API on a real PostgreSQL (a throwaway server started here, on loopback)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, password) of a fresh PostgreSQL with password authentication."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
    if not found[-1]:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    # initdb refuses to run as root: as root, the server runs as the postgres account
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="notes-pg-"))
    password = "pg-test-password"
    (root / "pw").write_text(password)
    if owner:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        os.chown(root / "pw", owner.pw_uid, owner.pw_gid)
    port = _free_port()
    data = root / "data"
    run = [*as_user]
    subprocess.run(
        [
            *run,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "notes",
            "--pwfile",
            str(root / "pw"),
            "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *run,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://notes@127.0.0.1:{port}/postgres", password
    finally:
        subprocess.run(
            [*run, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_notes_on_postgres(postgres: tuple[str, str], tmp_path: Path, auth: dict[str, str]) -> None:
    url, password = postgres
    secret = tmp_path / "db_password"
    secret.write_text(password + "\n")
    with make_client(tmp_path, DATABASE_URL=url, DB_PASSWORD_FILE=str(secret)) as client:
        assert client.get("/ready").json() == {"ready": True}
        created = client.post("/notes", json={"title": "on pg", "body": "b"}, headers=auth)
        assert created.status_code == 201
        note = created.json()
        assert client.get(f"/notes/{note['id']}", headers=auth).json() == note
        assert note in client.get("/notes", headers=auth).json()
        assert client.delete(f"/notes/{note['id']}", headers=auth).status_code == 204
        assert client.get(f"/notes/{note['id']}", headers=auth).status_code == 404


def test_wrong_postgres_password_is_not_ready(postgres: tuple[str, str], tmp_path: Path) -> None:
    url, _ = postgres
    with make_client(tmp_path, DATABASE_URL=url, DB_PASSWORD="wrong") as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json()["ready"] is False
        assert "wrong" not in response.text
