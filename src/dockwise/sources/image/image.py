"""An opened image: config, layers, and each layer's tar streamed with its digests verified."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from dockwise.sources.image import manifest as mf
from dockwise.sources.image.model import Entry, ImageError, Layer, Limits
from dockwise.sources.image.tarstream import RegionSource, StreamSource, iter_tar

CHUNK = 1 << 20
HASH_CHUNK = 4 << 20
# uncompressed layers in a file: how many are hashed at once, and how far ahead of the parse
HASHERS = 2
LOOKAHEAD = 3

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compression_of(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(b"BZh") or head.startswith(b"\xfd7zXZ\x00"):
        return "unsupported"
    return ""


@dataclass(frozen=True)
class BlobRef:
    key: str  # what the store finds it by: a digest, or a path inside a docker-archive
    digest: str  # "sha256:..." the bytes must hash to ("" when unknown: verify diff_id only)
    size: int  # -1 when unknown


class BlobStore(Protocol):
    where: str

    def read_small(self, ref: BlobRef, limit: int) -> bytes: ...

    def region(self, ref: BlobRef) -> tuple[int, int, int] | None:
        """(fd, offset, size) when the blob lies uncompressed in a local file."""
        ...

    def chunks(self, ref: BlobRef) -> Iterator[bytes]:
        """The blob's bytes in chunks (a generator: closing it releases the connection)."""
        ...

    def close(self) -> None: ...


def short(digest: str) -> str:
    return digest[:19] if digest else "?"


def read_verified(
    store: BlobStore, ref: BlobRef, what: str, limit: int = mf.MAX_JSON_BYTES
) -> bytes:
    if ref.size > limit:
        raise ImageError(
            f"{store.where}: {what} {short(ref.digest)} is {ref.size} bytes (limit {limit})"
        )
    data = store.read_small(ref, limit)
    if ref.size >= 0 and len(data) != ref.size:
        raise ImageError(
            f"{store.where}: {what} {short(ref.digest)} has {len(data)} bytes, expected {ref.size}"
        )
    if ref.digest and "sha256:" + hashlib.sha256(data).hexdigest() != ref.digest:
        raise ImageError(f"{store.where}: {what} {short(ref.digest)} does not match its digest")
    return data


class _RegionHasher(threading.Thread):
    """sha256 of a file region in big chunks, in parallel with the header parse."""

    def __init__(self, fd: int, offset: int, size: int, slots: threading.Semaphore) -> None:
        super().__init__(daemon=True)
        self.fd, self.offset, self.size = fd, offset, size
        self.slots = slots
        self.stop = False
        self.hexdigest = ""
        self.error = ""

    def run(self) -> None:
        with self.slots:  # at most HASHERS read at a time
            if not self.stop:
                self._hash()

    def _hash(self) -> None:
        buf = bytearray(HASH_CHUNK)
        view = memoryview(buf)
        h = hashlib.sha256()
        pos, end = self.offset, self.offset + self.size
        try:
            while pos < end and not self.stop:
                want = min(HASH_CHUNK, end - pos)
                n = os.preadv(self.fd, [view[:want]], pos)
                if n <= 0:
                    self.error = "truncated"
                    return
                h.update(view[:n])
                pos += n
        except OSError as exc:
            self.error = exc.strerror or "read error"
            return
        self.hexdigest = "sha256:" + h.hexdigest()


