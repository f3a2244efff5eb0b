"""Memory limits from usage traces: dockwise against krr's simple strategy and the lesson's rule.

    .venv/bin/python bench/limits_traces.py [--traces N] [--seed S]

A generator makes usage traces of five kinds (steady, daily cycle, spiky, slow leak,
restarting), sampled every 5 minutes. Each trace is split into a measured window (1, 2, 3
or 7 days) and the week after it. Every strategy sees only the measured window; a trace is
covered when the later week's peak stays under the limit, and the over-provisioning is
limit / later peak - 1. Printed per kind of trace and overall: coverage and median
over-provisioning for

* dockwise (`dockwise.limits.strategy.recommend`, default options: headroom 0.5, horizon 7d),
* krr's simple strategy: peak x 1.15,
* the lesson's rule: peak x 1.5.

The strategy's constants were set on traces from seeds 1 and 2 and on a separate set of
faster leaks (2-6% a day, seed 3); the printed figures use seed 20261129 by default,
which tuning never saw.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from dockwise.limits.series import UsageSeries
from dockwise.limits.strategy import recommend

MIB = 2**20
DAY = 86400.0
STEP = 300.0  # one sample every 5 minutes
PER_DAY = int(DAY / STEP)
LATER_DAYS = 7
KINDS = ("steady", "daily", "spiky", "leaking", "restarting")


@dataclass(frozen=True)
class Trace:
    kind: str
    measured: UsageSeries
    later_peak: float


def _level(rng: random.Random) -> float:
    return math.exp(rng.uniform(math.log(80 * MIB), math.log(3000 * MIB)))


def _noise(rng: random.Random, n: int, sigma: float) -> list[float]:
    """AR(1) noise: usage wanders, it does not jump independently every sample."""
    out, value = [], 0.0
    keep = 0.9
    scale = sigma * math.sqrt(1 - keep * keep)
    for _ in range(n):
        value = keep * value + rng.gauss(0, scale)
        out.append(value)
    return out


def _cycle(rng: random.Random, n: int, amplitude: float) -> list[float]:
    """A daily cycle whose amplitude changes from day to day (weekends are quieter)."""
    phase = rng.uniform(0, 2 * math.pi)
    weekend = rng.uniform(0.0, 0.4)
    first_day = rng.randrange(7)
    per_day = [rng.gauss(1.0, 0.07) for _ in range(n // PER_DAY + 2)]
    out = []
    for i in range(n):
        day = i // PER_DAY
        quiet = 1 - weekend if (first_day + day) % 7 in (5, 6) else 1.0
        shape = 0.5 * (1 + math.sin(2 * math.pi * i / PER_DAY + phase))
        out.append(amplitude * quiet * per_day[day] * shape)
    return out


def _spikes(rng: random.Random, n: int, per_day: float, size: float) -> list[float]:
    out = [0.0] * n
    i = 0
    while True:
        i += int(rng.expovariate(per_day / PER_DAY)) + 1
        if i >= n:
            return out
        height = size * math.exp(rng.gauss(0, 0.3))
        for k in range(rng.randint(1, 3)):
            if i + k < n:
                out[i + k] = max(out[i + k], height * (1 - 0.3 * k))


def steady(rng: random.Random, n: int) -> list[float]:
    noise = _noise(rng, n, rng.uniform(0.01, 0.04))
    return [1 + e for e in noise]


def daily(rng: random.Random, n: int) -> list[float]:
    cycle = _cycle(rng, n, rng.uniform(0.1, 0.7))
    noise = _noise(rng, n, 0.02)
    return [1 + c + e for c, e in zip(cycle, noise, strict=True)]


def spiky(rng: random.Random, n: int) -> list[float]:
    cycle = _cycle(rng, n, rng.uniform(0.0, 0.2))
    spikes = _spikes(rng, n, rng.uniform(2, 24), rng.uniform(0.05, 0.25))
    noise = _noise(rng, n, 0.015)
    return [1 + c + s + e for c, s, e in zip(cycle, spikes, noise, strict=True)]


def leaking(rng: random.Random, n: int) -> list[float]:
    rate = rng.uniform(0.002, 0.015) / PER_DAY  # of the base, per sample
    cycle = _cycle(rng, n, rng.uniform(0.0, 0.3))
    noise = _noise(rng, n, 0.015)
    return [1 + rate * i + c + e for i, (c, e) in enumerate(zip(cycle, noise, strict=True))]


def restarting(rng: random.Random, n: int) -> list[float]:
    """A leak that a restart (a deploy, a crash, a nightly job) resets, at random times."""
    rate = rng.uniform(0.01, 0.06) / PER_DAY
    mean_gap = rng.uniform(0.3, 2.0) * PER_DAY
    warm = rng.uniform(0.3, 0.7)  # what the process holds right after a start
    noise = _noise(rng, n, 0.015)
    out, age = [], rng.randrange(int(mean_gap))
    next_restart = int(rng.expovariate(1 / mean_gap)) + 1
    for i in range(n):
        if i == next_restart:
            age = 0
            next_restart = i + int(rng.expovariate(1 / mean_gap)) + 1
        ramp = min(1.0, age / 12)  # caches fill within an hour
        out.append(warm + (1 - warm) * ramp + rate * age + noise[i])
        age += 1
    return out


SHAPES: dict[str, Callable[[random.Random, int], list[float]]] = {
    "steady": steady,
    "daily": daily,
    "spiky": spiky,
    "leaking": leaking,
    "restarting": restarting,
}


def make_trace(kind: str, rng: random.Random) -> Trace:
    days = rng.choice((1, 1, 2, 3, 3, 7))
    measured_n = days * PER_DAY + 1
    n = measured_n + LATER_DAYS * PER_DAY
    level = _level(rng)
    values = [max(0.05, v) * level for v in SHAPES[kind](rng, n)]
    start = 1.7e9
    times = tuple(start + i * STEP for i in range(measured_n))
    series = UsageSeries(
        container=f"{kind}-{rng.randrange(10**6)}",
        source="bench",
        times=times,
        memory_bytes=tuple(values[:measured_n]),
        cpu_cores=tuple(0.1 for _ in range(measured_n)),
    )
    return Trace(kind, series, max(values[measured_n:]))


def dockwise_limit(series: UsageSeries) -> float:
    return float(recommend(series).memory_limit)


def krr_limit(series: UsageSeries) -> float:
    return max(series.memory_bytes) * 1.15


def lesson_limit(series: UsageSeries) -> float:
    return max(series.memory_bytes) * 1.5


STRATEGIES: dict[str, Callable[[UsageSeries], float]] = {
    "dockwise": dockwise_limit,
    "krr (peak x 1.15)": krr_limit,
    "lesson (peak x 1.5)": lesson_limit,
}


def figures(traces: list[Trace], limit_of: Callable[[UsageSeries], float]) -> tuple[float, float]:
    covered = 0
    over = []
    for trace in traces:
        limit = limit_of(trace.measured)
        covered += limit >= trace.later_peak
        over.append(limit / trace.later_peak - 1)
    return covered / len(traces), statistics.median(over)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=200, help="traces per kind (200)")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    traces = [make_trace(kind, rng) for kind in KINDS for _ in range(args.traces)]
    made = time.perf_counter() - started
    print(
        f"{len(traces)} traces ({args.traces} per kind, seed {args.seed}), 5-minute samples, "
        f"measured 1-7 days, later window {LATER_DAYS} days; generated in {made:.1f}s"
    )
    print()
    header = f"{'strategy':<22}{'kind':<12}{'coverage':>10}{'median over':>13}"
    print(header)
    print("-" * len(header))
    for name, limit_of in STRATEGIES.items():
        started = time.perf_counter()
        for kind in KINDS:
            subset = [t for t in traces if t.kind == kind]
            coverage, over = figures(subset, limit_of)
            print(f"{name:<22}{kind:<12}{coverage:>9.1%}{over:>12.1%}")
        coverage, over = figures(traces, limit_of)
        spent = time.perf_counter() - started
        print(f"{name:<22}{'ALL':<12}{coverage:>9.1%}{over:>12.1%}   ({spent:.1f}s)")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
