"""Images on disk: `docker save` archives (legacy and Docker 25+ layouts), oci-archive
tarballs and OCI layout folders. Nothing is extracted: the outer tar is indexed by seeking
over its members, and blobs are read in place."""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from msgspec.structs import replace

from dockwise.sources.image import manifest as mf
from dockwise.sources.image.image import (
    CHUNK,
    BlobRef,
    Image,
    compression_of,
    read_verified,
    short,
)
from dockwise.sources.image.model import ImageError, Layer
from dockwise.sources.image.tarstream import RegionSource, iter_tar

MAX_MEMBERS = 200_000
MAX_LINK_HOPS = 16


class _Member:
    __slots__ = ("offset", "size", "kind", "link")

    def __init__(self, offset: int, size: int, kind: str, link: str) -> None:
        self.offset, self.size, self.kind, self.link = offset, size, kind, link


class TarStore:
    """Blobs inside an outer tar file, found by path (docker-archive) or digest (oci-archive)."""

    def __init__(self, path: str, where: str, fd: int | None = None, cleanup: str = "") -> None:
        self.where = where
        self._cleanup = cleanup
        try:
            self.fd = os.open(path, os.O_RDONLY) if fd is None else fd
        except OSError as exc:
            raise ImageError(f"{where}: cannot open ({exc.strerror})") from None
        try:
            self.members = self._index(os.fstat(self.fd).st_size)
        except BaseException:
            self.close()
            raise

    def _index(self, size: int) -> dict[str, _Member]:
        src = RegionSource(self.fd, 0, size, self.where)
        head = os.pread(self.fd, 512, 0)
        if compression_of(head) in ("gzip", "zstd"):
            raise ImageError(
                f"{self.where}: a compressed archive: decompress it first (gunzip/unzstd)"
            )
        members: dict[str, _Member] = {}
        for entry, _ in iter_tar(src, self.where):
            # iter_tar has moved past the header; a file body starts at the source position
            if entry.kind == "file":
                members[entry.path] = _Member(src.pos, entry.size, "file", "")
            elif entry.kind in ("symlink", "hardlink"):
                members[entry.path] = _Member(0, 0, entry.kind, entry.linkname)
            if len(members) > MAX_MEMBERS:
                raise ImageError(
                    f"{self.where}: more than {MAX_MEMBERS} members: not an image archive"
                )
        if not members:
            raise ImageError(f"{self.where}: not a tar archive, or empty")
        return members

    def find(self, path: str) -> _Member | None:
        path = posixpath.normpath(path).lstrip("/")
        for _ in range(MAX_LINK_HOPS):
            member = self.members.get(path)
            if member is None or member.kind == "file":
                return member
            if member.kind == "symlink":  # legacy docker save links repeated layers
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.link))
            else:
                path = member.link
        raise ImageError(f"{self.where}: symlink loop at {path}")

    def has(self, path: str) -> bool:
        return self.find(path) is not None

    def _member(self, ref: BlobRef) -> _Member:
        member = self.find(ref.key)
        if member is None:
            raise ImageError(f"{self.where}: missing blob {ref.key}")
        if ref.size >= 0 and member.size != ref.size:
            raise ImageError(
                f"{self.where}: blob {short(ref.digest) if ref.digest else ref.key} has {member.size} bytes, expected {ref.size}"
            )
        return member

    def read_small(self, ref: BlobRef, limit: int) -> bytes:
        member = self._member(ref)
        if member.size > limit:
            raise ImageError(f"{self.where}: {ref.key} is {member.size} bytes (limit {limit})")
        data = os.pread(self.fd, member.size, member.offset)
        if len(data) < member.size:
            raise ImageError(f"{self.where}: truncated at {ref.key}")
        return data

    def region(self, ref: BlobRef) -> tuple[int, int, int] | None:
        member = self._member(ref)
        return self.fd, member.offset, member.size

    def chunks(self, ref: BlobRef) -> Iterator[bytes]:
        member = self._member(ref)
        pos, end = member.offset, member.offset + member.size
        while pos < end:
            data = os.pread(self.fd, min(CHUNK, end - pos), pos)
            if not data:
                raise ImageError(f"{self.where}: truncated at {ref.key}")
            pos += len(data)
            yield data

    def size_of(self, path: str) -> int:
        member = self.find(path)
        return -1 if member is None else member.size

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self._cleanup:
            shutil.rmtree(self._cleanup, ignore_errors=True)
            self._cleanup = ""


