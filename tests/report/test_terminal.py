"""The terminal: --quiet, --color and NO_COLOR, a summary line per lesson, progress bars
only on a TTY (to stderr), and shell completion generated from the parser."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from naive_report import NAIVE

from dockwise.cli import _parser, main
from dockwise.report.completion import script
from dockwise.report.progress import progress, track

BAD = "FROM python:3.11\nMAINTAINER me@example.com\nRUN cd /tmp && make\nCMD python app.py\n"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    return subprocess.run(
        [sys.executable, "-m", "dockwise.cli", *args],
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        timeout=60,
    )


def test_quiet_prints_one_line_per_finding(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    full = run(["check", str(tmp_path), "-f", "json"])
    import json

    findings = json.loads(full.stdout)["findings"]
    quiet = run(["check", str(tmp_path), "--quiet"])
    lines = quiet.stdout.splitlines()
    assert quiet.returncode == 1
    assert lines == [
        f"{f['path']}:{f['line']}:{f['column'] or 1}: {f['severity']} {f['rule']} {f['message']}"
        if f["line"]
        else f"{f['path']}: {f['severity']} {f['rule']} {f['message']}"
        for f in findings
    ]
    assert "fix:" not in quiet.stdout and "Found" not in quiet.stdout


def test_color_option_and_no_color(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    args = ["check", str(tmp_path)]
    assert "\x1b[" not in run(args).stdout  # not a terminal
    assert "\x1b[" in run([*args, "--color", "always"]).stdout
    assert "\x1b[" in run([*args, "--color", "always"], {"NO_COLOR": "1"}).stdout  # asked
    assert "\x1b[" not in run([*args, "--color", "never"]).stdout
    # on a terminal: colour unless NO_COLOR or --color never
    assert "\x1b[" in _in_terminal(args, {})
    assert "\x1b[" not in _in_terminal(args, {"NO_COLOR": "1"})
    assert "\x1b[" not in _in_terminal([*args, "--color", "never"], {})


def _in_terminal(args: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dockwise.cli", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env={**environment, **env},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_summary_line_per_lesson(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(NAIVE), "-f", "json"])
    import json

    findings = json.loads(capsys.readouterr().out)["findings"]
    main(["check", str(NAIVE), "--color", "never"])
    lines = capsys.readouterr().out.splitlines()
    summary = [line for line in lines if line.startswith("  ") and "(DW" in line]
    lessons = list(dict.fromkeys(f["lesson"] for f in sorted(findings, key=lambda f: f["rule"])))
    assert [line.split()[0] for line in summary] == lessons
    secrets = next(line for line in summary if line.split()[0] == "secrets")
    count = sum(1 for f in findings if f["lesson"] == "secrets")
    assert f"{count} errors" in secrets
    assert lines[-1].startswith(f"Found {len(findings)} problem(s)")


def test_progress_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    with progress(100, "reading layers", stream=stream) as advance:
        for _ in range(100):
            advance(1)
    assert stream.getvalue() == ""


def test_progress_draws_on_a_terminal_and_not_when_quiet() -> None:
    for quiet, drawn in ((False, True), (True, False)):
        leader, follower = pty.openpty()
        os.set_blocking(leader, False)
        tty = open(follower, "w", encoding="utf-8", closefd=True)  # noqa: SIM115
        try:
            assert tty.isatty()
            with progress(10, "reading layers", stream=tty, quiet=quiet) as advance:
                for _ in range(10):
                    advance(1)
            tty.flush()
            try:
                written = os.read(leader, 65536).decode("utf-8", "replace")
            except BlockingIOError:
                written = ""
        finally:
            tty.close()
            os.close(leader)
        assert ("reading layers" in written) is drawn, written


def test_track_yields_every_item_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(track(range(5), "counting")) == [0, 1, 2, 3, 4]
    assert list(track(iter("abc"), "letters")) == ["a", "b", "c"]  # no length: no total
    assert capsys.readouterr().err == ""


def test_progress_off_a_terminal_imports_nothing() -> None:
    code = (
        "import io, sys\n"
        "from dockwise.report.progress import progress\n"
        "with progress(3, 'x', stream=io.StringIO()) as advance: advance()\n"
        "print('rich' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def _bash_complete(words: list[str]) -> list[str]:
    bash = shutil.which("bash")
    assert bash, "bash is part of every Debian system"
    completion = script("bash", _parser())
    line = " ".join(f"'{w}'" for w in words)
    program = (
        f"{completion}\nCOMP_WORDS=({line})\nCOMP_CWORD={len(words) - 1}\n"
        '_dockwise\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run([bash, "-c", program], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_bash_completion_runs_in_bash(tmp_path: Path) -> None:
    assert _bash_complete(["dockwise", "ch"]) == ["check"]
    assert "completion" in _bash_complete(["dockwise", ""])
    formats = _bash_complete(["dockwise", "check", "--format", ""])
    assert formats == [
        "text",
        "json",
        "sarif",
        "html",
        "markdown",
        "junit",
        "github",
        "gitlab",
        "checkstyle",
    ]
    assert _bash_complete(["dockwise", "check", "--col"]) == ["--color"]
    assert _bash_complete(["dockwise", "check", "--color", "a"]) == ["auto", "always"]
    assert _bash_complete(["dockwise", "completion", ""]) == ["bash", "zsh", "fish"]
    assert _bash_complete(["dockwise", "rules", "--format", "m"]) == ["markdown"]


def test_zsh_and_fish_scripts_know_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    for shell in ("zsh", "fish"):
        assert main(["completion", shell]) == 0
        text = capsys.readouterr().out
        for option in ("format", "fail-on", "color", "quiet", "baseline", "explain-model"):
            assert (f"-l {option} " if shell == "fish" else f"--{option}") in text, (shell, option)
    assert main(["completion", "fish"]) == 0
    fish = capsys.readouterr().out
    assert "-l format -s f -x -a 'text json sarif html markdown junit github gitlab" in fish
    zsh_path = shutil.which("zsh")
    if zsh_path:  # not installed everywhere: the bash function is what zsh runs
        main(["completion", "zsh"])
        check = subprocess.run([zsh_path, "-n", "-c", capsys.readouterr().out])
        assert check.returncode == 0
