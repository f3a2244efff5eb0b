"""A small notes API that follows every lesson dockwise checks.

- `/health`: liveness, the process answers (no dependency is asked);
- `/ready`: readiness, the database answers; false once shutdown has begun;
- `/notes`: create, list, read and delete notes (a bearer token, API_TOKEN, is required).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from app.db import Database
from app.logs import request_id
from app.settings import Settings
from app.tracing import configure_tracing

log = logging.getLogger("app")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=10_000)


class Note(NoteIn):
    id: int
    created_at: str


class RequestContext:
    """ASGI middleware: request id (X-Request-ID or a new one), body size cap, one log line
    per request with its status and duration."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            body = await self._read_body(headers, receive)
            if body is None:
                await _too_large(send_with_id, self.max_body_bytes)
            else:
                await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id.reset(token)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes | None:
        """The whole body, or None when it is larger than the cap (declared or streamed)."""
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(send: Send, limit: int) -> None:
    response = JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


router = APIRouter()
_bearer = HTTPBearer(auto_error=False)


def _database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def _authorized(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected: str = request.app.state.settings.api_token
    token = credentials.credentials if credentials else ""
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong bearer token")


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process serves HTTP. Never asks the database."""
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request, response: Response) -> dict[str, object]:
    """Readiness: the database answers, and the service is not shutting down."""
    if request.app.state.draining:
        response.status_code = 503
        return {"ready": False, "reason": "shutting down"}
    try:
        _database(request).ping()
    except Exception as error:
        log.warning("readiness: database not answering: %s", type(error).__name__)
        response.status_code = 503
        return {"ready": False, "reason": f"database: {type(error).__name__}"}
    return {"ready": True}


DatabaseDep = Annotated[Database, Depends(_database)]
notes = APIRouter(prefix="/notes", dependencies=[Depends(_authorized)])


@notes.post("", status_code=201)
def add_note(note: NoteIn, database: DatabaseDep) -> Note:
    return Note(**database.add(note.title, note.body))


@notes.get("")
def list_notes(database: DatabaseDep, limit: int = 100) -> list[Note]:
    return [Note(**row) for row in database.list(max(1, min(limit, 1000)))]


@notes.get("/{note_id}")
def get_note(note_id: int, database: DatabaseDep) -> Note:
    row = database.get(note_id)
    if row is None:
        raise HTTPException(404, "no such note")
    return Note(**row)


@notes.delete("/{note_id}", status_code=204)
def delete_note(note_id: int, database: DatabaseDep) -> Response:
    if not database.delete(note_id):
        raise HTTPException(404, "no such note")
    return Response(status_code=204)


def create_app(settings: Settings, env: Mapping[str, str] | None = None) -> FastAPI:
    """The app for these settings (tests make one per case; `python -m app` one per process)."""
    database = Database(settings.database_url, settings.db_password)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("starting", extra={"database": database.describe(), "port": settings.port})
        try:
            await run_in_threadpool(database.ping)
        except Exception as error:  # the service starts anyway; /ready says it is not ready
            log.warning("database not answering at start: %s", type(error).__name__)
        yield
        if tracer_provider is not None:  # the spans of the last requests
            await run_in_threadpool(tracer_provider.force_flush)
        log.info("stopped")

    app = FastAPI(title="notes", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.database = database
    app.state.draining = False
    app.include_router(router)
    app.include_router(notes)
    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes)
    tracer_provider = configure_tracing(app, env)
    return app
