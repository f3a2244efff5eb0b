"""Baselines: record today's findings by fingerprint, then hide them in later runs.

A fingerprint ignores line numbers, so unrelated edits above a finding do not resurrect it;
secret findings use the secret's own fingerprint (a hash), never its value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from dockwise.findings import Finding


class BaselineError(Exception):
    pass


def fingerprint(finding: Finding) -> str:
    identity = finding.fingerprint or finding.message
    key = f"{finding.rule}\0{finding.path}\0{identity}"
    # a file name that is not UTF-8 holds lone surrogates: encodable, never an error
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:32]


def fingerprints(findings: Iterable[Finding]) -> list[tuple[str, Finding]]:
    """Each finding with its fingerprint; repeats of the same finding are numbered."""
    seen: dict[str, int] = {}
    pairs = []
    for finding in findings:
        base = fingerprint(finding)
        seen[base] = seen.get(base, 0) + 1
        pairs.append((base if seen[base] == 1 else f"{base}#{seen[base]}", finding))
    return pairs


def write_baseline(path: Path, findings: Iterable[Finding]) -> None:
    entries = {
        key: {"rule": f.rule, "path": f.path, "message": f.message}
        for key, f in fingerprints(findings)
    }
    document = {"version": 1, "findings": dict(sorted(entries.items()))}
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"{path}: cannot write: {error.strerror}") from None


def apply_baseline(path: Path, findings: Iterable[Finding]) -> list[Finding]:
    known = _load(path)
    return [f for key, f in fingerprints(findings) if key not in known]


def _load(path: Path) -> set[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: not a dockwise baseline: {error}") from None
    if not isinstance(document, dict) or document.get("version") != 1:
        raise BaselineError(f"{path}: not a dockwise baseline (version 1 expected)")
    return set(document.get("findings", {}))
