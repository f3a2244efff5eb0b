"""Read `docker stats` captures into usage series.

A capture is the JSON-lines output of `docker stats --no-stream --format '{{json .}}'`
taken repeatedly and appended to one file, e.g.

    while sleep 10; do docker stats --no-stream --format '{{json .}}'; done >> stats.jsonl

Each line is one container at one moment: `Name`, `ID`, `CPUPerc` ("12.34%", a share of
one core, so 250% is 2.5 cores), `MemUsage` ("1.5GiB / 2GiB": the working set docker
reports, usage minus inactive file cache, then the limit), `--` where docker knows nothing
(a stopped container).

When is each line? In this order:
- a timestamp field on the line (`time`, `timestamp`, `ts`, `Time`, `Timestamp`): unix
  seconds or an ISO 8601 date (`jq -c '. + {time: now}'` adds one);
- a line holding only a unix time or an ISO date (`date +%s` or `date -Is` between
  captures) stamps the capture that follows;
- otherwise captures are told apart by repetition: a container seen again starts the next
  capture (so does a blank line or the screen-clearing codes of a streaming `docker
  stats`), and captures are taken to be `interval` seconds apart, counted from 0.

Units: memory in binary (`KiB`, `MiB`, `GiB`, `TiB`) or decimal (`kB`, `MB`, `GB`) units,
any mix. docker shows the host's memory as the "limit" of a container that has none; a
limit is a whole number of MiB (`512MiB`, `1.5GiB`) and the host's memory never is
(`7.654GiB`), so a "limit" that is not a whole number of MiB is not taken as one.

A container is a `Name`; with `project` given, compose's `PROJECT-SERVICE-N` (or
`PROJECT_SERVICE_N`) names become the service, and a service's replicas one series (the
largest replica at each moment). A name whose `ID` changes was recreated: a restart.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from msgspec import Struct, field

from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries
from dockwise.units import BYTE_UNITS

_UNITS = BYTE_UNITS
_SIZE = re.compile(
    r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|nan|[+-]?inf)\s*([a-z]*)\s*", re.I
)
_CLEAR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TIME_KEYS = ("time", "timestamp", "ts", "Time", "Timestamp")
_ABSENT = ("--", "", "n/a", "N/A")


class _BadValue(ValueError):
    pass


def parse_size(text: str) -> float:
    """Bytes in a docker size (`1.5GiB`, `512MiB`, `20kB`, `0B`); nan for `--`."""
    text = text.strip()
    if text in _ABSENT:
        return math.nan
    match = _SIZE.fullmatch(text)
    if not match or match.group(2).lower() not in _UNITS:
        raise _BadValue(f"not a size: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_percent(text: str) -> float:
    """A docker percentage (`12.34%`) as a fraction (0.1234); nan for `--`."""
    text = text.strip()
    if text in _ABSENT:
        return math.nan
    try:
        return float(text.removesuffix("%")) / 100
    except ValueError:
        raise _BadValue(f"not a percentage: {text!r}") from None


def _parse_time(value: object) -> float | None:
    """Unix seconds from a number, a numeric string or an ISO 8601 date; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return number if math.isfinite(number) else None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a local time without zone cannot be placed: not a timestamp
    return moment.timestamp()


class _Track(Struct):
    """What one container's lines said, in file order."""

    times: list[float] = field(default_factory=list)
    memory: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    limits: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    restarts: int = 0
    bad_values: int = 0
    absent: int = 0


def _service_name(name: str, project: str | None) -> str:
    if project is None:
        return name
    for sep in ("-", "_"):
        prefix = project + sep
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            match = re.fullmatch(rf"(.+){re.escape(sep)}\d+", rest)
            return match.group(1) if match else rest
    return name


