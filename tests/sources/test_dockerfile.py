"""The Dockerfile model: BuildKit parsing, stages, ARG/ENV scoping, error recovery."""

from __future__ import annotations

from pathlib import Path

from dockwise.sources.dockerfile import key_values, parse_dockerfile


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
