"""A large batch's work shared with one forked helper process (Linux, two or more cores).

`forked_map(function, items)` is `[function(item) for item in items]`: the items are cut
into contiguous chunks, this process and a helper forked from it take turns at them (a
pipe holds the chunks not taken yet, one byte each), and the helper's results come back
pickled. Objects both processes already hold (`shared`: the parsed Dockerfiles, say) are
sent by their place in that list, so a result that points at one points at the very same
object afterwards. If the helper fails (an exception, a signal), the chunks it did not hand
back are computed here, where the same exception then surfaces as in one process. A helper
still busy long after this process is done is stopped and its chunks computed here too: a
library whose threads do not survive a fork (BuildKit's Go parser, for one: a batch is
parsed by processes forked before it is loaded) would otherwise hang the command.

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


# work for this process while the next helper takes chunks (see `while_forked`)
_WHILE_FORKED: list[Callable[[], object]] = []


def while_forked(work: Callable[[], object]) -> None:
    """Have the next `forked_map` run `work` here while its helper takes the first chunks:
    loading what a later step needs (rule modules) costs nothing then. Runs once, and not at
    all when nothing forks (the later step loads it anyway)."""
    if work not in _WHILE_FORKED:
        _WHILE_FORKED.append(work)


def forked_map(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    shared: Sequence[object] = (),
    parts: int = CHUNKS,
    first: Callable[[], object] | None = None,
) -> list[R]:
    """`[function(item) for item in items]`, computed by this process and a forked helper.

    `first`, when given, runs here before this process takes its first chunk (work that
    must stay in this process: the helper meanwhile takes more chunks).

    The helper sends each chunk's results as soon as it has them, and this process reads
    what has come between its own chunks: little is left to read once both are done."""
    import gc

    ranges = chunks(len(items), min(parts, 255))
    queue_read, queue_write = os.pipe()  # the chunks not taken yet, one byte each
    os.write(queue_write, bytes(range(len(ranges))))
    os.close(queue_write)
    result_read, result_write = os.pipe()
    _widen(result_write)
    gc.freeze()  # the objects loaded so far stay shared, untouched by either collector
    pid = os.fork()
    if pid == 0:  # the helper: chunks only, each one's results pickled to the parent
        status = 1
        try:
            os.close(result_read)
            _send_chunks(function, items, ranges, queue_read, result_write, shared)
            status = 0
        finally:
            os._exit(status)
    os.close(result_write)
    inbox = _Inbox(result_read, shared)
    done: dict[int, list[R]] = {}
    started = time.monotonic()
    try:
        if first is not None:
            first()
        while _WHILE_FORKED:
            _WHILE_FORKED.pop(0)()
        while (taken := os.read(queue_read, 1)) != b"":
            start, stop = ranges[taken[0]]
            done[taken[0]] = [function(item) for item in items[start:stop]]
            inbox.receive(done)
        waited = max(HELPER_GRACE, HELPER_SLOWER * (time.monotonic() - started))
        if inbox.receive(done, until=time.monotonic() + waited):
            os.waitpid(pid, 0)  # whatever its status, the chunks it sent are whole
            pid = 0
    finally:
        os.close(result_read)
        os.close(queue_read)
        if pid:  # interrupted or stuck: the helper is not needed any more
            import signal

            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        gc.unfreeze()
    for chunk, (start, stop) in enumerate(ranges):
        if chunk not in done:  # the helper failed or was stopped: its chunks run here
            done[chunk] = [function(item) for item in items[start:stop]]
    return [result for chunk in range(len(ranges)) for result in done[chunk]]


# a chunk's results travel as a frame: their pickled length (8 bytes, big-endian), then them
_LENGTH = 8
# a pipe this large lets the helper send a batch's results without waiting for a reader
_PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    import contextlib
    import fcntl

    # a smaller system limit: the helper waits for the reader now and then
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)


def _send_chunks(
    function: Callable[[T], R],
    items: Sequence[T],
    ranges: Sequence[tuple[int, int]],
    queue: int,
    out: int,
    shared: Sequence[object],
) -> None:
    """The helper's work: take chunks from the queue, send each one's results."""
    import io

    while (taken := os.read(queue, 1)) != b"":
        start, stop = ranges[taken[0]]
        found = [function(item) for item in items[start:stop]]
        frame = io.BytesIO()
        frame.write(bytes(_LENGTH))
        _pickler(frame, shared).dump((taken[0], found))
        data = frame.getbuffer()
        data[:_LENGTH] = (len(data) - _LENGTH).to_bytes(_LENGTH, "big")
        while data:
            data = data[os.write(out, data) :]
    os.close(out)


class _Inbox:
    """The frames the helper sends, read as they come."""

    def __init__(self, fd: int, shared: Sequence[object]) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.shared = shared
        self.pending = bytearray()

    def receive(self, done: dict[int, Any], until: float | None = None) -> bool:
        """Reads what has come (with `until`: everything, waiting up to that time) into
        `done`, by chunk. True once the helper has closed its end: nothing more comes."""
        import select

        while True:
            try:
                part = os.read(self.fd, _PIPE_BYTES)
            except BlockingIOError:
                left = 0.0 if until is None else until - time.monotonic()
                if left > 0 and select.select([self.fd], [], [], left)[0]:
                    continue
                return False
            if not part:
                return True
            self.pending += part
            self._unpack(done)

    def _unpack(self, done: dict[int, Any]) -> None:
        """The whole frames received so far, unpickled; a partial one waits for its end."""
        import io

        pending = self.pending
        used = 0
        while len(pending) - used >= _LENGTH:
            size = int.from_bytes(pending[used : used + _LENGTH], "big")
            end = used + _LENGTH + size
            if len(pending) < end:
                break
            body = io.BytesIO(pending[used + _LENGTH : end])
            chunk, found = _unpickler(body, self.shared).load()
            done[chunk] = found
            used = end
        del pending[:used]


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
