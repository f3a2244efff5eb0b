"""The one model every sampler produces and the strategy reads: a usage time series."""

from __future__ import annotations

from msgspec import Struct


class UsageSeries(Struct, frozen=True):
    """Memory and CPU use of one container over time, as a sampler saw it."""

    container: str  # compose service, "namespace/workload/container", or a process name
    source: str  # "docker-stats" | "cgroup-v1" | "cgroup-v2" | "process" | "prometheus"
    times: tuple[float, ...]  # unix seconds, ascending
    memory_bytes: tuple[float, ...]  # working set at each time (nan where unknown)
    # cores used over the interval ending at each time (nan where unknown)
    cpu_cores: tuple[float, ...]
    oom_kills: int = 0
    oom_limit_bytes: int | None = None  # memory limit in force at an OOM kill
    restarts: int = 0
    memory_limit_bytes: int | None = None  # current limit when known
    cpu_limit_cores: float | None = None
    warnings: tuple[str, ...] = ()
