"""Configuration: `[tool.dockwise]` in pyproject.toml or a `.dockwise.toml`, found upward."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dockwise.findings import Severity

CONFIG_FILES = (".dockwise.toml", "pyproject.toml")
LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")


class ConfigError(Exception):
    """A configuration file dockwise cannot use; the message names the file."""


@dataclass(frozen=True)
class Config:
    source: str | None = None
    select: tuple[str, ...] = ()  # rule ids, id prefixes or lessons; empty = defaults
    extend_select: tuple[str, ...] = ()  # added to the selection, opt-in rules included
    ignore: tuple[str, ...] = ()
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: str | None = None
    label_schema: Mapping[str, str] = field(default_factory=dict)
    strict_labels: bool = False
    trusted_registries: tuple[str, ...] = ()
    disable_ignore_pragmas: bool = False
    target: str | None = None

    def selects(self, rule_id: str, lesson: str, default_enabled: bool) -> bool:
        if _matches_any(rule_id, lesson, self.ignore):
            return False
        if _matches_any(rule_id, lesson, self.extend_select):
            return True
        if self.select:
            return _matches_any(rule_id, lesson, self.select) and (
                default_enabled or _names_exactly(rule_id, self.select)
            )
        return default_enabled

    def ignored_at(self, rule_id: str, lesson: str, path: str) -> bool:
        for pattern, rules in self.per_path_ignores.items():
            if _path_matches(path, pattern) and _matches_any(rule_id, lesson, rules):
                return True
        return False


def _names_exactly(rule_id: str, selectors: tuple[str, ...]) -> bool:
    return rule_id in selectors or "ALL" in selectors


def _matches_any(rule_id: str, lesson: str, selectors: tuple[str, ...]) -> bool:
    for selector in selectors:
        if selector in ("ALL", lesson) or rule_id.startswith(selector):
            return True
    return False


def _path_matches(path: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(
        path, pattern.rstrip("/") + "/*"
    )


def find_config(start: Path) -> Path | None:
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.resolve().parents]:
        for name in CONFIG_FILES:
            path = candidate / name
            if path.is_file() and (name != "pyproject.toml" or _has_tool_table(path)):
                return path
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return "[tool.dockwise" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    table = data.get("tool", {}).get("dockwise", {}) if path.name == "pyproject.toml" else data
    return config_from_table(table, str(path))


def config_from_table(table: Mapping[str, object], source: str | None = None) -> Config:
    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, ())
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{source}: '{key}' must be a list of strings")
        return tuple(v.strip() for v in value)

    known = {
        "select",
        "ignore",
        "per-path-ignores",
        "severity",
        "fail-on",
        "label-schema",
        "strict-labels",
        "trusted-registries",
        "disable-ignore-pragmas",
        "extend-select",
        "target",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting '{unknown[0]}' (known: {', '.join(sorted(known))})"
        )
    severity: dict[str, Severity] = {}
    for rule_id, level in _table(table, "severity", source).items():
        try:
            severity[rule_id] = Severity.parse(str(level))
        except ValueError as error:
            raise ConfigError(f"{source}: severity.{rule_id}: {error}") from None
    schema = {str(k): str(v) for k, v in _table(table, "label-schema", source).items()}
    for name, kind in schema.items():
        if kind not in LABEL_TYPES:
            raise ConfigError(f"{source}: label-schema.{name}: unknown type {kind!r}")
    per_path = {
        str(pattern): tuple(rules) if isinstance(rules, list) else (str(rules),)
        for pattern, rules in _table(table, "per-path-ignores", source).items()
    }
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in ("error", "warning", "info", "never"):
        raise ConfigError(f"{source}: fail-on must be error, warning, info or never")
    return Config(
        source=source,
        select=strings("select"),
        ignore=strings("ignore"),
        per_path_ignores=MappingProxyType(per_path),
        severity=MappingProxyType(severity),
        fail_on=fail_on if isinstance(fail_on, str) else None,
        label_schema=MappingProxyType(schema),
        strict_labels=bool(table.get("strict-labels", False)),
        trusted_registries=strings("trusted-registries"),
        disable_ignore_pragmas=bool(table.get("disable-ignore-pragmas", False)),
        extend_select=strings("extend-select"),
        target=str(table["target"]) if "target" in table else None,
    )


def _table(table: Mapping[str, object], key: str, source: str | None) -> Mapping[str, object]:
    value = table.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: '{key}' must be a table")
    return value
