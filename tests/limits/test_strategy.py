"""The recommendation strategy: the lesson's rule, the adaptive rule, and bad input."""

from __future__ import annotations

import math
import random

import pytest

from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries
from dockwise.limits.strategy import (
    DAY,
    MIB,
    Options,
    StrategyError,
    comparison,
    daily_slope,
    recommend,
    restart_points,
    round_cores,
    round_memory,
)

STEP = 300.0
START = 1.7e9


def series(memory: list[float], cpu: list[float] | None = None, **extra: object) -> UsageSeries:
    times = tuple(START + i * STEP for i in range(len(memory)))
    cores = tuple(cpu) if cpu is not None else tuple(0.2 for _ in memory)
    return UsageSeries("web", "test", times, tuple(memory), cores, **extra)  # type: ignore[arg-type]


def shaped(
    days: float,
    level: float = 400 * MIB,
    *,
    cycle: float = 0.0,
    leak: float = 0.0,
    noise: float = 0.01,
    seed: int = 7,
) -> list[float]:
    """`days` of 5-minute samples: a daily cycle of `cycle` x level, a leak of `leak` x level
    a day, gaussian noise."""
    rng = random.Random(seed)
    n = int(days * DAY / STEP) + 1
    out = []
    for i in range(n):
        t = i * STEP
        value = 1 + cycle * math.sin(2 * math.pi * t / DAY) + leak * t / DAY
        out.append(level * (value + rng.gauss(0, noise)))
    return out


# --- the lesson's rule -----------------------------------------------------------------


def test_short_window_gets_the_lessons_rule_with_a_warning() -> None:
    memory = [300 * MIB, 320 * MIB, 310 * MIB, 350 * MIB] * 30  # 10 hours
    rec = recommend(series(memory))
    assert rec.rule == "lesson"
    assert rec.memory_limit == round_memory(350 * MIB * 1.5) == rec.lesson_limit
    assert rec.memory_request == rec.memory_limit
    assert any("shorter than a day" in w for w in rec.warnings)
    assert "x 1.5" in rec.reason


def test_headroom_option_sets_the_lessons_rule() -> None:
    memory = [200 * MIB] * 20
    assert recommend(series(memory), Options(headroom=0.2)).memory_limit == round_memory(240 * MIB)


def test_lesson_strategy_is_used_when_asked_even_with_a_week() -> None:
    rec = recommend(series(shaped(7)), Options(strategy="lesson"))
    assert rec.rule == "lesson"
    assert rec.memory_limit == rec.lesson_limit


# --- the adaptive rule -----------------------------------------------------------------


def test_steady_service_gets_less_than_the_lessons_rule_but_above_the_floor() -> None:
    rec = recommend(series(shaped(3)))
    assert rec.rule == "adaptive"
    assert rec.memory_peak * 1.10 <= rec.memory_limit < rec.lesson_limit
    assert rec.headroom_used == pytest.approx(0.10)
    assert rec.leak_bytes_per_day == 0
    assert "adaptive" in rec.reason and "floor 10%" in rec.reason


def test_daily_cycle_is_not_a_leak() -> None:
    rec = recommend(series(shaped(3.4, cycle=0.4)))
    assert rec.rule == "adaptive"
    assert rec.leak_bytes_per_day == 0
    assert "no leak" in rec.reason


def test_leak_is_extrapolated_over_the_horizon() -> None:
    level = 400 * MIB
    memory = shaped(3, level, cycle=0.2, leak=0.03)
    rec = recommend(series(memory))
    assert rec.leak_bytes_per_day == pytest.approx(0.03 * level, rel=0.25)
    # the peak of the last day plus a week of growth, at least
    assert rec.memory_limit >= max(memory[-288:]) + 7 * 0.025 * level
    assert any("leak" in w for w in rec.warnings)
    short = recommend(series(memory), Options(horizon_s=DAY))
    assert short.memory_limit < rec.memory_limit


def test_one_day_leak_is_seen_without_a_second_day() -> None:
    rec = recommend(series(shaped(1, leak=0.05, noise=0.005)))
    assert rec.rule == "adaptive"
    assert rec.leak_bytes_per_day > 0


def test_daily_slope_compares_the_same_hours() -> None:
    times = [i * STEP for i in range(int(2.5 * DAY / STEP))]
    cycle = [100 + 50 * math.sin(2 * math.pi * t / DAY) for t in times]
    slope, _, pairs = daily_slope(times, cycle)
    assert pairs > 100
    assert abs(slope * DAY) < 1e-6
    growing = [v + 10 * t / DAY for v, t in zip(cycle, times, strict=True)]
    slope, agreement, _ = daily_slope(times, growing)
    assert slope * DAY == pytest.approx(10)
    assert agreement == 1.0


