"""One streaming pass over every layer of an image: the merged filesystem, what each layer
adds, changes and removes, every stored body the final filesystem does not show, dive's
figures, Python-aware waste and (when the scanner is there) secrets in every layer.

Layers are applied as the OCI image spec says (image-spec/layer.md):
- a whiteout `DIR/.wh.NAME` removes NAME (and everything below it) of the *lower* layers;
- an opaque marker `DIR/.wh..wh..opq` removes every child of DIR of the lower layers;
- whiteouts never hide an entry of their own layer, wherever they come in the tar;
- a later entry at a path replaces the earlier one (a folder over a folder only updates it);
- a hard link shares its target's body (the target may be in a lower layer); a body stays
  visible while any path of the final filesystem shows it;
- other `.wh..wh.` names are aufs bookkeeping and are not files.

Memory holds the merged tree (one small object per path), never file contents.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from dockwise.imagescan import facts as f
from dockwise.imagescan.dive import DiveEmulator
from dockwise.imagescan.side_scan import SideScan, scan_entry

if TYPE_CHECKING:
    from dockwise.sources.image import Entry, Image, Layer

WHITEOUT = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
AUFS_META = ".wh..wh."
TOP_FILES = 20
TOP_DIRS = 20
TOP_PER_LAYER = 5
MAX_PROBLEMS = 20


class SecretScanner(Protocol):
    """imagescan.layer_secrets.LayerSecretScanner, as the pass uses it."""

    @property
    def found(self) -> tuple[Any, ...]: ...

    def wants(self, layer: Layer, entry: Entry) -> int: ...

    def inspect(self, layer: Layer, entry: Entry, data: bytes) -> None: ...


def secret_scanner() -> SecretScanner | None:
    """The layer secret scanner, when this build has it."""
    try:
        from dockwise.imagescan.layer_secrets import LayerSecretScanner
    except ImportError:
        return None
    scanner: SecretScanner = LayerSecretScanner()
    return scanner


class _Blob:
    """A body stored in a layer; `refs` paths of the merged tree show it."""

    __slots__ = ("path", "size", "layer", "refs")

    def __init__(self, path: str, size: int, layer: int) -> None:
        self.path = path
        self.size = size
        self.layer = layer
        self.refs = 0


class _Node:
    __slots__ = ("kind", "size", "mode", "uid", "gid", "linkname", "layer", "blob", "kids")

    def __init__(
        self,
        kind: str,
        mode: int,
        uid: int,
        gid: int,
        linkname: str,
        layer: int,
        blob: _Blob | None = None,
    ) -> None:
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkname = linkname
        self.layer = layer
        self.blob = blob
        self.size = blob.size if blob is not None else 0
        self.kids: set[str] | None = set() if kind == "dir" else None


class _LayerCount:
    __slots__ = ("size", "entries", "added", "changed", "removed", "hides", "largest")

    def __init__(self) -> None:
        self.size = 0
        self.entries = 0
        self.added = 0
        self.changed = 0
        self.removed = 0
        self.hides = 0
        self.largest: list[tuple[int, str]] = []  # a min-heap of (size, path)


class Analysis:
    """The merged tree being built; `apply(layer, entries)` once per layer, in order."""

    def __init__(
        self,
        scanner: SecretScanner | None = None,
        dive: bool = True,
        feed: Callable[[Layer, Entry, Callable[[int], bytes]], None] | None = None,
    ) -> None:
        root = _Node("dir", 0o755, 0, 0, "", -1)
        self.tree: dict[str, _Node] = {"": root}
        self.blobs: list[_Blob] = []
        self.hidden: list[f.HiddenFile] = []
        self.wasted_by_layer: dict[int, int] = {}
        self.counts: list[_LayerCount] = []
        self.problems: list[str] = []
        self.scanner = scanner
        # where each file goes for secrets: the scanner, or a share of its work (side_scan)
        self.feed = feed or (partial(scan_entry, scanner) if scanner is not None else None)
        # (secrets, account files) when the scan's shares were merged elsewhere
        self.found: tuple[tuple[Any, ...], dict[str, tuple[int, str]]] | None = None
        self.dive = DiveEmulator() if dive else None

    # -- one layer -----------------------------------------------------------------------
    def apply(
        self,
        layer: Layer,
        entries: Iterable[tuple[Entry, Callable[[int], bytes]]],
    ) -> None:
        index = len(self.counts)
        count = _LayerCount()
        self.counts.append(count)
        feed, dive = self.feed, self.dive
        for entry, read in entries:
            count.entries += 1
            path = entry.path
            if dive is not None:
                dive.add(path, entry.kind, entry.size)
            if not path:
                continue  # the root folder itself
            if entry.unsafe:
                self._problem(f"layer {index}: unsafe name ({entry.unsafe}) read as {path}")
            name = path.rpartition("/")[2]
            if name.startswith(WHITEOUT):
                self._whiteout(path, name, index, count)
                continue
            if entry.kind == "file":
                count.size += entry.size
                if entry.size:
                    largest = count.largest
                    if len(largest) < TOP_PER_LAYER:
                        heapq.heappush(largest, (entry.size, path))
                    elif entry.size > largest[0][0]:
                        heapq.heapreplace(largest, (entry.size, path))
                if feed is not None:
                    feed(layer, entry, read)
            self._add(entry, path, index, count)
        if dive is not None:
            dive.end_layer()

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def _add(self, entry: Entry, path: str, index: int, count: _LayerCount) -> None:
        tree = self.tree
        existing = tree.get(path)
        kind = entry.kind
        if existing is not None:
            if existing.layer < index:
                count.changed += 1
            if existing.kind == "dir" and kind == "dir":
                existing.mode, existing.uid, existing.gid = entry.mode, entry.uid, entry.gid
                existing.layer = index
                return
            self._remove(path, index, f.OVERWRITTEN, count, lower_only=False)
        else:
            count.added += 1
        parent = path.rpartition("/")[0]
        parent_node = tree.get(parent)
        if parent_node is None or parent_node.kind != "dir":
            resolved = self._parent(parent, index, count)
            if resolved != parent:  # written through a symbolic link to a folder
                path = f"{resolved}/{path.rpartition('/')[2]}" if resolved else path
                if path in tree:
                    self._remove(path, index, f.OVERWRITTEN, count, lower_only=False)
            parent = resolved
        blob: _Blob | None = None
        if kind == "file":
            blob = _Blob(path, entry.size, index)
            self.blobs.append(blob)
        elif kind == "hardlink":
            target = tree.get(entry.linkname)
            if target is not None and target.blob is not None:
                blob = target.blob
                kind = "file"
            else:
                self._problem(
                    f"layer {index}: hard link {path} to {entry.linkname}, "
                    "which is not a file below it"
                )
        node = _Node(kind, entry.mode, entry.uid, entry.gid, entry.linkname, index, blob)
        if blob is not None:
            blob.refs += 1
        tree[path] = node
        kids = tree[parent].kids
        assert kids is not None
        kids.add(path)

    def _parent(self, parent: str, index: int, count: _LayerCount) -> str:
        """The folder an entry below `parent` lands in: made when missing (with its own
        missing parents), followed when a symbolic link to a folder, replaced when a file."""
        tree = self.tree
        node = tree.get(parent)
        if node is not None and node.kind == "dir":
            return parent
        if node is not None and node.kind == "symlink":
            target = self._resolve_dir(parent)
            if target is not None:
                return target
        grand = self._parent(parent.rpartition("/")[0], index, count) if parent else ""
        if grand != parent.rpartition("/")[0]:
            parent = f"{grand}/{parent.rpartition('/')[2]}" if grand else parent
            node = tree.get(parent)
            if node is not None and node.kind == "dir":
                return parent
        if node is not None:
            self._remove(parent, index, f.OVERWRITTEN, count, lower_only=False)
        made = _Node("dir", 0o755, 0, 0, "", index)
        tree[parent] = made
        kids = tree[grand].kids
        assert kids is not None
        kids.add(parent)
        return parent

    def _resolve_dir(self, path: str) -> str | None:
        """The folder a symbolic link leads to inside the tree, or None."""
        todo = path.split("/")
        done: list[str] = []
        for _ in range(256):
            if not todo:
                found = "/".join(done)
                node = self.tree.get(found)
                return found if node is not None and node.kind == "dir" else None
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            current = "/".join([*done, part])
            node = self.tree.get(current)
            if node is None:
                return None
            if node.kind == "symlink":
                if node.linkname.startswith("/"):
                    done = []
                todo = node.linkname.split("/") + todo
                continue
            done.append(part)
        return None

    def _whiteout(self, path: str, name: str, index: int, count: _LayerCount) -> None:
        parent = path.rpartition("/")[0]
        if name == OPAQUE_MARKER:
            folder = self.tree.get(parent)
            if folder is not None and folder.kind == "dir":
                assert folder.kids is not None
                for kid in list(folder.kids):
                    self._remove(kid, index, f.OPAQUE, count, lower_only=True)
            elif parent:
                self._parent(parent, index, count)
            return
        if name.startswith(AUFS_META):
            return  # aufs bookkeeping (.wh..wh..plnk...): not a file
        target = f"{parent}/{name[len(WHITEOUT) :]}" if parent else name[len(WHITEOUT) :]
        node = self.tree.get(target)
        if node is None:
            return
        how = f.DIR_DELETED if node.kind == "dir" else f.DELETED
        self._remove(target, index, how, count, lower_only=True)

    def _remove(
        self, path: str, index: int, how: str, count: _LayerCount, *, lower_only: bool
    ) -> None:
        """Remove `path` and what is below it; with `lower_only`, only what lower layers
        made (a whiteout never hides its own layer's entries)."""
        tree = self.tree
        order: list[str] = []
        todo = [path]
        while todo:  # depth first, without recursion: a tar may nest folders very deep
            current = todo.pop()
            order.append(current)
            kids = tree[current].kids
            if kids:
                todo.extend(kids)
        for current in reversed(order):  # what is below a folder goes before the folder
            node = tree[current]
            if lower_only and (node.layer >= index or node.kids):
                continue
            del tree[current]
            parent = tree.get(current.rpartition("/")[0])
            if parent is not None and parent.kids is not None:
                parent.kids.discard(current)
            if node.layer < index and how != f.OVERWRITTEN:
                count.removed += 1
            blob = node.blob
            if blob is not None:
                blob.refs -= 1
                if blob.refs == 0 and blob.size:
                    self.hidden.append(f.HiddenFile(blob.path, blob.size, blob.layer, index, how))
                    self.wasted_by_layer[blob.layer] = (
                        self.wasted_by_layer.get(blob.layer, 0) + blob.size
                    )
                    count.hides += blob.size

    # -- the result ----------------------------------------------------------------------
    def facts(self, image: Image) -> f.ImageFacts:
        files: dict[str, f.TreeEntry] = {}
        for path, node in self.tree.items():
            if path:
                files[path] = f.TreeEntry(
                    node.kind, node.size, node.mode, node.uid, node.gid, node.linkname, node.layer
                )
        size = sum(blob.size for blob in self.blobs)
        visible = sum(blob.size for blob in self.blobs if blob.refs > 0)
        layers = tuple(
            f.LayerFacts(
                index=layer.index,
                digest=layer.digest,
                diff_id=layer.diff_id,
                created_by=layer.created_by,
                history_index=layer.history_index,
                compressed_bytes=layer.compressed_bytes,
                size_bytes=count.size,
                entries=count.entries,
                added=count.added,
                changed=count.changed,
                removed=count.removed,
                wasted_bytes=self.wasted_by_layer.get(layer.index, 0),
                hides_bytes=count.hides,
                largest=tuple(
                    f.SizedPath(path, bytes_, layer.index)
                    for bytes_, path in sorted(count.largest, reverse=True)
                ),
            )
            for layer, count in zip(image.layers, self.counts, strict=True)
        )
        if self.found is not None:
            secrets, accounts = self.found
        elif self.scanner is not None:
            secrets = self.scanner.found
            accounts = getattr(self.scanner, "accounts", None) or {}
        else:
            secrets, accounts = (), {}
        largest_files, largest_dirs = _largest(self.tree)
        dive = self.dive.figures() if self.dive is not None else None
        return f.ImageFacts(
            source=image.source,
            reference=image.reference,
            platform=image.platform,
            config=image.config,
            config_digest=image.config_digest,
            manifest_digest=image.manifest_digest,
            layers=layers,
            size_bytes=size,
            visible_bytes=visible,
            wasted_bytes=size - visible,
            dive=dive or f.DiveFigures(1.0, 0, 0, 0, ()),
            hidden=tuple(self.hidden),
            largest_files=largest_files,
            largest_dirs=largest_dirs,
            waste=_waste(self.tree),
            files=files,
            secrets=tuple(secrets),
            secrets_scanned=self.scanner is not None,
            layers_verified=image.verify,
            problems=tuple(self.problems),
            accounts=dict(accounts),
        )


def _largest(tree: dict[str, _Node]) -> tuple[tuple[f.SizedPath, ...], tuple[f.SizedPath, ...]]:
    """The largest files of the final filesystem, and the folders holding the most bytes
    (each body counted once, under the first path that shows it)."""
    seen: set[int] = set()
    folders: dict[str, int] = {}
    files: list[tuple[int, str, int]] = []
    for path, node in tree.items():
        blob = node.blob
        if blob is None or not blob.size or id(blob) in seen:
            continue
        seen.add(id(blob))
        files.append((blob.size, path, blob.layer))
        parent = path.rpartition("/")[0]
        while parent:
            folders[parent] = folders.get(parent, 0) + blob.size
            parent = parent.rpartition("/")[0]
    top_files = heapq.nlargest(TOP_FILES, files)
    top_dirs = heapq.nlargest(TOP_DIRS, folders.items(), key=lambda item: (item[1], item[0]))
    return (
        tuple(f.SizedPath(path, size, layer) for size, path, layer in top_files),
        tuple(f.SizedPath(path, size) for path, size in top_dirs),
    )


def _waste_kind(path: str) -> tuple[str, str] | None:
    """(kind, the folder to report) of a final-filesystem path that is Python-aware waste."""
    if "/.cache/" in path or path.startswith(".cache/"):
        for tool, kind in (("pip", f.PIP_CACHE), ("uv", f.UV_CACHE)):
            marker = f".cache/{tool}/"
            at = path.find(marker)
            if at >= 0 and (at == 0 or path[at - 1] == "/"):
                return kind, path[: at + len(marker) - 1]
    if path.startswith("var/lib/apt/lists/") and not path.endswith(("/lock", "/partial")):
        return f.APT_LISTS, "var/lib/apt/lists"
    if path.startswith("var/cache/apt/"):
        return f.APT_CACHE, "var/cache/apt"
    if "/.git/" in path or path.startswith(".git/"):
        at = path.find(".git/")
        return f.GIT, path[: at + 4]
    if "__pycache__/" in path or path.endswith((".pyc", ".pyo")):
        return f.PYCACHE, _python_root(path)
    if path.startswith(("usr/lib/gcc/", "usr/libexec/gcc/")):
        return f.COMPILER, "/".join(path.split("/")[:3])
    if path.startswith(("usr/include/", "usr/local/include/")):
        return f.HEADERS, path.rpartition("include/")[0] + "include"
    at = path.find("-packages/")  # site-packages, dist-packages
    if at >= 0:
        rest = path[at + len("-packages/") :].split("/")
        if len(rest) >= 3 and not rest[0].endswith((".dist-info", ".egg-info")):
            for depth, part in enumerate(rest[1:-1], start=1):
                if part in ("tests", "test"):
                    return f.PACKAGE_TESTS, path[: at + len("-packages/")] + "/".join(
                        rest[: depth + 1]
                    )
                if part in ("docs", "doc") and depth == 1:
                    return f.PACKAGE_DOCS, path[: at + len("-packages/")] + "/".join(
                        rest[: depth + 1]
                    )
    return None


def _python_root(path: str) -> str:
    """Where bytecode is reported: the site-packages (or dist-packages) folder, the standard
    library's folder, else the folder holding the `__pycache__` (the application's)."""
    at = path.find("-packages/")
    if at >= 0:
        return path[: at + len("-packages")]
    parts = path.split("/")
    for depth, part in enumerate(parts[:-1]):
        if part.startswith("python3") and depth and parts[depth - 1] == "lib":
            return "/".join(parts[: depth + 1])
    at = path.find("/__pycache__/")
    if at >= 0:
        return path[:at]
    return path.rpartition("/")[0] or path


def _waste(tree: dict[str, _Node]) -> tuple[f.WasteItem, ...]:
    groups: dict[tuple[str, str], list[int]] = {}  # (kind, folder) -> [bytes, files]
    layers: dict[tuple[str, str], dict[int, int]] = {}
    for path, node in tree.items():
        if node.blob is None:
            continue
        found = _waste_kind(path)
        if found is None:
            continue
        group = groups.setdefault(found, [0, 0])
        group[0] += node.size
        group[1] += 1
        by_layer = layers.setdefault(found, {})
        by_layer[node.layer] = by_layer.get(node.layer, 0) + node.size
    items = [
        f.WasteItem(
            kind,
            folder,
            size,
            files,
            max(layers[(kind, folder)].items(), key=lambda item: (item[1], -item[0]))[0],
        )
        for (kind, folder), (size, files) in groups.items()
    ]
    items.sort(key=lambda item: (-item.size, item.kind, item.path))
    return tuple(items)


def start_secret_scan(image: Image) -> SideScan | None:
    """The forked share of the secret scan, where it pays (side_scan.py). Call it before
    any thread starts (a progress bar): a process with threads never forks."""
    return SideScan.start(image) if secret_scanner() is not None else None


def analyse(
    image: Image,
    *,
    secrets: bool = True,
    on_bytes: Callable[[int], None] | None = None,
    side: SideScan | None = None,
) -> f.ImageFacts:
    """Every layer read once, in order: the facts of the image. The secret scan is shared
    with a forked process where that pays: `side` when the caller started it
    (`start_secret_scan`), else started here."""
    scanner = secret_scanner() if secrets else None
    if scanner is None and side is not None:
        side.cancel()
        side = None
    elif scanner is not None and side is None:
        side = SideScan.start(image)
    analysis = Analysis(scanner, feed=side.share.feed if side is not None else None)
    try:
        for layer in image.layers:
            analysis.apply(layer, image.entries(layer, on_bytes))
    except BaseException:
        if side is not None:
            side.cancel()
        raise
    if side is not None:
        analysis.found = side.finish(image)
    return analysis.facts(image)
