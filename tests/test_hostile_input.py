"""Hostile and broken input (issue 6): every row of the issue's hang and memory table runs
through the real CLI and ends with an answer (exit 0, 1 or 2, valid JSON), never a hang,
a traceback or a walk of the host filesystem. No timing asserts: bench/fuzz.py times them."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from dockwise.cli import main


def _check(argv: list[str], stdin: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    saved_out, saved_in = sys.stdout, sys.stdin
    sys.stdout = out
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8", "surrogatepass")))
    try:
        code = main(argv)
    finally:
        sys.stdout, sys.stdin = saved_out, saved_in
    return code, out.getvalue()


def _write(root: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_fifo_in_the_build_context_is_reported_in_text_format(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "FROM alpine:3.20\nCOPY . /app\nUSER 1\n"})
    os.mkfifo(tmp_path / "pipe")
    os.mkfifo(tmp_path / "pipe.py")
    code, text = _check(["check", str(tmp_path), "--no-color"])
    assert code in (0, 1, 2)
    assert "pipe" in text


def test_lone_escape_line_from_stdin() -> None:
    code, text = _check(["check", "-", "-f", "json"], "FROM alpine\n\\\n")
    assert code == 1
    assert any(f["line"] == 2 for f in json.loads(text)["findings"])


def test_parse_error_recovery_on_a_long_file() -> None:
    text = "FROM alpine\nENV a\n" + "RUN x\n" * 3000 + "RUN <<EOF\nnever closed\n"
    code, out = _check(["check", "-", "-f", "json"], text)
    assert code == 1
    lines = {f["line"] for f in json.loads(out)["findings"] if f["rule"] == "DW900"}
    assert lines == {2, 3003}


def test_expansion_bomb_is_an_input_problem_naming_the_line() -> None:
    lines = ["FROM alpine", "ENV A0=" + "x" * 32]
    lines += [f"ENV A{i}=" + f"${{A{i - 1}}}" * 8 for i in range(1, 10)]
    code, out = _check(["check", "-", "-f", "json"], "\n".join(lines) + "\nRUN echo $A9\n")
    assert code == 2
    errors = json.loads(out)["errors"]
    assert errors[0]["line"] == 7 and "unknown" in errors[0]["message"]


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine\nRUN true \\\n" + "  && true \\\n" * 250_000 + "  && true\n",
        "FROM alpine\n" + "RUN true\n" * 100_000,
    ],
    ids=["continuations", "many-runs"],
)
def test_inputs_buildkit_parses_too_slowly_are_one_problem(text: str) -> None:
    code, out = _check(["check", "-", "-f", "json"], text)
    assert code == 2
    assert len(json.loads(out)["errors"]) == 1


def test_backtracking_patterns_in_ignore_copy_and_exclude(tmp_path: Path) -> None:
    star = "*a" * 10 + "*b"
    globstar = "**/" * 30 + "x"
    deep = "/".join(["d"] * 40)
    _write(
        tmp_path,
        {
            "Dockerfile": f"FROM alpine:3.20\nCOPY {star} /s/\n"
            f"COPY --exclude={star} --exclude={globstar} . /app/\nUSER 1\n",
            ".dockerignore": f"{star}\n{globstar}\n",
            "a" * 40: "",
            "a" * 40 + "b": "",
            deep + "/" + "a" * 40: "",
            deep + "/x": "",
        },
    )
    code, out = _check(["check", str(tmp_path), "-f", "json"])
    assert code in (0, 1)
    json.loads(out)


def test_build_context_outside_the_folder_is_reported_not_walked(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "Dockerfile": "FROM alpine:3.20\nCOPY . /app\nUSER 1\n",
            "compose.yaml": "services:\n  web:\n    build:\n      context: /\n"
            f"      dockerfile: {tmp_path / 'Dockerfile'}\n",
        },
    )
    code, out = _check(["check", str(tmp_path), "-f", "json"])
    messages = [f["message"] for f in json.loads(out)["findings"]]
    assert any("outside the checked folder" in m for m in messages)
    assert not any("/etc/" in m for m in messages)  # nothing about host files
    assert code in (1, 2)


_BIG = "9" * 5000  # over Python's 4,300-digit int-string limit


@pytest.mark.parametrize(
    "dockerfile",
    [
        f"FROM alpine AS a\nFROM alpine\nCOPY --from={_BIG} /a /b\n",
        "FROM alpine\nEXPOSE ²\n",
        f"FROM alpine\nEXPOSE {_BIG}\n",
        'FROM alpine\nCMD ["gunicorn", "-w", "²", "app:app"]\n',
        "FROM alpine\nSTOPSIGNAL ²\n",
        f"FROM alpine\nSTOPSIGNAL {_BIG}\n",
        "FROM alpine\nRUN useradd -u ² app\n",
        f"FROM alpine\nHEALTHCHECK --retries={_BIG} CMD true\n",
        "FROM alpine\nHEALTHCHECK --retries=٨٠٨٠ CMD nc -z localhost ٨٠٨٠\n",
        "FROM alpine\nHEALTHCHECK CMD python -c \"socket.create_connection(('h', " + _BIG + '))"\n',
        f"FROM alpine\nENV GUNICORN_CMD_ARGS='-w {_BIG}'\nCMD gunicorn app:app\n",
    ],
    ids=[
        "copy-from-digits",
        "expose-superscript",
        "expose-digits",
        "gunicorn-workers",
        "stopsignal-superscript",
        "stopsignal-digits",
        "useradd-uid",
        "healthcheck-retries",
        "buildkit-split-character",
        "socket-port",
        "gunicorn-cmd-args",
    ],
)
def test_numbers_int_cannot_read_break_no_rule(dockerfile: str) -> None:
    """Crash class found by fuzzing the pipeline: str.isdigit() accepts `²` and `٨`, int()
    refuses them and anything over 4,300 digits; every rule reading a number must cope."""
    code, out = _check(["check", "-", "-f", "json"], dockerfile)
    document = json.loads(out)
    assert code in (0, 1, 2)
    assert not any("internal error" in e["message"] for e in document.get("errors", []))


def test_huge_numbers_in_gunicorn_config_and_manifests(tmp_path: Path) -> None:
    big = "9" * 400  # an int no float holds
    _write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY . .\nUSER 1000\n"
            'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app.main:app"]\n',
            "gunicorn.conf.py": f"bind = ':8000'\ngraceful_timeout = {big}\nworkers = {big}\n",
            "app/main.py": "from flask import Flask\napp = Flask(__name__)\n",
            "k8s/web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
            "spec:\n  template:\n    spec:\n"
            f"      terminationGracePeriodSeconds: {big}\n      containers:\n"
            "      - name: web\n        image: web:latest\n"
            f"        lifecycle: {{preStop: {{sleep: {{seconds: {big}}}}}}}\n"
            "        args: [gunicorn, -c, gunicorn.conf.py, app.main:app]\n",
        },
    )
    code, out = _check(["check", str(tmp_path), "-f", "json"])
    document = json.loads(out)
    assert code in (0, 1)
    assert "errors" not in document or not document["errors"]


def test_long_digit_runs_in_durations_are_read_in_one_pass(tmp_path: Path) -> None:
    """A HEALTHCHECK or compose duration of 60,000 digits without a unit took minutes
    (a regex rescanning the run from every position); bench/fuzz.py times it."""
    digits = "9" * 60_000
    _write(
        tmp_path,
        {
            "Dockerfile": f"FROM alpine:3.20\nUSER 1\nHEALTHCHECK --interval={digits} CMD true\n",
            "compose.yaml": "services:\n  web:\n    build: .\n"
            f"    healthcheck: {{test: [CMD, 'true'], interval: '{digits}'}}\n"
            f"    stop_grace_period: '{digits}'\n",
        },
    )
    code, out = _check(["check", str(tmp_path), "-f", "json"])
    assert code == 1
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert "DW208" in rules  # the interval is no duration
