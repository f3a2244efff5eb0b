"""What an image source yields: layers, tar entries, and the one error type."""

from __future__ import annotations

from typing import NamedTuple

from msgspec import Struct


class ImageError(Exception):
    """A source that cannot be read: a one-line message naming the source (and blob)."""


class Layer(Struct, frozen=True):
    index: int  # 0 = base layer
    digest: str  # "sha256:..." of the blob as stored
    diff_id: str  # "sha256:..." of the uncompressed tar (config rootfs.diff_ids)
    media_type: str
    compressed_bytes: int  # blob size as stored
    created_by: str  # the history command that made it ("" when unknown)
    history_index: int | None  # its entry in config["history"] (empty_layer entries skipped)
    compression: str = ""  # "" (plain tar), "gzip" or "zstd", from the blob's first bytes


class Entry(NamedTuple):
    """One tar entry (a tuple: millions are made, and a tuple is made fastest)."""

    path: str  # normalised: no leading "./" or "/", no trailing "/"
    kind: str  # "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "other"
    size: int  # bytes of content (the real size for sparse files); 0 for non-files
    mode: int  # permission bits (incl. setuid/setgid/sticky), no file type bits
    uid: int
    gid: int
    mtime: int
    linkname: str  # symlink target as stored, or the normalised hardlink target path
    unsafe: str = ""  # "absolute" / "dotdot" / "link-dotdot"...: the raw name was unsafe


class Limits(Struct, frozen=True):
    """Bounds on hostile input. A compressed layer may inflate to `ratio` x its stored size
    once past `ratio_floor` bytes, and never past `max_layer_bytes` (real layers inflate 2-5x;
    gzip tops out near 1000x, zstd far higher). A registry that sends nothing for `timeout`
    seconds is given up."""

    ratio: int = 200
    ratio_floor: int = 1 << 30
    max_layer_bytes: int = 64 << 30
    timeout: float = 30.0