class DirStore:
    """Blobs of an OCI layout folder (blobs/sha256/<hex>)."""

    def __init__(self, root: Path, where: str) -> None:
        self.root = root
        self.where = where
        self._fds: dict[str, int] = {}

    def path_of(self, key: str) -> Path:
        return self.root / key

    def _fd(self, ref: BlobRef) -> tuple[int, int]:
        fd = self._fds.get(ref.key)
        if fd is None:
            path = self.path_of(ref.key)
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                raise ImageError(
                    f"{self.where}: missing blob {short(ref.digest) or ref.key}"
                ) from None
            self._fds[ref.key] = fd
        size = os.fstat(fd).st_size
        if ref.size >= 0 and size != ref.size:
            raise ImageError(
                f"{self.where}: blob {short(ref.digest)} has {size} bytes, expected {ref.size}"
            )
        return fd, size

    def has(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def read_small(self, ref: BlobRef, limit: int) -> bytes:
        fd, size = self._fd(ref)
        if size > limit:
            raise ImageError(f"{self.where}: {ref.key} is {size} bytes (limit {limit})")
        return os.pread(fd, size, 0)

    def region(self, ref: BlobRef) -> tuple[int, int, int] | None:
        fd, size = self._fd(ref)
        return fd, 0, size

    def chunks(self, ref: BlobRef) -> Iterator[bytes]:
        fd, size = self._fd(ref)
        pos = 0
        while pos < size:
            data = os.pread(fd, min(CHUNK, size - pos), pos)
            if not data:
                raise ImageError(f"{self.where}: truncated blob {short(ref.digest)}")
            pos += len(data)
            yield data

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def _blob_key(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def _digest_from_name(path: str) -> str:
    """The digest a docker-archive member's name carries (blobs/sha256/<hex>, <hex>.tar)."""
    name = posixpath.basename(path)
    stem = name.split(".", 1)[0]
    if (
        len(stem) == 64
        and all(c in "0123456789abcdef" for c in stem)
        and (path.startswith("blobs/sha256/") or name in (stem + ".tar", stem + ".json"))
    ):
        return "sha256:" + stem
    return ""


def _layers(
    store: Any,
    config: dict[str, Any],
    refs: list[BlobRef],
    media_types: list[str],
) -> tuple[Layer, ...]:
    diff_ids = mf.diff_ids(config)
    if len(diff_ids) != len(refs):
        raise ImageError(
            f"{store.where}: the manifest lists {len(refs)} layers, the config {len(diff_ids)}"
        )
    history = mf.history_for_layers(config, len(refs))
    layers = []
    for i, ref in enumerate(refs):
        head = _head(store, ref)
        media = media_types[i]
        compression = compression_of(head)
        if media == mf.DOCKER_LAYER and compression in ("gzip", "zstd"):
            media += "." + compression
        layers.append(
            Layer(
                index=i,
                digest=ref.digest or diff_ids[i],
                diff_id=diff_ids[i],
                media_type=media,
                compressed_bytes=ref.size,
                created_by=history[i][0],
                history_index=history[i][1],
                compression=compression,
            )
        )
    return tuple(layers)


def _head(store: Any, ref: BlobRef) -> bytes:
    region = store.region(ref)
    assert region is not None
    fd, offset, size = region
    return os.pread(fd, min(8, size), offset)


def _open_oci(store: Any, source: str, platform: str, ref_name: str, reference: str = "") -> Image:
    where = store.where
    index_ref = BlobRef("index.json", "", -1)
    index = mf.load_json(store.read_small(index_ref, mf.MAX_JSON_BYTES), f"{where}: index.json")
    entries = mf.index_entries(index, f"{where}: index.json")
    seen: set[str] = set()
    chosen = mf.choose(entries, platform, ref_name, f"{where}: index.json")
    for _depth in range(mf.MAX_INDEX_DEPTH + 1):
        if chosen.digest in seen:
            raise ImageError(f"{where}: manifest loop at {short(chosen.digest)}")
        seen.add(chosen.digest)
        blob = BlobRef(_blob_key(chosen.digest), chosen.digest, chosen.size)
        doc = mf.load_json(
            read_verified(store, blob, "manifest"), f"{where}: manifest {short(chosen.digest)}"
        )
        if not isinstance(doc, dict):
            raise ImageError(f"{where}: manifest {short(chosen.digest)} is not an object")
        if mf.is_index(doc, chosen.media_type):
            inner = mf.index_entries(doc, f"{where}: index {short(chosen.digest)}")
            chosen = mf.choose(inner, platform, "", f"{where}: index {short(chosen.digest)}")
            continue
        manifest_digest = chosen.digest
        break
    else:
        raise ImageError(f"{where}: indexes nested deeper than {mf.MAX_INDEX_DEPTH}")
    image_manifest = mf.image_manifest(doc, f"{where}: manifest {short(manifest_digest)}")
    cfg = image_manifest.config
    config = mf.config_doc(
        read_verified(store, BlobRef(_blob_key(cfg.digest), cfg.digest, cfg.size), "config"),
        f"{where}: config {short(cfg.digest)}",
    )
    refs = [BlobRef(_blob_key(d.digest), d.digest, d.size) for d in image_manifest.layers]
    layers = _layers(store, config, refs, [d.media_type for d in image_manifest.layers])
    return Image(
        store=store,
        source=source,
        reference=reference or chosen.ref_name,
        config=config,
        config_digest=cfg.digest,
        manifest_digest=manifest_digest,
        layers=layers,
        blobs=tuple(refs),
    )


def _open_docker(store: TarStore, source: str, name: str) -> Image:
    where = store.where
    doc = mf.load_json(
        store.read_small(BlobRef("manifest.json", "", -1), mf.MAX_JSON_BYTES),
        f"{where}: manifest.json",
    )
    if not isinstance(doc, list) or not doc or not all(isinstance(d, dict) for d in doc):
        raise ImageError(f"{where}: manifest.json is not a list of images")
    chosen = doc[0]
    if name or len(doc) > 1:
        tags = [t for d in doc for t in (d.get("RepoTags") or []) if isinstance(t, str)]
        matches = [
            d
            for d in doc
            if any(
                isinstance(t, str) and name and (t == name or t.rsplit("/", 1)[-1] == name)
                for t in (d.get("RepoTags") or [])
            )
        ]
        if len(matches) != 1:
            raise ImageError(
                f"{where}: holds {len(doc)} images ({', '.join(tags) or 'untagged'}); name one as FILE:NAME"
                if not name
                else f"{where}: no image tagged {name!r} (has: {', '.join(tags) or 'none'})"
            )
        chosen = matches[0]
    config_path = chosen.get("Config")
    layer_paths = chosen.get("Layers")
    if not isinstance(config_path, str) or not isinstance(layer_paths, list):
        raise ImageError(f"{where}: manifest.json entry has no Config or Layers")
    if not all(isinstance(p, str) for p in layer_paths):
        raise ImageError(f"{where}: manifest.json Layers are not paths")
    config_digest = _digest_from_name(config_path)
    config_bytes = read_verified(store, BlobRef(config_path, config_digest, -1), "config")
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    config = mf.config_doc(config_bytes, f"{where}: config {short(config_digest)}")
    refs = [BlobRef(p, _digest_from_name(p), store.size_of(p)) for p in layer_paths]
    for ref in refs:
        if ref.size < 0:
            raise ImageError(f"{where}: missing blob {ref.key}")
    # the OCI manifest beside it (Docker 25+) gives the manifest digest and media types
    manifest_digest, media = _oci_manifest_for(store, config_digest, len(refs))
    layers = _layers(store, config, refs, media or [mf.DOCKER_LAYER] * len(refs))
    # a compressed layer whose name carries no digest: its digest is only known by hashing
    fixed = []
    for layer, ref in zip(layers, refs, strict=True):
        if layer.compression and not ref.digest:
            digest = "sha256:" + _hash_member(store, ref).hexdigest()
            ref = BlobRef(ref.key, digest, ref.size)
            layer = replace(layer, digest=digest)
        fixed.append((layer, ref))
    tags = [t for t in (chosen.get("RepoTags") or []) if isinstance(t, str)]
    return Image(
        store=store,
        source=source,
        reference=name or (tags[0] if tags else ""),
        config=config,
        config_digest=config_digest,
        manifest_digest=manifest_digest,
        layers=tuple(layer for layer, _ in fixed),
        blobs=tuple(ref for _, ref in fixed),
    )


def _hash_member(store: TarStore, ref: BlobRef) -> Any:
    h = hashlib.sha256()
    for chunk in store.chunks(ref):
        h.update(chunk)
    return h


def _oci_manifest_for(store: TarStore, config_digest: str, count: int) -> tuple[str, list[str]]:
    if not store.has("index.json"):
        return "", []
    try:
        index = mf.load_json(store.read_small(BlobRef("index.json", "", -1), mf.MAX_JSON_BYTES), "")
        pending = list(mf.index_entries(index, store.where))
        seen: set[str] = set()
        while pending and len(seen) < 64:
            d = pending.pop(0)
            if d.digest in seen or not store.has(_blob_key(d.digest)):
                continue
            seen.add(d.digest)
            doc = mf.load_json(
                read_verified(store, BlobRef(_blob_key(d.digest), d.digest, d.size), "manifest"), ""
            )
            if isinstance(doc, dict) and mf.is_index(doc, d.media_type):
                pending.extend(mf.index_entries(doc, store.where))
                continue
            m = mf.image_manifest(doc, store.where)
            if m.config.digest == config_digest and len(m.layers) == count:
                return d.digest, [layer.media_type for layer in m.layers]
    except ImageError:
        pass  # manifest.json is what docker load reads; the OCI side is a bonus
    return "", []


def _split_name(path: str) -> tuple[str, str]:
    """`FILE:NAME` (docker-archive) or `DIR:REF` (OCI) when FILE itself does not exist."""
    if os.path.exists(path) or ":" not in path:
        return path, ""
    head, _, name = path.partition(":") if path.count(":") == 1 else _rsplit_existing(path)
    return head, name


def _rsplit_existing(path: str) -> tuple[str, str, str]:
    idx = 0
    while True:
        idx = path.find(":", idx + 1)
        if idx < 0:
            return path, "", ""
        if os.path.exists(path[:idx]):
            return path[:idx], ":", path[idx + 1 :]


def open_local(source: str, kind: str, platform: str) -> Image:
    path, name = _split_name(source)
    where = source
    if os.path.isdir(path):
        root = Path(path)
        if not (root / "index.json").is_file():
            raise ImageError(f"{where}: a folder without index.json is not an OCI layout")
        store = DirStore(root, where)
        try:
            return _open_oci(store, source, platform, name)
        except BaseException:
            store.close()
            raise
    if not os.path.exists(path):
        raise ImageError(f"{where}: no such file or folder")
    tar = TarStore(path, where)
    return _open_tar(tar, source, kind, platform, name)


def _open_tar(tar: TarStore, source: str, kind: str, platform: str, name: str) -> Image:
    try:
        if kind != "oci-archive" and tar.has("manifest.json"):
            return _open_docker(tar, source, name)
        if tar.has("index.json"):
            return _open_oci(tar, source, platform, name)
        raise ImageError(f"{tar.where}: neither manifest.json nor index.json: not an image archive")
    except BaseException:
        tar.close()
        raise


def open_stdin(kind: str, platform: str, stream: BinaryIO | None = None) -> Image:
    # Spooled to a temp file because `docker save` writes manifest.json (and an OCI layout its
    # index.json) AFTER the layers: which blob is the config and in which order the layers
    # stack is only known at the end of the stream, and the consumer then reads layers in any
    # order. The temp folder is removed when the image is closed.
    if stream is None:
        try:
            fd = sys.stdin.fileno()
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except (OSError, ValueError, AttributeError):
            regular = False
        if regular:  # `dockwise image - < FILE`: read in place, nothing to spool
            return _open_tar(TarStore("", "-", fd=os.dup(fd)), "-", kind, platform, "")
    tmp = tempfile.mkdtemp(prefix="dockwise-stdin-")
    target = os.path.join(tmp, "image.tar")
    src = stream if stream is not None else sys.stdin.buffer
    try:
        with open(target, "wb") as out:
            while True:
                chunk = src.read(4 * CHUNK)
                if not chunk:
                    break
                out.write(chunk)
        tar = TarStore(target, "-", cleanup=tmp)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImageError(f"-: cannot spool standard input ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with contextlib.suppress(OSError):
        os.unlink(target)  # the open descriptor keeps it readable; nothing stays behind
    return _open_tar(tar, "-", kind, platform, "")
