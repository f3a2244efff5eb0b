"""Jinja, cookiecutter and Helm syntax in YAML files: a file that holds it is a template,
not YAML until it is rendered (compose files and Kubernetes manifests ask here)."""

from __future__ import annotations

import re

_TEMPLATE_SYNTAX = re.compile(r"\{%-?\s*\w.*?%\}|\{\{-?\s*[\w.]+.*?\}\}")


_TEMPLATE_OPENING = re.compile(r"\{%-?\s*\w|\{\{-?\s*[\w.]")


def template_marker(text: str) -> tuple[int, str] | None:
    """(line, text) of the first Jinja/cookiecutter/Helm syntax in a file, if any.

    _TEMPLATE_SYNTAX.search rescanned the rest of the line from every `{{a` (quadratic:
    issue 6); here each opening only asks whether its line closes it later (the last
    closing of each line, found once), and the regex runs once, on the marker found."""
    line_start, line_end = 0, -1
    last: dict[str, int] = {}
    for opening in _TEMPLATE_OPENING.finditer(text):
        end = opening.end()  # just after the first word character, on the closing's line
        if end > line_end:
            line_start = text.rfind("\n", 0, end) + 1
            line_end = text.find("\n", end)
            line_end = len(text) if line_end < 0 else line_end
            last = {}
        closing = "%}" if opening.group(0)[1] == "%" else "}}"
        if closing not in last:
            last[closing] = text.rfind(closing, line_start, line_end)
        if last[closing] >= end:
            match = _TEMPLATE_SYNTAX.match(text, opening.start())
            if match is not None:
                return text.count("\n", 0, match.start()) + 1, match.group(0)[:60]
    return None
