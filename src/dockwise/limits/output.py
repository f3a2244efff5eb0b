"""What `dockwise limits` prints: the JSON object (a stable contract, like check's), a
table, ready-to-paste snippets for compose, Kubernetes and `docker run`, and a sparkline."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from dockwise.limits.strategy import (
    MIB,
    Recommendation,
    comparison,
    format_bytes,
    format_cores,
    format_duration,
)

VERSION = 1


# --- JSON ------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 3) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, digits)


def container_object(rec: Recommendation) -> dict[str, Any]:
    """One entry of "containers": the contract's keys first, then what explains them."""
    return {
        "name": rec.container,
        "source": rec.source,
        "samples": rec.samples,
        "window_s": round(rec.window_s, 3),
        "memory": {
            "peak_bytes": int(rec.memory_peak),
            "p95_bytes": int(rec.memory_p95),
            "current_limit_bytes": rec.memory_current_limit,
            "recommended_limit_bytes": rec.memory_limit,
            "recommended_request_bytes": rec.memory_request,
            "lesson_limit_bytes": rec.lesson_limit,
            "rule": rec.rule,
            "reason": rec.reason,
            "leak_bytes_per_day": int(rec.leak_bytes_per_day),
        },
        "cpu": {
            "p95_cores": _number(rec.cpu_p95),
            "peak_cores": _number(rec.cpu_peak),
            "recommended_request_cores": rec.cpu_request,
            "recommended_limit_cores": rec.cpu_limit,
            "current_limit_cores": _number(rec.cpu_current_limit),
            "note": rec.cpu_note,
        },
        "oom_kills": rec.oom_kills,
        "restarts": rec.restarts,
        "warnings": list(rec.warnings),
    }


def to_json(recs: Sequence[Recommendation]) -> str:
    document = {"version": VERSION, "containers": [container_object(r) for r in recs]}
    return json.dumps(document, indent=2) + "\n"


# --- names -----------------------------------------------------------------------------

_COMPOSE_CONTAINER = re.compile(r"^(?P<project>.+?)[-_](?P<service>[A-Za-z0-9._-]+?)[-_]\d+$")


def service_name(container: str) -> str:
    """The compose service a container name stands for (`shop-web-1` -> `web`), the
    container of a `namespace/workload/container` series, else the name itself."""
    if "/" in container:
        return container.rsplit("/", 1)[-1]
    match = _COMPOSE_CONTAINER.match(container)
    return match.group("service") if match else container


# --- snippets --------------------------------------------------------------------------


def compose_memory(value: int) -> str:
    return f"{math.ceil(value / MIB)}M"


def kubernetes_memory(value: int) -> str:
    return f"{math.ceil(value / MIB)}Mi"


def kubernetes_cpu(value: float) -> str:
    return f"{round(value * 1000)}m"


def compose_cpus(value: float) -> str:
    return f"{value:g}"


def compose_snippet(rec: Recommendation) -> str:
    lines = [
        "services:",
        f"  {service_name(rec.container)}:",
        "    deploy:",
        "      resources:",
        "        limits:",
        f"          memory: {compose_memory(rec.memory_limit)}",
    ]
    if rec.cpu_limit is not None:
        lines.append(f'          cpus: "{compose_cpus(rec.cpu_limit)}"')
    lines += ["        reservations:", f"          memory: {compose_memory(rec.memory_request)}"]
    if rec.cpu_request is not None:
        lines.append(f'          cpus: "{compose_cpus(rec.cpu_request)}"')
    return "\n".join(lines)


def kubernetes_snippet(rec: Recommendation) -> str:
    lines = ["resources:", "  requests:", f"    memory: {kubernetes_memory(rec.memory_request)}"]
    if rec.cpu_request is not None:
        lines.append(f"    cpu: {kubernetes_cpu(rec.cpu_request)}")
    lines += ["  limits:", f"    memory: {kubernetes_memory(rec.memory_limit)}"]
    if rec.cpu_limit is not None:
        lines.append(f"    cpu: {kubernetes_cpu(rec.cpu_limit)}")
    return "\n".join(lines)