def test_spiky_service_gets_more_headroom_than_a_steady_one() -> None:
    memory = shaped(2)
    rng = random.Random(3)
    spiky = [v * (1.4 if rng.random() < 0.01 else 1.0) for v in memory]
    steady_rec = recommend(series(memory))
    spiky_rec = recommend(series(spiky))
    assert spiky_rec.headroom_used > steady_rec.headroom_used
    assert spiky_rec.headroom_used <= 0.5  # never above the lesson's headroom


def test_restart_mid_window_is_detected_and_raises_the_headroom() -> None:
    first = shaped(0.7, leak=0.1)
    second = [v * 0.5 for v in shaped(0.7, leak=0.1, seed=8)]
    memory = first + second
    assert restart_points(memory) == [len(first)]
    rec = recommend(series(memory))
    assert rec.restarts == 1
    assert any("restarted 1 time" in w for w in rec.warnings)
    rec_long = recommend(series(shaped(1.5) + [v * 0.5 for v in shaped(0.5, seed=9)]))
    assert rec_long.rule == "adaptive" and rec_long.headroom_used >= 0.25


def test_a_spike_is_not_a_restart() -> None:
    memory = [300 * MIB] * 20 + [900 * MIB] + [300 * MIB] * 20
    assert restart_points(memory) == []


def test_restarts_the_sampler_saw_are_reported() -> None:
    rec = recommend(series([300 * MIB] * 20, restarts=2))
    assert rec.restarts == 2


# --- OOM kills -------------------------------------------------------------------------


def test_oom_kill_raises_the_base_to_the_limit_at_the_kill() -> None:
    memory = [200 * MIB] * 30  # the kill hid the real peak
    rec = recommend(series(memory, oom_kills=1, oom_limit_bytes=256 * MIB))
    assert rec.oom_kills == 1
    assert rec.memory_limit == round_memory(256 * MIB * 1.5)
    assert "OOM kill" in rec.reason
    assert any("OOM-killed 1 time" in w for w in rec.warnings)


def test_oom_kill_under_the_peak_keeps_the_peak() -> None:
    memory = [300 * MIB] * 30
    rec = recommend(series(memory, oom_kills=2, oom_limit_bytes=100 * MIB))
    assert rec.memory_limit == round_memory(300 * MIB * 1.5)


# --- CPU -------------------------------------------------------------------------------


def test_cpu_request_is_p95_plus_headroom_and_limit_off_for_kubernetes() -> None:
    cpu = [0.1] * 95 + [0.9] * 5
    memory = [100 * MIB] * 100
    rec = recommend(series(memory, cpu), Options(kubernetes=True))
    assert rec.cpu_p95 == pytest.approx(0.1 + 0.8 * 0.05, abs=0.05)
    assert rec.cpu_request == round_cores(rec.cpu_p95 * 1.5)  # type: ignore[operator]
    assert rec.cpu_limit is None
    assert "throttles" in rec.cpu_note
    compose = recommend(series(memory, cpu))
    assert compose.cpu_limit == round_cores(0.9 * 1.5)
    forced = recommend(series(memory, cpu), Options(kubernetes=True, cpu_limit=True))
    assert forced.cpu_limit is not None


def test_no_cpu_values_means_no_cpu_recommendation() -> None:
    rec = recommend(series([100 * MIB] * 20, [math.nan] * 20))
    assert rec.cpu_request is None and rec.cpu_limit is None
    assert any("no CPU values" in w for w in rec.warnings)


def test_memory_request_can_be_the_p95() -> None:
    memory = [100 * MIB] * 95 + [200 * MIB] * 5
    rec = recommend(series(memory), Options(memory_request="p95"))
    assert rec.memory_request < rec.memory_limit


# --- rounding and comparison -----------------------------------------------------------


def test_rounding_to_friendly_steps() -> None:
    assert round_memory(100 * MIB + 1) == 104 * MIB
    assert round_memory(300 * MIB + 1) == 304 * MIB
    assert round_memory(3000 * MIB) == 3008 * MIB
    assert round_cores(0.123) == 0.13
    assert round_cores(0.001) == 0.01
    assert round_cores(1.21) == 1.25


def test_comparison_with_the_current_limit() -> None:
    over = recommend(series([300 * MIB] * 20, memory_limit_bytes=2048 * MIB))
    assert over.memory_change() == pytest.approx(2048 * MIB / over.memory_limit - 1)
    assert over.memory_limit == round_memory(450 * MIB)
    assert "over-provisioned by" in (comparison(over) or "")
    under = recommend(series([300 * MIB] * 20, memory_limit_bytes=310 * MIB))
    assert "under-provisioned by" in (comparison(under) or "")
    assert comparison(recommend(series([300 * MIB] * 20))) is None


# --- bad input -------------------------------------------------------------------------


def test_empty_series_is_a_clear_error() -> None:
    with pytest.raises(StrategyError, match="web: no samples"):
        recommend(UsageSeries("web", "test", (), (), ()))


def test_strategy_errors_are_limits_errors() -> None:
    assert issubclass(StrategyError, LimitsError)


