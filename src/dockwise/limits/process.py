"""Measure a command's process tree: how a developer sizes a service before it ships.

`measure` starts the command in a session (process group) of its own, with its output kept
in a temporary file; waits until it is up (until `ready_url` answers over HTTP, or, when a
load is given and no URL, until the tree listens on a TCP port); runs the load command (a
shell command, in a session of its own) if there is one; samples the whole tree every
`interval` seconds; then stops everything it started: SIGTERM to each process group, then
SIGKILL after `grace` seconds, including descendants that left the group.

The window is `duration` seconds, or less when the load ends first (the measurement is the
service *under that load*) or the service exits. Memory is the proportional set size (PSS)
summed over the tree: what it holds in RAM with shared pages split among the processes that
share them (RSS where PSS cannot be read). A container's working set also counts page cache
the service touches, which no process reports: leave headroom for it. CPU is the growth of
each process's user+system time over the interval; a process that exits within an interval
takes its last fraction of an interval with it.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from msgspec import Struct, field

from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries

if TYPE_CHECKING:
    import psutil


class _Sampler(Struct):
    """The tree's cumulative CPU per process from one sample to the next."""

    root: psutil.Process
    cpu_seen: dict[tuple[int, float], float] = field(default_factory=dict)
    last_time: float = math.nan
    members: dict[int, psutil.Process] = field(default_factory=dict)
    most: int = 0
    pss_denied: bool = False

    def sample(self) -> tuple[float, float, float]:
        """(time, memory bytes, CPU cores over the interval) of the tree now."""
        import psutil

        moment = time.time()
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            processes = list(self.members.values())
        memory, spent = 0.0, 0.0
        cpu_now: dict[tuple[int, float], float] = {}
        counted = 0
        for process in processes:
            try:
                with process.oneshot():
                    key = (process.pid, process.create_time())
                    times = process.cpu_times()
                    try:
                        info = process.memory_full_info()
                        held = float(getattr(info, "pss", info.rss))
                    except psutil.AccessDenied:
                        self.pss_denied = True
                        held = float(process.memory_info().rss)
                    if process.status() == psutil.STATUS_ZOMBIE:
                        continue
            except psutil.Error:
                continue  # gone between listing and reading
            counted += 1
            self.members[process.pid] = process
            used = times.user + times.system
            cpu_now[key] = used
            spent += used - self.cpu_seen.get(key, 0.0)
            memory += held
        self.most = max(self.most, counted)
        first = math.isnan(self.last_time)
        elapsed = moment - self.last_time
        cores = math.nan if first or elapsed <= 0 else max(spent, 0.0) / elapsed
        self.cpu_seen, self.last_time = cpu_now, moment
        if not counted:
            return moment, math.nan, math.nan
        return moment, memory, cores


def _name(command: list[str]) -> str:
    program = Path(command[0]).name
    if program.startswith("python") and len(command) > 1:
        if command[1] == "-m" and len(command) > 2:
            return command[2]
        if not command[1].startswith("-"):
            return Path(command[1]).name
    return program


def _tail(log: IO[bytes]) -> str:
    """The last line the command printed, for an error message."""
    try:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - 4096))
        lines = log.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return f": {lines[-1].strip()[:200]}" if lines else ""


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1.0) as answer:  # noqa: S310 (the user's URL)
            return int(answer.status) < 500
    except urllib.error.HTTPError as error:
        return int(error.code) < 500
    except (OSError, ValueError):
        return False


def _listens(root: psutil.Process) -> bool:
    import psutil

    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return False
    for process in processes:
        try:
            # net_connections since psutil 6, connections before (pyproject allows 5.9)
            sockets = getattr(process, "net_connections", None) or process.connections
            if any(c.status == psutil.CONN_LISTEN for c in sockets("tcp")):
                return True
        except psutil.Error:
            continue
    return False


