"""Write small test images in Python: layers of entries -> docker-archive, oci-archive, OCI dir.

    from imagegen import File, Dir, Symlink, Hardlink, Device, whiteout, opaque, LayerSpec, make_image
    image = make_image([
        LayerSpec([Dir("app"), File("app/big.bin", b"x" * 1000)], created_by="COPY . /app"),
        LayerSpec([whiteout("app/big.bin")], compression="gzip", created_by="RUN rm app/big.bin"),
    ], config={"User": "root", "Healthcheck": {"Test": ["CMD", "curl", "-f", "http://localhost/"]}})
    image.write_docker_archive(tmp_path / "img.tar")             # legacy layout
    image.write_docker_archive(tmp_path / "img25.tar", layout="oci")  # Docker 25+ layout
    image.write_oci_archive(tmp_path / "img.oci.tar")
    image.write_oci_dir(tmp_path / "oci")

Layers are written with Python's tarfile (pax format by default); `Raw` takes any TarInfo for
hostile names. Everything is deterministic (mtime 0 unless given).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = {
    "": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = {
    "": "application/vnd.docker.image.rootfs.diff.tar",
    "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
}


@dataclass
class File:
    path: str
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = 0


@dataclass
class Dir:
    path: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    mtime: int = 0


@dataclass
class Symlink:
    path: str
    target: str


@dataclass
class Hardlink:
    path: str
    target: str  # a path in this layer or an older one


@dataclass
class Device:
    path: str
    kind: str = "char"  # "char" | "block" | "fifo"
    major: int = 1
    minor: int = 3


@dataclass
class Raw:
    """Any tar header as given (hostile names, odd types); data is the body."""

    info: tarfile.TarInfo
    data: bytes = b""


@dataclass
class Sparse:
    """A sparse file: `segments` of data at their offsets, holes between, `real_size` long.
    style "pax" writes GNU sparse 1.0 (pax headers, map in the body), "gnu" the old GNU 'S'
    header (up to 4 segments)."""

    path: str
    real_size: int
    segments: Sequence[tuple[int, bytes]]
    style: str = "pax"


def whiteout(path: str) -> File:
    """The OCI whiteout deleting `path` from the layers below."""
    parent, _, name = path.rstrip("/").rpartition("/")
    return File(f"{parent}/.wh.{name}" if parent else f".wh.{name}")


def opaque(directory: str) -> File:
    """The opaque marker: `directory` hides everything the layers below put in it."""
    return File(f"{directory.rstrip('/')}/.wh..wh..opq")


EntrySpec = File | Dir | Symlink | Hardlink | Device | Raw | Sparse


@dataclass
class LayerSpec:
    entries: Sequence[EntrySpec]
    compression: str = ""  # "" | "gzip" | "zstd"
    created_by: str = ""
    tar_format: int = tarfile.PAX_FORMAT


def layer_tar(spec: LayerSpec) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=spec.tar_format) as tar:
        for item in spec.entries:
            data = b""
            if isinstance(item, Sparse):
                _add_sparse(tar, item)
                continue
            if isinstance(item, Raw):
                info, data = item.info, item.data
                info.size = len(data) if info.isreg() else info.size
            elif isinstance(item, File):
                info = tarfile.TarInfo(item.path)
                info.size, info.mode, info.uid, info.gid, info.mtime = (
                    len(item.data),
                    item.mode,
                    item.uid,
                    item.gid,
                    item.mtime,
                )
                data = item.data
            elif isinstance(item, Dir):
                info = tarfile.TarInfo(item.path)
                info.type, info.mode, info.uid, info.gid, info.mtime = (
                    tarfile.DIRTYPE,
                    item.mode,
                    item.uid,
                    item.gid,
                    item.mtime,
                )
            elif isinstance(item, Symlink):
                info = tarfile.TarInfo(item.path)
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, item.target, 0o777
            elif isinstance(item, Hardlink):
                info = tarfile.TarInfo(item.path)
                info.type, info.linkname = tarfile.LNKTYPE, item.target
            else:
                info = tarfile.TarInfo(item.path)
                info.type = {"char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE}.get(
                    item.kind, tarfile.FIFOTYPE
                )
                info.devmajor, info.devminor = item.major, item.minor
            tar.addfile(info, io.BytesIO(data) if data or info.isreg() else None)
    return out.getvalue()


def _add_sparse(tar: tarfile.TarFile, item: Sparse) -> None:
    data = b"".join(chunk for _, chunk in item.segments)
    if item.style == "pax":
        lines = [str(len(item.segments))]
        for offset, chunk in item.segments:
            lines += [str(offset), str(len(chunk))]
        sparse_map = ("\n".join(lines) + "\n").encode()
        sparse_map += bytes(-len(sparse_map) % 512)
        info = tarfile.TarInfo("GNUSparseFile.0/" + item.path)
        info.size = len(sparse_map) + len(data)
        info.pax_headers = {
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.name": item.path,
            "GNU.sparse.realsize": str(item.real_size),
        }
        tar.addfile(info, io.BytesIO(sparse_map + data))
        return
    assert len(item.segments) <= 4, "old GNU sparse headers hold four segments"
    info = tarfile.TarInfo(item.path)
    info.size = len(data)
    info.type = b"S"
    header = bytearray(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
    for i, (offset, chunk) in enumerate(item.segments):
        header[386 + 24 * i : 398 + 24 * i] = _number12(offset)
        header[398 + 24 * i : 410 + 24 * i] = _number12(len(chunk))
    header[482] = 0
    header[483:495] = _number12(item.real_size)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    body = data + bytes(-len(data) % 512)
    assert tar.fileobj is not None
    tar.fileobj.write(bytes(header) + body)
    tar.offset += len(header) + len(body)


def _number12(n: int) -> bytes:
    """A 12-byte tar number: octal with a NUL, 12 octal digits, or base-256."""
    if n < 8**11:
        return b"%011o\0" % n
    if n < 8**12:
        return b"%012o" % n
    return b"\x80" + n.to_bytes(11, "big")


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).compress(data)
    return data


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Blob:
    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
            **extra,
        }


@dataclass
class TestImage:
    __test__ = False  # not a pytest test class
    layers: list[Blob]  # as stored (compressed or not)
    diff_ids: list[str]
    config: Blob
    config_doc: dict[str, Any]
    tag: str = "localhost/dockwise-test:latest"
    docker_media: bool = False  # Docker media types in the manifest instead of OCI ones
    compressions: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Blob:
        media = DOCKER_MANIFEST if self.docker_media else OCI_MANIFEST
        doc = {
            "schemaVersion": 2,
            "mediaType": media,
            "config": self.config.descriptor(),
            "layers": [blob.descriptor() for blob in self.layers],
        }
        return Blob(json.dumps(doc, indent=None).encode(), media)

    def index(self, platform: dict[str, str] | None = None) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "annotations": {
                "io.containerd.image.name": self.tag,
                "org.opencontainers.image.ref.name": self.tag.rsplit(":", 1)[-1],
            }
        }
        if platform:
            extra["platform"] = platform
        return {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [self.manifest.descriptor(**extra)],
        }

    def blobs(self) -> list[Blob]:
        return [self.config, *self.layers, self.manifest]

    # -- writers -----------------------------------------------------------------------
    def write_docker_archive(self, path: Path | str, layout: str = "legacy") -> Path:
        """`docker save` output: "legacy" (<id>/layer.tar, <hex>.json) or "oci" (Docker 25+)."""
        path = Path(path)
        members: list[tuple[str, bytes]] = []
        if layout == "oci":
            for blob in self.blobs():
                members.append(("blobs/sha256/" + blob.digest[7:], blob.data))
            members.append(("index.json", json.dumps(self.index()).encode()))
            members.append(("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
            config_path = "blobs/sha256/" + self.config.digest[7:]
            layer_paths = ["blobs/sha256/" + blob.digest[7:] for blob in self.layers]
        else:
            layer_paths = []
            seen: dict[str, str] = {}
            for i, blob in enumerate(self.layers):
                layer_id = hashlib.sha256(f"{i}{blob.digest}".encode()).hexdigest()
                layer_paths.append(f"{layer_id}/layer.tar")
                if blob.digest in seen:  # docker save links a repeated layer to the first copy
                    members.append(
                        (f"{layer_id}/layer.tar", b"-> ../" + seen[blob.digest].encode())
                    )
                    continue
                seen[blob.digest] = f"{layer_id}/layer.tar"
                members.append((f"{layer_id}/VERSION", b"1.0"))
                members.append((f"{layer_id}/layer.tar", blob.data))
            config_path = self.config.digest[7:] + ".json"
            members.append((config_path, self.config.data))
        repo, _, tag = self.tag.rpartition(":")
        manifest = [{"Config": config_path, "RepoTags": [self.tag], "Layers": layer_paths}]
        members.append(("manifest.json", json.dumps(manifest).encode()))
        members.append(
            (
                "repositories",
                json.dumps({repo: {tag: self.diff_ids[-1][7:] if self.diff_ids else ""}}).encode(),
            )
        )
        _write_outer(path, members)
        return path

    def write_oci_archive(self, path: Path | str, platform: dict[str, str] | None = None) -> Path:
        path = Path(path)
        members = [("blobs/sha256/" + blob.digest[7:], blob.data) for blob in self.blobs()]
        members.append(("index.json", json.dumps(self.index(platform)).encode()))
        members.append(("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
        _write_outer(path, members)
        return path

    def write_oci_dir(self, path: Path | str, platform: dict[str, str] | None = None) -> Path:
        path = Path(path)
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        for blob in self.blobs():
            (path / "blobs" / "sha256" / blob.digest[7:]).write_bytes(blob.data)
        (path / "index.json").write_text(json.dumps(self.index(platform)))
        (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        return path


def _write_outer(path: Path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        seen_dirs: set[str] = set()
        for name, data in members:
            parent = name.rpartition("/")[0]
            parts = parent.split("/") if parent else []
            for i in range(len(parts)):
                d = "/".join(parts[: i + 1])
                if d not in seen_dirs:
                    seen_dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            info = tarfile.TarInfo(name)
            if data.startswith(b"-> "):
                info.type, info.linkname = tarfile.SYMTYPE, data[3:].decode()
                tar.addfile(info)
                continue
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))


def make_image(
    layers: Sequence[LayerSpec],
    *,
    config: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    architecture: str = "amd64",
    os: str = "linux",
    tag: str = "localhost/dockwise-test:latest",
    docker_media: bool = False,
) -> TestImage:
    """An image of these layers. `config` is the runtime config (User, Env, Healthcheck, Cmd,
    ExposedPorts...); `history` defaults to one entry per layer from `created_by`."""
    stored: list[Blob] = []
    diff_ids: list[str] = []
    for spec in layers:
        tar = layer_tar(spec)
        diff_ids.append(sha(tar))
        media = (DOCKER_LAYER if docker_media else OCI_LAYER)[spec.compression]
        stored.append(Blob(compress(tar, spec.compression), media))
    if history is None:
        history = [
            {"created": "1970-01-01T00:00:00Z", "created_by": spec.created_by} for spec in layers
        ]
    doc: dict[str, Any] = {
        "architecture": architecture,
        "os": os,
        "created": "1970-01-01T00:00:00Z",
        "config": config if config is not None else {"Cmd": ["python3"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    config_blob = Blob(json.dumps(doc).encode(), DOCKER_CONFIG if docker_media else OCI_CONFIG)
    return TestImage(
        layers=stored,
        diff_ids=diff_ids,
        config=config_blob,
        config_doc=doc,
        tag=tag,
        docker_media=docker_media,
        compressions=[spec.compression for spec in layers],
    )


def same_size_layer(size: int, compression: str = "") -> bytes:
    """A valid layer blob of exactly `size` bytes holding app/b.txt ("hellX\\n" x 50): put in
    place of a layer of the same shape, only the digests can tell them apart."""
    for c in b"abcdefghijklmnpqrstuvwxyz":
        spec = LayerSpec([File("app/b.txt", (b"hell" + bytes([c]) + b"\n") * 50)], compression)
        data = make_image([spec]).layers[0].data
        if len(data) == size:
            return data
    raise AssertionError(f"no layer of {size} bytes")
