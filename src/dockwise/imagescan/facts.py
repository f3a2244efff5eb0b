"""What the analysis found in a built image: the model image rules and reporters read.

`ImageFacts` is made once per image by analysis.py (one streaming pass over every layer) and
never changes. Sizes are the bytes of file contents as the layers store them (the
uncompressed tar bodies), the figure `docker history` and dive show per layer:

- `size_bytes`: every body every layer stores;
- `visible_bytes`: the bodies the final filesystem shows (a file with several hard links
  counts once);
- `wasted_bytes = size_bytes - visible_bytes`: bodies stored in a layer that a later layer
  (or a later entry of the same layer) overwrote, deleted, hid behind an opaque directory or
  deleted with its directory. Each one is a `HiddenFile`, naming the layer that stored it and
  the layer that hid it;
- `efficiency = visible_bytes / size_bytes` (1.0 for an image that stores nothing).

`dive` holds dive's own figures, computed as dive computes them (dive.py), so users can
compare: they differ from ours where dive is wrong.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from msgspec import Struct, field

# how a stored body was hidden
OVERWRITTEN = "overwritten"  # a later entry at the same path (a later layer, or a duplicate)
DELETED = "deleted"  # a whiteout of the file itself (`rm file`)
DIR_DELETED = "dir deleted"  # a whiteout of a directory above it (`rm -rf dir`)
OPAQUE = "opaque"  # an opaque marker on a directory above it (the directory was replaced)
HOW = (OVERWRITTEN, DELETED, DIR_DELETED, OPAQUE)


class TreeEntry(NamedTuple):
    """One path of the final merged filesystem (a tuple: one per path is made)."""

    kind: str  # file | dir | symlink | hardlink | char | block | fifo | other
    size: int  # bytes of content (files and hard links to files); 0 otherwise
    mode: int
    uid: int
    gid: int
    linkname: str  # symlink target as stored, or the hard link's target path
    layer: int  # the layer whose entry made this path what it is


class HiddenFile(Struct, frozen=True):
    """A body a layer stores that the final filesystem does not show."""

    path: str  # where the body was stored
    size: int
    stored_in: int  # layer index
    hidden_by: int  # layer index (the same layer for a duplicate entry)
    how: str  # one of HOW


class SizedPath(Struct, frozen=True):
    path: str
    size: int
    layer: int | None = None  # for files: the layer that stored the body shown


class LayerFacts(Struct, frozen=True):
    index: int
    digest: str
    diff_id: str
    created_by: str
    history_index: int | None
    compressed_bytes: int
    size_bytes: int  # bodies this layer stores
    entries: int  # tar entries, whiteouts included
    added: int  # paths new to the filesystem
    changed: int  # paths an earlier layer had (overwritten, or a directory's metadata)
    removed: int  # paths of earlier layers this layer's whiteouts and opaque markers removed
    wasted_bytes: int  # bodies this layer stores that the final filesystem does not show
    hides_bytes: int  # bodies of earlier layers (or itself) this layer hid
    largest: tuple[SizedPath, ...] = ()  # its largest files, stored bodies

    @property
    def efficiency(self) -> float:
        """The share of this layer's stored bytes the final filesystem still shows."""
        if self.size_bytes == 0:
            return 1.0
        return (self.size_bytes - self.wasted_bytes) / self.size_bytes


class DiveFigures(Struct, frozen=True):
    """dive's figures, as dive 0.13 computes them (see dive.py for its known mistakes)."""

    efficiency: float
    wasted_bytes: int  # dive's "inefficientBytes"
    size_bytes: int  # dive's image "sizeBytes": every tar entry's header size
    user_size_bytes: int  # the same without the first layer
    layer_sizes: tuple[int, ...]
    inefficient: tuple[SizedPath, ...] = ()  # dive's "fileReference" (largest first)

    @property
    def user_wasted_percent(self) -> float:
        """dive's WastedUserPercent: a ratio (0.1 is 10%), as dive's CI rules read it."""
        if self.user_size_bytes == 0:
            return 0.0
        return self.wasted_bytes / self.user_size_bytes


# the kinds of Python-aware waste (rules/size_image.py reads them)
PIP_CACHE = "pip cache"
UV_CACHE = "uv cache"
PYCACHE = "bytecode"
APT_LISTS = "apt lists"
APT_CACHE = "apt cache"
COMPILER = "compiler"
HEADERS = "headers"
PACKAGE_TESTS = "tests in site-packages"
PACKAGE_DOCS = "docs in site-packages"
GIT = ".git folder"


class WasteItem(Struct, frozen=True):
    """Bytes of one kind under one folder of the final filesystem."""

    kind: str
    path: str  # the folder (or the one file)
    size: int
    files: int
    layer: int  # the layer that stored most of those bytes


