"""DW830 (the image's user) and DW620 (its command through /bin/sh -c) beyond their
examples."""

from __future__ import annotations

from pathlib import Path

from imagetest import image_findings

from dockwise.findings import Severity
from dockwise.rules._image_examples import SLIM_BASE, SLIM_FILES, layer

APP = ["python", "-m", "app"]


def test_root_by_any_spelling(tmp_path: Path) -> None:
    for user in ("", "root", "0", "0:0", "root:root"):
        config = {"Cmd": APP, "User": user}
        assert len(image_findings("DW830", config, [SLIM_BASE], tmp_path)) == 1, user
    for user in ("10001", "app", "10001:10001", "nobody"):
        assert image_findings("DW830", {"Cmd": APP, "User": user}, [SLIM_BASE], tmp_path) == []


def test_an_entrypoint_that_drops_privileges_or_a_worker_server(tmp_path: Path) -> None:
    gosu = layer("RUN install gosu", files={"/usr/local/bin/gosu": {"size": 64, "mode": 0o755}})
    config = {"Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["postgres"]}
    assert image_findings("DW830", config, [SLIM_BASE, gosu], tmp_path) == []
    [nginx] = image_findings(
        "DW830", {"Cmd": ["nginx", "-g", "daemon off;"]}, [SLIM_BASE], tmp_path
    )
    assert nginx.severity == Severity.INFO


def test_the_shell_the_image_has_decides(tmp_path: Path) -> None:
    bash_files = {
        **SLIM_FILES,
        "/usr/bin/bash": {"size": 64, "mode": 0o755},
        "/usr/bin/sh": {"link": "bash"},
    }
    bash = layer("ADD rootfs /", files=bash_files)
    lone = {"Cmd": ["/bin/sh", "-c", "gunicorn app:app"], "User": "1"}
    assert image_findings("DW620", lone, [bash], tmp_path) == []
    assert len(image_findings("DW620", lone, [SLIM_BASE], tmp_path)) == 1  # dash
    with_exec = {"Cmd": ["/bin/sh", "-c", "exec gunicorn app:app"], "User": "1"}
    assert image_findings("DW620", with_exec, [SLIM_BASE], tmp_path) == []


def test_no_shell_at_all_cannot_start(tmp_path: Path) -> None:
    server = layer("COPY server /server", files={"/server": {"size": 64, "mode": 0o755}})
    [found] = image_findings("DW620", {"Cmd": ["/bin/sh", "-c", "/server"]}, [server], tmp_path)
    assert found.severity == Severity.ERROR and "no /bin/sh" in found.message


def test_user_names_are_looked_up_in_the_images_own_tables(tmp_path: Path) -> None:
    accounts = layer(
        "RUN useradd",
        files={
            "/etc/passwd": "root:x:0:0::/root:/bin/sh\nadmin:x:0:0::/:/bin/sh\napp:x:10001:10001::/app:/bin/sh\n",
            "/etc/group": "root:x:0:\napp:x:10001:\n",
        },
    )  # fmt: skip
    assert (
        image_findings("DW830", {"Cmd": APP, "User": "app"}, [SLIM_BASE, accounts], tmp_path) == []
    )
    [admin] = image_findings(
        "DW830", {"Cmd": APP, "User": "admin"}, [SLIM_BASE, accounts], tmp_path
    )
    assert "UID 0" in admin.message
    for user, missing in (("ghost", "user ghost"), ("app:staff", "group staff")):
        [found] = image_findings(
            "DW831", {"Cmd": APP, "User": user}, [SLIM_BASE, accounts], tmp_path
        )
        assert f"no {missing}:" in found.message
    for user in ("app:app", "10002", "10001:10001", "app:10001", ""):
        assert (
            image_findings("DW831", {"Cmd": APP, "User": user}, [SLIM_BASE, accounts], tmp_path)
            == []
        )


def test_a_passwd_a_later_layer_deleted_is_not_trusted(tmp_path: Path) -> None:
    accounts = layer("RUN useradd", files={"/etc/passwd": "root:x:0:0::/root:/bin/sh\n"})
    gone = layer("RUN rm /etc/passwd", delete=["/etc/passwd"])
    config = {"Cmd": APP, "User": "ghost"}
    assert image_findings("DW831", config, [SLIM_BASE, accounts, gone], tmp_path) == []