class Image:
    """A context manager; close() releases files and connections."""

    def __init__(
        self,
        *,
        store: BlobStore,
        source: str,
        reference: str,
        config: dict[str, Any],
        config_digest: str,
        manifest_digest: str,
        layers: tuple[Layer, ...],
        blobs: tuple[BlobRef, ...],
        limits: Limits | None = None,
    ) -> None:
        self._store = store
        self.limits = limits or Limits()
        self.source = source
        self.reference = reference
        self.config = config
        self.config_digest = config_digest
        self.manifest_digest = manifest_digest
        self.platform = mf.platform_of(config)
        self.layers = layers
        self._blobs = blobs
        self._hashers: dict[int, _RegionHasher] = {}
        self._slots = threading.Semaphore(HASHERS)
        self._lock = threading.Lock()

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for hasher in self._hashers.values():
            hasher.stop = True
        for hasher in self._hashers.values():
            hasher.join()
        self._hashers.clear()
        self._store.close()

    def __repr__(self) -> str:
        return f"<Image {self.source} {self.reference or self.config_digest[:19]} {len(self.layers)} layers>"

    # -- streaming -----------------------------------------------------------------------
    def _where(self, layer: Layer) -> str:
        return f"{self._store.where}: layer {layer.index} ({short(layer.digest)})"

    def _hasher(self, index: int) -> _RegionHasher | None:
        if index >= len(self.layers) or self.layers[index].compression:
            return None
        with self._lock:
            hasher = self._hashers.get(index)
            if hasher is None:
                region = self._store.region(self._blobs[index])
                if region is None:
                    return None
                hasher = _RegionHasher(*region, self._slots)
                hasher.start()
                self._hashers[index] = hasher
            return hasher

    def entries(
        self, layer: Layer, on_bytes: Callable[[int], None] | None = None
    ) -> Iterator[tuple[Entry, Callable[[int], bytes]]]:
        """Streams the layer's tar: for each entry, a reader read(limit) -> the next at most
        `limit` bytes of the body (b"" at its end), valid only until the next entry; unread
        bodies are skipped (seeked over when the stream allows). The blob's sha256 (and the
        diff_id for compressed layers) is verified while streaming; a mismatch raises
        ImageError at the end. `on_bytes(n)` is called with the stored bytes consumed."""
        if layer is not self.layers[layer.index] and layer != self.layers[layer.index]:
            raise ValueError("layer of another image")
        if layer.compression == "unsupported":
            raise ImageError(f"{self._where(layer)}: unsupported compression (bzip2/xz)")
        region = None if layer.compression else self._store.region(self._blobs[layer.index])
        if region is not None:
            yield from self._entries_region(layer, region, on_bytes)
        else:
            yield from self._entries_stream(layer, on_bytes)

    def _entries_region(
        self,
        layer: Layer,
        region: tuple[int, int, int],
        on_bytes: Callable[[int], None] | None,
    ) -> Iterator[tuple[Entry, Callable[[int], bytes]]]:
        where = self._where(layer)
        # threads hash this layer and the next ones (HASHERS at a time, both cores) while
        # this thread only parses headers, seeking over file bodies
        hasher = self._hasher(layer.index)
        for ahead in range(1, LOOKAHEAD):
            self._hasher(layer.index + ahead)
        if hasher is None:  # pragma: no cover - a region layer always gets a hasher
            raise ImageError(f"{where}: cannot hash")
        fd, offset, size = region
        src = RegionSource(fd, offset, size, where)
        reported = offset
        for item in iter_tar(src, where):
            yield item
            if on_bytes is not None and src.pos - reported >= CHUNK:
                on_bytes(src.pos - reported)
                reported = src.pos
        if on_bytes is not None:
            on_bytes(offset + size - reported)
        hasher.join()
        with self._lock:
            self._hashers.pop(layer.index, None)
        if hasher.error:
            raise ImageError(f"{where}: {hasher.error}")
        got = hasher.hexdigest
        expected = self._blobs[layer.index].digest or layer.diff_id
        if got != expected:
            raise ImageError(f"{where}: blob does not match its digest (got {short(got)})")
        if got != layer.diff_id:
            raise ImageError(
                f"{where}: uncompressed layer does not match its diff_id {short(layer.diff_id)}"
            )

    def _entries_stream(
        self, layer: Layer, on_bytes: Callable[[int], None] | None
    ) -> Iterator[tuple[Entry, Callable[[int], bytes]]]:
        where = self._where(layer)
        ref = self._blobs[layer.index]
        chunks = self._store.chunks(ref)
        stream = None
        try:
            stream = _LayerStream(chunks, layer, ref, where, on_bytes, self.limits)
            src = StreamSource(stream.read, where)
            yield from iter_tar(src, where)
            stream.finish()
        finally:
            if stream is not None:
                stream.close()  # the decoding thread stops before the blob is released
            close = getattr(chunks, "close", None)
            if close is not None:
                close()


class _RawReader:
    """The stored blob as a file object for the decompressors, hashed as it is read."""

    def __init__(self, chunks: Iterator[bytes], on_bytes: Callable[[int], None] | None) -> None:
        self._chunks = chunks
        self._buf = b""
        self.hash = hashlib.sha256()
        self.count = 0
        self._on_bytes = on_bytes

    def _next(self) -> bytes:
        chunk = next(self._chunks, b"")
        if chunk:
            self.hash.update(chunk)
            self.count += len(chunk)
            if self._on_bytes is not None:
                self._on_bytes(len(chunk))
        return chunk

    def read(self, n: int = -1) -> bytes:
        if not self._buf:
            self._buf = self._next()
        if n < 0 or n >= len(self._buf):
            out, self._buf = self._buf, b""
            return out
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def peek(self, n: int) -> bytes:
        if not self._buf:
            self._buf = self._next()
        return self._buf


