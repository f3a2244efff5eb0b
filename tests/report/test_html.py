"""The HTML report: one self-contained file, rendered in real headless Chromium.

The DOM Chromium builds (after the page's own script ran) is checked: the scorecard, every
lesson's findings, the severity filter applied from the URL fragment, the layer chart and
the usage chart; a screenshot is saved and checked to be a real picture."""

from __future__ import annotations

import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from naive_report import PLANTED_SECRETS, chromium, naive_report, sample, screenshot
from needs import require_tool

from dockwise.cli import main
from dockwise.findings import LESSONS
from dockwise.report import render


class Dom(HTMLParser):
    """The elements of a dumped DOM: (tag, attributes) in document order, with the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, css_class: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag and css_class in (attrs.get("class") or "").split()
        ]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    path = folder / "report.html"
    path.write_text(render(naive_report(image=True, usage=True), "html"), encoding="utf-8")
    return path


def test_the_file_is_self_contained_and_leaks_no_secret(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    # no network: nothing is fetched (links to the rule pages are plain anchors)
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html  # and the page forbids it
    for secret in PLANTED_SECRETS:
        assert secret not in html


@pytest.mark.slow
def test_chromium_renders_every_lesson_and_the_filters_work(page: Path) -> None:
    browser = require_tool("chromium")
    report = naive_report()
    by_severity = {name: 0 for name in ("error", "warning", "info")}
    for finding in report.findings:
        by_severity[finding.severity.label] += 1
    lessons = {f.lesson for f in report.findings}

    dom = Dom(chromium(browser, page.as_uri(), "--dump-dom"))
    findings = dom.having("article", "finding")
    assert len(findings) == len(report.findings) > 30
    assert not [f for f in findings if "hidden" in f]  # all shown by default
    assert [t.get("data-lesson") for t in dom.having("a", "tile")] == list(LESSONS)
    sections = {s.get("data-lesson") for s in dom.having("section", "lesson")}
    assert sections == lessons == set(LESSONS)  # the naive example breaks every lesson
    assert len(dom.having("pre", "source")) > 20  # source lines shown

    # a fragment applies a filter when the page opens: the page's script ran in Chromium
    dom = Dom(chromium(browser, page.as_uri() + "#severity=error", "--dump-dom"))
    shown = [f for f in dom.having("article", "finding") if "hidden" not in f]
    assert {f.get("data-severity") for f in shown} == {"error"}
    assert len(shown) == by_severity["error"] > 5
    counter = next(attrs for tag, attrs in dom.elements if attrs.get("id") == "shown")
    assert counter.get("data-shown") == str(by_severity["error"])
    visible_sections = [s for s in dom.having("section", "lesson") if "hidden" not in s]
    assert {s.get("data-lesson") for s in visible_sections} == {"secrets"}

    dom = Dom(chromium(browser, page.as_uri() + "#severity=warning,info", "--dump-dom"))
    shown = [f for f in dom.having("article", "finding") if "hidden" not in f]
    assert len(shown) == by_severity["warning"] + by_severity["info"]


@pytest.mark.slow
def test_layer_chart_and_usage_chart(page: Path) -> None:
    browser = require_tool("chromium")
    image, usage = sample("image"), sample("usage")
    dom = Dom(chromium(browser, page.as_uri(), "--dump-dom"))
    layers = dom.having("g", "layer")
    assert [int(g["data-size"] or 0) for g in layers] == [
        layer["size_bytes"] for layer in image["layers"]
    ]
    assert len(dom.having("rect", "wasted")) == sum(
        1 for layer in image["layers"] if layer["wasted_bytes"]
    )
    text = " ".join(dom.text)
    assert "Dockerfile:15 RUN apt-get install -y build-essential" in text  # the line behind it
    assert len(dom.having("tr", "file")) == len(image["largest_files"])
    waste = dom.having("tr", "waste")
    assert len(waste) == len(image["waste"]) and "/usr/lib/gcc" in text
    containers = [
        attrs.get("data-container") for tag, attrs in dom.elements if "data-container" in attrs
    ]
    assert containers == [c["name"] for c in usage["containers"]]
    # worker's limit is below its observed peak: drawn as such
    assert len(dom.having("line", "under")) == 1
    assert len(dom.having("line", "rec")) == 4  # memory limit and CPU request, two containers


@pytest.mark.slow
def test_screenshot_is_a_real_picture(page: Path, tmp_path: Path) -> None:
    browser = require_tool("chromium")
    png = tmp_path / "report.png"
    screenshot(browser, page, png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000  # a blank page compresses to a few kB


def test_cli_writes_the_html_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    status = main(
        [
            "check",
            str(Path(__file__).parents[2] / "examples" / "naive"),
            "-f",
            "html",
            "-o",
            str(out),
        ]
    )
    assert status == 1
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<article class="finding') == len(naive_report().findings)
    assert 'class="image"' not in html and 'class="usage"' not in html  # none given
    assert capsys.readouterr().out == ""


def test_every_input_text_is_escaped(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN echo '<script>alert(1)</script>' && apt-get update\n"
    )
    out = tmp_path / "r.html"
    main(["check", str(tmp_path), "-f", "html", "-o", str(out), "--fail-on", "never"])
    html = out.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
