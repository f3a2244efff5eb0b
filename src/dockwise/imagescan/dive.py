"""dive's own figures, computed the way dive 0.13 computes them (filetree/efficiency.go).

Users compare dockwise with dive, so `dockwise image` reports dive's numbers next to its own;
this module replicates dive's algorithm, mistakes included, and is checked against the real
`dive` binary (tests/imagescan/test_dive_parity.py). What dive does:

- Each layer is a tree of its tar entries (implied parent folders get an empty payload, which
  is not a directory); a path seen twice in one layer keeps the later payload.
- Only the leaves of each layer's tree are visited, children in name order, depth first. A
  path's "cumulative size" adds the size of every leaf visit; its "minimum" is the smallest.
- A whiteout leaf (`.wh.NAME`) counts 0 bytes, unless the path is a directory in the stack of
  the earlier layers: then every size below it counts. Since a folder's files were visited as
  leaves of the earlier layer and the folder itself never was, the folder appears once and is
  never waste: dive misses `rm -rf dir`.
- A whiteout of a path the earlier layers do not have stops the visit of that layer (its
  remaining leaves are not counted) and leaves the path with a minimum of -1.
- Opaque markers (`.wh..wh..opq`) are ignored.
- efficiency = sum of minimums / sum of cumulative sizes; "inefficientBytes" is the
  cumulative size of every path visited twice or more, so the surviving copy of a rewritten
  file counts as waste (dive#684).
- A layer's size is the sum of the header sizes of its entries; the "user" size leaves out
  the first layer. WastedUserPercent = inefficientBytes / user size.
"""

from __future__ import annotations

from dockwise.imagescan.facts import DiveFigures, SizedPath

WHITEOUT = ".wh."
AUFS_META = ".wh..wh."  # opaque markers and aufs metadata: dive refuses to add them


# a node's payload: (is a directory, size); a plain tuple, one is made per tar entry
_Payload = tuple[bool, int]
_EMPTY: _Payload = (False, 0)


class _Tree:
    """A dive file tree: nodes by raw path (whiteout names kept), with children."""

    __slots__ = ("nodes", "kids")

    def __init__(self) -> None:
        self.nodes: dict[str, _Payload] = {}
        self.kids: dict[str, set[str]] = {"": set()}

    def add(self, path: str, payload: _Payload | None) -> None:
        """dive's AddPath: implied parents get an empty payload; the last node the payload."""
        nodes = self.nodes
        if path in nodes:
            if payload is not None:
                nodes[path] = payload
            return
        parent, _, name = path.rpartition("/")
        if parent and parent not in nodes and not self._parents(parent):
            return
        if name.startswith(AUFS_META):
            return  # AddChild refuses it
        nodes[path] = payload if payload is not None else _EMPTY
        kids = self.kids.get(parent)
        if kids is None:
            self.kids[parent] = {path}
        else:
            kids.add(path)

    def _parents(self, path: str) -> bool:
        """Make the missing folders of `path` with empty payloads, as AddPath does on its
        way down; False when one of them is a name dive refuses."""
        missing: list[str] = []
        while path and path not in self.nodes:
            missing.append(path)
            path = path.rpartition("/")[0]
        for current in reversed(missing):
            parent, _, name = current.rpartition("/")
            if name.startswith(AUFS_META):
                return False
            self.nodes[current] = _EMPTY
            self.kids.setdefault(parent, set()).add(current)
        return True

    def remove(self, path: str) -> bool:
        if path not in self.nodes:
            return False
        todo = [path]
        while todo:
            current = todo.pop()
            self.nodes.pop(current, None)
            todo.extend(self.kids.pop(current, ()))
        parent = path.rpartition("/")[0]
        self.kids.get(parent, set()).discard(path)
        return True

    def size_below(self, path: str) -> int:
        total = 0
        todo = [path]
        while todo:
            current = todo.pop()
            total += self.nodes[current][1]
            todo.extend(self.kids.get(current, ()))
        return total

    def sorted_paths(self) -> list[str]:
        """Every node, depth first, children in name order, children before parents."""
        found: list[str] = []

        def visit(parent: str) -> None:
            for child in sorted(self.kids.get(parent, ()), key=_name):
                visit(child)
                found.append(child)

        visit("")
        return found


def _name(path: str) -> bytes:
    return path.rpartition("/")[2].encode("utf-8", "surrogateescape")


def _visible_path(raw: str) -> str:
    """dive's Path() of a leaf: the whiteout prefix of the last name dropped."""
    parent, _, name = raw.rpartition("/")
    if name.startswith(WHITEOUT):
        name = name[len(WHITEOUT) :]
    return f"{parent}/{name}" if parent else name


class DiveEmulator:
    """Fed every tar entry of every layer in order; `figures()` gives dive's numbers."""

    def __init__(self) -> None:
        self._stacked = _Tree()  # the earlier layers, stacked as dive stacks them
        self._layer = _Tree()
        self._layer_size = 0
        self._layer_sizes: list[int] = []
        self._cumulative: dict[str, int] = {}
        self._minimum: dict[str, int] = {}
        self._visits: dict[str, int] = {}

    def add(self, path: str, kind: str, size: int) -> None:
        self._layer_size += size
        self._layer.add(path, (kind == "dir", size))

    def end_layer(self) -> None:
        layer, first = self._layer, not self._layer_sizes
        # the stack of the earlier layers; for the first layer dive looks in the layer itself
        below = layer if first else self._stacked
        order = layer.sorted_paths()
        for raw in order:
            if layer.kids.get(raw):
                continue  # not a leaf
            path = _visible_path(raw)
            if raw.rpartition("/")[2].startswith(WHITEOUT):
                self._minimum.setdefault(path, -1)
                self._cumulative.setdefault(path, 0)
                if path not in below.nodes:
                    break  # GetNode fails: dive stops visiting this layer
                previous = below.nodes[path]
                size = below.size_below(path) if previous[0] else 0
            else:
                size = layer.nodes[raw][1]
            self._count(path, size)
        self._stack(layer, order)
        self._layer_sizes.append(self._layer_size)
        self._layer = _Tree()
        self._layer_size = 0

    def _count(self, path: str, size: int) -> None:
        self._cumulative[path] = self._cumulative.get(path, 0) + size
        minimum = self._minimum.get(path, -1)
        if minimum < 0 or size < minimum:
            self._minimum[path] = size
        self._visits[path] = self._visits.get(path, 0) + 1

    def _stack(self, layer: _Tree, order: list[str]) -> None:
        """dive's Stack: whiteouts remove the path, every other node is added with its
        payload (an implied folder's empty payload too)."""
        for raw in order:
            if raw.rpartition("/")[2].startswith(WHITEOUT):
                self._stacked.remove(_visible_path(raw))
            else:
                self._stacked.add(raw, layer.nodes[raw])

    def figures(self) -> DiveFigures:
        minimum = sum(self._minimum.values())
        cumulative = sum(self._cumulative.values())
        efficiency = 1.0 if cumulative == 0 else minimum / cumulative
        inefficient = sorted(
            (
                SizedPath("/" + path, self._cumulative[path])
                for path, visits in self._visits.items()
                if visits >= 2
            ),
            key=lambda item: (-item.size, item.path),
        )
        return DiveFigures(
            efficiency=efficiency,
            wasted_bytes=sum(item.size for item in inefficient),
            size_bytes=sum(self._layer_sizes),
            user_size_bytes=sum(self._layer_sizes[1:]),
            layer_sizes=tuple(self._layer_sizes),
            inefficient=tuple(inefficient[:20]),
        )
