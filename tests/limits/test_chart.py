"""The SVG chart and the terminal sparkline."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from dockwise.limits.chart import MAX_POINTS, svg_chart
from dockwise.limits.output import sparkline
from dockwise.limits.series import UsageSeries
from dockwise.limits.strategy import MIB, recommend

SVG = "{http://www.w3.org/2000/svg}"


def rec(memory: list[float], name: str = "web", limit: int | None = None):  # type: ignore[no-untyped-def]
    times = tuple(1.7e9 + 10 * i for i in range(len(memory)))
    series = UsageSeries(
        name, "test", times, tuple(memory), (0.1,) * len(memory), memory_limit_bytes=limit
    )
    return recommend(series)


def test_chart_draws_usage_and_the_limits() -> None:
    memory = [(200 + 50 * math.sin(i / 10)) * MIB for i in range(300)]
    first = rec(memory, "web", limit=1024 * MIB)
    second = rec([100 * MIB] * 50, "db")
    root = ET.fromstring(svg_chart([first, second]))
    assert root.tag == f"{SVG}svg"
    panels = root.findall(f"{SVG}g")
    assert len(panels) == 2
    polyline = panels[0].find(f"{SVG}polyline")
    assert polyline is not None and len(polyline.get("points", "").split()) == 300
    labels = [t.text or "" for t in panels[0].iter(f"{SVG}text")]
    assert "recommended 384 MiB" in labels
    assert "current 1.00 GiB" in labels
    # the recommended line sits above the highest point of the usage
    line_y = [
        float(line.get("y1", "0"))
        for line in panels[0].findall(f"{SVG}line")
        if line.get("stroke") == "#15803d"
    ][0]
    lowest_y = min(float(p.split(",")[1]) for p in polyline.get("points", "").split())
    assert line_y < lowest_y


def test_long_series_are_reduced_keeping_the_peak() -> None:
    memory = [100 * MIB] * 10000
    memory[5555] = 300 * MIB
    root = ET.fromstring(svg_chart([rec(memory)]))
    points = root.find(f"{SVG}g/{SVG}polyline").get("points", "").split()  # type: ignore[union-attr]
    assert len(points) == MAX_POINTS
    ys = [float(p.split(",")[1]) for p in points]
    assert len({round(y) for y in ys}) == 2  # the spike survived the reduction


def test_single_sample_is_a_dot_and_names_are_escaped() -> None:
    root = ET.fromstring(svg_chart([rec([100 * MIB], name="<web & co>")]))
    assert root.find(f"{SVG}g/{SVG}circle") is not None
    assert "<web & co>" in (root.find(f"{SVG}g/{SVG}text").text or "")  # type: ignore[union-attr]


def test_sparkline_shape() -> None:
    assert sparkline([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]) == "▁▂▃▄▅▆▇█"
    line = sparkline([float(i) for i in range(1000)], width=40)
    assert len(line) == 40 and line[-1] == "█"
    # scaled to the limit: usage at half the limit reaches half the height
    assert sparkline([50.0] * 10, width=10, top=100.0) == "▄" * 10
    assert sparkline([math.nan, 1.0], width=2) == " █"
    assert sparkline([math.nan]) == ""
