"""`dockwise limits` (the command): sources, outputs, --apply, --chart and exit codes, end to end through
the real command line (the docker stats reader, the cgroup and process samplers)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

# a real Prometheus with a backfilled day (the samplers' own fixture): a leaking replica
# OOM-killed at its 256 MiB limit at noon, next to a steady one
from test_prometheus import free_port, prometheus  # noqa: F401

from dockwise.cli import main
from dockwise.limits.command import parse_duration

CONTRACT_MEMORY = {
    "peak_bytes",
    "p95_bytes",
    "current_limit_bytes",
    "recommended_limit_bytes",
    "recommended_request_bytes",
}
CONTRACT_CPU = {
    "p95_cores",
    "peak_cores",
    "recommended_request_cores",
    "recommended_limit_cores",
}


def capture(tmp_path: Path, samples: int = 120, step: float = 10.0) -> Path:
    """A `docker stats` JSON-lines capture of a compose project `shop` (web and db)."""
    lines = []
    for i in range(samples):
        for name, base in (("shop-web-1", 300), ("shop-db-1", 800)):
            memory = base + 20 * math.sin(i / 20)
            lines.append(
                json.dumps(
                    {
                        "time": 1.7e9 + i * step,
                        "Name": name,
                        "ID": name,
                        "CPUPerc": f"{20 + 5 * math.sin(i / 7):.2f}%",
                        "MemUsage": f"{memory:.1f}MiB / 1.5GiB",
                    }
                )
            )
    path = tmp_path / "stats.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["limits", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_follows_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = capture(tmp_path)
    code, out, err = run(capsys, "--docker-stats", str(path), "--project", "shop", "-f", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["version"] == 1
    names = [c["name"] for c in document["containers"]]
    assert sorted(names) == ["db", "web"]
    web = document["containers"][names.index("web")]
    assert {"name", "samples", "window_s", "memory", "cpu", "oom_kills", "warnings"} <= set(web)
    assert set(web["memory"]) >= CONTRACT_MEMORY and set(web["cpu"]) >= CONTRACT_CPU
    assert web["samples"] == 120 and web["window_s"] == 1190
    peak = web["memory"]["peak_bytes"]
    assert 319 * 2**20 < peak < 321 * 2**20
    assert web["memory"]["recommended_limit_bytes"] >= peak * 1.5
    assert web["memory"]["rule"] == "lesson"
    assert web["cpu"]["recommended_request_cores"] >= web["cpu"]["p95_cores"] * 1.5 - 0.01
    assert any("shorter than a day" in w for w in web["warnings"])


def test_text_has_table_snippets_and_sparkline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--docker-stats", str(capture(tmp_path)), "--project", "shop")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "container", "resource", "current", "peak", "p95", "recommended", "change"
    ]  # fmt: skip
    assert "deploy:\n          resources:\n            limits:\n" in out
    assert "resources:\n      requests:\n" in out
    assert "docker run --memory 480m --cpus" in out
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")


def test_headroom_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "usage.json"
    code, out, _ = run(
        capsys, "--docker-stats", str(capture(tmp_path)), "--headroom", "20%",
        "-f", "json", "-o", str(target),
    )  # fmt: skip
    assert code == 0 and out == ""
    entry = json.loads(target.read_text())["containers"][0]
    assert entry["memory"]["recommended_limit_bytes"] < entry["memory"]["peak_bytes"] * 1.3


def test_apply_writes_compose_and_shows_the_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: acme/web  # the shop\n    mem_limit: 2g\n"
        "  db:\n    image: postgres:16\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "--docker-stats", str(capture(tmp_path)), "--project", "shop",
        "--apply", str(compose), "-f", "json",
    )  # fmt: skip
    assert code == 0, err
    assert "-    mem_limit: 2g" in err and "+    mem_limit: 480m" in err
    text = compose.read_text()
    assert "image: acme/web  # the shop\n    mem_limit: 480m\n" in text
    assert "db:\n    image: postgres:16\n    deploy:" in text
    web = [c for c in json.loads(out)["containers"] if c["name"] == "web"][0]
    assert web["memory"]["current_limit_bytes"] == 2 * 2**30  # read from the file


def test_apply_writes_a_kubernetes_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: app  # the server\n        image: acme/web\n",
        encoding="utf-8",
    )
    code, _, err = run(
        capsys, "--docker-stats", str(capture(tmp_path)), "--project", "shop",
        "--apply", str(manifest), "--service", "app",
    )  # fmt: skip
    assert code == 2  # two containers in the capture, one --service
    assert "--service names one place" in err
    single = tmp_path / "one.jsonl"
    single.write_text(
        "\n".join(line for line in capture(tmp_path).read_text().splitlines() if "web" in line)
    )
    code, _, err = run(
        capsys, "--docker-stats", str(single), "--apply", str(manifest), "--service", "app"
    )
    assert code == 0, err
    text = manifest.read_text()
    assert "      - name: app  # the server\n        image: acme/web\n        resources:\n" in text
    assert "limits:\n            memory: 480Mi\n" in text
    assert "cpu:" not in text.split("limits:")[1]  # Kubernetes: no CPU limit by default


def test_chart_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "usage.svg"
    code, _, err = run(capsys, "--docker-stats", str(capture(tmp_path)), "--chart", str(chart))
    assert code == 0
    assert chart.read_text().startswith("<svg") and "chart written" in err


def test_measure_a_real_process(capsys: pytest.CaptureFixture[str]) -> None:
    program = "import time; x = bytearray(60_000_000); time.sleep(30)"
    code, out, err = run(
        capsys, "measure", "--duration", "2s", "--interval", "0.25s", "-f", "json",
        "--", sys.executable, "-c", program,
    )  # fmt: skip
    assert code == 0, err
    entry = json.loads(out)["containers"][0]
    assert entry["memory"]["peak_bytes"] > 60_000_000
    assert entry["memory"]["recommended_limit_bytes"] >= entry["memory"]["peak_bytes"] * 1.5


def test_cgroup_is_sampled_live(capsys: pytest.CaptureFixture[str]) -> None:
    roots = [p for p in (Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")) if p.is_dir()]
    if not roots:
        pytest.skip("no cgroup file system")
    code, out, err = run(
        capsys, "--cgroup", str(roots[0]), "--duration", "1s", "--interval", "0.5s", "-f", "json"
    )
    assert code == 0, err
    entry = json.loads(out)["containers"][0]
    assert entry["samples"] >= 2 and entry["memory"]["peak_bytes"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "give the usage"),
        (("--docker-stats", "x.jsonl", "--cgroup", "/sys"), "give one source of usage"),
        (("--docker-stats", "/nonexistent/stats.jsonl"), "cannot read"),
        (("--prometheus", "http://127.0.0.1:9"), "--prometheus needs --namespace, --workload"),
        (("measure",), "no command to measure"),
        (("--docker-stats", "x.jsonl", "--apply", "/nonexistent/compose.yaml"), "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and out == ""


def test_empty_capture_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = run(capsys, "--docker-stats", str(empty))
    assert code == 2 and err.startswith("dockwise: error: ")


def test_bad_option_values_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("--headroom", "lots"), ("--horizon", "soon"), ("--headroom", "-1")):
        with pytest.raises(SystemExit) as raised:
            main(["limits", *argv])
        assert raised.value.code == 2
    capsys.readouterr()


def test_parse_duration() -> None:
    assert parse_duration("60s") == 60
    assert parse_duration("5m") == 300
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("1.5h") == 5400
    assert parse_duration("30") == 30


@pytest.mark.slow
def test_prometheus_source(prometheus, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    url, _ = prometheus
    code, out, err = run(
        capsys, "--prometheus", url, "--namespace", "shop", "--workload", "web",
        "--container", "web", "--window", "2d", "-f", "json",
    )  # fmt: skip
    assert code == 0, err
    (web,) = json.loads(out)["containers"]
    assert web["name"] == "shop/web/web"
    assert web["oom_kills"] == 1 and web["restarts"] >= 1
    assert web["memory"]["current_limit_bytes"] == 256 * 2**20
    # the base is the limit in force at the kill, not the lower peak seen
    assert web["memory"]["peak_bytes"] < 256 * 2**20
    assert web["memory"]["recommended_limit_bytes"] >= 256 * 2**20 * 1.1
    assert "OOM kill" in web["memory"]["reason"]
    assert web["cpu"]["recommended_limit_cores"] is None  # Kubernetes: no CPU limit
    assert web["samples"] > 1000


def test_prometheus_down_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "--prometheus", f"http://127.0.0.1:{free_port()}", "--namespace", "shop",
        "--workload", "web",
    )  # fmt: skip
    assert code == 2 and err.startswith("dockwise: error: ") and len(err.splitlines()) == 1