class ImageFacts(Struct, frozen=True):
    source: str  # as given: an archive path, an OCI folder, registry://...
    reference: str  # the name the image carries ("" when none)
    platform: str
    config: Mapping[str, Any]  # the image config document (its "config" key: Env, User...)
    config_digest: str
    manifest_digest: str
    layers: tuple[LayerFacts, ...]
    size_bytes: int
    visible_bytes: int
    wasted_bytes: int
    dive: DiveFigures
    hidden: tuple[HiddenFile, ...]
    largest_files: tuple[SizedPath, ...]
    largest_dirs: tuple[SizedPath, ...]
    waste: tuple[WasteItem, ...]
    files: Mapping[str, TreeEntry]  # the final filesystem, by normalised path ("usr/bin/sh")
    secrets: tuple[Any, ...] = ()  # imagescan.layer_secrets.LayerSecret, when scanned
    secrets_scanned: bool = False
    # False when the layer blobs were read without hashing them (`--no-verify`)
    layers_verified: bool = True
    problems: tuple[str, ...] = field(default=())  # odd entries the analysis tolerated
    # /etc/passwd and /etc/group as the layer that stored them had them, by normalised
    # path: (layer, text); read by the secret scanner during the pass (layer_secrets.py)
    accounts: Mapping[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def efficiency(self) -> float:
        if self.size_bytes == 0:
            return 1.0
        return self.visible_bytes / self.size_bytes

    @property
    def user_size_bytes(self) -> int:
        """Bytes stored by every layer but the first (the base's own layer)."""
        return sum(layer.size_bytes for layer in self.layers[1:])

    @property
    def user_wasted_percent(self) -> float:
        """Wasted bytes as a ratio of the bytes every layer but the first stores (dive's
        highestUserWastedPercent, with the right wasted bytes)."""
        user = self.user_size_bytes
        return self.wasted_bytes / user if user else 0.0

    @property
    def image_config(self) -> Mapping[str, Any]:
        """The runtime config (`config` of the config document): Env, User, Cmd..."""
        inner = self.config.get("config")
        return inner if isinstance(inner, Mapping) else {}

    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in self.image_config.get("Env") or ():
            if isinstance(item, str):
                name, _, value = item.partition("=")
                found[name] = value
        return found

    # -- the final filesystem ------------------------------------------------------------
    def lookup(self, path: str) -> TreeEntry | None:
        """The entry at `path` (absolute or relative to /), symbolic links followed in every
        component, as the kernel would inside the container; None when nothing is there."""
        resolved = self.resolve(path)
        return None if resolved is None else self.files.get(resolved)

    def resolve(self, path: str) -> str | None:
        """`path` with every symbolic link followed (at most 40), or None."""
        todo = [p for p in path.split("/") if p not in ("", ".")]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            current = "/".join([*done, part])
            entry = self.files.get(current)
            if entry is None:
                return None
            if entry.kind == "symlink":
                hops += 1
                if hops > 40:
                    return None
                target = entry.linkname
                if target.startswith("/"):
                    done = []
                todo = [p for p in target.split("/") if p not in ("", ".")] + todo
                continue
            done.append(part)
        return "/".join(done)

    def exists(self, path: str) -> bool:
        return self.lookup(path) is not None

    def which(self, name: str, path_env: str | None = None) -> str | None:
        """Where `name` is found on PATH (the image's own PATH by default), as a shell would
        find it; an absolute or relative name is looked up as it is."""
        if "/" in name:
            entry = self.lookup(name)
            return name if entry is not None and entry.kind != "dir" else None
        search = path_env if path_env is not None else self.env().get("PATH", DEFAULT_PATH)
        for folder in search.split(":"):
            if not folder:
                continue
            candidate = posixpath.join(folder, name)
            entry = self.lookup(candidate)
            if entry is not None and entry.kind != "dir":
                return candidate
        return None

    def under(self, folder: str) -> Iterator[tuple[str, TreeEntry]]:
        """Every path below `folder` (not resolved through links)."""
        prefix = folder.strip("/") + "/"
        for path, entry in self.files.items():
            if path.startswith(prefix):
                yield path, entry

    def hidden_by_layer(self) -> dict[tuple[int, int], list[HiddenFile]]:
        """Hidden files grouped by (stored in, hidden by)."""
        groups: dict[tuple[int, int], list[HiddenFile]] = {}
        for hidden in self.hidden:
            groups.setdefault((hidden.stored_in, hidden.hidden_by), []).append(hidden)
        return groups


def human_bytes(count: int) -> str:
    """Decimal units, as dive, docker and size budgets write them (200MB = 200,000,000 B)."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
