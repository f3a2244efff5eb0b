"""Sample a cgroup live: the memory and CPU a container (or any process group) uses.

cgroup v2 (one directory): `memory.current`, `memory.stat` (working set = current minus
`inactive_file`, as the kubelet and `docker stats` count it), `memory.peak`, `memory.events`
(`oom_kill`), `memory.max`, `cpu.stat` (`usage_usec`), `cpu.max`.

cgroup v1 (one directory per controller, found from the one given): memory's
`memory.usage_in_bytes`, `memory.stat` (`total_inactive_file`), `memory.max_usage_in_bytes`,
`memory.oom_control` (`oom_kill`), `memory.limit_in_bytes`; cpuacct's `cpuacct.usage`; cpu's
`cpu.cfs_quota_us` / `cpu.cfs_period_us`.

A container's cgroup is found from any of its pids (`cgroup_of_pid`), e.g. the pid
`docker inspect -f '{{.State.Pid}}'` prints. CPU is the counter's growth over each
interval; a counter going backwards means the cgroup was recreated (a restart).
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path

from msgspec import Struct

from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries

_NO_LIMIT = 2**60  # v1 shows "no limit" as the largest page-aligned int64


class Cgroup(Struct, frozen=True):
    """Where one cgroup's files are: one directory (v2) or one per controller (v1)."""

    version: int  # 1 or 2
    name: str
    memory: Path | None  # v2: the cgroup's directory; v1: its memory controller directory
    cpuacct: Path | None  # v2: the same directory; v1: the cpuacct controller directory
    cpu: Path | None  # v2: the same directory; v1: the cpu controller directory (quota)


class CgroupReading(Struct, frozen=True):
    """One look at a cgroup's files (nan or None where a file is missing)."""

    time: float  # unix seconds
    usage_bytes: float  # memory charged, page cache included
    working_set_bytes: float  # usage minus inactive file cache
    peak_bytes: float  # highest usage since the cgroup began (page cache included)
    cpu_seconds: float  # CPU time used since the cgroup began
    oom_kills: int | None  # OOM kills since the cgroup began
    memory_limit_bytes: int | None
    cpu_limit_cores: float | None


class _Mount(Struct, frozen=True):
    root: str  # the hierarchy's path mounted here
    point: Path
    version: int
    controllers: frozenset[str]