class _LayerStream:
    """Decompressed layer bytes, with both digests and the bomb limits checked.

    A compressed layer is read, hashed and decompressed by a thread ahead of the parse
    (zlib/isal, zstd and hashlib all drop the GIL), while this thread hashes the
    decompressed bytes for the diff_id and parses: two cores for one layer."""

    QUEUE = 8

    def __init__(
        self,
        chunks: Iterator[bytes],
        layer: Layer,
        ref: BlobRef,
        where: str,
        on_bytes: Callable[[int], None] | None,
        limits: Limits,
    ) -> None:
        self.raw = _RawReader(chunks, None)
        self.layer, self.ref, self.where = layer, ref, where
        self.on_bytes = on_bytes
        self.diff_hash = hashlib.sha256() if layer.compression else None
        self.out = 0
        stored = max(ref.size, layer.compressed_bytes, 1)
        self.limit = min(limits.max_layer_bytes, max(limits.ratio_floor, limits.ratio * stored))
        self.decoder: Any = None
        if layer.compression == "gzip":
            try:
                from isal import igzip as gz  # fast gzip when available
            except ImportError:  # pragma: no cover - isal is a dependency
                import gzip as gz  # type: ignore[no-redef]
            self.decoder = gz.GzipFile(fileobj=self.raw, mode="rb")  # type: ignore[arg-type]
        elif layer.compression == "zstd":
            import zstandard

            self.decoder = zstandard.ZstdDecompressor().stream_reader(
                self.raw,  # type: ignore[arg-type]
                read_size=CHUNK,
                read_across_frames=True,
            )
        self._reported = 0
        self._done = False
        self._stop = threading.Event()
        self._queue: queue.Queue[tuple[bytes, int] | BaseException | None] = queue.Queue(self.QUEUE)
        self._thread: threading.Thread | None = None
        if self.decoder is not None:
            self._thread = threading.Thread(target=self._produce, daemon=True)
            self._thread.start()

    # -- the decoding thread ---------------------------------------------------------------
    def _decode(self) -> bytes:
        try:
            data: bytes = self.decoder.read(CHUNK)
        except ImageError:
            raise
        except Exception as exc:  # zlib.error, BadGzipFile, EOFError, ZstdError, OSError
            raise ImageError(
                f"{self.where}: corrupt {self.layer.compression} data ({exc.__class__.__name__}: {str(exc)[:80]})"
            ) from None
        self.out += len(data)
        if self.out > self.limit:
            raise ImageError(
                f"{self.where}: decompression bomb: inflates past {self.limit} bytes "
                f"from {self.ref.size if self.ref.size >= 0 else '?'} stored"
            )
        return data

    def _put(self, item: tuple[bytes, int] | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            while True:
                data = self._decode()
                if not data:
                    while self.raw.read(CHUNK):  # trailing bytes after the compressed stream
                        pass
                    self._put(None)
                    return
                if not self._put((data, self.raw.count)):
                    return
        except BaseException as exc:  # handed to the parsing thread, which raises it
            self._put(exc)

    # -- the parsing thread ----------------------------------------------------------------
    def _report(self, count: int) -> None:
        if self.on_bytes is not None and count > self._reported:
            self.on_bytes(count - self._reported)
        self._reported = count

    def read(self) -> bytes:
        if self._done:
            return b""
        if self._thread is None:
            data = self.raw.read(CHUNK)
            self._report(self.raw.count)
            if not data:
                self._done = True
            return data
        item = self._queue.get()
        if item is None:
            self._done = True
            self._report(self.raw.count)
            return b""
        if isinstance(item, BaseException):
            self._done = True
            raise item
        data, count = item
        assert self.diff_hash is not None
        self.diff_hash.update(data)
        self._report(count)
        return data

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def finish(self) -> None:
        while self.read():
            pass
        self.close()
        got = "sha256:" + self.raw.hash.hexdigest()
        if self.ref.size >= 0 and self.raw.count != self.ref.size:
            raise ImageError(
                f"{self.where}: blob has {self.raw.count} bytes, expected {self.ref.size}"
            )
        expected = self.ref.digest or (self.layer.diff_id if not self.layer.compression else "")
        if expected and got != expected:
            raise ImageError(f"{self.where}: blob does not match its digest (got {short(got)})")
        diff = got if self.diff_hash is None else "sha256:" + self.diff_hash.hexdigest()
        if diff != self.layer.diff_id:
            raise ImageError(
                f"{self.where}: uncompressed layer does not match its diff_id {short(self.layer.diff_id)}"
            )
