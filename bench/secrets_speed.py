"""CPU time of the secret detector (`scan_text`) on real source code.

Reads the corpus's Python, shell and YAML files (/work/shared/corpus, sorted, so the sample
is fixed), joins them into 1 MB batches per extension as `dockwise check` does for a build
context (sources/context.py), scans every batch, then scans each file of the first thousand
on its own (a batch's suspects are scanned again alone; small files are what image layers
and findings hand to the detector). Prints the CPU time (`time.process_time`) of the best and
the median of a few runs: CPU time, because wall time on a shared machine is noise.

    python bench/secrets_speed.py [--corpus DIR] [--megabytes 12] [--runs 5]
                                  [--src OTHER/src]   # the same over another checkout's code
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

EXTENSIONS = (".py", ".sh", ".yaml", ".yml")
BATCH_CHARS = 1 << 20
SEPARATOR = "\n\n\n\n"  # as sources/context.py joins a batch
ALONE = 1000


def sample(corpus: Path, megabytes: float) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(batches, files): each a list of (text, path) handed to `scan_text`."""
    budget = int(megabytes * (1 << 20))
    files: list[tuple[str, str]] = []
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in EXTENSIONS and p.is_file()):
        if budget <= 0:
            break
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if len(text) > BATCH_CHARS:
            continue
        files.append((text, str(path.relative_to(corpus))))
        budget -= len(text)
    groups: dict[str, list[list[str]]] = {}
    for text, relpath in files:
        batches = groups.setdefault(Path(relpath).suffix, [[]])
        if sum(map(len, batches[-1])) >= BATCH_CHARS:
            batches.append([])
        batches[-1].append(text)
    joined = [
        (SEPARATOR.join(texts), f"batch{suffix}")
        for suffix, batches in groups.items()
        for texts in batches
    ]
    return joined, files[:ALONE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument("--megabytes", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = parser.parse_args()
    sys.path.insert(0, str(args.src.resolve()))
    from dockwise.secrets import scan_text

    batches, files = sample(args.corpus, args.megabytes)
    size = sum(len(text) for text, _ in batches) / (1 << 20)
    found = 0
    times: list[float] = []
    for _ in range(args.runs + 1):  # the first run warms caches and compiles the regexes
        start = time.process_time()
        found = sum(len(scan_text(text, path=path)) for text, path in batches)
        found += sum(len(scan_text(text, path=path)) for text, path in files)
        times.append(time.process_time() - start)
    times = times[1:]
    print(
        f"scan_text: {len(batches)} batches ({size:.1f} MB) + {len(files)} files alone, "
        f"{found} matches: CPU best {min(times) * 1000:.0f} ms, "
        f"median {statistics.median(times) * 1000:.0f} ms ({size / min(times):.1f} MB/s)"
    )


if __name__ == "__main__":
    main()