def docker_run_snippet(rec: Recommendation) -> str:
    words = ["docker run", f"--memory {math.ceil(rec.memory_limit / MIB)}m"]
    if rec.memory_request < rec.memory_limit:
        words.append(f"--memory-reservation {math.ceil(rec.memory_request / MIB)}m")
    if rec.cpu_limit is not None:
        words.append(f"--cpus {compose_cpus(rec.cpu_limit)}")
    return " ".join(words) + " IMAGE"


# --- the terminal ----------------------------------------------------------------------

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 60, top: float | None = None) -> str:
    """Memory over time in block characters, each the highest value of its slice; scaled
    to `top` (the recommended limit) when given, so the gap above the line is headroom."""
    known = [v for v in values if not math.isnan(v)]
    if not known:
        return ""
    width = max(1, min(width, len(values)))
    highest = max(top or 0.0, max(known))
    out = []
    for i in range(width):
        start = i * len(values) // width
        end = max(start + 1, (i + 1) * len(values) // width)
        chunk = [v for v in values[start:end] if not math.isnan(v)]
        if not chunk:
            out.append(" ")
            continue
        level = max(chunk) / highest if highest > 0 else 0.0
        out.append(_BLOCKS[min(len(_BLOCKS) - 1, max(0, math.ceil(level * len(_BLOCKS)) - 1))])
    return "".join(out)


def _percent(change: float | None) -> str:
    if change is None:
        return "-"
    return f"{change:+.0%}"


def table(recs: Sequence[Recommendation]) -> str:
    """Current, observed peak and p95, recommended and change, one row per container and
    resource; change is how far the current value is from the recommendation."""
    rows = [("container", "resource", "current", "peak", "p95", "recommended", "change")]
    for rec in recs:
        rows.append(
            (
                rec.container,
                "memory limit",
                format_bytes(rec.memory_current_limit),
                format_bytes(rec.memory_peak),
                format_bytes(rec.memory_p95),
                format_bytes(rec.memory_limit),
                _percent(rec.memory_change()),
            )
        )
        rows.append(
            (
                "",
                "cpu request",
                "-",
                format_cores(rec.cpu_peak),
                format_cores(rec.cpu_p95),
                format_cores(rec.cpu_request),
                "-",
            )
        )
        rows.append(
            (
                "",
                "cpu limit",
                format_cores(rec.cpu_current_limit),
                "",
                "",
                format_cores(rec.cpu_limit) if rec.cpu_limit is not None else "none",
                _percent(rec.cpu_change()),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def to_text(recs: Sequence[Recommendation]) -> str:
    parts = [table(recs), ""]
    for rec in recs:
        parts.append(
            f"{rec.container} ({rec.source}, {rec.samples} samples over "
            f"{format_duration(rec.window_s)})"
        )
        line = sparkline(rec.memory, top=rec.memory_limit)
        if line:
            parts.append(
                f"  memory  {line}  peak {format_bytes(rec.memory_peak)}, "
                f"limit {format_bytes(rec.memory_limit)} at the top"
            )
        parts.append(f"  rule: {rec.reason}")
        if rec.rule != "lesson":
            parts.append(
                f"  the lesson's rule (peak + --headroom) would give {format_bytes(rec.lesson_limit)}"
            )
        compared = comparison(rec)
        if compared:
            parts.append(f"  {compared}")
        parts.append(f"  cpu: {rec.cpu_note}")
        for warning in rec.warnings:
            parts.append(f"  warning: {warning}")
        parts.append("  compose:")
        parts.append(_indent(compose_snippet(rec)))
        parts.append("  kubernetes:")
        parts.append(_indent(kubernetes_snippet(rec)))
        parts.append("  docker run:")
        parts.append(_indent(docker_run_snippet(rec)))
        parts.append("")
    return "\n".join(parts)
