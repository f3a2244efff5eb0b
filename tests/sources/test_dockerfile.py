"""The Dockerfile model: BuildKit parsing, stages, ARG/ENV scoping, error recovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockwise.sources.dockerfile import (
    DockerfileError,
    decode_dockerfile,
    key_values,
    parse_dockerfile,
    read_dockerfile_text,
)


def test_global_arg_resolves_from_and_is_hidden_inside_stage_until_redeclared() -> None:
    df = parse_dockerfile(
        "ARG BASE=python:3.11-slim\nARG VERSION=1\nFROM ${BASE} AS app\nRUN echo $VERSION\n"
        "ARG VERSION\nRUN echo $VERSION\n"
    )
    stage = df.stages[0]
    assert stage.base == "${BASE}"
    assert stage.base_resolved == "python:3.11-slim"
    first_run, _, second_run = stage.instructions
    assert "VERSION" not in first_run.vars
    assert second_run.vars["VERSION"] == "1"
    assert "VERSION" in second_run.arg_names


def test_env_wins_over_arg_and_is_inherited_by_child_stage() -> None:
    df = parse_dockerfile(
        "FROM python:3.11-slim AS base\nARG MODE=dev\nENV APP_HOME=/srv MODE=prod\n"
        "FROM base AS final\nRUN true\n"
    )
    final = df.stages[1]
    assert final.parent == 0
    assert final.instructions[0].vars["APP_HOME"] == "/srv"
    assert final.instructions[0].vars["MODE"] == "prod"


def test_env_on_one_line_sees_values_from_before_the_line() -> None:
    df = parse_dockerfile("FROM x\nENV A=1 B=${A:-unset}\n")
    assert df.stages[0].instructions[0].vars["B"] == "unset"


def test_shipped_stage_is_last_or_target() -> None:
    text = "FROM python:3.11 AS builder\nRUN true\nFROM python:3.11-slim AS runtime\nRUN true\n"
    assert parse_dockerfile(text).shipped_stage.name == "runtime"
    assert parse_dockerfile(text, target="builder").shipped_stage.name == "builder"


def test_feeding_follows_from_and_copy_from() -> None:
    df = parse_dockerfile(
        "FROM a AS deps\nFROM b AS build\nCOPY --from=deps /x /x\nFROM c AS unused\n"
        "FROM build AS final\nCOPY --from=0 /y /y\n"
    )
    assert df.feeding(df.shipped_stage) == {0, 1, 3}
    assert [s.index for s in df.shipped_chain()] == [3, 1]


def test_heredoc_run_script_and_comment_after_heredoc() -> None:
    df = parse_dockerfile(
        "FROM x\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n# note\nRUN true\n"
    )
    run = df.stages[0].instructions[0]
    assert run.is_heredoc_script
    assert [c.argv for c in run.commands] == [
        ("apt-get", "update"),
        ("apt-get", "install", "-y", "curl"),
    ]
    assert (run.start_line, run.end_line) == (2, 5)
    assert df.stages[0].instructions[1].start_line == 7


def test_unterminated_heredoc_is_a_problem_with_its_line_and_earlier_lines_survive() -> None:
    df = parse_dockerfile("FROM x\nRUN echo ok\nRUN <<EOF\nnever closed\n")
    assert [p.line for p in df.problems] == [3]
    assert [i.cmd for i in df.instructions] == ["FROM", "RUN"]


def test_escape_directive_backtick() -> None:
    df = parse_dockerfile("# escape=`\nFROM x\nRUN echo a `\n  && echo b\n")
    run = df.stages[0].instructions[0]
    assert df.escape == "`"
    assert [c.argv for c in run.commands] == [("echo", "a"), ("echo", "b")]
    assert (run.start_line, run.end_line) == (3, 4)


def test_onbuild_trigger_is_modelled() -> None:
    df = parse_dockerfile("FROM x\nONBUILD RUN pip install flask\n")
    onbuild = df.stages[0].instructions[0]
    assert onbuild.trigger is not None and onbuild.trigger.cmd == "RUN"
    assert [r.cmd for r in df.runs()] == ["RUN"]


def test_key_values_of_arg_env_label() -> None:
    df = parse_dockerfile('FROM x\nARG A B=2\nENV C 3 4\nLABEL d="e f" g=h\n')
    arg, env, label = df.stages[0].instructions
    assert key_values(arg) == [("A", None), ("B", "2")]
    assert key_values(env) == [("C", "3 4")]
    assert key_values(label) == [("d", "e f"), ("g", "h")]


def test_flags_and_exec_form() -> None:
    df = parse_dockerfile(
        'FROM x\nCOPY --from=build --chmod=755 a b\nCMD ["python", "-m", "app"]\n'
    )
    copy, cmd = df.stages[0].instructions
    assert copy.flag("from") == "build" and copy.flag("chown") is None
    assert cmd.json and cmd.commands[0].argv == ("python", "-m", "app")


def test_workdir_mounts_and_path_default() -> None:
    df = parse_dockerfile(
        "FROM python:3.11-slim\nWORKDIR /srv\nWORKDIR app\n"
        "RUN --mount=type=cache,dst=/root/.cache/pip --mount=type=secret,id=npm pip install x\n"
        "ENV PATH=/opt/venv/bin:$PATH\n"
    )
    run = df.stages[0].instructions[2]
    assert run.workdir == "/srv/app"
    assert run.mounts() == [
        {"type": "cache", "target": "/root/.cache/pip"},
        {"type": "secret", "id": "npm"},
    ]
    assert df.stages[0].final_vars["PATH"].startswith("/opt/venv/bin:/usr/local/sbin")


def test_external_base_is_unknown_when_a_variable_has_no_value() -> None:
    unknown = parse_dockerfile("ARG BASE\nFROM ${BASE}\n").stages[0]
    assert not unknown.base_known and unknown.external_base is None
    defaulted = parse_dockerfile("ARG TAG\nFROM python:${TAG:-3.11-slim}\n").stages[0]
    assert defaulted.external_base == "python:3.11-slim"
    assert defaulted.image_ref is not None and defaulted.image_ref.official_name == "python"
    staged = parse_dockerfile("FROM python:3.11 AS a\nFROM a\n").stages[1]
    assert staged.external_base is None


def test_compose_build_target_and_context_choose_the_shipped_stage(tmp_path: Path) -> None:
    from dockwise.config import Config
    from dockwise.project import load_project

    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "app.Dockerfile").write_text(
        "FROM python:3.11 AS builder\nRUN true\nFROM python:3.11-slim AS runtime\nRUN true\n"
        "FROM runtime AS debug\nRUN true\n"
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: .\n"
        "      dockerfile: docker/app.Dockerfile\n      target: runtime\n"
    )
    project = load_project(tmp_path, Config())
    dockerfile = project.dockerfiles[0]
    assert dockerfile.shipped_stage is not None and dockerfile.shipped_stage.name == "runtime"
    assert project.context_dir(dockerfile) == tmp_path.resolve()


# ---------------------------------------------------------------- hostile input (issue 6)


def test_a_line_of_only_the_escape_character_is_a_problem_not_a_crash() -> None:
    for text in ("FROM alpine\n\\\n", "FROM alpine\n\\", "# escape=`\nFROM alpine\n`\n"):
        df = parse_dockerfile(text)
        assert [i.cmd for i in df.instructions] == ["FROM"]
        assert len(df.problems) == 1 and df.problems[0].line == (3 if "`" in text else 2)


def test_degenerate_commands_never_reach_rules_with_none_fields() -> None:
    df = parse_dockerfile("FROM a\nONBUILD\nHEALTHCHECK\nSHELL\nENV\nARG\nLABEL\nCOPY\n")
    for instruction in df.iter_instructions():
        assert isinstance(instruction.original, str) and instruction.cmd
        assert all(isinstance(v, str) for v in instruction.value + instruction.flags)


def test_recovery_keeps_every_instruction_that_parses_alone() -> None:
    text = "FROM a\nENV a\n" + "RUN x\n" * 50 + "ENV b\nUSER 1\nRUN <<EOF\nnever closed\n"
    df = parse_dockerfile(text)
    assert [p.line for p in df.problems] == [2, 53, 55]
    assert [i.cmd for i in df.instructions] == ["FROM"] + ["RUN"] * 50 + ["USER"]
    assert df.instructions[-1].start_line == 54


def test_recovery_keeps_heredoc_bodies_that_look_like_instructions_whole() -> None:
    text = "FROM a\nENV a\nRUN <<EOF\nFROM b\nRUN y\nEOF\nUSER 1\n"
    df = parse_dockerfile(text)
    assert [p.line for p in df.problems] == [2]
    assert [i.cmd for i in df.instructions] == ["FROM", "RUN", "USER"]
    assert df.instructions[1].heredocs[0].content == "FROM b\nRUN y\n"


def test_recovery_honours_the_escape_directive() -> None:
    df = parse_dockerfile("# escape=`\nFROM a\nENV a\nRUN echo 1 `\n  && echo 2\n")
    run = df.instructions[-1]
    assert (run.start_line, run.end_line) == (4, 5)
    assert [c.argv for c in run.commands] == [("echo", "1"), ("echo", "2")]


def test_expansion_bomb_is_an_unknown_value_with_its_line() -> None:
    lines = ["FROM alpine", "ENV A0=" + "x" * 32]
    lines += [f"ENV A{i}=" + f"${{A{i - 1}}}" * 8 for i in range(1, 9)]
    lines.append("RUN echo $A8")
    df = parse_dockerfile("\n".join(lines) + "\n")
    assert df.unknown_values and df.unknown_values[0].line == 7  # A5: 32 x 8^5 = 1 MiB
    assert "A5" in df.unknown_values[0].message
    a5 = df.stages[0].final_vars["A5"]
    assert a5.startswith("${A4}")  # kept as written, not truncated into a wrong value
    assert all(len(v) <= 128 * 1024 for v in df.stages[0].final_vars.values())


def test_expansion_under_budget_is_exact() -> None:
    df = parse_dockerfile("FROM a\nENV A=xy\nENV B=$A$A${A:-z}\nWORKDIR /$B\n")
    assert df.stages[0].final_vars["B"] == "xyxyxy"
    assert df.stages[0].instructions[-1].workdir == "/xyxyxy"
    assert not df.unknown_values


def test_words_over_budget_are_left_as_written_for_rules() -> None:
    text = "FROM a\nENV A=" + "y" * 60_000 + "\nCOPY $A$A$A /x\n"
    df = parse_dockerfile(text)
    copy = df.instructions[-1]
    assert not copy.expandable and copy.expanded("$A$A$A") == "$A$A$A"
    assert [p.line for p in df.unknown_values] == [3]


def test_many_variables_and_many_instructions_share_snapshots() -> None:
    pairs = " ".join(f"v{i}={i}" for i in range(3000))
    df = parse_dockerfile(f"FROM a\nENV {pairs}\n" + "RUN true\n" * 3000 + "ENV v1=changed\n")
    runs = df.stages[0].instructions[1:-1]
    assert runs[0].vars is runs[-1].vars  # one shared snapshot, not 3000 copies
    assert df.stages[0].final_vars["v1"] == "changed" and runs[0].vars["v1"] == "1"
    assert len(df.stages[0].final_vars) == 3001  # PATH too


def test_arg_then_env_scoping_still_holds() -> None:
    df = parse_dockerfile("FROM a AS b\nARG X=1\nENV Y=$X\nFROM b\nRUN echo\n")
    assert df.stages[0].final_vars["Y"] == "1"
    assert "X" not in df.stages[1].final_vars and df.stages[1].final_vars["Y"] == "1"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("FROM a\n" + "RUN t\n" * 10_001, "lines"),
        ("FROM a\nRUN true \\\n" + "  && true \\\n" * 9_000 + "  && true\n", "continued"),
        ("FROM a\nRUN <<EOF\n" + ("x" * 60 + "\n") * 7_000 + "EOF\n", "continued"),
        ("FROM a\n" + "RUN " + "x " * 300_000 + "\n", "KiB"),
    ],
)
def test_shapes_buildkit_parses_too_slowly_are_one_clear_problem(text: str, needle: str) -> None:
    with pytest.raises(DockerfileError) as caught:
        decode_dockerfile(text.encode(), "Dockerfile")
    assert needle in caught.value.message


def test_utf16_is_named_in_the_problem() -> None:
    with pytest.raises(DockerfileError) as caught:
        decode_dockerfile("FROM a\n".encode("utf-16"), "Dockerfile")
    assert "UTF-16" in caught.value.message


def test_reading_a_fifo_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    with pytest.raises(DockerfileError) as caught:
        read_dockerfile_text(fifo, "Dockerfile")
    assert "not a regular file" in caught.value.message


@pytest.mark.parametrize("value", ["٨٠٨٠", "x٨٠٨٠", "٠٨٠"])
def test_flag_buildkit_cuts_inside_a_character_is_one_problem(value: str) -> None:
    # issue 6: BuildKit reads flags byte by byte; a 0xA0/0x85 byte inside a character ends
    # the flag mid-character and the binding raised UnicodeDecodeError for the whole file
    df = parse_dockerfile(f"FROM a\nHEALTHCHECK --retries={value} CMD true\nUSER 1\n")
    assert [p.line for p in df.problems] == [2]
    assert [i.cmd for i in df.instructions] == ["FROM", "USER"]
