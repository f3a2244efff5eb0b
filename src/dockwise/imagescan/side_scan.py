"""The secret scan of every layer in a forked process, beside the size analysis.

Reading file contents for secrets costs more than the whole size analysis (the prefilter
alone reads every text file 30 times at memory speed), and the two are independent: a child
forked once the image is open streams the same layers by itself and runs the same scanner
(`scan_entry`, also what the one-process pass calls), then sends its findings back pickled.
Only for images whose layers all lie uncompressed in a local file (docker-archive, OCI
folders of plain tars), where the child's second read costs nothing but seeks; on Linux,
with two cores or more, without other threads (forking a threaded process could deadlock)
and unless DOCKWISE_JOBS=1. If the child fails for any reason, `result()` says so and the
caller scans in its own process, so the findings never depend on the path taken.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockwise.sources.image import Entry, Image, Layer

JOBS_ENV = "DOCKWISE_JOBS"
WHITEOUT = ".wh."


def scan_entry(scanner: Any, layer: Layer, entry: Entry, read: Callable[[int], bytes]) -> None:
    """Give one tar entry to the layer secret scanner (files only, whiteouts never)."""
    if entry.kind != "file" or not entry.path:
        return
    if entry.path.rpartition("/")[2].startswith(WHITEOUT):
        return
    wanted = scanner.wants(layer, entry)
    if wanted > 0:
        scanner.inspect(layer, entry, read(wanted))


def worth_forking(image: Image) -> bool:
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    jobs = os.environ.get(JOBS_ENV, "").strip()
    if jobs.isdigit() and int(jobs) < 2:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cores < 2:
        return False
    import threading

    if threading.active_count() != 1:
        return False
    return image.all_layers_in_place()


class SideScan:
    """A forked child scanning every layer for secrets; `result()` collects it."""

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid = pid
        self._pipe = pipe

    @classmethod
    def start(cls, image: Image, make_scanner: Callable[[], Any]) -> SideScan | None:
        """The child, started; None when this image or machine is not worth it."""
        if not worth_forking(image):
            return None
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: scan, send, leave without running any cleanup
            status = 1
            try:
                os.close(read_end)
                _scan_and_send(image, make_scanner(), write_end)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(pid, read_end)

    def result(self) -> tuple[tuple[Any, ...], dict[str, tuple[int, str]]] | None:
        """(secrets found, account files) as the scanner has them, or None when the child
        failed (the caller then scans by itself)."""
        chunks = []
        try:
            while chunk := os.read(self._pipe, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._pipe)
            _, status = os.waitpid(self._pid, 0)
        if status != 0 or not chunks:
            return None
        found, accounts = pickle.loads(b"".join(chunks))
        return found, accounts

    def cancel(self) -> None:
        """Stop the child (the caller gave up on the image)."""
        import contextlib
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._pipe)
        os.waitpid(self._pid, 0)


def _scan_and_send(image: Image, scanner: Any, pipe: int) -> None:
    image.verify = False  # the parent verifies every blob
    for layer in image.layers:
        for entry, read in image.entries(layer):
            scan_entry(scanner, layer, entry, read)
    data = pickle.dumps((scanner.found, dict(scanner.accounts)))
    view = memoryview(data)
    while view:
        written = os.write(pipe, view)
        view = view[written:]
    os.close(pipe)
