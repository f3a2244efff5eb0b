"""One self-contained HTML file: a lesson scorecard, severity filters, the findings by lesson
with their source lines, and, when given, the image's layers and the usage against limits.

No network: the CSS, the script and the charts (SVG) are inline. Every text from the input
is escaped; lines a secret finding points at are never shown (as in every format).
A `#severity=error,warning` fragment in the URL applies a filter when the page opens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from dockwise import __version__
from dockwise.engine import count_by_severity
from dockwise.findings import LESSONS, Finding
from dockwise.lazyre import lazy_compile
from dockwise.report import (
    RULE_DOCS_URL,
    Report,
    by_lesson,
    printable,
    rule_url,
    secret_lines_of,
    shown_source_line,
)
from dockwise.report.markdown import LESSON_TITLES

SEVERITIES = ("error", "warning", "info")


def render_html(report: Report) -> str:
    from dockwise.report.text import status_line

    groups = by_lesson(report.findings)
    counts = count_by_severity(report.findings)
    title = "dockwise report" + (f": {', '.join(report.inputs)}" if report.inputs else "")
    body = [
        '<header class="top">',
        f"<h1>dockwise report <small>{_e(', '.join(report.inputs))}</small></h1>",
        f'<p class="status">{_e(status_line(report))}</p>',
        "</header>",
        _scorecard(groups),
        _problems(report),
    ]
    if report.image is not None:
        body.append(_image_section(report.image))
    if report.usage is not None:
        body.append(_usage_section(report.usage))
    body.append(_filters(counts))
    body.append(_findings(report, groups))
    body.append(
        f"<footer>dockwise {_e(__version__)} · {len(report.findings)} finding(s) in "
        f"{report.files_checked} file(s) checked · rule pages: "
        f'<a href="{_e(RULE_DOCS_URL)}">docs/rules</a></footer>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n"
        f'<body data-total="{len(report.findings)}">\n'
        + "\n".join(part for part in body if part)
        + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def _code_spans(text: str) -> str:
    """Escaped text with its `backquoted` parts shown as code, as the rule texts mean them."""
    return _BACKQUOTED.sub(r"<code>\1</code>", _e(text))


_BACKQUOTED = lazy_compile(r"`([^`]+)`")


def _count(n: int, severity: str) -> str:
    return f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"


def _e(text: object) -> str:
    return escape(printable(str(text)), quote=True)


# ---- scorecard ---------------------------------------------------------------------------


def _scorecard(groups: Mapping[str, Sequence[Finding]]) -> str:
    tiles = []
    for lesson in LESSONS:
        findings = groups.get(lesson, [])
        counts = count_by_severity(findings)
        state = (
            "error"
            if counts["error"]
            else "warning"
            if counts["warning"]
            else "info"
            if counts["info"]
            else "pass"
        )
        if findings:
            detail = " ".join(
                f'<span class="pill {name}">{_count(n, name)}</span>'
                for name, n in counts.items()
                if n
            )
        else:
            detail = '<span class="pill pass">nothing found</span>'
        mark = {"pass": "✓", "info": "i", "warning": "!", "error": "✗"}[state]
        tiles.append(
            f'<a class="tile {state}" href="#lesson-{lesson}" data-lesson="{lesson}">'
            f'<span class="name"><span class="mark">{mark}</span>'
            f'<span class="lesson">{lesson}</span></span>'
            f'<span class="detail">{detail}</span></a>'
        )
    return (
        '<section class="scorecard" aria-label="lesson scorecard">' + "".join(tiles) + "</section>"
    )


def _problems(report: Report) -> str:
    if not report.problems and not report.notes:
        return ""
    items = [f'<li class="problem">{_e(str(p))}</li>' for p in report.problems]
    items += [f'<li class="note">note: {_e(n)}</li>' for n in report.notes]
    return f'<section class="problems"><ul>{"".join(items)}</ul></section>'


# ---- filters and findings ----------------------------------------------------------------


def _filters(counts: Mapping[str, int]) -> str:
    boxes = "".join(
        f'<label class="filter {name}"><input type="checkbox" data-severity="{name}" checked> '
        f'{name} <span class="n">{counts[name]}</span></label>'
        for name in SEVERITIES
    )
    total = sum(counts.values())
    return (
        '<nav class="filters" aria-label="severity filters">'
        f"<strong>Show</strong>{boxes}"
        f'<span id="shown" data-shown="{total}">{total} of {total} shown</span></nav>'
    )


def _findings(report: Report, groups: Mapping[str, Sequence[Finding]]) -> str:
    if not report.findings:
        return '<section class="lesson empty"><p>No findings.</p></section>'
    secret_lines = secret_lines_of(report.findings)
    sections = []
    for lesson, findings in groups.items():
        if not findings:
            continue
        counts = count_by_severity(findings)
        summary = ", ".join(_count(n, name) for name, n in counts.items() if n)
        articles = "".join(_finding(report, f, secret_lines) for f in findings)
        sections.append(
            f'<section class="lesson" id="lesson-{_e(lesson)}" data-lesson="{_e(lesson)}">'
            f"<h2>{_e(LESSON_TITLES.get(lesson, lesson))} <small>{summary}</small></h2>"
            f"{articles}</section>"
        )
    return "\n".join(sections)


def _finding(report: Report, finding: Finding, secret_lines: set[tuple[str, int]]) -> str:
    severity = finding.severity.label
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    meta = report.rules.get(finding.rule)
    rule_title = f' title="{_e(meta.title)}"' if meta else ""
    parts = [
        f'<article class="finding {severity}" data-severity="{severity}" '
        f'data-rule="{_e(finding.rule)}">',
        f'<div class="head"><span class="sev {severity}">{severity}</span>'
        f'<a class="rule" href="{_e(rule_url(finding.rule))}"{rule_title}>{_e(finding.rule)}</a>'
        f'<code class="where">{_e(where)}</code></div>',
        f'<p class="message">{_code_spans(finding.message)}</p>',
    ]
    line = shown_source_line(report, finding, secret_lines)
    if line is not None:
        if len(line) > 200:
            line = line[:200] + "…"
        parts.append(f'<pre class="source"><span class="ln">{finding.line}</span>{_e(line)}</pre>')
    for related in finding.related:
        place = f"{related.path}:{related.line}" if related.line else related.path
        parts.append(f'<p class="related">see <code>{_e(place)}</code>: {_e(related.message)}</p>')
    parts.append(f'<p class="fix"><strong>fix</strong> {_code_spans(finding.fix)}</p></article>')
    return "".join(parts)


# ---- image: layers and largest files -----------------------------------------------------


def human_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _image_section(image: Mapping[str, Any]) -> str:
    layers = [layer for layer in image.get("layers") or [] if isinstance(layer, Mapping)]
    size = _number(image.get("size_bytes"))
    wasted = _number(image.get("wasted_bytes"))
    efficiency = _number(image.get("efficiency"))
    facts = [("image size", human_bytes(size)), ("layers", str(len(layers)))]
    if wasted is not None:
        facts.append(("wasted", human_bytes(wasted)))
    if efficiency is not None:
        facts.append(("efficiency", f"{efficiency * 100:.1f} %"))
    dive = image.get("dive")
    if isinstance(dive, Mapping):
        dive_eff = _number(dive.get("efficiency"))
        dive_waste = _number(dive.get("wasted_bytes"))
        shown = []
        if dive_eff is not None:
            shown.append(f"{dive_eff * 100:.1f} %")
        if dive_waste is not None:
            shown.append(f"{human_bytes(dive_waste)} wasted")
        if shown:
            facts.append(("dive says", ", ".join(shown)))
    fact_html = "".join(
        f'<div class="fact"><span>{_e(k)}</span><strong>{_e(v)}</strong></div>' for k, v in facts
    )
    return (
        '<section class="image" id="image"><h2>Image layers</h2>'
        f'<div class="facts">{fact_html}</div>'
        + _layer_chart(layers)
        + _largest_files(image.get("largest_files"))
        + _waste(image.get("waste"))
        + "</section>"
    )


def _layer_chart(layers: Sequence[Mapping[str, Any]]) -> str:
    if not layers:
        return ""
    row, label_w, bar_w, value_w = 30, 430, 420, 230
    width = label_w + bar_w + value_w
    largest = max((_number(layer.get("size_bytes")) or 0 for layer in layers), default=0) or 1
    rows = []
    for index, layer in enumerate(layers):
        y = index * row
        size = _number(layer.get("size_bytes")) or 0
        wasted = min(_number(layer.get("wasted_bytes")) or 0, size)
        length = max(size / largest * bar_w, 1 if size else 0)
        waste_len = wasted / largest * bar_w
        label = _layer_label(layer, index)
        created = _shown_command(str(layer.get("created_by") or ""))
        tooltip = f"{label}\n{created}\n{human_bytes(size)}, {human_bytes(wasted)} wasted"
        value = human_bytes(size) + (f" · {human_bytes(wasted)} wasted" if wasted else "")
        shown_label = label if len(label) <= 58 else label[:57] + "…"
        rows.append(
            f'<g class="layer" data-size="{int(size)}" data-wasted="{int(wasted)}">'
            f"<title>{escape(tooltip)}</title>"  # its parts are printable already
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" class="label">'
            f"{_e(shown_label)}</text>"
            f'<rect x="{label_w}" y="{y + 6}" width="{length:.1f}" height="18" rx="3" '
            'class="bytes"/>'
            + (
                f'<rect x="{label_w + length - waste_len:.1f}" y="{y + 6}" '
                f'width="{waste_len:.1f}" height="18" rx="3" class="wasted"/>'
                if waste_len
                else ""
            )
            + f'<text x="{label_w + length + 6:.1f}" y="{y + 19}" class="value">'
            f"{_e(value)}</text></g>"
        )
    height = len(layers) * row + 8
    legend = (
        '<p class="legend"><span class="key bytes"></span> bytes stored in the layer '
        '<span class="key wasted"></span> wasted: stored, but hidden or deleted by a later '
        "layer (still shipped and pulled)</p>"
    )
    return (
        f'<svg class="layers" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="bytes per layer">{"".join(rows)}</svg>{legend}'
    )


def _layer_label(layer: Mapping[str, Any], index: int) -> str:
    """The Dockerfile line that made the layer when the image was joined with its project,
    else its history command (`RUN pip install ...`, without the shell prefix)."""
    place = ""
    line = layer.get("line") or layer.get("dockerfile_line")
    if isinstance(line, int):
        place = f"{layer.get('path') or 'Dockerfile'}:{line} "
    instruction = layer.get("instruction")
    created = _shown_command(str(instruction or layer.get("created_by") or ""))
    created = _BUILD_ARGS.sub("", created)
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
        if created.startswith(prefix):
            created = created[len(prefix) :].strip()
    if created and instruction is None and not created.split(" ", 1)[0].isupper():
        created = f"RUN {created}"
    return f"{index + 1}. {place}{created or '(no history)'}"


# `|2 TOKEN=... URL=... /bin/sh -c ...`: the build args a RUN saw, as the history records them
_BUILD_ARGS = lazy_compile(r"^\|\d+ .*?(?=/bin/sh -c )")


def _shown_command(command: str) -> str:
    """A history command as it may be shown: secrets redacted (build args land here),
    control characters escaped."""
    from dockwise.secrets import redact_source_line

    return printable(redact_source_line(command.strip()))


def _largest_files(files: Any) -> str:
    if not isinstance(files, Sequence) or not files:
        return ""
    rows = [f for f in files if isinstance(f, Mapping)][:15]
    largest = max((_number(f.get("size_bytes")) or 0 for f in rows), default=0) or 1
    body = "".join(
        f'<tr class="file"><td><code>{_e(f.get("path", ""))}</code></td>'
        f'<td class="num">{_e(human_bytes(_number(f.get("size_bytes"))))}</td>'
        f'<td class="barcell"><span class="bar" style="width:'
        f'{(_number(f.get("size_bytes")) or 0) / largest * 100:.1f}%"></span></td></tr>'
        for f in rows
    )
    return (
        '<h3>Largest files</h3><table class="largest"><thead><tr><th>file</th>'
        f'<th class="num">size</th><th></th></tr></thead><tbody>{body}</tbody></table>'
    )


def _waste(entries: Any) -> str:
    """What the image ships that a production image does not need (caches, compilers,
    bytecode...), as `dockwise image` classifies it."""
    if not isinstance(entries, Sequence) or not entries:
        return ""
    rows = [e for e in entries if isinstance(e, Mapping)][:12]
    body = "".join(
        f'<tr class="waste"><td>{_e(e.get("kind", ""))}</td><td><code>{_e(e.get("path", ""))}'
        f'</code></td><td class="num">{_e(human_bytes(_number(e.get("size_bytes"))))}</td>'
        f'<td class="num">{_e(e.get("files", ""))}</td>'
        f'<td class="num">{_e(_layer_number(e.get("layer")))}</td></tr>'
        for e in rows
    )
    return (
        "<h3>What ships that production does not need</h3>"
        '<table class="largest"><thead><tr><th>kind</th><th>where</th><th class="num">size</th>'
        f'<th class="num">files</th><th class="num">layer</th></tr></thead><tbody>{body}'
        "</tbody></table>"
    )


def _layer_number(index: Any) -> str:
    return str(index + 1) if isinstance(index, int) else ""


# ---- usage against limits ----------------------------------------------------------------


def _usage_section(usage: Mapping[str, Any]) -> str:
    containers = [c for c in usage.get("containers") or [] if isinstance(c, Mapping)]
    if not containers:
        return ""
    charts = []
    for container in containers:
        memory = _mapping(container.get("memory"))
        cpu = _mapping(container.get("cpu"))
        rows = [
            _usage_row(
                "memory",
                _number(memory.get("p95_bytes")),
                _number(memory.get("peak_bytes")),
                _number(memory.get("current_limit_bytes")),
                _number(memory.get("recommended_limit_bytes")),
                human_bytes,
            ),
            _usage_row(
                "CPU",
                _number(cpu.get("p95_cores")),
                _number(cpu.get("peak_cores")),
                _number(cpu.get("recommended_limit_cores")),
                _number(cpu.get("recommended_request_cores")),
                _cores,
                recommended_name="recommended request",
            ),
        ]
        samples = container.get("samples")
        window = _number(container.get("window_s"))
        about = []
        if isinstance(samples, int):
            about.append(f"{samples} samples")
        if window:
            about.append(
                f"over {window / 60:.0f} min" if window < 7200 else f"{window / 3600:.0f} h"
            )
        ooms = container.get("oom_kills")
        if isinstance(ooms, int) and ooms:
            about.append(f'<span class="oom">{ooms} OOM kill(s)</span>')
        warnings = "".join(
            f"<li>{_e(w)}</li>" for w in container.get("warnings") or [] if isinstance(w, str)
        )
        charts.append(
            f'<div class="container" data-container="{_e(container.get("name", ""))}">'
            f"<h3>{_e(container.get('name', '?'))} <small>{' · '.join(about)}</small></h3>"
            + "".join(row for row in rows if row)
            + (f'<ul class="warnings">{warnings}</ul>' if warnings else "")
            + "</div>"
        )
    legend = (
        '<p class="legend"><span class="key p95"></span> p95 <span class="key peak"></span> '
        'peak <span class="key limit"></span> current limit <span class="key rec"></span> '
        "recommended (observed usage plus headroom)</p>"
    )
    return (
        '<section class="usage" id="usage"><h2>Usage against limits</h2>'
        + "".join(charts)
        + legend
        + "</section>"
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _cores(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}m"


def _usage_row(
    name: str,
    p95: float | None,
    peak: float | None,
    limit: float | None,
    recommended: float | None,
    fmt: Any,
    recommended_name: str = "recommended limit",
) -> str:
    values = [v for v in (p95, peak, limit, recommended) if v is not None]
    if not values:
        return ""
    scale = max(values) * 1.12 or 1
    label_w, bar_w, height = 90, 700, 46

    def x(value: float) -> float:
        return label_w + value / scale * bar_w

    parts = [f'<text x="0" y="22" class="label">{_e(name)}</text>']
    parts.append(f'<rect x="{label_w}" y="8" width="{bar_w}" height="20" class="track"/>')
    if peak is not None:
        parts.append(
            f'<rect x="{label_w}" y="8" width="{x(peak) - label_w:.1f}" height="20" '
            'class="peak"><title>peak ' + _e(fmt(peak)) + "</title></rect>"
        )
    if p95 is not None:
        parts.append(
            f'<rect x="{label_w}" y="8" width="{x(p95) - label_w:.1f}" height="20" '
            'class="p95"><title>p95 ' + _e(fmt(p95)) + "</title></rect>"
        )
    for value, css, text in (
        (limit, "limit", "limit" if name != "CPU" else "limit"),
        (recommended, "rec", recommended_name),
    ):
        if value is None:
            continue
        over = " under" if css == "limit" and peak is not None and value < peak else ""
        parts.append(
            f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="2" y2="34" '
            f'class="{css}{over}"><title>{_e(text)} {_e(fmt(value))}</title></line>'
            f'<text x="{x(value):.1f}" y="45" text-anchor="middle" class="mark {css}">'
            f"{_e(text)} {_e(fmt(value))}</text>"
        )
    facts = f"p95 {fmt(p95)} · peak {fmt(peak)}"
    return (
        f'<div class="usage-row" data-kind="{_e(name)}"><svg viewBox="0 0 {label_w + bar_w + 90} '
        f'{height + 4}" width="100%" role="img" aria-label="{_e(name)} usage against limit">'
        + "".join(parts)
        + f'</svg><p class="facts-line">{_e(facts)}</p></div>'
    )


_CSS = """
:root{--err:#c62828;--warn:#b26a00;--info:#1565c0;--ok:#2e7d32;--ink:#1d2330;--mute:#5f6b7a;
--line:#e3e7ee;--bg:#f6f8fb;--card:#fff}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
h1{font-size:24px;margin:0}h1 small{font-weight:400;color:var(--mute);font-size:16px}
h2{font-size:18px;margin:28px 0 10px}h2 small,h3 small{font-weight:400;color:var(--mute);
font-size:13px}
h3{font-size:15px;margin:18px 0 6px}
.status{margin:4px 0 16px;color:var(--mute)}
a{color:inherit}
code,pre{font:12.5px/1.45 ui-monospace,"DejaVu Sans Mono",Menlo,monospace}
.scorecard{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:8px}
@media (min-width:1100px){.scorecard{grid-template-columns:repeat(9,1fr)}}
.tile{display:flex;flex-direction:column;gap:6px;padding:10px 12px;border-radius:10px;
background:var(--card);border:1px solid var(--line);border-top:4px solid var(--ok);
text-decoration:none}
.tile.error{border-top-color:var(--err)}.tile.warning{border-top-color:var(--warn)}
.tile.info{border-top-color:var(--info)}
.tile .name{display:flex;gap:6px;align-items:baseline}
.tile .mark{font-weight:700;font-size:16px;color:var(--ok)}
.tile.error .mark{color:var(--err)}.tile.warning .mark{color:var(--warn)}
.tile.info .mark{color:var(--info)}
.tile .lesson{font-weight:600;text-transform:capitalize}
.pill{display:inline-block;font-size:11.5px;padding:0 6px;border-radius:9px;margin:1px 2px 0 0;
background:#eef1f5;color:var(--mute)}
.pill.error{background:#fdecea;color:var(--err)}.pill.warning{background:#fff4e0;
color:var(--warn)}.pill.info{background:#e8f0fc;color:var(--info)}
.pill.pass{background:#e9f5ea;color:var(--ok)}
.problems ul{margin:16px 0 0;padding:10px 16px 10px 32px;background:#fdecea;border-radius:8px}
.problems .note{color:var(--mute)}
.filters{position:sticky;top:0;z-index:2;display:flex;gap:14px;align-items:center;
margin:24px 0 0;padding:10px 14px;background:var(--card);border:1px solid var(--line);
border-radius:10px}
.filter{display:flex;gap:5px;align-items:center;cursor:pointer;font-weight:600}
.filter.error{color:var(--err)}.filter.warning{color:var(--warn)}.filter.info{color:var(--info)}
.filter .n{font-weight:400;color:var(--mute)}
#shown{margin-left:auto;color:var(--mute)}
.lesson{margin-top:8px}
.finding{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--info);
border-radius:8px;padding:10px 14px;margin:8px 0}
.finding.error{border-left-color:var(--err)}.finding.warning{border-left-color:var(--warn)}
.finding[hidden],.lesson[hidden]{display:none}
.head{display:flex;gap:10px;align-items:baseline}
.sev{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.sev.error{color:var(--err)}.sev.warning{color:var(--warn)}.sev.info{color:var(--info)}
.rule{font-weight:700;text-decoration:none}.rule:hover{text-decoration:underline}
.where{color:var(--mute)}
.message{margin:4px 0}
.source{margin:6px 0;padding:6px 10px;background:#f1f3f7;border-radius:6px;overflow-x:auto;
white-space:pre}
.source .ln{display:inline-block;min-width:3em;color:#98a2b3;user-select:none}
.related{margin:2px 0;color:var(--mute)}
.fix{margin:4px 0 0;color:#2d3a4a}.fix strong{color:var(--ok);margin-right:4px}
.message code,.fix code{background:#eef1f5;border-radius:4px;padding:0 3px;font-size:12px}
.image,.usage{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:4px 18px 12px;margin-top:24px}
.facts{display:flex;flex-wrap:wrap;gap:24px;margin-bottom:12px}
.fact span{display:block;color:var(--mute);font-size:12px}.fact strong{font-size:18px}
svg text{font:12px ui-monospace,"DejaVu Sans Mono",monospace;fill:var(--ink)}
svg .value{fill:var(--mute)}
rect.bytes{fill:#7aa7e0}rect.wasted{fill:var(--err);opacity:.85}
.legend{color:var(--mute);font-size:12.5px}
.key{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;
margin:0 4px 0 10px}
.key.bytes{background:#7aa7e0}.key.wasted{background:var(--err)}
.key.p95{background:#7aa7e0}.key.peak{background:#c5d8f2}.key.limit{background:#555}
.key.rec{background:var(--ok)}
table.largest{border-collapse:collapse;width:100%}
.largest td,.largest th{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left}
.largest .num{text-align:right;white-space:nowrap}
.barcell{width:40%}.bar{display:block;height:10px;border-radius:3px;background:#7aa7e0}
rect.track{fill:#f1f3f7}rect.peak{fill:#c5d8f2}rect.p95{fill:#7aa7e0}
line.limit{stroke:#555;stroke-width:2;stroke-dasharray:4 3}
line.limit.under{stroke:var(--err)}
line.rec{stroke:var(--ok);stroke-width:3}
text.mark{font-size:11px}text.mark.rec{fill:var(--ok)}
.facts-line{margin:0 0 8px 0;color:var(--mute);font-size:12.5px}
.oom{color:var(--err);font-weight:600}
.warnings{color:var(--warn);margin:4px 0}
footer{margin-top:32px;color:var(--mute);font-size:12px}
"""

_SCRIPT = """
(function(){
  var boxes = document.querySelectorAll('.filters input[data-severity]');
  function apply(){
    var on = {}, shown = 0;
    boxes.forEach(function(b){ on[b.dataset.severity] = b.checked; });
    document.querySelectorAll('.finding').forEach(function(f){
      var visible = !!on[f.dataset.severity];
      f.hidden = !visible;
      if (visible) shown++;
    });
    document.querySelectorAll('section.lesson[data-lesson]').forEach(function(s){
      s.hidden = !s.querySelector('.finding:not([hidden])');
    });
    var counter = document.getElementById('shown');
    if (counter) {
      counter.dataset.shown = shown;
      counter.textContent = shown + ' of ' + document.body.dataset.total + ' shown';
    }
  }
  function fromHash(){
    var m = /severity=([a-z,]*)/.exec(location.hash);
    if (!m) return;
    var wanted = m[1].split(',');
    boxes.forEach(function(b){ b.checked = wanted.indexOf(b.dataset.severity) >= 0; });
  }
  boxes.forEach(function(b){ b.addEventListener('change', apply); });
  window.addEventListener('hashchange', function(){ fromHash(); apply(); });
  fromHash();
  apply();
})();
"""
