"""`dockwise limits --chart FILE.svg`: memory over time with the recommended limit, the
lesson's limit and the current limit drawn in; one panel per container. Hand-written SVG:
no plotting library, opens in any browser."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from dockwise.limits.strategy import Recommendation, format_bytes

WIDTH = 800
PANEL = 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 180, 34, 30
MAX_POINTS = 1500  # a long series is reduced to the highest value of each slice


def _reduced(times: Sequence[float], values: Sequence[float]) -> list[tuple[float, float]]:
    points = [(t, v) for t, v in zip(times, values, strict=True) if not math.isnan(v)]
    if len(points) <= MAX_POINTS:
        return points
    out = []
    for i in range(MAX_POINTS):
        chunk = points[i * len(points) // MAX_POINTS : (i + 1) * len(points) // MAX_POINTS]
        if chunk:
            out.append(max(chunk, key=lambda p: p[1]))
    return out


def _label_time(seconds: float, span: float) -> str:
    when = datetime.fromtimestamp(seconds, UTC)
    return when.strftime("%m-%d %H:%M" if span > 86400 else "%H:%M:%S")


def _panel(rec: Recommendation, top: float) -> list[str]:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = PANEL - MARGIN_TOP - MARGIN_BOTTOM
    points = _reduced(rec.times, rec.memory)
    lines = [
        f'<g transform="translate(0,{top})">',
        f'<text x="{MARGIN_LEFT}" y="20" class="title">{escape(rec.container)} '
        f"({escape(rec.source)}, {rec.samples} samples, rule: {escape(rec.rule)})</text>",
    ]
    marks = [(rec.memory_limit, "recommended", "#15803d", "")]
    if rec.lesson_limit != rec.memory_limit:
        marks.append((rec.lesson_limit, "peak + headroom", "#a16207", ' stroke-dasharray="6 4"'))
    if rec.memory_current_limit:
        marks.append((rec.memory_current_limit, "current", "#b91c1c", ' stroke-dasharray="2 3"'))
    highest = max([p[1] for p in points] + [m[0] for m in marks]) * 1.05 or 1.0
    start = points[0][0] if points else 0.0
    span = (points[-1][0] - start) if len(points) > 1 else 1.0
    span = span or 1.0

    def x(t: float) -> float:
        return MARGIN_LEFT + (t - start) / span * plot_w

    def y(v: float) -> float:
        return MARGIN_TOP + plot_h - v / highest * plot_h

    bottom = MARGIN_TOP + plot_h
    lines.append(
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        'class="frame"/>'
    )
    for k in range(5):
        value = highest * k / 4
        lines.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y(value) + 4:.1f}" class="axis" '
            f'text-anchor="end">{escape(format_bytes(value))}</text>'
        )
    lines.append(
        f'<text x="{MARGIN_LEFT}" y="{bottom + 16}" class="axis">'
        f"{escape(_label_time(start, span))}</text>"
    )
    lines.append(
        f'<text x="{MARGIN_LEFT + plot_w}" y="{bottom + 16}" class="axis" text-anchor="end">'
        f"{escape(_label_time(start + span, span))}</text>"
    )
    if len(points) == 1:
        px, py = x(points[0][0]), y(points[0][1])
        lines.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" class="usage-dot"/>')
    elif points:
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
        area = f"{x(points[0][0]):.1f},{bottom} {path} {x(points[-1][0]):.1f},{bottom}"
        lines.append(f'<polygon points="{area}" class="usage-area"/>')
        lines.append(f'<polyline points="{path}" class="usage"/>')
    placed: list[float] = []  # label heights, kept 13 px apart
    for value, label, colour, dash in sorted(marks, key=lambda m: -m[0]):
        ly = y(value)
        lines.append(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{ly:.1f}" y2="{ly:.1f}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        text_y = max([ly + 4] + [p + 13 for p in placed])
        placed.append(text_y)
        lines.append(
            f'<text x="{MARGIN_LEFT + plot_w + 6}" y="{text_y:.1f}" class="mark" '
            f'fill="{colour}">{escape(label)} {escape(format_bytes(value))}</text>'
        )
    lines.append("</g>")
    return lines


def svg_chart(recs: Sequence[Recommendation]) -> str:
    height = PANEL * max(1, len(recs))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="memory usage and limits">',
        "<style>"
        "text{font-family:system-ui,sans-serif;font-size:11px;fill:#334155}"
        ".title{font-size:13px;font-weight:600;fill:#0f172a}"
        ".axis{fill:#64748b}.mark{font-size:11px}"
        ".frame{fill:#f8fafc;stroke:#cbd5e1}"
        ".usage{fill:none;stroke:#2563eb;stroke-width:1.5}"
        ".usage-area{fill:#2563eb;fill-opacity:0.12;stroke:none}"
        ".usage-dot{fill:#2563eb}"
        "</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for index, rec in enumerate(recs):
        out.extend(_panel(rec, index * PANEL))
    out.append("</svg>")
    return "\n".join(out) + "\n"
