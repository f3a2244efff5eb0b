"""`dockwise schema`: the JSON Schema (draft 2020-12) of `dockwise check --format json`, so
that tools reading the contract can validate it. Tests validate real output against it."""

from __future__ import annotations

import argparse
import json
from typing import Any

SCHEMA_ID = "https://github.com/dockwise/dockwise/blob/main/docs/schema/check-v1.json"
_LESSONS = [
    "size",
    "health",
    "logging",
    "limits",
    "secrets",
    "runtime",
    "debugging",
    "security",
    "general",
]
_NULLABLE_LINE: dict[str, Any] = {"type": ["integer", "null"], "minimum": 1}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
_BYTES: dict[str, Any] = {"type": "integer", "minimum": 0}


def check_schema() -> dict[str, Any]:
    related = {
        "type": "object",
        "required": ["path", "line", "message"],
        "properties": {
            "path": {"type": "string"},
            "line": _NULLABLE_LINE,
            "message": {"type": "string"},
        },
        "additionalProperties": False,
    }
    finding = {
        "type": "object",
        "required": ["rule", "lesson", "severity", "path", "line", "column", "message", "fix"],
        "properties": {
            "rule": {"type": "string", "pattern": "^DW[0-9]{3}$"},
            "lesson": {"enum": _LESSONS},
            "severity": {"enum": ["error", "warning", "info"]},
            "path": {"type": "string", "description": "relative to the checked PATH"},
            "line": {**_NULLABLE_LINE, "description": "1-based; null for a whole-file finding"},
            "column": _NULLABLE_LINE,
            "message": {"type": "string"},
            "fix": {"type": "string"},
            "related": {"type": "array", "items": related},
        },
        "additionalProperties": False,
    }
    layer = {
        "type": "object",
        "required": ["digest", "size_bytes"],
        "properties": {
            "digest": {"type": "string"},
            "size_bytes": _BYTES,
            "compressed_bytes": {"type": ["integer", "null"], "minimum": 0},
            "created_by": {"type": ["string", "null"]},
            "wasted_bytes": _BYTES,
            "path": {
                "type": "string",
                "description": "`check --image`: the Dockerfile that made the layer",
            },
            "line": {
                "type": "integer",
                "minimum": 1,
                "description": "`check --image`: the instruction's line in that Dockerfile",
            },
        },
    }
    image = {
        "type": "object",
        "description": "`check --image` / `dockwise image`: what the built image holds",
        "required": ["size_bytes", "layers"],
        "properties": {
            "size_bytes": _BYTES,
            "visible_bytes": _BYTES,
            "wasted_bytes": _BYTES,
            "efficiency": {"type": "number", "minimum": 0, "maximum": 1},
            "dive": {
                "type": "object",
                "properties": {
                    "efficiency": {"type": "number"},
                    "wasted_bytes": _BYTES,
                    "user_wasted_percent": {"type": "number"},
                },
            },
            "layers": {"type": "array", "items": layer},
            "layers_verified": {
                "type": "boolean",
                "description": "false when the layers were read without hashing (--no-verify)",
            },
            "largest_files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "size_bytes"],
                    "properties": {"path": {"type": "string"}, "size_bytes": _BYTES},
                },
            },
        },
    }
    container = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "samples": _COUNT,
            "window_s": {"type": ["number", "null"]},
            "memory": {"type": "object"},
            "cpu": {"type": "object"},
            "oom_kills": _COUNT,
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    }
    usage = {
        "type": "object",
        "description": "`check --usage`: the object `dockwise limits --format json` prints",
        "required": ["containers"],
        "properties": {
            "version": {"const": 1},
            "containers": {"type": "array", "items": container},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "dockwise check --format json",
        "type": "object",
        "required": ["version", "findings", "summary"],
        "properties": {
            "version": {"const": 1},
            "findings": {"type": "array", "items": finding},
            "summary": {
                "type": "object",
                "required": ["error", "warning", "info"],
                "properties": {"error": _COUNT, "warning": _COUNT, "info": _COUNT},
                "additionalProperties": False,
            },
            "errors": {
                "type": "array",
                "description": "inputs dockwise could not check (exit status 2)",
                "items": {
                    "type": "object",
                    "required": ["path", "line", "message"],
                    "properties": {
                        "path": {"type": "string"},
                        "line": _NULLABLE_LINE,
                        "message": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
            },
            "notes": {
                "type": "array",
                "description": "what did not run and why (a missing external tool)",
                "items": {"type": "string"},
            },
            "image": image,
            "usage": usage,
        },
        "additionalProperties": False,
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "Print the JSON Schema of `dockwise check --format json`."


def run(args: argparse.Namespace, debug: bool = False) -> int:
    print(json.dumps(check_schema(), indent=2))
    return 0
