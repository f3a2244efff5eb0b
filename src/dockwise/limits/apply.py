"""`dockwise limits --apply PATH`: write the recommended limits into a compose file or a
Kubernetes manifest in place, with ruamel.yaml's round trip (comments, order, quoting and
indentation kept), after showing a unified diff.

Which service or container: `--service NAME` when one series is applied; otherwise the
series' name: a compose container `shop-web-1` is service `web`; a Prometheus series
`namespace/workload/container` is that workload's container; a process name is matched
as is.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from dockwise.limits.errors import LimitsError
from dockwise.limits.output import (
    compose_cpus,
    compose_memory,
    kubernetes_cpu,
    kubernetes_memory,
    service_name,
)
from dockwise.limits.strategy import Recommendation

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod", "CronJob")
MAX_BYTES = 8 * 1024 * 1024


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    return yaml


def _parse_memory(value: object) -> int | None:
    """Compose (`512m`, `1g`, bytes) or Kubernetes (`512Mi`, `1G`) memory, in bytes."""
    text = str(value).strip()
    units = {
        "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40,
        "k": 1000, "m": 10**6, "g": 10**9, "t": 10**12,
        "kb": 2**10, "mb": 2**20, "gb": 2**30, "b": 1,
    }  # fmt: skip
    lower = text.lower()
    for suffix in sorted(units, key=len, reverse=True):
        if lower.endswith(suffix):
            number = lower[: -len(suffix)]
            scale = units[suffix]
            break
    else:
        number, scale = lower, 1
    try:
        return int(float(number) * scale)
    except ValueError:
        return None


def _parse_compose_memory(value: object) -> int | None:
    """Docker's units are binary whatever the case: `512m` and `512M` are 512 MiB."""
    text = str(value).strip().lower().rstrip("b")
    scale = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}.get(text[-1:], 1)
    number = text[:-1] if scale != 1 else text
    try:
        return int(float(number) * scale)
    except ValueError:
        return None


def _parse_cpu(value: object) -> float | None:
    text = str(value).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None


def _mapping(node: Any, key: str) -> Any:
    """node[key] as a mapping, made when absent."""
    from ruamel.yaml.comments import CommentedMap

    child = node.get(key)
    if not isinstance(child, dict):
        child = CommentedMap()
        node[key] = child
    return child


def _like(old: object, new: str) -> object:
    """The new value written the way the old one was: quoted stays quoted, a number stays a
    number when the new value is one."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(new)
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(new)
    if isinstance(old, int | float) and not isinstance(old, bool):
        try:
            return float(new) if "." in new else int(new)
        except ValueError:
            return new
    return new


def _set(node: Any, key: str, value: str, quoted: bool = False, number: bool = False) -> None:
    """node[key] = value, written like the value it replaces; a new one quoted or as a
    number when asked."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if key in node:
        node[key] = _like(node[key], value)
    elif number:
        node[key] = float(value)
    else:
        node[key] = DoubleQuotedScalarString(value) if quoted else value


class _Chunk(Struct):
    """One YAML document of the file, with its own text and indentation: a document
    dockwise does not change is written back byte for byte."""

    text: str
    document: Any
    yaml: Any
    changed: bool = False

    def dumped(self) -> str:
        if not self.changed:
            return self.text
        stream = io.StringIO()
        self.yaml.dump(self.document, stream)
        return stream.getvalue()


