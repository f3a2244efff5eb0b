"""The secret scan of every layer shared with a forked process, beside the size analysis.

Reading file contents for secrets costs more than the whole size analysis (the prefilter
reads every text file a few dozen times at memory speed), and the work splits by file: the
files the scanner wants to read ("candidates") are numbered in stream order, the same in
both processes; a child forked once the image is open streams the layers by itself and
takes the candidates whose number is not a multiple of SHARE, this process takes the others
during its size analysis. Each reports its findings per file, and they are merged in stream
order with the scanner's cap applied as one process applies it; account files
(/etc/passwd...) are read here only. The findings are the same as in one process
(tests/imagescan/test_side_scan.py).

Only for images whose layers all lie uncompressed in a local file (docker-archive, OCI
folders of plain tars), where the child's second read costs only seeks; on Linux, with two
cores or more, without other threads (forking a threaded process could deadlock) and unless
DOCKWISE_JOBS=1. If the child fails for any reason, its share is scanned here afterwards.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockwise.imagescan.layer_secrets import LayerSecret, LayerSecretScanner
    from dockwise.sources.image import Entry, Image, Layer

JOBS_ENV = "DOCKWISE_JOBS"
WHITEOUT = ".wh."
# this process takes one candidate in SHARE: it also does the size analysis
SHARE = 3

Batches = list[tuple[int, tuple["LayerSecret", ...]]]  # (candidate number, its findings)


def scan_entry(scanner: Any, layer: Layer, entry: Entry, read: Callable[[int], bytes]) -> None:
    """Give one tar entry to the layer secret scanner (files only, whiteouts never)."""
    wanted = _wanted(scanner, layer, entry)
    if wanted > 0:
        scanner.inspect(layer, entry, read(wanted))


def _wanted(scanner: Any, layer: Layer, entry: Entry) -> int:
    """How many bytes of the entry the scanner reads: files only, whiteouts never."""
    if entry.kind != "file" or not entry.path:
        return 0
    if entry.path.rpartition("/")[2].startswith(WHITEOUT):
        return 0
    wanted: int = scanner.wants(layer, entry)
    return wanted


class Share:
    """One process' share of the candidates: `feed` sees every entry, inspects its own."""

    def __init__(self, scanner: LayerSecretScanner, mine: Callable[[int], bool], accounts: bool):
        from dockwise.imagescan.layer_secrets import ACCOUNT_FILES

        self.scanner = scanner
        self._mine = mine
        self._accounts = accounts
        self._account_files = ACCOUNT_FILES
        self._number = 0
        self.batches: Batches = []

    def feed(self, layer: Layer, entry: Entry, read: Callable[[int], bytes]) -> None:
        scanner = self.scanner
        wanted = _wanted(scanner, layer, entry)
        if wanted <= 0:
            return
        if entry.path in self._account_files:
            if self._accounts:
                scanner.inspect(layer, entry, read(wanted))
            return
        number = self._number
        self._number += 1
        if not self._mine(number):
            return
        before = scanner.found_count
        scanner.inspect(layer, entry, read(wanted))
        if scanner.found_count > before:
            self.batches.append((number, scanner.found_since(before)))


def _parent_takes(number: int) -> bool:
    return number % SHARE == 0


def _child_takes(number: int) -> bool:
    return number % SHARE != 0


def merged(*shares: Batches) -> tuple[LayerSecret, ...]:
    """The findings in stream order, stopping where one process' scanner stops reading."""
    from dockwise.imagescan.layer_secrets import MAX_FOUND

    found: list[LayerSecret] = []
    for _, batch in sorted((item for share in shares for item in share), key=lambda i: i[0]):
        if len(found) >= MAX_FOUND:
            break
        found.extend(batch)
    return tuple(found)


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
    """This process' share (`share.feed`, during the size analysis) and the forked child's."""

    def __init__(self, pid: int, pipe: int, share: Share) -> None:
        self._pid = pid
        self._pipe = pipe
        self._ended = False  # the child was waited for (collected or cancelled)
        self.share = share

    @classmethod
    def start(cls, image: Image) -> SideScan | None:
        """The child, started; None when this image or machine is not worth it."""
        from dockwise.imagescan.layer_secrets import LayerSecretScanner

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
                _scan_and_send(image, write_end)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(pid, read_end, Share(LayerSecretScanner(capped=False), _parent_takes, True))

    def finish(self, image: Image) -> tuple[tuple[Any, ...], dict[str, tuple[int, str]]]:
        """(secrets found, account files), as one process would have them."""
        theirs = self._collect()
        if theirs is None:  # the child failed: its share is scanned here
            theirs = _scan_share(image).batches
        return merged(self.share.batches, theirs), dict(self.share.scanner.accounts)

    def _collect(self) -> Batches | None:
        chunks = []
        self._ended = True
        try:
            while chunk := os.read(self._pipe, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._pipe)
            _, status = os.waitpid(self._pid, 0)
        if status != 0 or not chunks:
            return None
        batches: Batches = pickle.loads(b"".join(chunks))
        return batches

    def cancel(self) -> None:
        """Stop the child (the caller gave up on the image); idempotent."""
        import contextlib
        import signal

        if self._ended:
            return
        self._ended = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._pipe)
        os.waitpid(self._pid, 0)


def _scan_share(image: Image) -> Share:
    """The child's share, scanned by streaming every layer again."""
    from dockwise.imagescan.layer_secrets import LayerSecretScanner

    share = Share(LayerSecretScanner(capped=False), _child_takes, False)
    for layer in image.layers:
        for entry, read in image.entries(layer):
            share.feed(layer, entry, read)
    return share


def _scan_and_send(image: Image, pipe: int) -> None:
    image.verify = False  # the parent verifies every blob
    data = pickle.dumps(_scan_share(image).batches)
    view = memoryview(data)
    while view:
        written = os.write(pipe, view)
        view = view[written:]
    os.close(pipe)