def _unescape(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def cgroup_mounts(mountinfo: str = "/proc/self/mountinfo") -> list[_Mount]:
    """The cgroup hierarchies mounted here (v1 with their controllers, and v2)."""
    mounts = []
    try:
        text = Path(mountinfo).read_text()
    except OSError as error:
        raise LimitsError(f"cannot read {mountinfo}: {error.strerror or error}") from None
    for raw in text.splitlines():
        before, _, after = raw.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        options = set(tail[2].split(","))
        mounts.append(
            _Mount(
                root=_unescape(fields[3]),
                point=Path(_unescape(fields[4])),
                version=2 if tail[0] == "cgroup2" else 1,
                controllers=frozenset(options - {"rw", "ro"}),
            )
        )
    return mounts


def _short_name(path: Path) -> str:
    match = re.fullmatch(r"(?:[a-z]+-)?([0-9a-f]{64})(?:\.scope)?", path.name)
    if match:
        return match.group(1)[:12]  # a docker or containerd container id, as docker shows it
    return path.name or "/"


def find_cgroup(path: str | Path) -> Cgroup:
    """The cgroup at `path`: a v2 directory, or a v1 directory of any controller."""
    path = Path(path)
    if not path.is_dir():
        raise LimitsError(f"{path}: no such cgroup directory")
    if (path / "cgroup.controllers").exists():
        return Cgroup(2, _short_name(path), path, path, path)
    resolved = path.resolve()
    mounts = [m for m in cgroup_mounts() if m.version == 1]
    home = max(
        (m for m in mounts if resolved == m.point or m.point in resolved.parents),
        key=lambda m: len(m.point.parts),
        default=None,
    )
    if home is None:
        if (path / "memory.usage_in_bytes").exists() or (path / "cpuacct.usage").exists():
            return Cgroup(1, _short_name(path), path, path, path)  # all controllers here
        raise LimitsError(f"{path}: not a cgroup directory (no cgroup.controllers, no v1 files)")
    relative = resolved.relative_to(home.point)

    def under(controller: str) -> Path | None:
        for mount in mounts:
            if controller in mount.controllers and (mount.point / relative).is_dir():
                return mount.point / relative
        return None

    return Cgroup(1, _short_name(path), under("memory"), under("cpuacct"), under("cpu"))


def cgroup_of_pid(pid: int) -> Cgroup:
    """The cgroup a process lives in, per controller (a container's, from any of its pids)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        raise LimitsError(f"no process {pid} (or its cgroup cannot be read)") from None
    where: dict[str, str] = {}
    unified = None
    for raw in lines:
        number, _, rest = raw.partition(":")
        controllers, _, cgpath = rest.partition(":")
        if number == "0" and not controllers:
            unified = cgpath
        for controller in controllers.split(","):
            if controller:
                where[controller] = cgpath
    mounts = cgroup_mounts()

    def locate(mount: _Mount, cgpath: str) -> Path:
        relative = cgpath
        if mount.root != "/" and (cgpath + "/").startswith(mount.root.rstrip("/") + "/"):
            relative = cgpath[len(mount.root.rstrip("/")) :]
        return mount.point / relative.lstrip("/")

    def v1(controller: str) -> Path | None:
        for mount in mounts:
            if mount.version == 1 and controller in mount.controllers and controller in where:
                found = locate(mount, where[controller])
                return found if found.is_dir() else None
        return None

    memory = v1("memory")
    if memory is not None:
        return Cgroup(1, _short_name(memory), memory, v1("cpuacct"), v1("cpu"))
    for mount in mounts:
        if mount.version == 2 and unified is not None:
            found = locate(mount, unified)
            if found.is_dir():
                return Cgroup(2, _short_name(found), found, found, found)
    raise LimitsError(f"process {pid}: its cgroup is not mounted here (no memory or v2 hierarchy)")


def _read(directory: Path | None, name: str) -> str | None:
    if directory is None:
        return None
    try:
        return (directory / name).read_text()
    except OSError:
        return None


def _number(text: str | None) -> float:
    if text is None:
        return math.nan
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return math.nan


def _keyed(text: str | None) -> dict[str, float]:
    values = {}
    for raw in (text or "").splitlines():
        key, _, value = raw.partition(" ")
        try:
            values[key] = float(value)
        except ValueError:
            continue
    return values


def read_cgroup(group: Cgroup) -> CgroupReading:
    """One reading of the cgroup's memory, CPU, OOM and limit files."""
    moment = time.time()
    if group.version == 2:
        usage = _number(_read(group.memory, "memory.current"))
        stat = _keyed(_read(group.memory, "memory.stat"))
        inactive = stat.get("inactive_file", math.nan)
        peak = _number(_read(group.memory, "memory.peak"))
        events = _keyed(_read(group.memory, "memory.events"))
        oom = events.get("oom_kill")
        cpu = _keyed(_read(group.cpuacct, "cpu.stat")).get("usage_usec", math.nan) / 1e6
        limit_text = (_read(group.memory, "memory.max") or "").strip()
        memory_limit = int(limit_text) if limit_text.isdigit() else None
        quota, _, period = (_read(group.cpu, "cpu.max") or "").strip().partition(" ")
        cpu_limit = _cores(quota, period)
    else:
        usage = _number(_read(group.memory, "memory.usage_in_bytes"))
        stat = _keyed(_read(group.memory, "memory.stat"))
        inactive = stat.get("total_inactive_file", stat.get("inactive_file", math.nan))
        peak = _number(_read(group.memory, "memory.max_usage_in_bytes"))
        oom = _keyed(_read(group.memory, "memory.oom_control")).get("oom_kill")
        cpu = _number(_read(group.cpuacct, "cpuacct.usage")) / 1e9
        limit = _number(_read(group.memory, "memory.limit_in_bytes"))
        memory_limit = int(limit) if math.isfinite(limit) and 0 < limit < _NO_LIMIT else None
        quota = (_read(group.cpu, "cpu.cfs_quota_us") or "").strip()
        period = (_read(group.cpu, "cpu.cfs_period_us") or "").strip()
        cpu_limit = _cores(quota, period)
    working_set = usage - inactive if not math.isnan(inactive) else usage
    return CgroupReading(
        time=moment,
        usage_bytes=usage,
        working_set_bytes=max(working_set, 0.0) if not math.isnan(working_set) else math.nan,
        peak_bytes=peak,
        cpu_seconds=cpu,
        oom_kills=int(oom) if oom is not None else None,
        memory_limit_bytes=memory_limit,
        cpu_limit_cores=cpu_limit,
    )


def _cores(quota: str, period: str) -> float | None:
    if not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return None  # "max" (v2) or -1 (v1): no quota
    return int(quota) / int(period)


def series_from_readings(
    readings: list[CgroupReading],
    *,
    container: str,
    source: str,
    recreated: frozenset[int] = frozenset(),
) -> UsageSeries:
    """The usage series of a run of readings: working set, CPU cores per interval, OOM kills.

    `recreated` holds the indices of readings taken after the cgroup vanished and came back
    (a restart reusing its path): the interval before each is no usage figure.
    """
    if not readings:
        raise LimitsError(f"{container}: no cgroup readings")
    warnings: list[str] = []
    times = tuple(r.time for r in readings)
    memory = tuple(r.working_set_bytes for r in readings)
    cpu: list[float] = [math.nan]
    restarts: set[int] = set()
    for index, (before, after) in enumerate(zip(readings, readings[1:], strict=False), 1):
        spent, elapsed = after.cpu_seconds - before.cpu_seconds, after.time - before.time
        if spent < 0 or index in recreated:
            restarts.add(index)
            cpu.append(math.nan)
        elif elapsed > 0 and not math.isnan(spent):
            cpu.append(spent / elapsed)
        else:
            cpu.append(math.nan)
    if restarts:
        warnings.append(
            f"{container}: the cgroup was recreated {len(restarts)} time(s) (a restart: it "
            "vanished or its CPU counter went back); those intervals are left out"
        )
    oom_kills, oom_limit = 0, None
    counts = [(r.oom_kills, r.memory_limit_bytes) for r in readings]
    if counts[0][0]:
        warnings.append(f"{container}: {counts[0][0]} OOM kill(s) before sampling began")
    for (seen, _), (now, limit) in zip(counts, counts[1:], strict=False):
        if seen is None or now is None:
            continue
        grown = now - seen if now >= seen else now  # a reset: count from zero
        if grown > 0:
            oom_kills += grown
            if limit is not None:
                oom_limit = max(limit, oom_limit or 0)
    if all(math.isnan(m) for m in memory):
        warnings.append(
            f"{container}: no memory figures (the memory controller is not enabled for this cgroup)"
        )
    if all(math.isnan(c) for c in cpu[1:]) and len(readings) > 1:
        warnings.append(f"{container}: no CPU figures (no cpu.stat or cpuacct.usage)")
    if len(readings) == 1:
        warnings.append(f"{container}: a single reading, no series to speak of")
    usage = [r.usage_bytes for r in readings if not math.isnan(r.usage_bytes)]
    peak = max((r.peak_bytes for r in readings if not math.isnan(r.peak_bytes)), default=math.nan)
    if usage and peak > max(usage) * 1.1 and peak - max(usage) > 4 * 1024**2:
        warnings.append(
            f"{container}: the cgroup's recorded peak ({peak / 1024**2:.0f} MiB, page cache "
            f"included) is above every sample ({max(usage) / 1024**2:.0f} MiB): a spike "
            "since it began was not seen; sample longer or more often"
        )
    last = readings[-1]
    return UsageSeries(
        container=container,
        source=source,
        times=times,
        memory_bytes=memory,
        cpu_cores=tuple(cpu),
        oom_kills=oom_kills,
        oom_limit_bytes=oom_limit,
        restarts=len(restarts),
        memory_limit_bytes=last.memory_limit_bytes,
        cpu_limit_cores=last.cpu_limit_cores,
        warnings=tuple(warnings),
    )


def sample_cgroup(
    path: str | Path | Cgroup, duration: float, interval: float, *, name: str | None = None
) -> UsageSeries:
    """Read the cgroup every `interval` seconds for `duration` seconds.

    `path` is a cgroup directory (v2, or any v1 controller's) or a `Cgroup` from
    `cgroup_of_pid`. A cgroup that vanishes and comes back at the same path (`docker
    restart` keeps the container's id, hence its cgroup) is a restart; one that vanishes
    for good (the container stopped) is said in a warning.
    """
    if not (interval > 0 and math.isfinite(interval)):
        raise LimitsError(f"the sampling interval must be positive, not {interval}")
    if not (duration >= interval and math.isfinite(duration)):
        raise LimitsError(f"the duration ({duration}s) must be at least one interval ({interval}s)")
    group = path if isinstance(path, Cgroup) else find_cgroup(path)
    container = name or group.name
    readings: list[CgroupReading] = []
    started = time.monotonic()
    ticks = int(duration / interval + 1e-9)
    gone: float | None = None  # when it vanished, while it is away
    recreated: set[int] = set()
    for tick in range(ticks + 1):
        delay = started + tick * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        reading = read_cgroup(group) if _alive(group) else None
        if reading is None or not _alive(group):
            gone = gone if gone is not None else time.monotonic() - started
            continue  # vanished, or removed while being read
        if gone is not None and readings:
            recreated.add(len(readings))
        gone = None
        readings.append(reading)
    if not readings:
        raise LimitsError(f"{container}: the cgroup is gone")
    series = series_from_readings(
        readings,
        container=container,
        source=f"cgroup-v{group.version}",
        recreated=frozenset(recreated),
    )
    if gone is not None:
        note = f"{container}: the cgroup went away after {gone:.0f}s (the container stopped)"
        series = _with_warning(series, note)
    return series


def _alive(group: Cgroup) -> bool:
    return any(d is not None and os.path.isdir(d) for d in (group.memory, group.cpuacct))


def _with_warning(series: UsageSeries, warning: str) -> UsageSeries:
    from msgspec.structs import replace

    return replace(series, warnings=(*series.warnings, warning))
