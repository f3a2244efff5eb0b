"""Scripts run in a fresh interpreter: dockwise forks only when no other thread runs, and
earlier tests of the session may leave threads behind (servers, hashing threads)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

# script code that counts the forks made from here on, in `forks`
COUNT_FORKS = """
import os
forks = []
_fork = os.fork
def _counted_fork():
    forks.append(1)
    return _fork()
os.fork = _counted_fork
"""


def report_of(
    script: str, *args: str, cwd: Path | None = None, timeout: float = 300
) -> dict[str, Any]:
    """The JSON line a script prints last, run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        cwd=cwd,
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report
