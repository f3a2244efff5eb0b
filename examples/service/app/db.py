"""The notes table on SQLite (a file on a volume, the default) or PostgreSQL (pg8000).

One short-lived connection per call: simple, and a database that went away is seen at the
next call instead of through a stale pooled connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

CONNECT_TIMEOUT = 2.0

_SCHEMA = {
    "sqlite": "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " title TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS notes (id BIGSERIAL PRIMARY KEY,"
    " title TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL)",
}


class Database:
    def __init__(self, url: str, password: str | None = None) -> None:
        self.url = url
        self.kind = "sqlite" if url.startswith("sqlite:") else "postgresql"
        self._password = password
        self._schema_ready = False
        self._lock = threading.Lock()

    def describe(self) -> str:
        """The database without credentials, for the start-up log line."""
        if self.kind == "sqlite":
            return self.url
        parts = urlsplit(self.url)
        return f"postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}"

    def _connect(self) -> Any:
        if self.kind == "sqlite":
            path = self.url.removeprefix("sqlite:///")
            # mode=rwc creates the file but never its folder: a missing volume is an error
            return sqlite3.connect(f"file:{path}?mode=rwc", uri=True, timeout=CONNECT_TIMEOUT)
        import pg8000.dbapi

        parts = urlsplit(self.url)
        return pg8000.dbapi.connect(
            user=unquote(parts.username or "postgres"),
            password=self._password,
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            database=parts.path.lstrip("/") or None,
            timeout=CONNECT_TIMEOUT,
        )

    def _sql(self, statement: str) -> str:
        return statement if self.kind == "sqlite" else statement.replace("?", "%s")

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        connection = self._connect()
        try:
            if not self._schema_ready:
                with self._lock:
                    connection.cursor().execute(_SCHEMA[self.kind])
                    connection.commit()
                    self._schema_ready = True
            cursor = connection.cursor()
            yield cursor
            connection.commit()
        finally:
            connection.close()

    def ping(self) -> None:
        """Raises when the database does not answer."""
        with self._cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def add(self, title: str, body: str) -> dict[str, Any]:
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._cursor() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO notes (title, body, created_at) VALUES (?, ?, ?) RETURNING id"
                ),
                (title, body, created),
            )
            (note_id,) = cursor.fetchone()
        return {"id": note_id, "title": title, "body": body, "created_at": created}

    def list(self, limit: int) -> list[dict[str, Any]]:
        with self._cursor() as cursor:
            cursor.execute(
                self._sql("SELECT id, title, body, created_at FROM notes ORDER BY id LIMIT ?"),
                (limit,),
            )
            return [_note(row) for row in cursor.fetchall()]

    def get(self, note_id: int) -> dict[str, Any] | None:
        with self._cursor() as cursor:
            cursor.execute(
                self._sql("SELECT id, title, body, created_at FROM notes WHERE id = ?"), (note_id,)
            )
            row = cursor.fetchone()
        return _note(row) if row else None

    def delete(self, note_id: int) -> bool:
        with self._cursor() as cursor:
            cursor.execute(self._sql("DELETE FROM notes WHERE id = ?"), (note_id,))
            return bool(cursor.rowcount)


def _note(row: Any) -> dict[str, Any]:
    return {"id": row[0], "title": row[1], "body": row[2], "created_at": row[3]}
