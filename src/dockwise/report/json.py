"""The stable JSON contract of shared/CONVENTIONS.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockwise.engine import count_by_severity
from dockwise.jsontext import dumps_indented  # json.dumps(indent=2), faster
from dockwise.report import Report


def render_json(report: Report) -> str:
    document: dict[str, object] = {
        "version": 1,
        "findings": [finding.to_json() for finding in report.findings],
        "summary": count_by_severity(report.findings),
    }
    if report.problems:
        document["errors"] = [
            {"path": p.path, "line": p.line, "message": p.message} for p in report.problems
        ]
    if report.notes:
        document["notes"] = list(report.notes)
    if report.image is not None:
        document["image"] = _redacted_image(report.image)
    if report.usage is not None:
        document["usage"] = report.usage
    return dumps(document)


def _redacted_image(image: Mapping[str, Any]) -> Mapping[str, Any]:
    """The image object with each layer's history command passed through the secret
    redactor: build args a RUN used land in `created_by` (`|1 TOKEN=... /bin/sh -c ...`)."""
    layers = image.get("layers")
    if not isinstance(layers, list):
        return image
    from dockwise.secrets import redact_source_line

    shown = []
    for layer in layers:
        if isinstance(layer, Mapping) and isinstance(layer.get("created_by"), str):
            layer = {**layer, "created_by": redact_source_line(layer["created_by"])}
        shown.append(layer)
    return {**image, "layers": shown}


def dumps(document: object) -> str:
    """JSON that always encodes as UTF-8: a stray lone surrogate (a path that slipped past
    `printable`) is written as a \\u escape instead of failing the whole report."""
    text = dumps_indented(document, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = dumps_indented(document, ensure_ascii=True) + "\n"
    return text
