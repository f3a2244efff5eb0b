"""The layer secret scan in a forked child (imagescan/side_scan.py): the same facts as the
one-process pass, a fallback when the child fails, nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from imagegen import File, LayerSpec, TestImage, make_image, whiteout

from dockwise.imagescan import side_scan
from dockwise.imagescan.analysis import analyse
from dockwise.sources.image import open_image

AWS_KEY = "AKIA" + "Z7Q4XR2MPLK9WV3N"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "Q4v8Nz2Lp9Rs"
GITHUB_TOKEN = "ghp_" + "Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3Ee9"


def secret_image(compression: str = "") -> TestImage:
    passwd = b"root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n"
    return make_image(
        [
            LayerSpec([File("etc/passwd", passwd), File("usr/bin/tool", bytes(range(256)))]),
            LayerSpec(
                [
                    File("app/.env", f"GITHUB_TOKEN={GITHUB_TOKEN}\n".encode()),
                    File("app/settings.py", f"AWS_ACCESS_KEY_ID = '{AWS_KEY}'\n".encode()),
                ],
                compression=compression,
            ),
            LayerSpec(
                [whiteout("app/.env"), File("root/.aws/credentials", _aws_file())],
                compression=compression,
            ),
        ]
    )


def _aws_file() -> bytes:
    return (
        f"[default]\naws_access_key_id = {AWS_KEY}\naws_secret_access_key = {AWS_SECRET}\n"
    ).encode()


# run in a fresh interpreter: the test session may hold threads (a registry fixture's
# server), and a process with threads never forks its scan
_ANALYSE = """
import json, os, sys
from dockwise.imagescan import layer_secrets, side_scan
from dockwise.imagescan.analysis import analyse
from dockwise.sources.image import open_image
exec(sys.argv[2])
import psutil
from dockwise.sources.image import ImageError
error = None
with open_image(sys.argv[1]) as image:
    forks = side_scan.worth_forking(image)
    try:
        facts = analyse(image)
    except ImageError as failed:
        error = str(failed)
if error is not None:  # the image closed: no process of the scan may be left
    left = psutil.Process().children(recursive=True)
    print(json.dumps({"forks": forks, "error": error, "left": len(left)}))
    sys.exit(0)
print(json.dumps({
    "forks": forks,
    "secrets": [[s.path, s.layer, s.kind, s.fingerprint] for s in facts.secrets],
    "accounts": facts.accounts,
    "size": facts.size_bytes,
}))
"""


def facts_of(source: str, jobs: str, patch: str = "") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _ANALYSE, source, patch],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKWISE_JOBS": jobs},
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_the_side_scan_finds_what_one_process_finds(layout: str, tmp_path: Path) -> None:
    archive = str(secret_image().write_docker_archive(tmp_path / "img.tar", layout=layout))
    alone = facts_of(archive, "1")
    forked = facts_of(archive, "2")
    assert forked["forks"] and not alone["forks"]
    assert forked["secrets"] == alone["secrets"]
    assert {kind for _, _, kind, _ in alone["secrets"]} >= {"dotenv", "aws-access-key-id"}
    assert forked["accounts"] == alone["accounts"] and "etc/passwd" in alone["accounts"]
    assert forked["size"] == alone["size"]


def test_compressed_layers_are_scanned_in_one_process(tmp_path: Path) -> None:
    archive = secret_image("gzip").write_oci_archive(tmp_path / "img.oci.tar")
    with open_image(f"oci-archive:{archive}") as image:
        assert not side_scan.worth_forking(image)
        assert {s.kind for s in analyse(image).secrets} >= {"dotenv", "aws-access-key-id"}


def test_a_failing_child_falls_back_to_scanning_here(tmp_path: Path) -> None:
    archive = str(secret_image().write_docker_archive(tmp_path / "img.tar"))
    alone = facts_of(archive, "1")
    # the forked child inherits the broken function
    broken = "def broken(*args):\n    raise RuntimeError('the child breaks')\n"
    forked = facts_of(archive, "2", broken + "side_scan._scan_and_send = broken")
    assert forked["forks"]
    assert forked["secrets"] == alone["secrets"] != []
    assert forked["accounts"] == alone["accounts"]


def test_an_unreadable_layer_stops_the_child_too(tmp_path: Path) -> None:
    img = secret_image()
    archive = tmp_path / "img.tar"
    img.write_docker_archive(archive)
    data = bytearray(archive.read_bytes())
    at = data.find(b"AWS_ACCESS_KEY_ID")
    data[at : at + 4] = b"XXXX"  # same size: only the digest tells
    archive.write_bytes(bytes(data))
    found = facts_of(str(archive), "2")
    assert found["forks"]
    assert "does not match" in found["error"]
    assert found["left"] == 0


def test_the_cap_on_findings_stops_where_one_process_stops(tmp_path: Path) -> None:
    """Each share reads past the cap; merged in stream order, the list ends where the one
    process scanner stopped reading (the cap is checked before each file)."""
    tokens = [f"ghp_{i:02d}Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3" for i in range(30)]
    files = [
        File(
            f"app/conf{n}.py",
            "".join(f"TOKEN_{k} = '{tokens[n * 3 + k]}'\n" for k in range(3)).encode(),
        )
        for n in range(10)
    ]
    archive = str(
        make_image([LayerSpec(files[:4]), LayerSpec(files[4:])]).write_docker_archive(
            tmp_path / "img.tar"
        )
    )
    cap = "layer_secrets.MAX_FOUND = 7"  # the forked child inherits it
    alone = facts_of(archive, "1", cap)
    forked = facts_of(archive, "2", cap)
    assert forked["forks"]
    assert len(alone["secrets"]) == 9  # 3 files of 3: the cap (7) is passed inside the third
    assert forked["secrets"] == alone["secrets"]


_UNDER_A_PROGRESS_BAR = """
import sys
from dockwise.imagescan import side_scan
started = []
start = side_scan.SideScan.start.__func__
def recording(cls, image):
    found = start(cls, image)
    started.append(found is not None)
    return found
side_scan.SideScan.start = classmethod(recording)
from dockwise.cli import main
code = main(["image", sys.argv[1], "--format", "json", "--output", sys.argv[2]])
print(code, started)
"""


def test_the_secret_scan_forks_before_the_progress_bar_starts_its_thread(
    tmp_path: Path,
) -> None:
    """On a terminal `dockwise image` draws a progress bar, whose thread would stop the
    fork (a process with threads never forks): the scan is forked first."""
    import pty

    archive = str(secret_image().write_docker_archive(tmp_path / "img.tar"))
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _UNDER_A_PROGRESS_BAR, archive, str(tmp_path / "tty.json")],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "DOCKWISE_JOBS"},
            check=True,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.stdout.split() == ["1", "[True]"]
    alone = subprocess.run(
        [str(Path(sys.executable).parent / "dockwise"), "image", archive, "-f", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKWISE_JOBS": "1"},
    )
    assert json.loads((tmp_path / "tty.json").read_text()) == json.loads(alone.stdout)
