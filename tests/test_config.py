"""Configuration: every bad value is one line naming the file and the key, exit 2; discovery
survives folders it may not read."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from dockwise.cli import main
from dockwise.config import Config, ConfigError, config_from_table, find_config, load_config

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = "FROM python:3.11\nMAINTAINER me@example.com\n"


def check(folder: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["check", str(folder), *args])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        (
            "pyproject.toml",
            '[tool.dockwise]\nper-path-ignores = {"Dockerfile" = [901]}\n',
            "pyproject.toml: tool.dockwise.per-path-ignores.Dockerfile: must be a list of rule"
            ' ids, prefixes or lessons ("DW901"), not [901]',
        ),
        (
            "pyproject.toml",
            '[tool.dockwise]\nstrict-labels = "false"\n',
            'tool.dockwise.strict-labels: must be true or false, not "false"',
        ),
        (
            ".dockwise.toml",
            "disable-ignore-pragmas = 1\n",
            "disable-ignore-pragmas: must be true or false, not 1",
        ),
        (
            ".dockwise.toml",
            "strict-lables = true\n",
            "strict-lables: unknown setting (did you mean 'strict-labels'?",
        ),
        (".dockwise.toml", 'ignore = ["DW999"]\n', "ignore: unknown rule or lesson 'DW999'"),
        (".dockwise.toml", 'select = ["sizes"]\n', "select: unknown rule or lesson 'sizes'"),
        (".dockwise.toml", "select = 5\n", "select: must be a list of strings, not 5"),
        (
            ".dockwise.toml",
            '[per-path-ignores]\n"tests/*" = ["DW9", "nope"]\n',
            "per-path-ignores.tests/*: unknown rule or lesson 'nope'",
        ),
        (
            ".dockwise.toml",
            '[severity]\nDW933 = "fatal"\n',
            'severity.DW933: must be error, warning or info, not "fatal"',
        ),
        (".dockwise.toml", "[severity]\nDW933 = 3\n", "severity.DW933: must be error"),
        (".dockwise.toml", '[severity]\nDW999 = "info"\n', "severity.DW999: unknown rule"),
        (".dockwise.toml", 'fail-on = "errors"\n', "fail-on: must be one of error, warning"),
        (".dockwise.toml", "target = 3\n", "target: must be a non-empty string, not 3"),
        (".dockwise.toml", 'severity = "info"\n', 'severity: must be a table, not "info"'),
        (
            ".dockwise.toml",
            '[label-schema]\n"org.example.x" = "number"\n',
            "label-schema.org.example.x: must be one of text, url",
        ),
        ("pyproject.toml", "[tool]\ndockwise = 3\n[tool.x]\n", "tool.dockwise must be a table"),
        (".dockwise.toml", "select = [\n", "Invalid value (at end of document)"),
        (".dockwise.toml", b"select = ['\xff']\n", "cannot read: not valid UTF-8"),
    ],
)
def test_bad_configuration_is_one_line_naming_file_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    file: str,
    text: str | bytes,
    expected: str,
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    path = tmp_path / file
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    if file == "pyproject.toml" and b"[tool.dockwise" not in path.read_bytes():
        # discovery only takes a pyproject.toml with a dockwise table: name it explicitly
        status = main(["check", str(tmp_path), "--config", str(path)])
        err = capsys.readouterr().err
    else:
        status, err = check(tmp_path, capsys)
    assert status == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"dockwise: error: {path}"), err
    assert expected in err
    assert "Traceback" not in err


def test_good_configuration_is_read_with_its_types(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[tool.dockwise]\n"
        'select = ["dw9", "Size", "all"]\n'
        'ignore = "DW933"\n'
        "strict-labels = false\n"
        "disable-ignore-pragmas = true\n"
        'fail-on = "error"\n'
        'target = "runtime"\n'
        '[tool.dockwise.per-path-ignores]\n"tests/*" = ["DW933", "secrets"]\n'
        '[tool.dockwise.severity]\ndw933 = "Info"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.select == ("DW9", "size", "ALL")
    assert config.ignore == ("DW933",)
    assert config.strict_labels is False and config.disable_ignore_pragmas is True
    assert config.fail_on == "error" and config.target == "runtime"
    assert dict(config.per_path_ignores) == {"tests/*": ("DW933", "secrets")}
    assert [(k, v.label) for k, v in config.severity.items()] == [("DW933", "info")]
    assert config.section == "tool.dockwise."


def test_strict_labels_string_never_turns_the_flag_on() -> None:
    with pytest.raises(ConfigError):
        config_from_table({"strict-labels": "false"})
    assert config_from_table({"strict-labels": True}).strict_labels is True
    assert Config().strict_labels is False


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "nope"], "--select: unknown rule or lesson 'nope'"),
        (["--ignore", "DW99999"], "--ignore: unknown rule or lesson 'DW99999'"),
        (["--extend-select", "DW940,bogus"], "--extend-select: unknown rule or lesson 'bogus'"),
        (["--select", " , "], "--select: no rule id, prefix or lesson given"),
        (["--target", " "], "--target: a stage name is needed"),
    ],
)
def test_bad_command_line_values_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    status, err = check(tmp_path, capsys, *args)
    assert status == 2
    assert err == f"dockwise: error: {expected}" + err[len(f"dockwise: error: {expected}") :]
    assert err.count("\n") == 1


def test_command_line_selectors_are_case_insensitive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    assert main(["check", str(tmp_path), "--select", "dw933", "--fail-on", "info"]) == 1
    assert (
        main(
            [
                "check",
                str(tmp_path),
                "--select",
                "DW933",
                "--ignore",
                "General",
                "--fail-on",
                "info",
            ]
        )
        == 0
    )


# --- discovery through folders that cannot be read ---------------------------------------------


def test_discovery_skips_a_folder_whose_stat_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, permission bits do not stop stat(): the refusal is made where the OS call is."""
    locked = tmp_path / "locked"
    inner = locked / "project"
    inner.mkdir(parents=True)
    (tmp_path / ".dockwise.toml").write_text('ignore = ["DW933"]\n', encoding="utf-8")
    real_stat = os.stat

    def refusing_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if os.fspath(path).startswith(str(locked) + os.sep) and os.fspath(path) != str(inner):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", refusing_stat)
    # the refused folder is skipped and the search goes on above it
    assert find_config(inner) == tmp_path / ".dockwise.toml"


