"""`measure` on real processes: a small HTTP service under a real load generator, and the
ways a command can misbehave (never ready, exits, ignores SIGTERM, missing)."""

from __future__ import annotations

import math
import socket
import sys
from pathlib import Path

import psutil
import pytest

from dockwise.limits.errors import LimitsError
from dockwise.limits.process import measure

APPS = Path(__file__).parent / "apps"
MIB = 1024**2
PY = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def none_left(pidfile: Path) -> None:
    for pid in map(int, pidfile.read_text().split()):
        if psutil.pid_exists(pid):
            assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, f"{pid} left behind"


@pytest.mark.slow
def test_a_real_service_under_a_real_load(tmp_path: Path) -> None:
    port, pidfile = free_port(), tmp_path / "pids"
    base = f"http://127.0.0.1:{port}"
    load = f"{PY} {APPS / 'loadgen.py'} {base} 400 4 24"
    series = measure(
        [PY, str(APPS / "shopserver.py"), str(port), str(pidfile)],
        duration=60,
        interval=0.1,
        load=load,
        ready_url=f"{base}/health",
    )
    assert series.container == "shopserver.py" and series.source == "process"
    assert not any("load" in w for w in series.warnings), series.warnings  # it ran to the end
    assert len(series.times) >= 3 and list(series.times) == sorted(series.times)
    first, peak = series.memory_bytes[0], max(series.memory_bytes)
    # the tree counts the 32 MiB helper that left the process group, and the cache grows
    # by 24 distinct items of 2 MiB under the load
    assert first >= 32 * MIB
    assert peak - first >= 24 * 2 * MIB * 0.8
    assert max(c for c in series.cpu_cores if not math.isnan(c)) > 0.05
    none_left(pidfile)


@pytest.mark.slow
def test_without_a_url_the_load_waits_for_a_listening_port(tmp_path: Path) -> None:
    port, pidfile = free_port(), tmp_path / "pids"
    load = f"{PY} {APPS / 'loadgen.py'} http://127.0.0.1:{port} 40 2 4"
    series = measure(
        [PY, str(APPS / "shopserver.py"), str(port), str(pidfile)],
        duration=30,
        interval=0.1,
        load=load,
    )
    # a load started before the port listened would have failed and said so
    assert not any("load" in w for w in series.warnings), series.warnings
    none_left(pidfile)


def test_without_load_it_samples_the_whole_duration() -> None:
    code = "import time\nx = bytearray(40 << 20)\nx[::4096] = b'1' * len(x[::4096])\ntime.sleep(60)"
    series = measure([PY, "-c", code], duration=0.6, interval=0.2, name="holder")
    assert series.container == "holder"
    assert len(series.times) == 4
    assert math.isnan(series.cpu_cores[0])
    assert max(series.memory_bytes) >= 40 * MIB


def test_a_failing_load_and_a_load_outliving_the_window(tmp_path: Path) -> None:
    sleeper = [PY, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    series = measure(sleeper, 5, 0.1, load="echo 'no route to shop' >&2; exit 4", ready_timeout=0.3)
    assert any("the load exited with status 4: no route to shop" in w for w in series.warnings)
    assert series.times[-1] - series.times[0] < 5  # the window ended with the load
    assert any("no listening TCP port after 0.3s" in w for w in series.warnings)
    pidfile = tmp_path / "load.pid"
    series = measure(
        sleeper, 0.4, 0.1, load=f"echo $$ > {pidfile}; exec sleep 60", ready_timeout=0.3
    )
    assert any("still running after 0.4s: stopped" in w for w in series.warnings)
    none_left(pidfile)


def test_a_service_that_exits_mid_window_is_reported() -> None:
    code = "import sys, time\ntime.sleep(0.5)\nprint('database is gone', flush=True)\nsys.exit(3)"
    series = measure([PY, "-c", code], duration=10, interval=0.1)
    assert any(
        "exited by itself with status 3" in w and "database is gone" in w for w in series.warnings
    )
    assert series.times[-1] - series.times[0] < 10


def test_a_service_ignoring_sigterm_is_killed_and_said(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = (
        "import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    )
    series = measure([PY, "-c", code], duration=0.3, interval=0.1, grace=0.5)
    assert any("was killed" in w and "gracefully" in w for w in series.warnings)
    none_left(pidfile)


def test_exit_before_ready_is_an_error_with_its_last_words() -> None:
    code = "import sys\nprint('loading config', flush=True)\nprint('ERROR: no DATABASE_URL', flush=True)\nsys.exit(2)"
    with pytest.raises(
        LimitsError, match=r"exited with status 2 before it was ready: ERROR: no DATABASE_URL"
    ):
        measure([PY, "-c", code], 5, 0.1, ready_url="http://127.0.0.1:9/health")


def test_a_url_that_never_answers_is_an_error_and_the_command_is_stopped(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    url = f"http://127.0.0.1:{free_port()}/health"
    with pytest.raises(LimitsError, match=rf"did not answer at {url} within 1s"):
        measure([PY, "-c", code], 5, 0.1, ready_url=url, ready_timeout=1)
    none_left(pidfile)


@pytest.mark.parametrize(
    ("command", "duration", "interval", "message"),
    [
        ([], 1, 0.1, "no command to measure"),
        (["dockwise-no-such-program-xyz"], 1, 0.1, "no such command"),
        ([PY, "-c", "pass"], 0.05, 0.1, "at least one interval"),
        ([PY, "-c", "pass"], 1, -1, "must be positive"),
    ],
)
def test_bad_input_is_one_line_errors(
    command: list[str], duration: float, interval: float, message: str
) -> None:
    with pytest.raises(LimitsError, match=message) as caught:
        measure(command, duration, interval)
    assert "\n" not in str(caught.value)


def test_a_background_child_of_a_command_that_returns_is_not_left_behind(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    command = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; exit 0"]
    url = f"http://127.0.0.1:{free_port()}/health"
    with pytest.raises(LimitsError, match="exited with status 0 before it was ready"):
        measure(command, 5, 0.1, ready_url=url, ready_timeout=10)
    assert pidfile.read_text().strip()
    none_left(pidfile)


def test_no_interval_samples_every_second() -> None:
    series = measure([PY, "-c", "import time; time.sleep(60)"], duration=2, interval=None)
    assert len(series.times) == 3
