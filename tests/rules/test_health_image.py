"""Image health rules (DW241-DW244) beyond their examples: what they must not report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagetest import image_findings

from dockwise.findings import Severity
from dockwise.rules._image_examples import SLIM_BASE, layer

SERVER = {
    "Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"],
    "ExposedPorts": {"8000/tcp": {}},
}


def shell_check(script: str) -> dict[str, Any]:
    return {"Test": ["CMD-SHELL", script]}


def test_base_images_and_disabled_checks_need_no_healthcheck(tmp_path: Path) -> None:
    assert image_findings("DW241", {"Cmd": ["python3"]}, [SLIM_BASE], tmp_path) == []
    assert image_findings("DW241", {}, [SLIM_BASE], tmp_path) == []
    disabled = {**SERVER, "Healthcheck": {"Test": ["NONE"]}}
    assert image_findings("DW241", disabled, [SLIM_BASE], tmp_path) == []


def test_an_image_that_may_not_serve_gets_advice(tmp_path: Path) -> None:
    [found] = image_findings("DW241", {"Cmd": ["python", "-m", "worker"]}, [SLIM_BASE], tmp_path)
    assert found.severity == Severity.INFO and "could not tell that it serves" in found.message


def test_a_program_reached_through_links_and_path_is_there(tmp_path: Path) -> None:
    tools = layer(
        "RUN install curl",
        files={
            "/opt/curl/bin/curl": {"size": 64, "mode": 0o755},
            "/usr/local/bin/curl": {"link": "/opt/curl/bin/curl"},
            "/opt/probe/probe": {"size": 64, "mode": 0o755},
        },
    )
    for script in (
        "curl -f http://localhost:8000/ || exit 1",
        "timeout 5 curl -f http://localhost:8000/",
        "test -e /tmp/ready && echo ok",
        "$CHECK_COMMAND",
        "probe --quick",
    ):
        config = {
            **SERVER,
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin:/opt/probe"],
            "Healthcheck": shell_check(script),
        }
        assert image_findings("DW242", config, [SLIM_BASE, tools], tmp_path) == [], script


def test_a_program_off_path_or_missing_is_reported(tmp_path: Path) -> None:
    tools = layer("RUN install probe", files={"/opt/probe/probe": {"size": 64, "mode": 0o755}})
    for test, missing in (
        (["CMD-SHELL", "probe --quick"], "probe"),  # not on the image's PATH
        (["CMD-SHELL", "timeout 5 wget -q -O- http://localhost:8000/"], "wget"),
        (["CMD", "/app/healthcheck"], "/app/healthcheck"),
        (["CMD", "sh", "-c", "curl -f http://localhost:8000/"], "curl"),
    ):
        config = {**SERVER, "Healthcheck": {"Test": test}}
        [found] = image_findings("DW242", config, [SLIM_BASE, tools], tmp_path)
        assert f"runs {missing}," in found.message


def test_exec_form_needs_no_shell(tmp_path: Path) -> None:
    server = layer("COPY server /server", files={"/server": {"size": 64, "mode": 0o755}})
    config = {"Entrypoint": ["/server"], "Healthcheck": {"Test": ["CMD", "/server", "-check"]}}
    assert image_findings("DW243", config, [server], tmp_path) == []
    assert image_findings("DW242", config, [server], tmp_path) == []


def test_no_exposed_port_is_nothing_to_compare_with(tmp_path: Path) -> None:
    config = {
        "Cmd": ["gunicorn", "app:app"],
        "Healthcheck": shell_check(
            "python -c 'import urllib.request as u; u.urlopen(\"http://localhost:5000/\")'"
        ),
    }
    assert image_findings("DW244", config, [SLIM_BASE], tmp_path) == []
    exposed = {**config, "ExposedPorts": {"5000/tcp": {}, "9090/tcp": {}}}
    assert image_findings("DW244", exposed, [SLIM_BASE], tmp_path) == []


def test_a_relative_program_is_looked_up_from_the_working_dir(tmp_path: Path) -> None:
    app = layer("COPY . /app", files={"/app/bin/check": {"size": 64, "mode": 0o755}})
    config = {**SERVER, "WorkingDir": "/app", "Healthcheck": {"Test": ["CMD", "./bin/check"]}}
    assert image_findings("DW242", config, [SLIM_BASE, app], tmp_path) == []
    elsewhere = {**config, "WorkingDir": "/srv"}
    assert len(image_findings("DW242", elsewhere, [SLIM_BASE, app], tmp_path)) == 1
