"""cgroup sampling: this machine's real cgroups (v1 memory/cpu/cpuacct, a v2 hierarchy at
/sys/fs/cgroup/unified), child cgroups the tests make as root (limits, a real OOM kill), and
files written by code for what this machine does not have (the v2 memory controller)."""

from __future__ import annotations

import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from needs import require_root

from dockwise.limits.cgroups import (
    Cgroup,
    CgroupReading,
    cgroup_of_pid,
    find_cgroup,
    read_cgroup,
    sample_cgroup,
    series_from_readings,
)
from dockwise.limits.errors import LimitsError

MIB = 1024**2
V1 = Path("/sys/fs/cgroup")
V2 = Path("/sys/fs/cgroup/unified")


def _must(condition: bool, message: str) -> None:
    if not condition:
        if os.environ.get("DOCKWISE_REQUIRE_TOOLS", "") not in ("", "0"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def child_cgroups(request: pytest.FixtureRequest) -> Iterator[dict[str, Path]]:
    """Fresh child cgroups: v1 memory, cpuacct and cpu, and v2 (root only)."""
    require_root()
    name = f"dockwise-test-{os.getpid()}-{request.node.name[:40]}"
    made: dict[str, Path] = {}
    try:
        for controller, root in (
            ("memory", V1 / "memory"),
            ("cpuacct", V1 / "cpuacct"),
            ("cpu", V1 / "cpu"),
            ("v2", V2),
        ):
            _must(root.is_dir(), f"no cgroup hierarchy at {root}")
            made[controller] = root / name
            made[controller].mkdir()
        yield made
    finally:
        for directory in made.values():
            for _ in range(50):  # the child may take a moment to leave after it exits
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def start_in(directories: list[Path], code: str) -> subprocess.Popen[str]:
    """A Python child that joins the cgroups before it runs `code`, and says "ready"."""

    def join() -> None:
        for directory in directories:
            (directory / "cgroup.procs").write_text(str(os.getpid()))

    child = subprocess.Popen(
        [sys.executable, "-c", f"import sys\n{code}"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=join,  # joins before exec: the child is in the cgroup from its first byte
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


HOLD_AND_SPIN = """
block = bytearray(64 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
print("ready", flush=True)
import time
end = time.monotonic() + 8
while time.monotonic() < end:
    pass
"""


def test_this_process_cgroup_is_found_and_sampled() -> None:
    group = cgroup_of_pid(os.getpid())
    assert group.version in (1, 2)
    series = sample_cgroup(group, duration=0.6, interval=0.2)
    assert series.source == f"cgroup-v{group.version}"
    assert len(series.times) == 4 and list(series.times) == sorted(series.times)
    assert math.isnan(series.cpu_cores[0])  # no interval before the first reading
    if group.cpuacct is not None:
        assert all(c >= 0 for c in series.cpu_cores[1:])
    if group.memory is not None and group.version == 1:
        # this test process alone holds more than a few MiB
        assert all(4 * MIB < m < 64 * 1024 * MIB for m in series.memory_bytes)


@pytest.mark.slow
def test_child_cgroup_v1_memory_cpu_and_limits(child_cgroups: dict[str, Path]) -> None:
    (child_cgroups["memory"] / "memory.limit_in_bytes").write_text(str(256 * MIB))
    (child_cgroups["cpu"] / "cpu.cfs_period_us").write_text("100000")
    (child_cgroups["cpu"] / "cpu.cfs_quota_us").write_text("50000")
    child = start_in([child_cgroups[c] for c in ("memory", "cpuacct", "cpu")], HOLD_AND_SPIN)
    try:
        group = cgroup_of_pid(child.pid)
        assert group.memory == child_cgroups["memory"]
        assert group.cpuacct == child_cgroups["cpuacct"] and group.cpu == child_cgroups["cpu"]
        series = sample_cgroup(group, duration=2.0, interval=0.25)
    finally:
        child.kill()
        child.wait()
    assert series.source == "cgroup-v1"
    assert series.container == child_cgroups["memory"].name
    assert series.memory_limit_bytes == 256 * MIB
    assert series.cpu_limit_cores == 0.5
    assert 64 * MIB <= max(series.memory_bytes) < 256 * MIB
    # the child spins under a half-core quota: never more (on a busy machine, maybe less)
    assert 0.02 < statistics.median(series.cpu_cores[1:]) < 0.75
    assert series.oom_kills == 0 and series.restarts == 0


@pytest.mark.slow
def test_a_real_oom_kill_is_counted_with_the_limit_in_force(
    child_cgroups: dict[str, Path],
) -> None:
    (child_cgroups["memory"] / "memory.limit_in_bytes").write_text(str(48 * MIB))
    grow = 'print("ready", flush=True)\nimport time\ntime.sleep(0.4)\nb = bytearray(200 << 20)\n'
    child = start_in([child_cgroups["memory"], child_cgroups["cpuacct"]], grow)
    try:
        series = sample_cgroup(child_cgroups["memory"], duration=2.0, interval=0.1, name="grower")
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -9  # the kernel's OOM killer, not us: it died during sampling
    assert series.container == "grower"
    assert series.oom_kills == 1
    assert series.oom_limit_bytes == 48 * MIB


@pytest.mark.slow
def test_child_cgroup_v2_cpu_without_a_memory_controller(child_cgroups: dict[str, Path]) -> None:
    _must((V2 / "cpu.stat").exists(), "the v2 hierarchy has no cpu.stat")
    child = start_in([child_cgroups["v2"]], HOLD_AND_SPIN)
    try:
        group = cgroup_of_pid(child.pid)
        if group.version == 1:  # this machine: memory is a v1 controller, so look at v2 here
            group = find_cgroup(child_cgroups["v2"])
        series = sample_cgroup(group, duration=1.0, interval=0.1)
    finally:
        child.kill()
        child.wait()
    assert series.source == "cgroup-v2"
    # one spinning process: it uses CPU in every interval (how much depends on the machine)
    assert min(series.cpu_cores[1:]) >= 0 and statistics.median(series.cpu_cores[1:]) > 0.02
    if not (child_cgroups["v2"] / "memory.current").exists():
        assert all(math.isnan(m) for m in series.memory_bytes)
        assert any("no memory figures" in w for w in series.warnings)


@pytest.mark.slow
def test_a_container_restarting_mid_window_at_the_same_cgroup_path(
    child_cgroups: dict[str, Path],
) -> None:
    """`docker restart` keeps the container id, so the new cgroup has the old path."""
    joined = [child_cgroups["memory"], child_cgroups["cpuacct"]]
    children = [start_in(joined, HOLD_AND_SPIN)]

    def restart() -> None:
        children[0].kill()
        children[0].wait()
        for directory in joined:
            for _ in range(250):  # the killed child may take a moment to leave
                try:
                    directory.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
        time.sleep(0.3)  # away for a few samples
        for directory in joined:
            directory.mkdir()
        children.append(start_in(joined, HOLD_AND_SPIN))

    restarter = threading.Timer(0.5, restart)
    restarter.start()
    try:
        series = sample_cgroup(child_cgroups["memory"], duration=2.0, interval=0.1, name="web")
    finally:
        restarter.join()
        for child in children:
            child.kill()
            child.wait()
    assert series.restarts == 1
    assert any("recreated 1 time(s)" in w for w in series.warnings)
    assert not any("went away" in w for w in series.warnings)  # it came back
    cpu = [c for c in series.cpu_cores if not math.isnan(c)]
    assert len(cpu) >= 10 and min(cpu) >= 0  # the counter reset is no negative usage
    assert max(series.memory_bytes) >= 64 * MIB  # both children hold 64 MiB


def write_v2(directory: Path, *, usage: int, inactive: int, usec: int, ooms: int) -> None:
    directory.mkdir(exist_ok=True)
    files = {
        "cgroup.controllers": "cpu memory pids\n",
        "memory.current": f"{usage}\n",
        "memory.stat": f"anon 1000\nfile 2000\nactive_file 5\ninactive_file {inactive}\n",
        "memory.peak": f"{usage + 300 * MIB}\n",
        "memory.events": f"low 0\nhigh 0\nmax 3\noom {ooms}\noom_kill {ooms}\n",
        "memory.max": f"{512 * MIB}\n",
        "cpu.stat": f"usage_usec {usec}\nuser_usec {usec}\nsystem_usec 0\n",
        "cpu.max": "150000 100000\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text)


def test_v2_files_working_set_cpu_oom_and_limits(tmp_path: Path) -> None:
    group = tmp_path / "web.scope"
    write_v2(group, usage=200 * MIB, inactive=50 * MIB, usec=1_000_000, ooms=0)
    found = find_cgroup(group)
    assert found.version == 2
    first = read_cgroup(found)
    assert first.working_set_bytes == 150 * MIB  # usage minus inactive_file
    assert first.memory_limit_bytes == 512 * MIB and first.cpu_limit_cores == 1.5
    write_v2(group, usage=260 * MIB, inactive=10 * MIB, usec=3_000_000, ooms=1)
    second = read_cgroup(found)
    series = series_from_readings([first, second], container="web", source="cgroup-v2")
    assert series.memory_bytes == (150.0 * MIB, 250.0 * MIB)
    assert series.cpu_cores[1] == pytest.approx(2.0 / (second.time - first.time))
    assert series.oom_kills == 1 and series.oom_limit_bytes == 512 * MIB
    assert any("recorded peak" in w for w in series.warnings)


def test_v2_no_limits_read_as_none(tmp_path: Path) -> None:
    write_v2(tmp_path / "g", usage=MIB, inactive=0, usec=1, ooms=0)
    (tmp_path / "g" / "memory.max").write_text("max\n")
    (tmp_path / "g" / "cpu.max").write_text("max 100000\n")
    reading = read_cgroup(find_cgroup(tmp_path / "g"))
    assert reading.memory_limit_bytes is None and reading.cpu_limit_cores is None


def test_v1_files_outside_a_mount(tmp_path: Path) -> None:
    files = {
        "memory.usage_in_bytes": f"{300 * MIB}\n",
        "memory.stat": f"cache 1\ninactive_file 999\ntotal_inactive_file {100 * MIB}\n",
        "memory.max_usage_in_bytes": f"{310 * MIB}\n",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        "memory.limit_in_bytes": "9223372036854771712\n",
        "cpuacct.usage": "5000000000\n",
        "cpu.cfs_quota_us": "-1\n",
        "cpu.cfs_period_us": "100000\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    group = find_cgroup(tmp_path)
    reading = read_cgroup(group)
    assert (group.version, reading.working_set_bytes) == (1, 200 * MIB)
    assert reading.cpu_seconds == 5.0 and reading.oom_kills == 2
    assert reading.memory_limit_bytes is None and reading.cpu_limit_cores is None
    series = series_from_readings([reading, reading], container="x", source="cgroup-v1")
    assert series.oom_kills == 0  # the two kills happened before sampling began
    assert any("2 OOM kill(s) before sampling began" in w for w in series.warnings)


def reading(at: float, cpu: float, memory: float = 100 * MIB) -> CgroupReading:
    return CgroupReading(at, memory, memory, math.nan, cpu, 0, None, None)


def test_cpu_counter_going_back_is_a_restart_not_negative_usage() -> None:
    readings = [reading(0, 10.0), reading(1, 12.0), reading(2, 3.0), reading(3, 4.5)]
    series = series_from_readings(readings, container="web", source="cgroup-v2")
    assert math.isnan(series.cpu_cores[0]) and math.isnan(series.cpu_cores[2])
    assert series.cpu_cores[1] == 2.0 and series.cpu_cores[3] == 1.5
    assert series.restarts == 1
    assert any("recreated 1 time(s)" in w for w in series.warnings)


def test_single_reading_and_nan_memory_are_said() -> None:
    series = series_from_readings([reading(0, 1.0, math.nan)], container="w", source="cgroup-v2")
    assert any("single reading" in w for w in series.warnings)
    assert any("no memory figures" in w for w in series.warnings)
    with pytest.raises(LimitsError, match="no cgroup readings"):
        series_from_readings([], container="w", source="cgroup-v2")


def test_a_cgroup_that_goes_away_stops_sampling_with_a_warning(tmp_path: Path) -> None:
    write_v2(tmp_path / "g", usage=MIB, inactive=0, usec=1, ooms=0)
    remover = threading.Timer(0.35, shutil.rmtree, args=(tmp_path / "g",))
    remover.start()
    series = sample_cgroup(tmp_path / "g", duration=1.0, interval=0.1)
    remover.join()
    assert 1 <= len(series.times) < 11
    assert any("went away" in w for w in series.warnings)


def test_bad_input_is_one_line_errors(tmp_path: Path) -> None:
    cases = [
        (lambda: find_cgroup(tmp_path / "missing"), "no such cgroup directory"),
        (lambda: find_cgroup(tmp_path), "not a cgroup directory"),
        (lambda: cgroup_of_pid(2**22 + 12345), "no process"),
        (lambda: sample_cgroup(tmp_path, duration=0.1, interval=1), "at least one interval"),
        (lambda: sample_cgroup(tmp_path, duration=1, interval=0), "must be positive"),
        (
            lambda: sample_cgroup(Cgroup(2, "gone", tmp_path / "x", None, None), 0.1, 0.1),
            "the cgroup is gone",
        ),
    ]
    for call, message in cases:
        with pytest.raises(LimitsError, match=message) as caught:
            call()
        assert "\n" not in str(caught.value)