def test_inconsistent_lengths_are_a_clear_error() -> None:
    with pytest.raises(StrategyError, match="inconsistent"):
        recommend(UsageSeries("web", "test", (1.0, 2.0), (1.0,), (0.1, 0.1)))


def test_single_sample_recommends_with_a_warning() -> None:
    rec = recommend(UsageSeries("web", "test", (START,), (200 * MIB,), (0.1,)))
    assert rec.memory_limit == round_memory(300 * MIB)
    assert rec.window_s == 0
    assert any("single sample" in w for w in rec.warnings)


def test_nan_values_are_ignored_with_a_warning() -> None:
    memory = [200 * MIB, math.nan, 250 * MIB, math.inf] * 10
    rec = recommend(series(memory))
    assert rec.memory_peak == 250 * MIB
    assert rec.samples == 20
    assert any("without a memory value" in w for w in rec.warnings)


def test_all_nan_memory_is_a_clear_error() -> None:
    with pytest.raises(StrategyError, match="no usable memory value"):
        recommend(series([math.nan] * 5))


def test_negative_values_are_ignored_with_a_warning() -> None:
    rec = recommend(series([200 * MIB, -5.0, 210 * MIB] * 5, [0.1, -3.0, 0.2] * 5))
    assert rec.memory_peak == 210 * MIB
    assert rec.cpu_peak == 0.2
    assert any("negative memory" in w for w in rec.warnings)
    assert any("counter reset" in w for w in rec.warnings)


def test_out_of_order_samples_are_sorted() -> None:
    rec = recommend(
        UsageSeries("web", "test", (3.0, 1.0, 2.0), (3 * MIB, 1 * MIB, 2 * MIB), (0.1,) * 3)
    )
    assert rec.times == (1.0, 2.0, 3.0)
    assert rec.memory == (1 * MIB, 2 * MIB, 3 * MIB)
    assert any("sorted" in w for w in rec.warnings)


def test_samples_without_a_time_are_dropped() -> None:
    rec = recommend(UsageSeries("web", "test", (math.nan, 1.0), (5 * MIB, 1 * MIB), (0.1, 0.1)))
    assert rec.samples == 1
    with pytest.raises(StrategyError, match="no sample has a valid time"):
        recommend(UsageSeries("web", "test", (math.nan,), (5 * MIB,), (0.1,)))


def test_zero_memory_everywhere_is_a_clear_error() -> None:
    with pytest.raises(StrategyError, match="memory is 0"):
        recommend(series([0.0] * 5))


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(StrategyError, match="headroom"):
        recommend(series([MIB] * 3), Options(headroom=-1))
    with pytest.raises(StrategyError, match="horizon"):
        recommend(series([MIB] * 3), Options(horizon_s=-1))


def test_few_samples_warn_that_the_data_is_too_short() -> None:
    rec = recommend(UsageSeries("web", "test", (0.0, 5.0, 10.0), (MIB, MIB, MIB), (0.1,) * 3))
    assert any("too short to trust" in w for w in rec.warnings)


def test_a_busier_day_is_not_a_leak() -> None:
    """Day 3 busier than days 1 and 2: the busy hours grow, the quiet hours do not."""
    out = []
    for i in range(int(3 * DAY / STEP) + 1):
        t = i * STEP
        busy = 1.6 if t >= 2 * DAY else 1.0
        shape = 0.5 * (1 + math.sin(2 * math.pi * t / DAY))
        out.append(400 * MIB * (1 + 0.5 * busy * shape))
    rec = recommend(series(out))
    assert rec.rule == "adaptive" and rec.leak_bytes_per_day == 0
    assert "quietest hour" in rec.reason


def test_harmonic_slope_separates_a_line_from_the_cycle() -> None:
    from dockwise.limits.strategy import harmonic_slope

    times = [i * STEP for i in range(int(1.2 * DAY / STEP))]
    cycle = [100 + 30 * math.sin(2 * math.pi * t / DAY + 1) for t in times]
    slope, _ = harmonic_slope(times, cycle)
    assert abs(slope * DAY) < 1e-6
    growing = [v + 8 * t / DAY for v, t in zip(cycle, times, strict=True)]
    slope, t_stat = harmonic_slope(times, growing)
    assert slope * DAY == pytest.approx(8)
    assert t_stat > 100


def test_one_day_of_data_keeps_half_the_lessons_headroom() -> None:
    rec = recommend(series(shaped(1.2)))
    assert rec.rule == "adaptive" and rec.headroom_used >= 0.25
    assert "under two days" in rec.reason
    assert recommend(series(shaped(3))).headroom_used < 0.25


def test_a_leak_reset_by_restarts_is_not_extrapolated() -> None:
    runs = [shaped(0.8, leak=1.0, noise=0.005, seed=s) for s in range(4)]
    memory = [v for run in runs for v in run]
    rec = recommend(series(memory))
    assert rec.restarts == 3
    assert rec.memory_limit <= rec.memory_peak * 1.55  # not a week of 100% a day
    assert "not extrapolated" in rec.reason or rec.leak_bytes_per_day == 0