class Target(Struct):
    path: Path
    kind: str  # "compose" | "kubernetes"
    original: str
    chunks: list[_Chunk] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # series with no place in the file

    @property
    def documents(self) -> list[Any]:
        return [chunk.document for chunk in self.chunks if chunk.document is not None]

    def _mark(self, node: Any) -> None:
        for chunk in self.chunks:
            if chunk.document is node:
                chunk.changed = True

    # --- finding the place -------------------------------------------------------------

    def _compose_service(self, rec_name: str, override: str | None) -> tuple[str, Any] | None:
        services = self.documents[0].get("services") if self.documents else None
        if not isinstance(services, dict):
            return None
        for name in (override, rec_name, service_name(rec_name)):
            if name and isinstance(services.get(name), dict):
                return name, services[name]
        return None

    def _containers(self) -> Iterator[tuple[str, str, Any, Any]]:
        """(workload name, container name, container mapping, document) of every workload."""
        for document in self.documents:
            if not isinstance(document, dict) or document.get("kind") not in WORKLOAD_KINDS:
                continue
            metadata = document.get("metadata") or {}
            workload = str(metadata.get("name", "")) if isinstance(metadata, dict) else ""
            spec = document.get("spec") or {}
            if document.get("kind") == "CronJob":
                spec = ((spec.get("jobTemplate") or {}).get("spec") or {}) if spec else {}
            if document.get("kind") != "Pod":
                spec = ((spec.get("template") or {}).get("spec") or {}) if spec else {}
            containers = spec.get("containers") if isinstance(spec, dict) else None
            for container in containers or ():
                if isinstance(container, dict) and container.get("name") is not None:
                    yield workload, str(container["name"]), container, document

    def _k8s_container(self, rec_name: str, override: str | None) -> tuple[str, Any, Any] | None:
        """The place name, the container mapping and its document."""
        found = list(self._containers())
        parts = rec_name.split("/")
        if override is None and len(parts) == 3:
            for workload, name, container, document in found:
                if workload == parts[1] and name == parts[2]:
                    return f"{workload}/{name}", container, document
        if override and "/" in override:
            wanted_workload, _, wanted_name = override.partition("/")
            for workload, name, container, document in found:
                if workload == wanted_workload and name == wanted_name:
                    return override, container, document
            return None
        wanted = override or service_name(rec_name)
        matches = [m for m in found if m[1] == wanted] or [m for m in found if m[0] == wanted]
        if len(matches) > 1:
            raise LimitsError(
                f"{self.path}: {len(matches)} containers are named {wanted}: "
                "say which with --service WORKLOAD/CONTAINER"
            )
        if matches:
            workload, name, container, document = matches[0]
            return f"{workload}/{name}", container, document
        return None

    def _names(self) -> list[str]:
        if self.kind == "compose":
            services = self.documents[0].get("services") or {}
            return [str(name) for name in services] if isinstance(services, dict) else []
        return [f"{w}/{n}" for w, n, _, _ in self._containers()]

    def current(
        self, rec_name: str, override: str | None = None
    ) -> tuple[int | None, float | None] | None:
        """The memory and CPU limits the file sets now for that series, when it has it."""
        if self.kind == "compose":
            found = self._compose_service(rec_name, override)
            if found is None:
                return None
            service = found[1]
            limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
            memory = limits.get("memory", service.get("mem_limit"))
            cpus = limits.get("cpus", service.get("cpus"))
            return (
                _parse_compose_memory(memory) if memory is not None else None,
                _parse_cpu(cpus) if cpus is not None else None,
            )
        try:
            k8s = self._k8s_container(rec_name, override)
        except LimitsError:
            return None
        if k8s is None:
            return None
        limits = (k8s[1].get("resources") or {}).get("limits") or {}
        memory = limits.get("memory")
        cpu = limits.get("cpu")
        return (
            _parse_memory(memory) if memory is not None else None,
            _parse_cpu(cpu) if cpu is not None else None,
        )

    # --- writing -----------------------------------------------------------------------

    def apply(self, recs: Sequence[Recommendation], override: str | None = None) -> str:
        """Set every series' limits that has a place in the file; the unified diff."""
        if override and len(recs) > 1:
            raise LimitsError(
                f"--service names one place, but the usage holds {len(recs)} containers"
            )
        applied = 0
        found: tuple[str, Any] | None = None
        k8s: tuple[str, Any, Any] | None = None
        for rec in recs:
            if self.kind == "compose":
                found = self._compose_service(rec.container, override)
                if found is not None:
                    self._write_compose(found[1], rec)
                    self._mark(self.documents[0])
            else:
                k8s = self._k8s_container(rec.container, override)
                if k8s is not None:
                    self._write_kubernetes(k8s[1], rec)
                    self._mark(k8s[2])
            if (found if self.kind == "compose" else k8s) is None:
                self.skipped.append(rec.container)
            else:
                applied += 1
        if not applied:
            names = ", ".join(self._names()) or "none"
            wanted = override or ", ".join(service_name(r.container) for r in recs)
            raise LimitsError(
                f"{self.path}: no {'service' if self.kind == 'compose' else 'container'} "
                f"named {wanted} (it has: {names}); say which with --service"
            )
        return self.diff()

    def _write_compose(self, service: Any, rec: Recommendation) -> None:
        memory = compose_memory(rec.memory_limit)
        has_deploy_limit = "memory" in (
            ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        )
        if "mem_limit" in service and not has_deploy_limit:
            # the older keys, as the file writes them
            _set(service, "mem_limit", memory.lower())
            if "mem_reservation" in service or rec.memory_request < rec.memory_limit:
                _set(service, "mem_reservation", compose_memory(rec.memory_request).lower())
            if rec.cpu_limit is not None:
                _set(service, "cpus", compose_cpus(rec.cpu_limit), number=True)
            return
        resources = _mapping(_mapping(service, "deploy"), "resources")
        limits = _mapping(resources, "limits")
        _set(limits, "memory", memory)
        if rec.cpu_limit is not None:
            _set(limits, "cpus", compose_cpus(rec.cpu_limit), quoted=True)
        reservations = _mapping(resources, "reservations")
        _set(reservations, "memory", compose_memory(rec.memory_request))
        if rec.cpu_request is not None:
            _set(reservations, "cpus", compose_cpus(rec.cpu_request), quoted=True)

    def _write_kubernetes(self, container: Any, rec: Recommendation) -> None:
        resources = _mapping(container, "resources")
        requests = _mapping(resources, "requests")
        _set(requests, "memory", kubernetes_memory(rec.memory_request))
        if rec.cpu_request is not None:
            _set(requests, "cpu", kubernetes_cpu(rec.cpu_request))
        limits = _mapping(resources, "limits")
        _set(limits, "memory", kubernetes_memory(rec.memory_limit))
        if rec.cpu_limit is not None:
            _set(limits, "cpu", kubernetes_cpu(rec.cpu_limit))

    def text(self) -> str:
        return "".join(chunk.dumped() for chunk in self.chunks)

    def diff(self) -> str:
        new = self.text()
        if new == self.original:
            return ""
        name = str(self.path)
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=name,
                tofile=f"{name} (recommended limits)",
            )
        )

    def write(self) -> None:
        try:
            self.path.write_text(self.text(), encoding="utf-8")
        except OSError as error:
            raise LimitsError(f"{self.path}: cannot write: {error.strerror}") from None


