"""How fast dockwise reports on a large build context: 50,000 files, 1 GB, `COPY . /app`.

Generates the context in a temporary folder (most bytes in a few sparse and random binary
files, most files small source files with a few planted secrets, plus `.git`,
`node_modules` and `__pycache__` junk), with no `.dockerignore` so that every file is sent
and taken into the shipped stage and the content scan really runs. Then times
`dockwise check DIR --format json --fail-on never` (the console script next to this
Python) and prints the wall time, the number of files sent and content-scanned, and the
findings by rule. Target: under 5 s.

    python bench/context_speed.py [--files 50000] [--gigabytes 1] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 5.0
SPARSE_FILES = 8
RANDOM_FILES = 16
RANDOM_FILE_BYTES = 512 * 1024

SOURCE_TEMPLATE = '''"""Module {index} of the generated service."""

import logging

LOG = logging.getLogger(__name__)
TIMEOUT_{index} = {index} % 30 + 1


def handler_{index}(request: dict) -> dict:
    """Return what the caller asked for, with a request id."""
    value = request.get("value", {index})
    LOG.info("handled %s", value)
    return {{"id": "{uuid}", "value": value * 2, "sha": "{sha}"}}
'''


def _fake_secret(rng: random.Random, index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key_id = "AKIA" + "".join(rng.choice(letters) for _ in range(16))
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                       for _ in range(18))  # fmt: skip
    return (
        f"AWS_ACCESS_KEY_ID={key_id}\n"
        f"DATABASE_URL=postgres://svc{index}:{password}@db.internal:5432/app\n"
    )


def generate(root: Path, files: int, total_bytes: int, seed: int = 7) -> int:
    """Write the context; returns the number of files written."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\n"
        'USER 10001\nCMD ["python", "-m", "service"]\n'
    )
    written = 1
    for index in range(RANDOM_FILES):
        target = root / "assets" / f"blob{index}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rng.randbytes(RANDOM_FILE_BYTES))
        written += 1
    sparse_bytes = total_bytes - RANDOM_FILES * RANDOM_FILE_BYTES - files * 600
    for index in range(SPARSE_FILES):
        target = root / "data" / f"model{index}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(b"\x00\x01binary-model\x00")
            handle.truncate(max(sparse_bytes // SPARSE_FILES, 1))
        written += 1
    small = files - written
    junk = {".git/objects": small // 10, "node_modules/pkg": small // 10, "svc/__pycache__": 500}
    for folder, count in junk.items():
        for index in range(count):
            target = root / folder / f"d{index % 50}" / f"f{index}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"junk %d\n" % index * 40)
        written += count
    sources = files - written
    for index in range(sources):
        target = root / "service" / f"pkg{index % 200}" / f"mod{index}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = SOURCE_TEMPLATE.format(
            index=index, uuid=f"{rng.getrandbits(128):032x}", sha=f"{rng.getrandbits(160):040x}"
        )
        if index % 5000 == 17:
            text += _fake_secret(rng, index)
        target.write_text(text)
        written += 1
    return written


def _console_script() -> str:
    script = Path(sys.executable).with_name("dockwise")
    return str(script) if script.exists() else shutil.which("dockwise") or "dockwise"


def run(root: Path, profile: bool) -> tuple[float, dict[str, object]]:
    if profile:
        command = [sys.executable, "-m", "cProfile", "-s", "cumtime", "-m", "dockwise.cli"]
    else:
        command = [_console_script()]
    command += ["check", str(root), "--format", "json", "--fail-on", "never"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if profile:
        print(result.stdout[result.stdout.find("\n   Ordered by") :][:6000])
        return elapsed, {}
    if result.returncode not in (0, 1):
        sys.exit(f"dockwise failed ({result.returncode}): {result.stderr[:2000]}")
    return elapsed, json.loads(result.stdout)


def scanned_counts(root: Path) -> tuple[int, int, int, int]:
    """Files sent, files content-scanned, bytes sent (measured in-process, not timed)."""
    from dockwise.config import Config
    from dockwise.project import load_project

    context = load_project(root, Config()).contexts["Dockerfile"]
    scanned = sum(1 for c in context.contents.values() if c.skipped is None)
    return len(context.files), len(context.contents), scanned, context.sent_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args()
    holder = None
    if args.keep is not None:
        root = args.keep
    else:
        holder = tempfile.TemporaryDirectory(prefix="dockwise-context-")
        root = Path(holder.name)
    try:
        if not (root / "Dockerfile").exists():
            started = time.perf_counter()
            count = generate(root, args.files, int(args.gigabytes * 1024**3))
            print(f"generated {count} files in {time.perf_counter() - started:.1f} s")
        os.sync()
        run(root, profile=False)  # warm the page cache and the import cache once
        elapsed, report = run(root, args.profile)
        if args.profile:
            return
        sent, shipped, scanned, sent_bytes = scanned_counts(root)
        rules = collections.Counter(str(f["rule"]) for f in report["findings"])  # type: ignore[union-attr]
        verdict = "OK" if elapsed < TARGET_SECONDS else "OVER TARGET"
        print(
            f"context: {sent} files sent ({sent_bytes / 1024**3:.2f} GB), {shipped} reach the "
            f"shipped stage, {scanned} content-scanned"
        )
        print(f"findings: {dict(sorted(rules.items()))}")
        print(
            f"dockwise check wall time: {elapsed:.2f} s (target < {TARGET_SECONDS:.0f} s) {verdict}"
        )
    finally:
        if holder is not None:
            holder.cleanup()


if __name__ == "__main__":
    main()