def read_docker_stats(
    path: str | Path, *, interval: float = 10.0, project: str | None = None
) -> list[UsageSeries]:
    """One usage series per container of a `docker stats` capture (see the module doc)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LimitsError(f"{path}: cannot read: {error.strerror or error}") from None
    # PowerShell's `>` writes UTF-16 with a byte order mark; editors may add a UTF-8 one
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    text = data.decode(encoding, errors="replace")
    return parse_docker_stats(
        text.splitlines(), label=str(path), interval=interval, project=project
    )


def parse_docker_stats(
    lines: Iterable[str],
    *,
    label: str = "docker stats",
    interval: float = 10.0,
    project: str | None = None,
) -> list[UsageSeries]:
    """The series of `read_docker_stats` from the capture's lines."""
    if not (interval > 0 and math.isfinite(interval)):
        raise LimitsError(
            f"the interval between docker stats captures must be positive, not {interval}"
        )
    tracks: dict[str, _Track] = {}
    capture = -1  # index of the current capture (for captures without timestamps)
    capture_time: float | None = None  # stamp of the current capture from a date line
    pending_time: float | None = None  # a date line's stamp, for the capture that follows
    boundary = False  # a date line, a blank line or a screen clear: a capture ends
    seen: set[str] = set()  # containers in the current capture
    stamped = unstamped = 0
    skipped: list[int] = []
    first_bad = ""
    for number, raw in enumerate(lines, start=1):
        line = _CLEAR.sub("", raw)
        if line != raw:
            boundary = True  # a streaming `docker stats` clears the screen between refreshes
        line = line.strip()
        if not line:
            boundary = True
            continue
        if not line.startswith("{"):
            moment = _parse_time(line)
            if moment is not None:
                pending_time, boundary = moment, True
                continue
            skipped.append(number)
            first_bad = first_bad or f"line {number}: not a JSON object: {line[:60]!r}"
            continue
        try:
            record = json.loads(line)
        except ValueError:
            skipped.append(number)
            first_bad = first_bad or f"line {number}: not valid JSON: {line[:60]!r}"
            continue
        if not isinstance(record, dict) or not (
            record.get("Name") or record.get("ID") or record.get("Container")
        ):
            skipped.append(number)
            first_bad = first_bad or f"line {number}: no Name, ID or Container field"
            continue
        name = str(record.get("Name") or record.get("Container") or record.get("ID"))
        ident = str(record.get("ID") or record.get("Container") or name)
        moment = None
        for key in _TIME_KEYS:
            if key in record:
                moment = _parse_time(record[key])
                break
        if moment is None:
            if boundary or name in seen or capture < 0:
                capture += 1
                seen = set()
                capture_time, pending_time, boundary = pending_time, None, False
            seen.add(name)
            if capture_time is not None:
                moment = capture_time
                stamped += 1
            else:
                moment = capture * interval
                unstamped += 1
        else:
            stamped += 1
        track = tracks.setdefault(name, _Track())
        usage, _, limit_text = str(record.get("MemUsage", "--")).partition("/")
        cpu = _value(parse_percent, str(record.get("CPUPerc", "--")), track)
        memory = _value(parse_size, usage, track)
        limit = _value(parse_size, limit_text, track) if limit_text.strip() else math.nan
        if math.isnan(memory) and math.isnan(cpu):
            track.absent += 1
        if not math.isnan(memory) and not (0 <= memory < math.inf):
            track.bad_values += 1
            memory = math.nan
        if not math.isnan(cpu) and not (0 <= cpu < math.inf):
            track.bad_values += 1
            cpu = math.nan
        if track.ids and ident != track.ids[-1]:
            track.restarts += 1
        track.ids.append(ident)
        track.times.append(moment)
        track.memory.append(memory)
        track.cpu.append(cpu)
        track.limits.append(limit)
    if not tracks:
        detail = f" ({first_bad})" if first_bad else ""
        raise LimitsError(
            f"{label}: no docker stats lines{detail}; expected the output of "
            "`docker stats --no-stream --format '{{json .}}'`"
        )
    common_warnings: list[str] = []
    if skipped:
        where = ", ".join(map(str, skipped[:5])) + (" ..." if len(skipped) > 5 else "")
        common_warnings.append(
            f"{label}: {len(skipped)} line(s) skipped (line {where}): {first_bad}"
        )
    if unstamped and stamped:
        raise LimitsError(
            f"{label}: some lines carry a time and some do not; stamp every capture or none"
        )
    if unstamped:
        common_warnings.append(
            f"no timestamps in {label}: captures taken to be {interval:g}s apart"
        )
    by_container: dict[str, list[tuple[str, _Track]]] = {}
    for name, track in tracks.items():
        by_container.setdefault(_service_name(name, project), []).append((name, track))
    series = [
        _series(container, members, common_warnings)
        for container, members in sorted(by_container.items())
    ]
    return series


def _is_host_memory(limit: float) -> bool:
    """docker's stand-in for "no limit": the host's memory, never a whole number of MiB."""
    mib = limit / 1024**2
    return abs(mib - round(mib)) > 0.01


def _series(
    container: str,
    members: list[tuple[str, _Track]],
    common: list[str],
) -> UsageSeries:
    warnings = list(common)
    points: dict[float, tuple[float, float]] = {}
    limits: list[float] = []
    restarts = bad = absent = 0
    for _, track in members:
        restarts += track.restarts
        bad += track.bad_values
        absent += track.absent
        for moment, memory, cpu, limit in zip(
            track.times, track.memory, track.cpu, track.limits, strict=True
        ):
            old_memory, old_cpu = points.get(moment, (math.nan, math.nan))
            points[moment] = (_nanmax(old_memory, memory), _nanmax(old_cpu, cpu))
            if not math.isnan(limit):
                limits.append(limit)
    if len(members) > 1:
        names = ", ".join(name for name, _ in members)
        warnings.append(
            f"{container}: {len(members)} replicas ({names}), the largest at each moment"
        )
    if bad:
        warnings.append(f"{container}: {bad} unreadable or negative value(s) left out")
    if absent:
        warnings.append(f"{container}: no usage in {absent} capture(s) (stopped or starting)")
    if restarts:
        warnings.append(
            f"{container}: recreated {restarts} time(s) during the capture (its ID changed)"
        )
    memory_limit: int | None = None
    if limits:
        last = limits[-1]
        if _is_host_memory(last):
            warnings.append(
                f"{container}: the memory limit docker stats shows ({_mib(last)}) is not a whole "
                "number of MiB: it is the host's memory, shown when no limit is set"
            )
        else:
            memory_limit = int(last)
    times = sorted(points)
    if len(times) == 1:
        warnings.append(f"{container}: a single capture, no series to speak of")
    return UsageSeries(
        container=container,
        source="docker-stats",
        times=tuple(times),
        memory_bytes=tuple(points[t][0] for t in times),
        cpu_cores=tuple(points[t][1] for t in times),
        restarts=restarts,
        memory_limit_bytes=memory_limit,
        warnings=tuple(warnings),
    )


def _value(parse: Callable[[str], float], text: str, track: _Track) -> float:
    try:
        return parse(text)
    except _BadValue:
        track.bad_values += 1
        return math.nan


def _nanmax(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return max(a, b)


def _mib(value: float) -> str:
    return f"{value / 1024**2:.0f} MiB" if value < 1024**3 else f"{value / 1024**3:.1f} GiB"
