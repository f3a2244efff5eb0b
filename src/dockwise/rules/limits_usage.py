"""Rules of the limits lesson that need measured usage (`dockwise check --usage FILE`, or
a dockwise-usage.json at the project's root, as `dockwise limits --format json` writes it):
the limits a compose service or Kubernetes container sets, against what it was seen to use
and what `dockwise limits` recommends from that.

Which usage belongs to which place: a compose service by its name (`shop-web-1` in a
`docker stats` capture is service `web`), a Kubernetes container by
`namespace/workload/container` (Prometheus) or by its container name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockwise.findings import Hit, Severity, rule
from dockwise.model.service import ComposePart

if TYPE_CHECKING:
    from dockwise.limits.usagefile import Usage, UsageEntry
    from dockwise.model.service import ContainerPart
    from dockwise.project import Project

# a limit under this share of the recommendation leaves too little over the peak
FAR_BELOW = 0.8
# a limit above this multiple of the recommendation is mostly air
FAR_ABOVE = 2.0


def _usage_json(*entries: tuple[str, int, int, int]) -> str:
    """A usage file as `dockwise limits --format json` writes it: (name, peak MiB, p95 MiB,
    recommended MiB) per container, CPU at 0.2 cores."""
    mib = 2**20
    containers = [
        {
            "name": name,
            "samples": 8640,
            "window_s": 86400.0,
            "memory": {
                "peak_bytes": peak * mib,
                "p95_bytes": p95 * mib,
                "current_limit_bytes": None,
                "recommended_limit_bytes": recommended * mib,
                "recommended_request_bytes": recommended * mib,
            },
            "cpu": {
                "p95_cores": 0.2,
                "peak_cores": 0.35,
                "recommended_request_cores": 0.3,
                "recommended_limit_cores": 0.55,
            },
            "oom_kills": 0,
            "warnings": [],
        }
        for name, peak, p95, recommended in entries
    ]
    return json.dumps({"version": 1, "containers": containers}) + "\n"


def _measured(entry: UsageEntry) -> str:
    from dockwise.limits.strategy import format_bytes

    rule_name = f", {entry.rule} rule" if entry.rule else ""
    return (
        f"observed peak {format_bytes(entry.peak_bytes)}, p95 {format_bytes(entry.p95_bytes)}"
        f" over {entry.samples} samples; recommended {format_bytes(entry.recommended_limit_bytes)}"
        f"{rule_name}"
    )


def _memory_hit(
    where: str, path: str, line: int | None, limit: float, written: str, entry: UsageEntry,
    kubernetes_request: float | None,
) -> Hit | None:  # fmt: skip
    from dockwise.limits.strategy import format_bytes

    recommended = entry.recommended_limit_bytes
    if recommended <= 0 or limit <= 0:
        return None
    measured = _measured(entry)
    fix = (
        f"Set the memory limit to {format_bytes(recommended)} (`dockwise limits --apply "
        f"{path}` writes it), or measure again under a realistic load."
    )
    if limit < entry.peak_bytes:
        return Hit(
            path=path,
            line=line,
            message=f"{where}: memory limit {written} is below the observed peak: it will be "
            f"OOM-killed under the same load ({measured})",
            fix=fix,
            severity=Severity.ERROR,
        )
    if limit < FAR_BELOW * recommended:
        over = limit / entry.peak_bytes - 1
        return Hit(
            path=path,
            line=line,
            message=f"{where}: memory limit {written} leaves only {over:.0%} over the observed "
            f"peak: OOM risk ({measured})",
            fix=fix,
        )
    if limit > FAR_ABOVE * recommended:
        times = limit / recommended
        reserved = kubernetes_request is not None and kubernetes_request > FAR_ABOVE * (
            entry.recommended_request_bytes or recommended
        )
        what = (
            f"the {format_bytes(kubernetes_request)} request reserves it on the node"
            if reserved and kubernetes_request is not None
            else "a leak grows that far before the limit stops it"
        )
        return Hit(
            path=path,
            line=line,
            message=f"{where}: memory limit {written} is {times:.1f}x what the usage needs: "
            f"{what} ({measured})",
            fix=fix,
            # a cap that is never reached wastes nothing but protection; a request does
            severity=None if reserved else Severity.INFO,
        )
    return None


@rule(
    "DW409",
    lesson="limits",
    severity="warning",
    title="Memory limit far from the measured usage",
    why="""
        "Start with observed usage plus 50% headroom, then adjust." Once usage has been
        measured (`dockwise limits`, from `docker stats`, cgroups, a process or Prometheus),
        the limit written in the compose file or manifest can be checked against it. A limit
        below the observed peak is an OOM kill waiting for the same load (error); one that
        leaves less than about 80% of the recommended value is an OOM risk at the next spike
        (warning). A limit more than twice the recommendation is mostly air: in Kubernetes,
        where the memory request is usually the limit, the node reserves it for nothing
        (warning); a compose cap that is never reached only lets a leak grow further (info).

        The usage comes from `dockwise check --usage FILE` or a `dockwise-usage.json` at the
        project's root: the JSON `dockwise limits --format json` writes. Services are
        matched by name (a `docker stats` container `shop-web-1` is service `web`),
        Kubernetes containers by `namespace/workload/container` or their name.
    """,
    fix="""
        Set the limit `dockwise limits` recommends (`--apply FILE` writes it in place, keeping
        comments), or measure again under a realistic load if the usage file is stale.
    """,
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                mem_limit: 256m
        """,
        "dockwise-usage.json": _usage_json(("shop-web-1", 400, 380, 600)),
    },
    good={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                mem_limit: 640m
        """,
        "dockwise-usage.json": _usage_json(("shop-web-1", 400, 380, 600)),
    },
)
def memory_limit_far_from_usage(project: Project) -> Iterator[Hit]:
    if project.usage_problem is not None:
        path = project.relpath(project.usage_file) if project.usage_file else "dockwise-usage.json"
        yield Hit(
            path=path,
            line=None,
            message=f"the usage file could not be read: {project.usage_problem}",
            fix="Write it again with `dockwise limits ... --format json -o dockwise-usage.json`.",
        )
        return
    usage = project.usage
    if usage is None:
        return
    for where, part, entry in _measured_parts(project, usage):
        if isinstance(part, ComposePart):
            size = part.service.memory_limit
            if size is None:
                continue
            hit = _memory_hit(
                where, size.origin.path, size.origin.line, size.bytes, size.written, entry, None
            )
        else:
            res = part.container.resources
            limit = res.limits_memory
            if limit is None or limit.value is None:
                continue
            request = res.requests_memory.value if res.requests_memory else limit.value
            hit = _memory_hit(where, part.path, limit.line, limit.value, limit.text, entry, request)
        if hit is not None:
            yield hit


def _measured_parts(
    project: Project, usage: Usage
) -> Iterator[tuple[str, ComposePart | ContainerPart, UsageEntry]]:
    """Each compose service and Kubernetes container the usage file measured, with the
    name messages give it."""
    for service in project.services:
        for part in service.compose:
            entry = usage.for_compose(part.service.name)
            if entry is not None:
                yield f"compose service {part.service.name}", part, entry
        for container in service.containers:
            entry = usage.for_container(container.workload.name, container.container.name)
            if entry is not None:
                where = f"container {container.container.name} of {container.workload.label}"
                yield where, container, entry


def _cpu_hit(where: str, path: str, line: int | None, cores: float, written: str,
             entry: UsageEntry) -> Hit | None:  # fmt: skip
    from dockwise.limits.strategy import format_cores

    p95 = entry.cpu_p95_cores
    if p95 is None or cores <= 0 or cores >= p95:
        return None
    return Hit(
        path=path,
        line=line,
        message=f"{where}: CPU limit {written} is below the observed p95 of "
        f"{format_cores(p95)}: the container is throttled most of the time it is busy "
        f"(peak {format_cores(entry.cpu_peak_cores)})",
        fix=f"Raise the CPU limit above {format_cores(entry.cpu_peak_cores or p95)}, or drop "
        "it and rely on the CPU request (Kubernetes), after measuring under real load.",
    )


@rule(
    "DW410",
    lesson="limits",
    severity="warning",
    title="CPU limit below the measured usage",
    why="""
        A CPU limit is enforced by throttling: in every 100 ms period the container may use
        its quota and then waits, even when cores are idle. When the limit is below the
        usage measured most of the time (the p95 in the usage file of `dockwise limits`),
        the service is throttled whenever it is busy: latency grows, health checks time out
        and the service looks slow for no visible reason.

        The usage comes from `dockwise check --usage FILE` or a `dockwise-usage.json` at the
        project's root.
    """,
    fix="""
        Raise the CPU limit above the observed peak, or (in Kubernetes) drop the CPU limit
        and keep a CPU request of p95 plus headroom, as `dockwise limits` recommends.
    """,
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                mem_limit: 640m
                cpus: 0.1
        """,
        "dockwise-usage.json": _usage_json(("web", 400, 380, 600)),
    },
    good={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                mem_limit: 640m
                cpus: 0.5
        """,
        "dockwise-usage.json": _usage_json(("web", 400, 380, 600)),
    },
)
def cpu_limit_below_usage(project: Project) -> Iterator[Hit]:
    usage = project.usage
    if usage is None:
        return
    for where, part, entry in _measured_parts(project, usage):
        if isinstance(part, ComposePart):
            cpus = part.service.cpu_limit
            if cpus is None:
                continue
            hit = _cpu_hit(
                where, cpus.origin.path, cpus.origin.line, cpus.value, cpus.written, entry
            )
        else:
            limit = part.container.resources.limits_cpu
            if limit is None or limit.value is None:
                continue
            hit = _cpu_hit(where, part.path, limit.line, limit.value, limit.text, entry)
        if hit is not None:
            yield hit
