"""ShellCheck as dockwise runs it: scripts written to a temporary folder, checked in a few
batches on every core, each distinct text once. Only imported when DW940 runs (opt-in)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dockwise.digits import is_digits

TIMEOUT_SECONDS = 10
BATCH = 200
EXCLUDED = "SC1090,SC1091"  # `source` of files shellcheck cannot see


def shellcheck_comments(
    binary: str, texts: Sequence[str]
) -> Iterator[tuple[str, dict[str, object]]]:
    """(script text, ShellCheck's json1 comment) for every comment on the given scripts."""
    unique = list(dict.fromkeys(texts))
    with tempfile.TemporaryDirectory(prefix="dockwise-sc-") as tmp:
        folder = Path(tmp)
        names = [f"{index}.sh" for index in range(len(unique))]
        for name, text in zip(names, unique, strict=True):
            (folder / name).write_text(text, encoding="utf-8")
        batches = [names[i : i + BATCH] for i in range(0, len(names), BATCH)]
        workers = max(1, min(len(batches), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda batch: _run(binary, folder, batch), batches))
    for comments in results:
        for comment in comments:
            index = str(comment.get("file", "")).removesuffix(".sh")
            if is_digits(index) and int(index) < len(unique):
                yield unique[int(index)], comment


def _run(binary: str, folder: Path, names: Sequence[str]) -> list[dict[str, object]]:
    try:
        completed = subprocess.run(
            [binary, "--format=json1", f"--exclude={EXCLUDED}", *names],
            cwd=folder,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        comments = json.loads(completed.stdout or b"{}").get("comments", [])
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    return [c for c in comments if isinstance(c, dict)]
