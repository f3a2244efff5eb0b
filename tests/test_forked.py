"""forked.py: a batch's work shared with a forked helper gives what one process gives.

The forks run in a fresh interpreter (as in test_engine.py): forking is only safe when no
other thread runs, and earlier tests of the session may leave threads behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dockwise.forked import chunks

SCRIPT = r"""
import json, os, sys
from dockwise.forked import forked_map

forks = []
fork = os.fork
def counted_fork():
    forks.append(1)
    return fork()
os.fork = counted_fork

items = list(range(203))
report = {}
report["squares"] = forked_map(lambda n: n * n, items) == [n * n for n in items]
import time
report["pids"] = len(set(forked_map(lambda n: (time.sleep(0.002), os.getpid())[1], items)))
report["first_here"] = forked_map(lambda n: -n, items, first_here=1) == [-n for n in items]

# objects both processes hold come back as the very same objects, others as equal copies
class Model:
    def __init__(self, n):
        self.n = n
models = [Model(n) for n in range(100)]
back = forked_map(lambda m: (m, [m.n]), models, shared=models)
report["shared_identical"] = all(b[0] is m for b, m in zip(back, models))
report["others_equal"] = [b[1] for b in back] == [[m.n] for m in models]

# a helper that fails: its chunks are computed here, where the error shows as in one process
parent = os.getpid()
def fails_in_helper(n):
    if os.getpid() != parent:
        raise RuntimeError("helper")
    return n + 1
report["helper_fails"] = forked_map(fails_in_helper, items, parts=8) == [n + 1 for n in items]
def fails_everywhere(n):
    if n == 150:
        raise KeyError(n)
    return n
try:
    forked_map(fails_everywhere, items)
    report["raises"] = None
except KeyError as error:
    report["raises"] = error.args[0]

# a helper that hangs is stopped once this process is done and the grace is over
import dockwise.forked as forked
forked.HELPER_GRACE = 0.5
def hangs_in_helper(n):
    if os.getpid() != parent:
        import time
        time.sleep(60)
    return n * 2
report["helper_hangs"] = forked_map(hangs_in_helper, items, parts=8) == [n * 2 for n in items]
report["forks"] = len(forks)
print(json.dumps(report))
"""


def test_forked_map_gives_the_map_of_one_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=tmp_path,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["forks"] == 7  # every call shared its work
    assert report["squares"] and report["first_here"]
    assert report["pids"] == 2  # both processes took chunks
    assert report["shared_identical"] and report["others_equal"]
    assert report["helper_fails"]
    assert report["raises"] == 150
    assert report["helper_hangs"]


def test_chunks_cover_every_item_once_in_order() -> None:
    for count in (1, 2, 23, 24, 25, 500, 1001):
        parts = chunks(count)
        assert parts[0][0] == 0 and parts[-1][1] == count
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
        assert len(parts) <= 24
    assert chunks(0) == []