def _stop_group(popen: subprocess.Popen[Any], known: list[psutil.Process], grace: float) -> bool:
    """Stop a process group and the known members outside it; True when SIGKILL was needed."""
    import psutil

    with contextlib.suppress(psutil.Error):  # descendants born since the last sample
        known = [*known, *psutil.Process(popen.pid).children(recursive=True)]

    def alive() -> list[psutil.Process]:
        living = []
        for process in known:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    living.append(process)
            except psutil.Error:
                continue
        return living

    def signal_all(number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, number)
        for process in alive():
            with contextlib.suppress(psutil.Error):
                process.send_signal(number)

    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if popen.poll() is not None and not alive() and not _group_exists(popen.pid):
            return False
        time.sleep(0.05)
    signal_all(signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=5)
    psutil.wait_procs(alive(), timeout=5)
    return True


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def measure(
    command: list[str],
    duration: float,
    interval: float | None,
    load: str | None = None,
    *,
    ready_url: str | None = None,
    ready_timeout: float = 30.0,
    grace: float = 5.0,
    name: str | None = None,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
) -> UsageSeries:
    """Start `command`, optionally load it, sample its process tree, stop it (module doc).

    `interval` None samples every second.
    """
    import psutil

    interval = 1.0 if interval is None else interval
    if not command:
        raise LimitsError("no command to measure: give it after `--`")
    if not (interval > 0 and math.isfinite(interval)):
        raise LimitsError(f"the sampling interval must be positive, not {interval}")
    if not (duration >= interval and math.isfinite(duration)):
        raise LimitsError(f"the duration ({duration}s) must be at least one interval ({interval}s)")
    container = name or _name(command)
    warnings: list[str] = []
    shown = " ".join(command)[:80]
    with tempfile.TemporaryFile() as log, tempfile.TemporaryFile() as load_log:
        try:
            service = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=cwd,
                env=env,
            )
        except FileNotFoundError:
            raise LimitsError(f"cannot start {shown}: no such command") from None
        except OSError as error:
            raise LimitsError(f"cannot start {shown}: {error.strerror or error}") from None
        load_process: subprocess.Popen[bytes] | None = None
        sampler = _Sampler(psutil.Process(service.pid))
        killed = False
        try:
            started = time.monotonic()
            sampler.sample()  # learn the tree (and its CPU so far) while it starts
            if ready_url is not None or load is not None:
                while True:
                    if service.poll() is not None:
                        raise LimitsError(
                            f"{shown} exited with status {service.returncode} before it was "
                            f"ready{_tail(log)}"
                        )
                    if _answers(ready_url) if ready_url else _listens(sampler.root):
                        break
                    if time.monotonic() - started > ready_timeout:
                        if ready_url:
                            raise LimitsError(
                                f"{shown} did not answer at {ready_url} within {ready_timeout:g}s"
                            )
                        warnings.append(
                            f"{container}: no listening TCP port after {ready_timeout:g}s; "
                            "the load was started anyway"
                        )
                        break
                    sampler.sample()
                    time.sleep(0.1)
            if load is not None:
                load_process = subprocess.Popen(
                    load,
                    shell=True,
                    stdin=subprocess.DEVNULL,
                    stdout=load_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    cwd=cwd,
                )
            times: list[float] = []
            memory: list[float] = []
            cpu: list[float] = []
            begin = time.monotonic()
            sampler.last_time = math.nan  # the window starts now
            sampler.cpu_seen = {}
            ended = ""
            tick = 0
            while True:
                delay = begin + tick * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                moment, held, cores = sampler.sample()
                if service.poll() is not None:
                    ended = "service"
                    break
                times.append(moment)
                memory.append(held)
                cpu.append(cores)
                if tick and load_process is not None and load_process.poll() is not None:
                    ended = "load"
                    break
                tick += 1
                if tick * interval > duration + 1e-9:
                    break
            elapsed = time.monotonic() - begin
            if ended == "service":
                warnings.append(
                    f"{container}: exited by itself with status {service.returncode} after "
                    f"{elapsed:.0f}s of sampling{_tail(log)}"
                )
            if load_process is not None:
                if ended == "load":
                    if load_process.returncode != 0:
                        warnings.append(
                            f"{container}: the load exited with status "
                            f"{load_process.returncode}{_tail(load_log)}"
                        )
                elif load_process.poll() is None:
                    warnings.append(
                        f"{container}: the load was still running after {duration:g}s: stopped"
                    )
            if not times:
                hint = (
                    " (a command that puts itself in the background cannot be measured: "
                    "run it in the foreground)"
                    if service.returncode == 0
                    else _tail(log)
                )
                raise LimitsError(
                    f"{shown} exited with status {service.returncode} before the first sample{hint}"
                )
        finally:
            if load_process is not None and load_process.poll() is None:
                _stop_group(load_process, [], grace)
            killed = _stop_group(service, list(sampler.members.values()), grace)
    if killed:
        warnings.append(
            f"{container}: did not stop within {grace:g}s of SIGTERM and was killed "
            "(it does not shut down gracefully)"
        )
    if sampler.pss_denied:
        warnings.append(f"{container}: some processes' PSS could not be read: RSS counted there")
    if len(times) == 1:
        warnings.append(f"{container}: a single sample, no series to speak of")
    return UsageSeries(
        container=container,
        source="process",
        times=tuple(times),
        memory_bytes=tuple(memory),
        cpu_cores=tuple(cpu),
        warnings=tuple(warnings),
    )