def _unprivileged_env() -> dict[str, str]:
    site = sysconfig.get_paths()["purelib"]
    return {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{site}", "HOME": tempfile.gettempdir()}


def _unprivileged_python() -> list[str] | None:
    """A command running this checkout's dockwise as user `nobody`, when this machine allows
    it (root, setpriv, an interpreter and the sources readable by nobody)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    for candidate in (sys.executable, os.path.realpath(sys.executable), "/usr/bin/python3"):
        probe = subprocess.run(
            [*drop, candidate, "-c", "import dockwise.cli, dockwise.rules"],
            capture_output=True,
            env=_unprivileged_env(),
            cwd=tempfile.gettempdir(),
            check=False,
        )
        if probe.returncode == 0:
            return [*drop, candidate]
    return None


@pytest.mark.skipif(_unprivileged_python() is None, reason="needs root and setpriv")
def test_unreadable_folder_on_the_way_up_as_an_unprivileged_user() -> None:
    command = _unprivileged_python()
    assert command is not None
    base = Path(tempfile.mkdtemp(prefix="dockwise-perm-"))  # /tmp: reachable by nobody
    try:
        outer = base / "outer"
        inner = outer / "inner"
        inner.mkdir(parents=True)
        (inner / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
        (base / ".dockwise.toml").write_text('ignore = ["DW933"]\n', encoding="utf-8")
        for path, mode in [(base, 0o755), (inner, 0o755), (inner / "Dockerfile", 0o644)]:
            path.chmod(mode)
        (base / ".dockwise.toml").chmod(0o644)
        outer.chmod(0o700)  # root's: nobody may not look inside, so stat(outer/...) fails
        env = _unprivileged_env()
        script = (
            "from pathlib import Path\nfrom dockwise.config import find_config\n"
            "print(find_config(Path('.')))"
        )
        found = subprocess.run(
            [*command, "-c", script], cwd=inner, capture_output=True, text=True, env=env
        )
        # outer/.dockwise.toml cannot be looked at: skipped, and the search goes on above
        assert found.returncode == 0, found.stderr
        assert found.stdout.strip() == str(base / ".dockwise.toml")
        result = subprocess.run(
            [*command, "-m", "dockwise.cli", "check", ".", "--select", "DW933"],
            cwd=inner,
            capture_output=True,
            text=True,
            env=env,
        )
        # the folder itself lies below the refused one: one clear input error, no traceback
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert result.returncode == 2
        assert result.stderr.startswith("dockwise: error: .: cannot read")
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        outer.chmod(0o755)
        shutil.rmtree(base)


def test_bad_file_value_is_reported_even_when_an_option_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (tmp_path / ".dockwise.toml").write_text('select = ["DW99x"]\n', encoding="utf-8")
    status, err = check(tmp_path, capsys, "--select", "DW933")
    assert status == 2 and "select: unknown rule or lesson 'DW99X'" in err
