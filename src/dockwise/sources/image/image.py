"""An opened image: config, layers, and each layer's tar streamed with its digests verified."""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from msgspec import Struct

from dockwise.sources.image import manifest as mf
from dockwise.sources.image.digests import RegionHasher
from dockwise.sources.image.model import Entry, ImageError, Layer, Limits
from dockwise.sources.image.tarstream import (
    BackgroundHashes,
    RegionSource,
    StreamSource,
    iter_tar,
)

CHUNK = 1 << 20

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


class BlobRef(Struct, frozen=True):
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
        # False: layer blobs are not hashed (the caller trusts the archive); manifests and
        # configs are verified all the same
        self.verify = True
        self._hasher: RegionHasher | None = None
        self._hasher_slots: dict[int, int] = {}
        self.source = source
        self.reference = reference
        self.config = config
        self.config_digest = config_digest
        self.manifest_digest = manifest_digest
        self.platform = mf.platform_of(config)
        self.layers = layers
        self._blobs = blobs

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._hasher is not None:
            self._hasher.close()
        self._store.close()

    def __repr__(self) -> str:
        return f"<Image {self.source} {self.reference or self.config_digest[:19]} {len(self.layers)} layers>"

    def all_layers_in_place(self) -> bool:
        """Whether every layer is an uncompressed tar lying in a local file (read by seeking)."""
        return all(
            not layer.compression and self._store.region(self._blobs[layer.index]) is not None
            for layer in self.layers
        )

    # -- streaming -----------------------------------------------------------------------
    def _where(self, layer: Layer) -> str:
        return f"{self._store.where}: layer {layer.index} ({short(layer.digest)})"

    def entries(
        self, layer: Layer, on_bytes: Callable[[int], None] | None = None
    ) -> Iterator[tuple[Entry, Callable[[int], bytes]]]:
        """Streams the layer's tar: for each entry, a reader read(limit) -> the next at most
        `limit` bytes of the body (b"" at its end), valid only until the next entry (then it
        raises ValueError); unread
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
        fd, offset, size = region
        hasher = self._region_hasher(layer) if self.verify else None
        src = RegionSource(fd, offset, size, where)
        reported = offset
        for item in iter_tar(src, where):
            yield item
            if on_bytes is not None and src.pos - reported >= CHUNK:
                on_bytes(src.pos - reported)
                reported = src.pos
        if on_bytes is not None:
            on_bytes(offset + size - reported)
        if hasher is None:
            return
        got = hasher.digest(self._hasher_slots[layer.index], where)
        expected = self._blobs[layer.index].digest or layer.diff_id
        if got != expected:
            raise ImageError(f"{where}: blob does not match its digest (got {short(got)})")
        if got != layer.diff_id:
            raise ImageError(
                f"{where}: uncompressed layer does not match its diff_id {short(layer.diff_id)}"
            )

    def _region_hasher(self, layer: Layer) -> RegionHasher | None:
        """The hashing processes, started with the first layer streamed: every layer blob
        that lies in a file (compressed or not) is hashed there, while the parse seeks over
        bodies or decompresses; None when this layer's blob is not in a file."""
        if self._hasher is None:
            regions: list[tuple[int, int, int]] = []
            for candidate in self.layers:
                found = self._store.region(self._blobs[candidate.index])
                if found is not None:
                    self._hasher_slots[candidate.index] = len(regions)
                    regions.append(found)
            self._hasher = RegionHasher(regions)
        return self._hasher if layer.index in self._hasher_slots else None

    def _entries_stream(
        self, layer: Layer, on_bytes: Callable[[int], None] | None
    ) -> Iterator[tuple[Entry, Callable[[int], bytes]]]:
        where = self._where(layer)
        ref = self._blobs[layer.index]
        # the stored blob is hashed in the hashing processes when it lies in a file, else on
        # the hashing thread with the uncompressed tar
        stored = self._region_hasher(layer) if self.verify else None
        hashes = BackgroundHashes(2) if self.verify else None
        chunks = self._store.chunks(ref)
        try:
            stream = _LayerStream(
                chunks, layer, ref, where, on_bytes, self.limits, hashes, stored is None
            )
            ahead = _Ahead(stream.read) if stream.decoder is not None else None
            src = StreamSource(ahead.read if ahead is not None else stream.read, where)
            try:
                yield from iter_tar(src, where)
            finally:
                if ahead is not None:
                    ahead.close()
            stream.finish(
                lambda: stored.digest(self._hasher_slots[layer.index], where) if stored else None
            )
        finally:
            if hashes is not None:
                hashes.close()
            close = getattr(chunks, "close", None)
            if close is not None:
                close()


