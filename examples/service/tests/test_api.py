"""The notes API through httpx (Starlette's TestClient), lifespan included."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_client
from fastapi.testclient import TestClient


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"ready": True}


def test_notes_round_trip(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/notes", json={"title": "milk", "body": "2 l"}, headers=auth)
    assert created.status_code == 201
    note = created.json()
    assert note["title"] == "milk" and note["body"] == "2 l" and note["id"] >= 1
    assert client.get(f"/notes/{note['id']}", headers=auth).json() == note
    assert client.get("/notes", headers=auth).json() == [note]
    assert client.delete(f"/notes/{note['id']}", headers=auth).status_code == 204
    assert client.get(f"/notes/{note['id']}", headers=auth).status_code == 404
    assert client.delete(f"/notes/{note['id']}", headers=auth).status_code == 404


def test_notes_survive_a_restart(tmp_path: Path, auth: dict[str, str]) -> None:
    with make_client(tmp_path) as first:
        first.post("/notes", json={"title": "kept"}, headers=auth)
    with make_client(tmp_path) as second:
        assert [n["title"] for n in second.get("/notes", headers=auth).json()] == ["kept"]


def test_notes_need_the_token(client: TestClient) -> None:
    assert client.get("/notes").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/notes", json={"title": "x"}, headers=wrong).status_code == 401


def test_malformed_json_is_422_with_a_json_answer(client: TestClient, auth: dict[str, str]) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    response = client.post("/notes", content=b'{"title": ', headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_invalid_note_is_422(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/notes", json={"title": ""}, headers=auth).status_code == 422
    assert client.post("/notes", json=["a list"], headers=auth).status_code == 422
    assert client.get("/notes/not-a-number", headers=auth).status_code == 422


def test_oversized_body_is_413(tmp_path: Path, auth: dict[str, str]) -> None:
    with make_client(tmp_path, MAX_BODY_BYTES="1000") as client:
        big = {"title": "big", "body": "x" * 2000}
        response = client.post("/notes", json=big, headers=auth)
        assert response.status_code == 413
        assert "1000 bytes" in response.json()["detail"]
        # streamed without Content-Length: counted as it arrives
        chunks = (b"x" * 300 for _ in range(5))
        streamed = client.post("/notes", content=chunks, headers=auth)
        assert streamed.status_code == 413
        # just under the cap is served
        small = client.post("/notes", json={"title": "ok", "body": "y" * 900}, headers=auth)
        assert small.status_code == 201


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    made = client.get("/health").headers["x-request-id"]
    assert len(made) == 32
    # a header that could forge log lines is replaced, not echoed
    forged = client.get("/health", headers={"X-Request-ID": 'x" injected'})
    assert forged.headers["x-request-id"] != 'x" injected'


def test_database_down_ready_false_health_true(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-volume" / "notes.db"
    with make_client(tmp_path, DATABASE_URL=f"sqlite:///{missing}") as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json() == {"ready": False, "reason": "database: OperationalError"}


def test_postgres_down_ready_false(tmp_path: Path, free_port: int) -> None:
    url = f"postgresql://notes@127.0.0.1:{free_port}/notes"
    with make_client(tmp_path, DATABASE_URL=url, DB_PASSWORD="pw") as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json()["ready"] is False


def test_ready_false_while_draining(client: TestClient) -> None:
    client.app.state.draining = True  # type: ignore[attr-defined]
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "reason": "shutting down"}
    assert client.get("/health").status_code == 200


def test_log_lines_are_json_with_request_id_and_duration(client: TestClient) -> None:
    import logging

    from app.logs import JsonFormatter

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))  # formatted in the request's context

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        client.get("/health", headers={"X-Request-ID": "rid-7"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    entry = json.loads(lines[-1])
    assert entry["message"] == "GET /health 200"
    assert entry["request_id"] == "rid-7"
    assert entry["status"] == 200 and entry["duration_ms"] >= 0
    assert entry["level"] == "INFO" and entry["logger"] == "app"
