"""Server command lines: which server, app, bind, workers, logs and shutdown timeout."""

from __future__ import annotations

import pytest

from dockwise.sources.servercmd import (
    parse_server_command,
    read_gunicorn_config,
    with_gunicorn_config,
)


def test_gunicorn_bind_workers_logs() -> None:
    command = parse_server_command(
        [
            "gunicorn",
            "-b",
            "0.0.0.0:8080",
            "-w",
            "4",
            "--access-logfile",
            "/var/log/app/access.log",
            "--error-logfile",
            "-",
            "--graceful-timeout",
            "25",
            "app.main:app",
        ]
    )
    assert command is not None
    assert (command.server, command.app) == ("gunicorn", "app.main:app")
    assert (command.host, command.port, command.workers) == ("0.0.0.0", 8080, 4)
    assert command.log_files() == [("access log", "/var/log/app/access.log")]
    assert command.graceful_timeout == 25.0


def test_uvicorn_defaults_to_loopback_port_8000() -> None:
    command = parse_server_command(["uvicorn", "pkg.api:app"])
    assert command is not None
    assert (command.effective_host, command.effective_port) == ("127.0.0.1", 8000)


def test_python_dash_m_and_equals_options() -> None:
    command = parse_server_command(
        ["python", "-m", "uvicorn", "app:app", "--host=0.0.0.0", "--port=9000", "--no-access-log"]
    )
    assert command is not None
    assert (command.host, command.port, command.access_log) == ("0.0.0.0", 9000, None)


def test_variables_make_the_bind_unknown() -> None:
    command = parse_server_command(["gunicorn", "-b", "0.0.0.0:$PORT", "app:app"])
    assert command is not None
    assert command.effective_port is None and command.has_variables


@pytest.mark.parametrize(
    ("argv", "host", "port", "socket"),
    [
        (["uwsgi", "--http", ":8000", "--module", "app.wsgi"], "0.0.0.0", 8000, None),
        (
            ["uwsgi", "--socket", "/tmp/app.sock", "--module", "app.wsgi"],
            None,
            None,
            "/tmp/app.sock",
        ),
        (["hypercorn", "--bind", "[::]:8000", "app:app"], "::", 8000, None),
        (["gunicorn", "--bind", "unix:/run/app.sock", "app:app"], None, None, "/run/app.sock"),
        (["daphne", "-b", "0.0.0.0", "-p", "8001", "proj.asgi:application"], "0.0.0.0", 8001, None),
        (["granian", "--interface", "asgi", "--host", "0.0.0.0", "app:app"], "0.0.0.0", None, None),
    ],
)
def test_binds(argv: list[str], host: str | None, port: int | None, socket: str | None) -> None:
    command = parse_server_command(argv)
    assert command is not None
    assert (command.host, command.port, command.unix_socket) == (host, port, socket)


def test_not_a_server() -> None:
    assert parse_server_command(["python", "app.py"]) is None
    assert parse_server_command([]) is None


def test_uwsgi_logto_is_a_log_file() -> None:
    command = parse_server_command(["uwsgi", "--http", ":80", "--logto", "/var/log/uwsgi.log"])
    assert command is not None and ("error log", "/var/log/uwsgi.log") in command.log_files()


def test_gunicorn_config_file_fills_what_the_command_line_leaves_open() -> None:
    settings = read_gunicorn_config(
        'bind = "0.0.0.0:5000"\nworkers = 3\naccesslog = "/var/log/a.log"\n'
        "graceful_timeout = 20\nerrorlog = compute()\n"
    )
    assert settings["errorlog"] is None
    command = parse_server_command(["gunicorn", "-c", "gunicorn.conf.py", "-w", "8", "app:app"])
    assert command is not None and command.effective_port is None  # the config file decides
    merged = with_gunicorn_config(command, settings)
    assert (merged.host, merged.port, merged.workers) == ("0.0.0.0", 5000, 8)
    assert merged.access_log == "/var/log/a.log" and merged.graceful_timeout == 20.0


def test_gunicorn_config_never_runs_code_and_survives_garbage() -> None:
    assert read_gunicorn_config("def (:\n") == {}
    assert read_gunicorn_config("bind = os.environ['BIND']\n") == {"bind": None}


@pytest.mark.parametrize("graceful", [10**400, -(10**400), float("inf"), True])
def test_config_timeouts_no_float_holds_are_unknown(graceful: object) -> None:
    # issue 6: `graceful_timeout = 999...` (400 digits) in gunicorn.conf.py raised OverflowError
    command = parse_server_command(["gunicorn", "app:app"])
    assert command is not None
    assert with_gunicorn_config(command, {"graceful_timeout": graceful}).graceful_timeout is None
    source = f"graceful_timeout = {'9' * 400}\nworkers = {'9' * 400}\n"
    assert with_gunicorn_config(command, read_gunicorn_config(source)).graceful_timeout is None


@pytest.mark.parametrize("workers", ["²", "٣", "9" * 5000])
def test_worker_counts_int_cannot_read_are_unknown(workers: str) -> None:
    command = parse_server_command(["gunicorn", "-w", workers, "app:app"])
    assert command is not None and command.workers is None
