"""A large batch's work shared with one forked helper process (Linux, two or more cores).

`forked_map(function, items)` is `[function(item) for item in items]`: the items are cut
into contiguous chunks, this process and a helper forked from it take turns at them (a
pipe holds the chunks not taken yet, one byte each), and the helper's results come back
pickled. Objects both processes already hold (`shared`: the parsed Dockerfiles, say) are
sent by their place in that list, so a result that points at one points at the very same
object afterwards. If the helper fails (an exception, a signal), the chunks it did not hand
back are computed here, where the same exception then surfaces as in one process. A helper
still busy long after this process is done is stopped and its chunks computed here too: a
library whose threads do not survive a fork (BuildKit's Go parser, for one: parsing stays
before any fork) would otherwise hang the command.

Forking costs little before the work (a few milliseconds) and needs no pickling of the
inputs: the helper starts with everything loaded so far.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# DOCKWISE_JOBS=1 does everything in one process whatever the batch
JOBS_ENV = "DOCKWISE_JOBS"
# chunks the items are cut into (the processes take turns at them); at most 255
CHUNKS = 24
# once this process is done, how long the helper may still take before its chunks are
# computed here instead: seconds, and times what this process took
HELPER_GRACE = 5.0
HELPER_SLOWER = 4.0


def jobs_wanted() -> int:
    """Processes to use: DOCKWISE_JOBS when set to a number, else one per core."""
    wanted = os.environ.get(JOBS_ENV, "").strip()
    return int(wanted) if wanted.isdigit() else cores()


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork(jobs: int, count: int) -> bool:
    """Whether `count` items may be shared with a helper: two jobs or more, Linux, and no
    other thread (forking a threaded process could deadlock)."""
    if jobs < 2 or count < 2 or not sys.platform.startswith("linux"):
        return False
    import threading

    return threading.active_count() == 1


def chunks(count: int, parts: int = CHUNKS) -> list[tuple[int, int]]:
    """`count` items cut into at most `parts` contiguous (start, stop) ranges."""
    if count <= 0:
        return []
    size = -(-count // min(count, parts))
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def forked_map(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    shared: Sequence[object] = (),
    parts: int = CHUNKS,
    first: Callable[[], object] | None = None,
    first_here: int = 0,
) -> list[R]:
    """`[function(item) for item in items]`, computed by this process and a forked helper.

    `first`, when given, runs here before this process takes its first chunk (work that
    must stay in this process: the helper meanwhile takes more chunks). The first
    `first_here` items are computed here before the fork: what they import or compile on
    first use is then done once for both processes."""
    import gc

    results = [function(item) for item in items[:first_here]]
    ranges = [(max(start, first_here), stop) for start, stop in chunks(len(items), min(parts, 255))]
    queue_read, queue_write = os.pipe()  # the chunks not taken yet, one byte each
    os.write(queue_write, bytes(range(len(ranges))))
    os.close(queue_write)
    result_read, result_write = os.pipe()
    gc.freeze()  # the objects loaded so far stay shared, untouched by either collector
    pid = os.fork()
    if pid == 0:  # the helper: chunks only, results pickled to the parent
        status = 1
        try:
            os.close(result_read)
            done = _take(function, items, ranges, queue_read)
            with os.fdopen(result_write, "wb") as out:
                _pickler(out, shared).dump(done)
            status = 0
        finally:
            os._exit(status)
    os.close(result_write)
    started = time.monotonic()
    try:
        if first is not None:
            first()
        done = _take(function, items, ranges, queue_read)
        waited = max(HELPER_GRACE, HELPER_SLOWER * (time.monotonic() - started))
        data = _read_all(result_read, time.monotonic() + waited)
        if data is not None:
            _, status = os.waitpid(pid, 0)
            pid = 0
            if status == 0 and data:
                import io

                done.update(_unpickler(io.BytesIO(data), shared).load())
    finally:
        os.close(result_read)
        os.close(queue_read)
        if pid:  # interrupted or stuck: the helper is not needed any more
            import signal

            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        gc.unfreeze()
    for chunk, (start, stop) in enumerate(ranges):
        if chunk not in done:  # the helper failed: its chunks run here
            done[chunk] = [function(item) for item in items[start:stop]]
        results.extend(done[chunk])
    return results


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything the helper writes, or None when it is not done by `deadline` (stuck: a
    library whose threads did not survive the fork, a machine far too busy)."""
    import select

    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        part = os.read(fd, 1 << 20)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _take(
    function: Callable[[T], R], items: Sequence[T], ranges: Sequence[tuple[int, int]], queue: int
) -> dict[int, list[R]]:
    """The results of the chunks this process takes from the queue, by chunk."""
    done: dict[int, list[R]] = {}
    while True:
        taken = os.read(queue, 1)
        if not taken:
            return done
        start, stop = ranges[taken[0]]
        done[taken[0]] = [function(item) for item in items[start:stop]]


def _mapping_proxy(content: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(content)


def _pickler(out: Any, shared: Sequence[object]) -> Any:
    import copyreg
    import pickle

    places = {id(value): index for index, value in enumerate(shared)}

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> int | None:
            return places.get(id(obj))

    # a Python call per object pickled: only when some objects are shared
    pickler = (Pickler if places else pickle.Pickler)(out, protocol=pickle.HIGHEST_PROTOCOL)
    # the models' read-only mappings (a Dockerfile's global ARGs) travel as their content
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        MappingProxyType: lambda proxy: (_mapping_proxy, (dict(proxy),)),
    }
    return pickler


def _unpickler(data: Any, shared: Sequence[object]) -> Any:
    import pickle

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> object:
            return shared[pid]

    return Unpickler(data)
