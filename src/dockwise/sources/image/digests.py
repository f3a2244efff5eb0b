"""sha256 of layer blobs in a process of their own, beside the parse.

A thread is not enough: hashlib and preadv drop the GIL, but the hashing thread must win it
back after every read and every hash, and a parser that never waits keeps it for the whole
switch interval. Measured on the 900 MB bench docker-archive (bench/image_speed.py), 2 cores,
idle: hashing on the parse's own thread 1.12-1.17 s wall, on a second thread 1.05 s, in a
second process (here) the parse and the hashing overlap fully. The process is a bare
interpreter (`-I -S`) that reads the regions of the open file it is given and prints one
digest per line; it runs no code but the few lines below.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence

from dockwise.sources.image.model import ImageError

# 4 MB reads: the buffer stays in the cache while hashed
_HASHER = """
import hashlib, os, sys
view = memoryview(bytearray(4 << 20))
out = sys.stdout
preadv = getattr(os, "preadv", None)  # not on every system (macOS before 11)
for region in sys.argv[1:]:
    fd, offset, size = map(int, region.split(":"))
    digest = hashlib.sha256()
    position, end = offset, offset + size
    try:
        while position < end:
            want = min(len(view), end - position)
            if preadv is not None:
                n = preadv(fd, [view[:want]], position)
                data = view[:n]
            else:
                data = os.pread(fd, want, position)
                n = len(data)
            if n <= 0:
                raise EOFError
            digest.update(data)
            position += n
    except EOFError:
        out.write("! truncated\\n")
    except OSError as error:
        out.write(f"! cannot read: {error.strerror or error}\\n")
    else:
        out.write(f"sha256:{digest.hexdigest()}\\n")
    out.flush()
"""


class RegionHasher:
    """Hashes regions (fd, offset, size) of open files in child processes started at once,
    one per core (at most `processes`), the regions shared out by size, each child taking
    its own in order. `digest(i)` waits for region i; `close()` stops the children."""

    def __init__(self, regions: Sequence[tuple[int, int, int]], processes: int = 2) -> None:
        count = max(1, min(processes, os.cpu_count() or 1, len(regions)))
        loads = [0] * count
        self._owner: list[tuple[int, int]] = []  # region -> (child, its rank in the child)
        shares: list[list[tuple[int, int, int]]] = [[] for _ in range(count)]
        for region in regions:
            child = loads.index(min(loads))
            self._owner.append((child, len(shares[child])))
            shares[child].append(region)
            loads[child] += region[2]
        self._shares = shares
        self._children = [_start(share) for share in shares]
        self._digests: list[list[str]] = [[] for _ in self._children]

    def digest(self, index: int, where: str) -> str:
        """The "sha256:..." digest of region `index`; ImageError naming `where` when it
        could not be read."""
        child, rank = self._owner[index]
        found = self._digests[child]
        process = self._children[child]
        if process is None:  # no interpreter to start: hashed here, when asked
            while len(found) <= rank:
                found.append(_hash_here(*self._shares[child][len(found)]))
        while (
            process is not None
            and len(found) <= rank
            and process.stdout is not None
            and not process.stdout.closed
        ):
            line = process.stdout.readline()
            if not line:
                break
            found.append(line.rstrip("\n"))
        if rank >= len(found):
            raise ImageError(f"{where}: the blob could not be hashed (the hashing process ended)")
        if found[rank].startswith("! "):
            raise ImageError(f"{where}: {found[rank][2:]}")
        return found[rank]

    def close(self) -> None:
        """Idempotent."""
        for process in self._children:
            if process is None:
                continue
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _start(regions: Sequence[tuple[int, int, int]]) -> subprocess.Popen[str] | None:
    """The hashing process for these regions; None when no interpreter can be started
    (an embedded or frozen Python)."""
    if not sys.executable:
        return None
    try:
        return _popen(regions)
    except OSError:
        return None


def _hash_here(fd: int, offset: int, size: int) -> str:
    """What the hashing process prints for one region, computed in this process."""
    digest = hashlib.sha256()
    position, end = offset, offset + size
    try:
        while position < end:
            data = os.pread(fd, min(4 << 20, end - position), position)
            if not data:
                return "! truncated"
            digest.update(data)
            position += len(data)
    except OSError as error:
        return f"! cannot read: {error.strerror or error}"
    return f"sha256:{digest.hexdigest()}"


def _popen(regions: Sequence[tuple[int, int, int]]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _HASHER,
            *(f"{fd}:{offset}:{size}" for fd, offset, size in regions),
        ],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        pass_fds=sorted({fd for fd, _, _ in regions}),
    )
