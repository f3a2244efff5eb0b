"""`python -m app` as a process: JSON on stdout, a clear exit on bad configuration, a graceful
end on SIGTERM within SHUTDOWN_TIMEOUT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import SERVICE, TOKEN


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    full = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=SERVICE,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_up(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.communicate()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("service did not answer in 20 s")


def test_missing_secret_is_a_clear_message_and_status_2() -> None:
    process = start({})
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "Traceback" not in out + err
    line = json.loads(out.strip().splitlines()[-1])
    assert line["level"] == "CRITICAL"
    assert "API_TOKEN or API_TOKEN_FILE must be set" in line["message"]


def test_unreadable_secret_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    process = start({"API_TOKEN_FILE": str(tmp_path / "missing")})
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "Traceback" not in out + err
    assert "API_TOKEN_FILE=" in out and "cannot be read" in out


def test_serves_logs_json_and_stops_on_sigterm(tmp_path: Path, free_port: int) -> None:
    secret = tmp_path / "api_token"
    secret.write_text(TOKEN)
    process = start(
        {
            "PORT": str(free_port),
            "API_TOKEN_FILE": str(secret),
            "DATABASE_URL": f"sqlite:///{tmp_path}/notes.db",
            "OTEL_TRACES_EXPORTER": "console",
            "SHUTDOWN_TIMEOUT": "5",
        }
    )
    try:
        wait_until_up(free_port, process)
        base = f"http://127.0.0.1:{free_port}"
        assert httpx.get(f"{base}/ready").json() == {"ready": True}
        auth = {"Authorization": f"Bearer {TOKEN}", "X-Request-ID": "proc-1"}
        assert httpx.post(f"{base}/notes", json={"title": "a"}, headers=auth).status_code == 201
        healthcheck = subprocess.run(
            [sys.executable, "-m", "app.healthcheck"],
            cwd=SERVICE,
            env={**os.environ, "PORT": str(free_port)},
            check=False,
        )
        assert healthcheck.returncode == 0
        process.send_signal(signal.SIGTERM)
        # SHUTDOWN_TIMEOUT is 5 s: it must be gone well before that plus a margin
        out, err = process.communicate(timeout=5 + 5)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # uvicorn re-raises the signal once it has shut down cleanly
    assert process.returncode in (0, -signal.SIGTERM), err
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    logs = [line for line in lines if "level" in line]
    spans = [line for line in lines if "context" in line]
    request = next(line for line in logs if line.get("request_id") == "proc-1")
    assert request["status"] == 201 and request["duration_ms"] >= 0
    assert len(request["trace_id"]) == 32
    assert any(span["context"]["trace_id"] == "0x" + request["trace_id"] for span in spans)
    assert any(line["logger"] == "uvicorn.error" for line in logs)
    assert logs[-1]["message"] == f"Finished server process [{process.pid}]"


def test_traces_go_to_the_otlp_endpoint(tmp_path: Path, free_port: int) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT on: spans are POSTed over OTLP/HTTP (to a loopback
    collector stand-in here) and the log lines carry their trace ids."""
    import http.server
    import threading

    received: list[tuple[str, str, bytes]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append((self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    process = start(
        {
            "PORT": str(free_port),
            "API_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite:///{tmp_path}/notes.db",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
            "OTEL_SERVICE_NAME": "notes-test",
        }
    )
    try:
        wait_until_up(free_port, process)
        httpx.get(f"http://127.0.0.1:{free_port}/ready", headers={"X-Request-ID": "otlp-1"})
        process.send_signal(signal.SIGTERM)  # the shutdown flushes the spans
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        collector.shutdown()
    request = next(
        json.loads(line) for line in out.splitlines() if '"request_id": "otlp-1"' in line
    )
    traces = [body for path, kind, body in received if path == "/v1/traces"]
    assert traces, (received, err)
    assert all(kind == "application/x-protobuf" for _, kind, _ in received)
    # the protobuf carries the service name and the raw 16-byte trace id of the logged request
    assert any(b"notes-test" in body for body in traces)
    assert any(bytes.fromhex(request["trace_id"]) in body for body in traces)