class _Ahead:
    """`read()` run on a thread of its own, a few chunks ahead of the caller: the parse of
    one chunk overlaps the decompression of the next (isal and zstd drop the GIL while
    they inflate). Errors are raised where the caller reads."""

    DEPTH = 4

    def __init__(self, read: Callable[[], bytes]) -> None:
        self._read = read
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(self.DEPTH)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="dockwise-inflate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop:
                data = self._read()
                self._queue.put(data)
                if not data:
                    return
        except BaseException as error:  # handed to the reader, raised there
            self._queue.put(error)

    def read(self) -> bytes:
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._stop = True
            raise item
        return item

    def close(self) -> None:
        """Stop the thread (it may be waiting for room in the queue) and wait for it."""
        self._stop = True
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()


class _RawReader:
    """The stored blob as a file object for the decompressors, hashed (digest 0 of `hashes`,
    on the hashing thread) as it is read when `hashes` is given."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        on_bytes: Callable[[int], None] | None,
        hashes: BackgroundHashes | None,
    ) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0
        self.hashes = hashes
        self.count = 0
        self._on_bytes = on_bytes

    def _next(self) -> bytes:
        chunk = next(self._chunks, b"")
        if chunk:
            if self.hashes is not None:
                self.hashes.update(0, chunk)
            self.count += len(chunk)
            if self._on_bytes is not None:
                self._on_bytes(len(chunk))
        return chunk

    def read(self, n: int = -1) -> bytes:
        if self._pos >= len(self._buf):
            self._buf, self._pos = self._next(), 0
        buf, pos = self._buf, self._pos
        if n < 0 or pos + n >= len(buf):
            self._pos = len(buf)
            return buf[pos:] if pos else buf
        self._pos = pos + n
        return buf[pos : pos + n]  # copies n bytes, not the rest of the chunk

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def peek(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            self._buf, self._pos = self._next(), 0
        return self._buf[self._pos :]


class _LayerStream:
    """Decompressed layer bytes, with the bomb limits checked and, given `hashes`, the
    uncompressed tar's digest (hashed on the hashing thread) and, with `hash_stored`, the
    stored blob's. The caller may run `read` on a thread ahead of the parse (_Ahead)."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        layer: Layer,
        ref: BlobRef,
        where: str,
        on_bytes: Callable[[int], None] | None,
        limits: Limits,
        hashes: BackgroundHashes | None,
        hash_stored: bool,
    ) -> None:
        self.raw = _RawReader(chunks, on_bytes, hashes if hash_stored else None)
        self.hashes = hashes
        self.hash_stored = hash_stored
        self.layer, self.ref, self.where = layer, ref, where
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

    def read(self) -> bytes:
        if self.decoder is None:
            return self.raw.read(CHUNK)
        try:
            data: bytes = self.decoder.read(CHUNK)
        except ImageError:
            raise
        except Exception as exc:  # zlib.error, BadGzipFile, EOFError, ZstdError, OSError
            raise ImageError(
                f"{self.where}: corrupt {self.layer.compression} data ({exc.__class__.__name__}: {str(exc)[:80]})"
            ) from None
        if data:
            if self.hashes is not None:
                self.hashes.update(1, data)
            self.out += len(data)
            if self.out > self.limit:
                raise ImageError(
                    f"{self.where}: decompression bomb: inflates past {self.limit} bytes "
                    f"from {self.ref.size if self.ref.size >= 0 else '?'} stored"
                )
        return data

    def finish(self, stored_digest: Callable[[], str | None]) -> None:
        """Read to the end and check the sizes and digests; `stored_digest()` is the stored
        blob's, when it was not hashed here."""
        while self.read():  # the end-of-archive padding, then bytes after the stream
            pass
        while self.raw.read(CHUNK):
            pass
        if self.ref.size >= 0 and self.raw.count != self.ref.size:
            raise ImageError(
                f"{self.where}: blob has {self.raw.count} bytes, expected {self.ref.size}"
            )
        if self.hashes is None:
            return
        got = self.hashes.hexdigest(0) if self.hash_stored else stored_digest()
        if got is not None:
            self._check_stored(got)
        if self.layer.compression and self.hashes.hexdigest(1) != self.layer.diff_id:
            raise ImageError(
                f"{self.where}: uncompressed layer does not match its diff_id {short(self.layer.diff_id)}"
            )

    def _check_stored(self, got: str) -> None:
        """The stored blob's digest, `got`, against the manifest's (and the diff_id, for a
        blob stored uncompressed)."""
        expected = self.ref.digest or (self.layer.diff_id if not self.layer.compression else "")
        if expected and got != expected:
            raise ImageError(f"{self.where}: blob does not match its digest (got {short(got)})")
        if not self.layer.compression and got != self.layer.diff_id:
            raise ImageError(
                f"{self.where}: uncompressed layer does not match its diff_id {short(self.layer.diff_id)}"
            )
