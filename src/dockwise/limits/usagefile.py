"""Read the JSON `dockwise limits --format json` writes (the usage file of
`dockwise check --usage FILE`, or a `dockwise-usage.json` next to the project) into typed
entries the limits rules compare the manifests with. A loader: it never judges."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from msgspec import Struct

from dockwise.limits.errors import LimitsError
from dockwise.limits.output import service_name

USAGE_FILE = "dockwise-usage.json"  # found at a project's root when no --usage is given
MAX_BYTES = 16 * 1024 * 1024


class UsageEntry(Struct, frozen=True):
    name: str  # as `dockwise limits` named it: a service, "ns/workload/container", a process
    samples: int
    window_s: float
    peak_bytes: float
    p95_bytes: float
    recommended_limit_bytes: float
    recommended_request_bytes: float
    cpu_p95_cores: float | None
    cpu_peak_cores: float | None
    cpu_request_cores: float | None
    rule: str  # "lesson" | "adaptive" | "" (an older file)

    @property
    def service(self) -> str:
        """The compose service or Kubernetes container name it stands for."""
        return service_name(self.name)

    def matches_compose(self, service: str) -> bool:
        return service in (self.name, self.service)

    def matches_container(self, workload: str, container: str) -> bool:
        parts = self.name.split("/")
        if len(parts) == 3:
            return parts[1] == workload and parts[2] == container
        return container in (self.name, self.service)


class Usage(Struct, frozen=True):
    path: str  # as given, for messages
    entries: tuple[UsageEntry, ...]
    raw: dict[str, Any]  # the document, for the reporters

    def for_compose(self, service: str) -> UsageEntry | None:
        return next((e for e in self.entries if e.matches_compose(service)), None)

    def for_container(self, workload: str, container: str) -> UsageEntry | None:
        exact = [e for e in self.entries if "/" in e.name]
        for entry in (*exact, *self.entries):
            if entry.matches_container(workload, container):
                return entry
        return None


def _number(value: object, where: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LimitsError(f"{where}: a number is needed, not {json.dumps(value)[:40]}")
    if value < 0:
        raise LimitsError(f"{where}: cannot be negative ({value})")
    return float(value)


def parse_usage(document: object, path: str) -> Usage:
    if not isinstance(document, dict) or not isinstance(document.get("containers"), list):
        raise LimitsError(
            f"{path}: not a usage file: expected the JSON of `dockwise limits --format json` "
            '({"version": 1, "containers": [...]})'
        )
    if document.get("version") != 1:
        raise LimitsError(f"{path}: usage file version {document.get('version')!r}: expected 1")
    entries = []
    for index, item in enumerate(document["containers"]):
        where = f"{path}: containers[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise LimitsError(f"{where}: an object with a name is needed")
        memory = item.get("memory")
        cpu = item.get("cpu") or {}
        if not isinstance(memory, dict) or not isinstance(cpu, dict):
            raise LimitsError(f"{where}: memory and cpu must be objects")
        limit = _number(
            memory.get("recommended_limit_bytes"), f"{where}.memory.recommended_limit_bytes"
        )
        peak = _number(memory.get("peak_bytes"), f"{where}.memory.peak_bytes")
        assert limit is not None and peak is not None
        entries.append(
            UsageEntry(
                name=item["name"],
                samples=int(_number(item.get("samples", 0), f"{where}.samples") or 0),
                window_s=_number(item.get("window_s", 0), f"{where}.window_s") or 0.0,
                peak_bytes=peak,
                p95_bytes=_number(memory.get("p95_bytes", peak), f"{where}.memory.p95_bytes")
                or 0.0,
                recommended_limit_bytes=limit,
                recommended_request_bytes=_number(
                    memory.get("recommended_request_bytes", limit),
                    f"{where}.memory.recommended_request_bytes",
                )
                or limit,
                cpu_p95_cores=_number(cpu.get("p95_cores"), f"{where}.cpu.p95_cores", True),
                cpu_peak_cores=_number(cpu.get("peak_cores"), f"{where}.cpu.peak_cores", True),
                cpu_request_cores=_number(
                    cpu.get("recommended_request_cores"),
                    f"{where}.cpu.recommended_request_cores",
                    True,
                ),
                rule=str(memory.get("rule", "")),
            )
        )
    return Usage(path, tuple(entries), document)


def load_usage(path: Path, shown: str | None = None) -> Usage:
    """The usage file at `path`; LimitsError (one line) when it cannot be used."""
    name = shown or str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise LimitsError(f"{name}: larger than 16 MiB: not a usage file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LimitsError(f"{name}: no such usage file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise LimitsError(f"{name}: cannot read: {reason}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise LimitsError(f"{name}: not JSON: {error.msg} at line {error.lineno}") from None
    except RecursionError:
        raise LimitsError(f"{name}: not JSON: nested too deeply") from None
    return parse_usage(document, name)
