"""From a usage series to recommended memory and CPU limits.

Two rules, both always computed:

* the lesson's rule: the peak working set x (1 + headroom), headroom 0.5 by default
  ("start with observed usage + 50% headroom, then adjust"). Short windows get it.
* the adaptive rule, once the series covers a day or more with enough samples: the peak
  seen, plus a leak extrapolated over the horizon (default a week) when memory grows from
  one day to the next at the same hour (so a daily cycle is never taken for a leak), plus
  a headroom read from how much the daily peaks and the spikes vary, never below a floor
  and never above the lesson's headroom.

An OOM kill in the window raises the base to max(peak, the limit in force at the kill):
the working set the kernel killed is never observed, only the limit it hit.

Every recommendation says which rule made it and why, rounds to friendly steps (MiB,
millicores) and compares itself with the current limit when one is known.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from msgspec import Struct, field

from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries

MIB = 2**20
GIB = 2**30
DAY = 86400.0

# the adaptive rule's smallest headroom: the peak seen is never the peak to come
HEADROOM_FLOOR = 0.10
# how much the spread of the daily peaks (and of the spikes) weighs in the headroom
DAILY_SPREAD_WEIGHT = 1.5
SPIKE_WEIGHT = 0.8
# a leak: memory a day later, at the same hour, is higher in this share of the pairs...
LEAK_AGREEMENT = 0.7
# ... and grows by at least this share of the typical level over the horizon (less is
# noise, or a leak too slow to matter before the next deploy)
LEAK_MIN_GROWTH = 0.05
# under this span, a leak is read from a line fitted with a daily cycle, and counts when
# its growth is this many standard errors from zero
HARMONIC_BELOW = 2 * DAY
LEAK_T = 3.0
# over days, the quietest hour must rise by at least this share of the growth seen
TROUGH_SHARE = 0.5
# a sample below this share of the one before it, which was itself above this share of
# the peak, is a restart (the process started again from its base)
RESTART_DROP = 0.7
# under two days of data, at least this share of the lesson's headroom
ONE_DAY_HEADROOM_SHARE = 0.5
# a series that restarted gets at least this share of the lesson's headroom
RESTART_HEADROOM_SHARE = 0.5


class StrategyError(LimitsError):
    """A series no recommendation can be made from; the message is one line."""


class Options(Struct, frozen=True):
    headroom: float = 0.5
    horizon_s: float = 7 * DAY
    strategy: str = "auto"  # "auto": adaptive when the data allow it; "lesson": always peak x 1.5
    floor: float = HEADROOM_FLOOR
    # CPU limit: None = on, except for Kubernetes (where throttling usually costs more than
    # the bound buys); True/False force it
    cpu_limit: bool | None = None
    kubernetes: bool = False
    memory_request: str = "limit"  # "limit" | "p95"
    min_window_s: float = 300.0
    min_samples: int = 10
    adaptive_window_s: float = DAY
    adaptive_samples: int = 100


class Recommendation(Struct, frozen=True):
    container: str
    source: str
    samples: int
    window_s: float
    times: tuple[float, ...]
    memory: tuple[float, ...]  # nan where unknown
    cpu: tuple[float, ...]
    memory_peak: float
    memory_p95: float
    memory_current_limit: int | None
    memory_limit: int
    memory_request: int
    lesson_limit: int  # peak x (1 + headroom), always shown
    rule: str  # "lesson" | "adaptive"
    reason: str
    leak_bytes_per_day: float
    headroom_used: float
    cpu_peak: float | None
    cpu_p95: float | None
    cpu_current_limit: float | None
    cpu_request: float | None
    cpu_limit: float | None
    cpu_note: str
    oom_kills: int
    restarts: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def memory_change(self) -> float | None:
        """Current limit against the recommendation: > 0 over-provisioned by that share,
        < 0 under-provisioned."""
        if not self.memory_current_limit:
            return None
        return self.memory_current_limit / self.memory_limit - 1

    def cpu_change(self) -> float | None:
        if not self.cpu_current_limit or not self.cpu_limit:
            return None
        return self.cpu_current_limit / self.cpu_limit - 1


# --- numbers ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; values must be non-empty."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def round_memory(value: float) -> int:
    """Up to a friendly step: 4 MiB under 256 MiB, 16 MiB under 2 GiB, 64 MiB above."""
    step = 4 * MIB if value < 256 * MIB else 16 * MIB if value < 2 * GIB else 64 * MIB
    return max(step, math.ceil(value / step) * step)


def round_cores(value: float) -> float:
    """Up to whole millicores in friendly steps: 10m under one core, 50m above."""
    step = 0.01 if value < 1 else 0.05
    return round(max(step, math.ceil(round(value / step, 6)) * step), 3)


def format_bytes(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= GIB:
        return f"{value / GIB:.2f} GiB"
    if value >= MIB:
        return f"{value / MIB:.0f} MiB"
    if value >= 1024:
        return f"{value / 1024:.0f} KiB"
    return f"{value:.0f} B"


def format_cores(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{round(value * 1000):d}m"


def format_duration(seconds: float) -> str:
    if seconds >= DAY:
        return f"{seconds / DAY:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"


# --- cleaning --------------------------------------------------------------------------


class _Clean(Struct, frozen=True):
    times: tuple[float, ...]
    memory: tuple[float, ...]
    cpu: tuple[float, ...]
    warnings: tuple[str, ...]


def _finite(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def clean(series: UsageSeries) -> _Clean:
    """The samples a recommendation can use: ordered in time, negative and non-finite
    values unknown (nan). Raises StrategyError when nothing usable is left."""
    name = series.container or "the series"
    n = len(series.times)
    if n == 0:
        raise StrategyError(f"{name}: no samples: nothing to recommend from")
    if len(series.memory_bytes) != n or len(series.cpu_cores) != n:
        raise StrategyError(
            f"{name}: {n} times but {len(series.memory_bytes)} memory and "
            f"{len(series.cpu_cores)} CPU values: the series is inconsistent"
        )
    warnings = list(series.warnings)
    rows = []
    bad_times = 0
    for t, m, c in zip(series.times, series.memory_bytes, series.cpu_cores, strict=True):
        time = _finite(t)
        if math.isnan(time):
            bad_times += 1
            continue
        rows.append((time, _finite(m), _finite(c)))
    if bad_times:
        warnings.append(f"{bad_times} sample(s) without a valid time ignored")
    if not rows:
        raise StrategyError(f"{name}: no sample has a valid time")
    if any(rows[i][0] > rows[i + 1][0] for i in range(len(rows) - 1)):
        rows.sort(key=lambda row: row[0])
        warnings.append("samples were out of time order: sorted")
    times = tuple(r[0] for r in rows)
    memory = [r[1] for r in rows]
    cpu = [r[2] for r in rows]
    negative_memory = sum(1 for v in memory if v < 0)
    negative_cpu = sum(1 for v in cpu if v < 0)
    if negative_memory:
        warnings.append(f"{negative_memory} negative memory value(s) ignored")
        memory = [math.nan if v < 0 else v for v in memory]
    if negative_cpu:
        warnings.append(
            f"{negative_cpu} negative CPU value(s) ignored (a counter reset or a restart)"
        )
        cpu = [math.nan if v < 0 else v for v in cpu]
    unknown = sum(1 for v in memory if math.isnan(v)) - negative_memory
    if unknown:
        warnings.append(f"{unknown} sample(s) without a memory value ignored")
    if all(math.isnan(v) for v in memory):
        raise StrategyError(f"{name}: no usable memory value among {n} sample(s)")
    return _Clean(times, tuple(memory), tuple(cpu), tuple(warnings))


def restart_points(memory: Sequence[float]) -> list[int]:
    """Indexes where the working set falls to a fraction of the level it held over the
    samples before (not just of one spike): the container started again."""
    known = [v for v in memory if not math.isnan(v)]
    peak = max(known)
    points = []
    recent: list[float] = []
    for i, value in enumerate(memory):
        if math.isnan(value):
            continue
        if len(recent) >= 3:
            held = percentile(recent, 50)
            if held > RESTART_DROP * 0.5 * peak and value < RESTART_DROP * held:
                points.append(i)
                recent = []
        recent.append(value)
        if len(recent) > 10:
            recent.pop(0)
    return points


# --- the adaptive rule's reading of the series -----------------------------------------


def daily_slope(times: Sequence[float], values: Sequence[float]) -> tuple[float, float, int]:
    """Growth per second, compared a whole number of days apart (so that a daily cycle
    cancels out): the median of value(t + k days) - value(t) over k days, the share of
    those pairs that grew, and how many pairs there were."""
    points = [(t, v) for t, v in zip(times, values, strict=True) if not math.isnan(v)]
    if len(points) < 2:
        return 0.0, 0.0, 0
    span = points[-1][0] - points[0][0]
    days = math.floor(span / DAY)
    if days < 1:
        return 0.0, 0.0, 0
    lag = days * DAY
    if span - lag < DAY / 12:  # keep at least two hours of pairs
        # a day less, or (for one day of data) a lag two hours short of a day: the hours
        # compared are then nearly the same hours of the cycle
        lag = lag - DAY if days >= 2 else span - DAY / 12
    ts = [p[0] for p in points]
    gaps = sorted(ts[i + 1] - ts[i] for i in range(len(ts) - 1))
    tolerance = max(gaps[len(gaps) // 2] * 1.5, 1.0)
    diffs = []
    for t, v in points:
        target = t + lag
        j = bisect.bisect_left(ts, target)
        if j > 0 and (j == len(ts) or target - ts[j - 1] < ts[j] - target):
            j -= 1  # the nearest sample
        if j < len(ts) and abs(ts[j] - target) <= tolerance:
            diffs.append(points[j][1] - v)
    if not diffs:
        return 0.0, 0.0, 0
    grew = sum(1 for d in diffs if d > 0) / len(diffs)
    return percentile(diffs, 50) / lag, grew, len(diffs)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when the system is singular."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-12:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][size] / rows[i][i] for i in range(size)]


def harmonic_slope(times: Sequence[float], values: Sequence[float]) -> tuple[float, float]:
    """Growth per second from a least-squares fit of a line plus a daily cycle (two
    harmonics), so that a day of data can tell a leak from the cycle; and how many standard
    errors the growth is from zero (samples are correlated: the error assumes one
    independent sample per 30 minutes)."""
    points = [(t, v) for t, v in zip(times, values, strict=True) if not math.isnan(v)]
    if len(points) < 12:
        return 0.0, 0.0
    t0 = points[0][0]
    span = points[-1][0] - t0
    if span <= 0:
        return 0.0, 0.0
    omega = 2 * math.pi / DAY

    def features(t: float) -> list[float]:
        x = t - t0
        return [
            1.0,
            x / span,
            math.sin(omega * x),
            math.cos(omega * x),
            math.sin(2 * omega * x),
            math.cos(2 * omega * x),
        ]

    size = 6
    gram = [[0.0] * size for _ in range(size)]
    moment = [0.0] * size
    rows = []
    for t, v in points:
        f = features(t)
        rows.append((f, v))
        for i in range(size):
            moment[i] += f[i] * v
            for j in range(size):
                gram[i][j] += f[i] * f[j]
    coefficients = _solve(gram, moment)
    if coefficients is None:
        return 0.0, 0.0
    residual = sum(
        (v - sum(c * x for c, x in zip(coefficients, f, strict=True))) ** 2 for f, v in rows
    )
    n = len(points)
    sigma2 = residual / max(1, n - size)
    # the variance of the slope coefficient: sigma2 x (X'X)^-1 [1][1]
    unit = [1.0 if i == 1 else 0.0 for i in range(size)]
    column = _solve(gram, unit)
    if column is None:
        return 0.0, 0.0
    independent = max(2.0, span / 1800)
    inflation = max(1.0, n / independent)
    error = math.sqrt(max(sigma2 * column[1] * inflation, 0.0))
    slope = coefficients[1] / span
    return slope, (coefficients[1] / error if error > 0 else math.inf)


def daily_troughs(times: Sequence[float], values: Sequence[float]) -> list[float]:
    """The quietest hour of each whole day (the lowest hourly median): what a leak lifts
    and a busy day leaves alone."""
    if not times:
        return []
    start = times[0]
    hours: dict[int, list[float]] = {}
    for t, v in zip(times, values, strict=True):
        if not math.isnan(v):
            hours.setdefault(int((t - start) // 3600), []).append(v)
    days: dict[int, list[float]] = {}
    for hour, found in hours.items():
        days.setdefault(hour // 24, []).append(percentile(found, 50))
    return [min(days[d]) for d in sorted(days) if len(days[d]) >= 20]


def _segments(times: Sequence[float], restarts: Sequence[int]) -> list[tuple[int, int]]:
    bounds = [0, *restarts, len(times)]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def _daily_peaks(times: Sequence[float], values: Sequence[float], slope: float) -> list[float]:
    """The highest value of each day of the window (a last part-day counts when it covers
    half a day), the leak taken out."""
    start, end = times[0], times[-1]
    buckets: dict[int, float] = {}
    for t, v in zip(times, values, strict=True):
        if math.isnan(v):
            continue
        day = int((t - start) // DAY)
        adjusted = v - slope * (t - start)
        buckets[day] = max(buckets.get(day, -math.inf), adjusted)
    last = int((end - start) // DAY)
    if last in buckets and (end - start) - last * DAY < DAY / 2 and len(buckets) > 1:
        del buckets[last]
    return [buckets[day] for day in sorted(buckets)]


class _Adaptive(Struct, frozen=True):
    limit: float
    headroom: float
    leak_per_day: float
    reason: str


def adaptive(
    times: Sequence[float], memory: Sequence[float], base: float, options: Options
) -> _Adaptive:
    known = [v for v in memory if not math.isnan(v)]
    level = percentile(known, 50)
    # the leak: the longest run between restarts that covers a day and more
    restarts = restart_points(memory)
    a, b = max(_segments(times, restarts), key=lambda s: times[s[1] - 1] - times[s[0]])
    seg_times, seg_memory = times[a:b], memory[a:b]
    span = seg_times[-1] - seg_times[0]
    if span >= HARMONIC_BELOW:
        # two days and more: the same hours a whole number of days apart
        slope, agreement, pairs = daily_slope(seg_times, seg_memory)
        troughs = daily_troughs(seg_times, seg_memory)
        trough_growth = (troughs[-1] - troughs[0]) / (len(troughs) - 1) if len(troughs) > 1 else 0.0
        evidence = (
            f"{agreement:.0%} of {pairs} day-apart pairs at the same hour grew; the quietest "
            f"hour of the day moved {format_bytes(trough_growth)}/day"
        ).replace("moved -", "fell ")
        leaking = (
            pairs >= 5
            and slope > 0
            and agreement >= LEAK_AGREEMENT
            # a leak lifts the quiet hours too; a busier day lifts only the busy ones
            and trough_growth >= TROUGH_SHARE * slope * DAY
        )
    else:
        # less: a line and a daily cycle fitted together; the growth from the hours a day
        # apart when it is larger and as sure
        slope, t_stat = harmonic_slope(seg_times, seg_memory)
        pairs = len(seg_times)
        evidence = f"a line and a daily cycle fitted to {len(seg_times)} samples, t={t_stat:.1f}"
        leaking = slope > 0 and t_stat >= LEAK_T and span >= DAY / 2
    leaking = leaking and slope * options.horizon_s >= LEAK_MIN_GROWTH * level
    if not leaking:
        slope = 0.0
    # headroom: how much the day-to-day peaks and the spikes vary
    peaks = _daily_peaks(times, memory, 0.0 if restarts else slope)
    top = max(peaks) if peaks else base
    spread = (top - min(peaks)) / top if len(peaks) >= 2 and top > 0 else 0.0
    # how far the peak stands above the usual level, scaled by how much longer the horizon
    # is than the window: a week holds higher peaks than the day that was measured
    typical = percentile(known, 50)
    excess = (max(known) - typical) / max(known) if max(known) > 0 else 0.0
    window = times[-1] - times[0]
    unseen = math.log(1 + options.horizon_s / window) if window > 0 else 1.0
    spikes = excess * unseen
    wanted = max(DAILY_SPREAD_WEIGHT * spread, SPIKE_WEIGHT * spikes)
    if window < HARMONIC_BELOW:
        # one day cannot tell a slow leak from the daily cycle, nor a quiet day from a
        # typical one
        wanted = max(wanted, ONE_DAY_HEADROOM_SHARE * options.headroom)
    if restarts:
        # each restart reset the usage: the peak seen depends on how long the container
        # happened to run, and a longer run holds more
        wanted = max(wanted, RESTART_HEADROOM_SHARE * options.headroom)
    ceiling = max(options.headroom, options.floor)
    headroom = min(max(options.floor, wanted), ceiling)
    projected = base
    growth = 0.0
    if leaking and not restarts:
        # the peak grows with the leak from when it was seen to the end of the horizon
        peak_index = max(
            range(len(memory)), key=lambda i: -math.inf if math.isnan(memory[i]) else memory[i]
        )
        growth = slope * (times[-1] - times[peak_index] + options.horizon_s)
        projected = base + growth
    limit = projected * (1 + headroom)
    why = [
        f"adaptive: {format_duration(times[-1] - times[0])} of data",
        f"headroom {headroom:.0%} from the variability "
        f"(daily peaks vary {spread:.0%}, the peak is {excess:.0%} above the median; "
        f"floor {options.floor:.0%}, ceiling {ceiling:.0%})",
    ]
    if window < HARMONIC_BELOW:
        why.insert(
            1,
            f"under two days of data: headroom at least "
            f"{ONE_DAY_HEADROOM_SHARE * options.headroom:.0%} (one day cannot tell a slow "
            "leak from the daily cycle)",
        )
    if restarts:
        why.insert(
            1,
            f"{len(restarts)} restart(s) reset the usage: headroom at least "
            f"{RESTART_HEADROOM_SHARE * options.headroom:.0%}",
        )
    if leaking and restarts:
        why.insert(
            1,
            f"memory grows {format_bytes(slope * DAY)}/day between restarts ({evidence}); "
            "the restarts reset it, so it is not extrapolated",
        )
    elif leaking:
        why.insert(
            1,
            f"memory grows {format_bytes(slope * DAY)}/day ({evidence}): "
            f"+{format_bytes(growth)} from the peak to the end of the "
            f"{format_duration(options.horizon_s)} horizon",
        )
    elif pairs:
        why.insert(1, f"no leak ({evidence})")
    return _Adaptive(limit, headroom, slope * DAY, "; ".join(why))


# --- the recommendation ----------------------------------------------------------------


def recommend(series: UsageSeries, options: Options | None = None) -> Recommendation:
    options = options or Options()
    if not (0 <= options.headroom <= 10):
        raise StrategyError(f"headroom {options.headroom} is out of range (0 to 10)")
    if options.horizon_s < 0:
        raise StrategyError("the horizon cannot be negative")
    data = clean(series)
    warnings = list(data.warnings)
    times, memory, cpu = data.times, data.memory, data.cpu
    known = [v for v in memory if not math.isnan(v)]
    known_times = [t for t, v in zip(times, memory, strict=True) if not math.isnan(v)]
    window = known_times[-1] - known_times[0]  # where memory is known
    samples = len(known)
    peak = max(known)
    p95 = percentile(known, 95)
    if samples < 2:
        warnings.append("a single sample: the recommendation is a guess; sample for a day or more")
    elif window < options.min_window_s or samples < options.min_samples:
        warnings.append(
            f"only {samples} samples over {format_duration(window)}: too short to trust; "
            f"sample at least {format_duration(options.min_window_s)} and "
            f"{options.min_samples} samples, ideally a day or more under real load"
        )
    if peak <= 0:
        raise StrategyError(
            f"{series.container}: memory is 0 in every sample: nothing to size from"
        )

    detected = len(restart_points(memory))
    restarts = max(series.restarts, detected)
    if restarts:
        warnings.append(
            f"the container restarted {restarts} time(s) in the window: usage before and "
            "after each restart is sized separately; find out why it restarted"
        )
    base = peak
    base_reason = f"peak {format_bytes(peak)}"
    oom = max(series.oom_kills, 0)
    if oom:
        at_kill = series.oom_limit_bytes or series.memory_limit_bytes
        if at_kill and at_kill > peak:
            base = float(at_kill)
            base_reason = (
                f"the {format_bytes(at_kill)} limit in force at the OOM kill "
                f"(the peak seen, {format_bytes(peak)}, is lower: the kill hid the real one)"
            )
        warnings.append(
            f"OOM-killed {oom} time(s) in the window: the working set that was killed is "
            "never observed; the base is max(peak, the limit at the kill)"
        )

    lesson = round_memory(base * (1 + options.headroom))
    enough = window >= options.adaptive_window_s and samples >= options.adaptive_samples
    if options.strategy == "lesson":
        limit, rule, headroom_used, leak = lesson, "lesson", options.headroom, 0.0
        reason = f"the lesson's rule, as asked: {base_reason} x {1 + options.headroom:g}"
    elif not enough:
        limit, rule, headroom_used, leak = lesson, "lesson", options.headroom, 0.0
        reason = (
            f"the lesson's rule: {base_reason} x {1 + options.headroom:g}; "
            f"{format_duration(window)} and {samples} samples are too little for the "
            f"adaptive rule (it needs {format_duration(options.adaptive_window_s)} and "
            f"{options.adaptive_samples} samples)"
        )
        if samples >= 2 and window < options.adaptive_window_s:
            warnings.append(
                f"window {format_duration(window)} is shorter than a day: the lesson's rule "
                f"(peak x {1 + options.headroom:g}) is used; measure a day or more to see the "
                "daily cycle, spikes and leaks"
            )
    else:
        found = adaptive(known_times, known, base, options)
        limit = round_memory(found.limit)
        rule, headroom_used, leak = "adaptive", found.headroom, found.leak_per_day
        reason = f"{found.reason}; base {base_reason}"
        if leak > 0 and restarts:
            warnings.append(
                f"memory grows about {format_bytes(leak)} a day between restarts: a leak? "
                "a run longer than any seen will need more"
            )
        elif leak > 0:
            warnings.append(
                f"memory grows about {format_bytes(leak)} a day: a leak? the limit covers "
                f"{format_duration(options.horizon_s)} of it; fix the leak or restart sooner"
            )
    request = min(limit, round_memory(p95)) if options.memory_request == "p95" else limit

    cpu_known = [v for v in cpu if not math.isnan(v)]
    cpu_peak = max(cpu_known) if cpu_known else None
    cpu_p95 = percentile(cpu_known, 95) if cpu_known else None
    cpu_request = cpu_limit = None
    want_limit = options.cpu_limit if options.cpu_limit is not None else not options.kubernetes
    if cpu_p95 is not None and cpu_peak is not None:
        cpu_request = round_cores(cpu_p95 * (1 + options.headroom))
        if want_limit:
            cpu_limit = max(cpu_request, round_cores(cpu_peak * (1 + options.headroom)))
    else:
        warnings.append("no CPU values: no CPU recommendation")
    if want_limit:
        cpu_note = (
            "CPU limit set: a runaway takes at most its cap, but the container is throttled "
            "at the cap even when cores are idle (latency spikes on bursts)"
        )
    else:
        cpu_note = (
            "no CPU limit (Kubernetes default here): the request already guarantees the "
            "share under contention, and a limit throttles the container even when the node "
            "has idle cores; ask for one with --cpu-limit"
        )
    current = series.memory_limit_bytes
    return Recommendation(
        container=series.container,
        source=series.source,
        samples=samples,
        window_s=window,
        times=times,
        memory=memory,
        cpu=cpu,
        memory_peak=peak,
        memory_p95=p95,
        memory_current_limit=current if current and current > 0 else None,
        memory_limit=limit,
        memory_request=request,
        lesson_limit=lesson,
        rule=rule,
        reason=reason,
        leak_bytes_per_day=leak,
        headroom_used=headroom_used,
        cpu_peak=cpu_peak,
        cpu_p95=cpu_p95,
        cpu_current_limit=series.cpu_limit_cores
        if series.cpu_limit_cores and series.cpu_limit_cores > 0
        else None,
        cpu_request=cpu_request,
        cpu_limit=cpu_limit,
        cpu_note=cpu_note,
        oom_kills=oom,
        restarts=restarts,
        warnings=tuple(warnings),
    )


def comparison(rec: Recommendation) -> str | None:
    """One line: how the current memory limit compares with the recommendation."""
    change = rec.memory_change()
    if change is None or rec.memory_current_limit is None:
        return None
    current = format_bytes(rec.memory_current_limit)
    wanted = format_bytes(rec.memory_limit)
    if change > 0.05:
        return f"over-provisioned by {change:.0%}: the limit is {current}, {wanted} is recommended"
    if change < -0.05:
        return (
            f"under-provisioned by {-change:.0%}: the limit is {current}, "
            f"{wanted} is recommended (OOM risk)"
        )
    return f"about right: the limit is {current}, {wanted} is recommended"
