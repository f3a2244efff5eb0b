"""Fixtures: an app on a fresh SQLite file, and a free loopback port."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SERVICE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SERVICE))

from app.main import create_app  # noqa: E402
from app.settings import load_settings  # noqa: E402

TOKEN = "test-token-not-a-secret"


def make_client(tmp_path: Path, **env: str) -> TestClient:
    values = {"API_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path}/notes.db", **env}
    return TestClient(create_app(load_settings(values), env=values))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