def guess_indent(text: str) -> tuple[int, int]:
    """How the file indents a nested mapping, and how far a list's dash sits from its key
    (0 for `key:\n- item`, 2 for `key:\n  - item`): the most common of each."""
    from collections import Counter

    mappings: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and line.strip() != "---"
    ]
    for line, following in zip(lines, lines[1:], strict=False):
        body = line.split(" #", 1)[0].rstrip()
        if not body.endswith(":"):
            continue
        indent = len(line) - len(line.lstrip())
        if body.lstrip().startswith("- "):
            indent += 2
        below = len(following) - len(following.lstrip())
        if following.lstrip().startswith("- "):
            if below >= indent:
                offsets[below - indent] += 1
        elif below > indent:
            mappings[below - indent] += 1
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return mapping, offset


def open_target(path: Path) -> Target:
    """The compose file or Kubernetes manifest --apply writes; LimitsError when it is
    neither, or cannot be read."""
    from ruamel.yaml.error import YAMLError

    try:
        if path.stat().st_size > MAX_BYTES:
            raise LimitsError(f"{path}: larger than 8 MiB: not a compose file or manifest")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LimitsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LimitsError(
            f"{path}: cannot read: {getattr(error, 'strerror', None) or error}"
        ) from None
    chunks = []
    for piece in split_documents(text):
        yaml = _yaml()
        mapping, offset = guess_indent(piece)
        yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
        if piece.lstrip().startswith("---"):
            yaml.explicit_start = True
        try:
            document = yaml.load(piece)
        except YAMLError as error:
            problem = " ".join(str(error).split())[:200] or type(error).__name__
            raise LimitsError(f"{path}: not valid YAML: {problem}") from None
        chunks.append(_Chunk(piece, document, yaml))
    documents = [c.document for c in chunks if c.document is not None]
    first = documents[0] if documents else None
    if isinstance(first, dict) and isinstance(first.get("services"), dict):
        kind = "compose"
    elif any(isinstance(d, dict) and d.get("kind") in WORKLOAD_KINDS for d in documents):
        kind = "kubernetes"
    else:
        raise LimitsError(
            f"{path}: neither a compose file (no services:) nor a Kubernetes manifest with "
            "a workload"
        )
    return Target(path, kind, text, chunks)


def split_documents(text: str) -> list[str]:
    """The file cut before each `---` line: one piece per document, comments kept with the
    document they precede... or follow (a piece of comments alone loads as None)."""
    pieces: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("---") and line[3:4] in ("", " ", "\n", "\r", "\t") and current:
            pieces.append("".join(current))
            current = []
        current.append(line)
    if current or not pieces:
        pieces.append("".join(current))
    return pieces
