"""An independent replay of an image's layers, to check the analysis' wasted bytes exactly.

The simple way: every layer is extracted with Python's tarfile into one real folder, in
order; a layer's whiteouts and opaque markers are applied first (they only hide what the
layers below made), then its entries are written, a replaced path unlinked first and hard
links made with os.link. What the final folder shows is then measured on disk: the sizes of
its distinct regular-file inodes. Stored bytes are the regular-file bodies of every layer's
tar. wasted = stored - visible.

It reads the layer tars itself (docker-archive and OCI layouts, gzip and zstd), without
dockwise's readers.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path


def layer_blobs(archive: Path) -> list[bytes]:
    """The uncompressed layer tars of a docker-archive or oci-archive, in order."""
    with tarfile.open(archive) as outer:
        names = outer.getnames()

        def read(name: str) -> bytes:
            member = outer.getmember(name)
            while member.issym() or member.islnk():  # docker save links repeated layers
                target = member.linkname
                if member.issym():
                    target = os.path.normpath(os.path.join(os.path.dirname(name), target))
                member = outer.getmember(target)
            extracted = outer.extractfile(member)
            assert extracted is not None
            return extracted.read()

        if "manifest.json" in names:
            manifest = json.loads(read("manifest.json"))
            paths = manifest[0]["Layers"]
        else:
            index = json.loads(read("index.json"))
            digest = index["manifests"][0]["digest"]
            document = json.loads(read("blobs/sha256/" + digest[7:]))
            if "manifests" in document:  # an index: the first manifest
                digest = document["manifests"][0]["digest"]
                document = json.loads(read("blobs/sha256/" + digest[7:]))
            paths = ["blobs/sha256/" + layer["digest"][7:] for layer in document["layers"]]
        return [_uncompressed(read(path)) for path in paths]


def _uncompressed(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def _inside(root: Path, path: Path) -> Path:
    resolved = Path(os.path.realpath(path))
    assert resolved == root or root in resolved.parents, f"{path} leaves the replay folder"
    return resolved


def _gone(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def replay(archive: Path, into: Path) -> tuple[int, int]:
    """(stored bytes, visible bytes) of the image, by extracting it into `into`."""
    root = Path(os.path.realpath(into))
    stored = 0
    for blob in layer_blobs(archive):
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            members = tar.getmembers()
            for member in members:  # whiteouts first: they hide the lower layers only
                name = os.path.normpath(member.name.lstrip("/"))
                parent, _, base = name.rpartition("/")
                folder = root / parent if parent else root
                if os.path.lexists(folder):
                    folder = _inside(root, folder)
                if base == ".wh..wh..opq":
                    if folder.is_dir() and not folder.is_symlink():
                        for child in list(folder.iterdir()):
                            _gone(child)
                elif base.startswith(".wh..wh."):
                    continue
                elif base.startswith(".wh."):
                    _gone(folder / base[len(".wh.") :])
            for member in members:
                name = os.path.normpath(member.name.lstrip("/"))
                base = name.rpartition("/")[2]
                if name == "." or base.startswith(".wh."):
                    continue
                target = root / name
                _inside(root, target.parent)
                existing = os.path.lexists(target)
                if member.isdir():
                    if existing and not (target.is_dir() and not target.is_symlink()):
                        _gone(target)
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if existing:
                    _gone(target)
                if member.isfile():
                    stored += member.size
                    body = tar.extractfile(member)
                    assert body is not None
                    with open(target, "wb") as out:
                        shutil.copyfileobj(body, out)
                elif member.islnk():
                    os.link(_inside(root, root / member.linkname.lstrip("/")), target)
                elif member.issym():
                    os.symlink(member.linkname, target)
                else:  # devices and fifos: an empty file holds the place
                    target.touch()
    visible = 0
    seen: set[int] = set()
    for folder, _, files in os.walk(root):
        for name in files:
            info = os.lstat(os.path.join(folder, name))
            if (info.st_mode & 0o170000) == 0o100000 and info.st_ino not in seen:
                seen.add(info.st_ino)
                visible += info.st_size
    return stored, visible
