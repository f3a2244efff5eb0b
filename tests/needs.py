"""Tests that need an external tool (buildah, skopeo, docker-registry, prometheus, chromium).

Locally a missing tool skips the test; in CI (`DOCKWISE_REQUIRE_TOOLS=1`, set by .ci/run,
which installs them) a missing tool fails it, so a missing setup step cannot hide.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

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
