"""docker stats captures: units, how captures are told apart and timed, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dockwise.limits.dockerstats import parse_docker_stats, parse_size, read_docker_stats
from dockwise.limits.errors import LimitsError

GIB = 1024**3
MIB = 1024**2


def line(name: str, cpu: str, mem: str, *, ident: str = "", **extra: object) -> str:
    """One line as `docker stats --no-stream --format '{{json .}}'` prints it."""
    record = {
        "BlockIO": "12.3MB / 0B",
        "CPUPerc": cpu,
        "Container": (ident or name + "0" * 12)[:12],
        "ID": ident or name + "0" * 12,
        "MemPerc": "1.23%",
        "MemUsage": mem,
        "Name": name,
        "NetIO": "1.2kB / 648B",
        "PIDs": "4",
    }
    record.update(extra)
    return json.dumps(record)


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "stats.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_units_binary_decimal_and_absent() -> None:
    assert parse_size("1.5GiB") == 1.5 * GIB
    assert parse_size("512MiB") == 512 * MIB
    assert parse_size("20kB") == 20_000
    assert parse_size("1.2MB") == 1_200_000
    assert parse_size("0B") == 0
    assert parse_size("900KiB") == 900 * 1024
    assert math.isnan(parse_size("--"))


def test_repeated_captures_without_time_are_interval_apart(tmp_path: Path) -> None:
    lines = []
    for k in range(4):
        lines.append(line("web", f"{10 * (k + 1)}.00%", f"{100 + k}MiB / 512MiB"))
        lines.append(line("db", "150.5%", "1.5GiB / 2GiB"))
    web, db = sorted(
        read_docker_stats(write(tmp_path, lines), interval=5), key=lambda s: s.container
    )[::-1]
    assert web.container == "web" and db.container == "db"
    assert web.source == "docker-stats"
    assert web.times == (0.0, 5.0, 10.0, 15.0)
    assert web.memory_bytes == tuple(float((100 + k) * MIB) for k in range(4))
    assert web.cpu_cores == pytest.approx((0.1, 0.2, 0.3, 0.4))
    assert db.cpu_cores == pytest.approx((1.505,) * 4)  # 150.5% of one core
    assert web.memory_limit_bytes == 512 * MIB and db.memory_limit_bytes == 2 * GIB
    assert any("5s apart" in w for w in web.warnings)


def test_blank_lines_split_captures_of_different_containers(tmp_path: Path) -> None:
    # the container set changes between captures: only the blank line tells them apart
    lines = [line("a", "1%", "10MiB / 1GiB"), "", line("b", "2%", "20MiB / 2GiB"), ""]
    lines += [line("a", "3%", "30MiB / 1GiB")]
    series = {s.container: s for s in read_docker_stats(write(tmp_path, lines), interval=10)}
    assert series["a"].times == (0.0, 20.0)
    assert series["b"].times == (10.0,)
    assert any("single capture" in w for w in series["b"].warnings)


def test_timestamp_field_unix_and_iso(tmp_path: Path) -> None:
    lines = [
        line("web", "5%", "100MiB / 1GiB", time=1_700_000_000),
        line("web", "7%", "110MiB / 1GiB", time="2023-11-14T22:13:30Z"),
    ]
    (web,) = read_docker_stats(write(tmp_path, lines))
    assert web.times == (1_700_000_000.0, 1_700_000_010.0)
    assert not any("apart" in w for w in web.warnings)


def test_date_lines_stamp_the_capture_that_follows(tmp_path: Path) -> None:
    lines = ["1700000000", line("web", "5%", "1MiB / 1GiB"), line("db", "1%", "2MiB / 2GiB")]
    lines += ["2023-11-14T22:14:20+00:00", line("web", "6%", "3MiB / 1GiB")]
    series = {s.container: s for s in read_docker_stats(write(tmp_path, lines))}
    assert series["web"].times == (1_700_000_000.0, 1_700_000_060.0)
    assert series["db"].times == (1_700_000_000.0,)


def test_streaming_docker_stats_with_screen_clears(tmp_path: Path) -> None:
    clear = "\x1b[2J\x1b[H"
    lines = [clear + line("web", "5%", "1MiB / 1GiB"), clear + line("web", "6%", "2MiB / 1GiB")]
    (web,) = read_docker_stats(write(tmp_path, lines), interval=2)
    assert web.times == (0.0, 2.0)
    assert web.memory_bytes == (MIB, 2.0 * MIB)


def test_the_hosts_memory_shown_as_a_limit_is_no_limit(tmp_path: Path) -> None:
    lines = [
        line("web", "5%", "1MiB / 512MiB"),  # --memory 512m
        line("db", "5%", "300MiB / 7.654GiB"),  # no limit: docker shows the host's memory
        line("cache", "1%", "30MiB / 1.5GiB"),  # --memory 1536m
    ]
    series = {s.container: s for s in read_docker_stats(write(tmp_path, lines))}
    assert series["web"].memory_limit_bytes == 512 * MIB
    assert series["cache"].memory_limit_bytes == 1536 * MIB
    assert series["db"].memory_limit_bytes is None
    assert any("host's memory" in w for w in series["db"].warnings)
    assert not any("host's memory" in w for w in series["web"].warnings)


def test_mixed_units_from_line_to_line(tmp_path: Path) -> None:
    lines = [
        line("web", "0.50%", "999.5KiB / 2GiB"),
        line("web", "1%", "1.5MiB / 2048MiB"),
        line("web", "1%", "0.001GiB / 2GiB"),
        line("web", "1%", "2MB / 2GiB"),
    ]
    (web,) = read_docker_stats(write(tmp_path, lines))
    assert web.memory_bytes == pytest.approx((999.5 * 1024, 1.5 * MIB, 0.001 * GIB, 2e6))
    assert web.memory_limit_bytes == 2 * GIB
    assert web.cpu_cores == pytest.approx((0.005, 0.01, 0.01, 0.01))


def test_compose_project_names_become_services_and_replicas_merge(tmp_path: Path) -> None:
    lines = [
        line("shop-web-1", "10%", "100MiB / 512MiB"),
        line("shop-web-2", "30%", "90MiB / 512MiB"),
        line("shop_worker_1", "1%", "50MiB / 256MiB"),
    ]
    lines += [
        line("shop-web-1", "20%", "120MiB / 512MiB"),
        line("shop-web-2", "5%", "80MiB / 512MiB"),
    ]
    series = {s.container: s for s in read_docker_stats(write(tmp_path, lines), project="shop")}
    assert set(series) == {"web", "worker"}
    web = series["web"]
    assert web.memory_bytes == (100.0 * MIB, 120.0 * MIB)  # the largest replica each time
    assert web.cpu_cores == pytest.approx((0.3, 0.2))
    assert any("2 replicas" in w for w in web.warnings)


def test_container_recreated_mid_window_is_a_restart(tmp_path: Path) -> None:
    lines = [
        line("web", "5%", "100MiB / 1GiB", ident="aaaa"),
        line("web", "--", "-- / --", ident="aaaa"),
        line("web", "6%", "20MiB / 1GiB", ident="bbbb"),
    ]
    (web,) = read_docker_stats(write(tmp_path, lines))
    assert web.restarts == 1
    assert math.isnan(web.memory_bytes[1]) and math.isnan(web.cpu_cores[1])
    assert web.memory_bytes[2] == 20 * MIB
    assert any("recreated 1 time" in w for w in web.warnings)
    assert any("no usage in 1 capture" in w for w in web.warnings)


def test_nan_negative_and_unreadable_values_are_left_out(tmp_path: Path) -> None:
    lines = [
        line("web", "NaN%", "100MiB / 1GiB"),
        line("web", "-4%", "-5MiB / 1GiB"),
        line("web", "3%", "12 parsecs / 1GiB"),
        line("web", "2%", "10MiB / 1GiB"),
        line("web", "fast%", "11MiB / 1GiB"),
    ]
    (web,) = read_docker_stats(write(tmp_path, lines))
    assert web.cpu_cores[2] == pytest.approx(0.03)  # one bad figure spoils only itself
    assert math.isnan(web.cpu_cores[4]) and web.memory_bytes[4] == 11 * MIB
    assert math.isnan(web.cpu_cores[0]) and web.memory_bytes[0] == 100 * MIB
    assert math.isnan(web.memory_bytes[1]) and math.isnan(web.cpu_cores[1])
    assert math.isnan(web.memory_bytes[2])
    assert web.memory_bytes[3] == 10 * MIB
    assert any("unreadable or negative" in w for w in web.warnings)


def test_a_truncated_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    lines = [line("web", "5%", "1MiB / 1GiB"), line("web", "6%", "2MiB / 1GiB")[:30]]
    (web,) = read_docker_stats(write(tmp_path, lines))
    assert len(web.times) == 1
    assert any("1 line(s) skipped (line 2)" in w for w in web.warnings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "no docker stats lines"),
        ("\n\n", "no docker stats lines"),
        ("CONTAINER ID   NAME   CPU %\n", "line 1: not a JSON object"),
        ('{"foo": 1}\n', "no Name, ID or Container field"),
        ("[1, 2]\n", "line 1: not a JSON object"),
        ('{"Name": "web", \n', "line 1: not valid JSON"),
    ],
)
def test_empty_or_foreign_files_are_one_line_errors(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "stats.jsonl"
    path.write_text(content)
    with pytest.raises(LimitsError, match=expected) as caught:
        read_docker_stats(path)
    assert "\n" not in str(caught.value)


def test_missing_file_and_bad_interval(tmp_path: Path) -> None:
    with pytest.raises(LimitsError, match="cannot read"):
        read_docker_stats(tmp_path / "nope.jsonl")
    with pytest.raises(LimitsError, match="must be positive"):
        parse_docker_stats([line("web", "1%", "1MiB / 1GiB")], interval=0)


def test_some_lines_stamped_and_some_not_is_an_error() -> None:
    lines = [line("web", "1%", "1MiB / 1GiB", time=1_700_000_000), line("web", "1%", "1MiB / 1GiB")]
    with pytest.raises(LimitsError, match="stamp every capture or none"):
        parse_docker_stats(lines)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_capture_written_by_powershell_or_with_a_bom(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "stats.jsonl"
    lines = [line("web", "5%", "1MiB / 1GiB"), line("web", "6%", "2MiB / 1GiB")]
    path.write_bytes("\r\n".join(lines).encode(encoding))
    (web,) = read_docker_stats(path)
    assert web.memory_bytes == (MIB, 2.0 * MIB)
    assert not any("skipped" in w for w in web.warnings)
