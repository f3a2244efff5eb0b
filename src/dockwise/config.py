"""Configuration: `[tool.dockwise]` in pyproject.toml or a `.dockwise.toml`, found upward."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from msgspec import Struct, field

from dockwise.findings import Severity
from dockwise.imagescan.gates import GateError, Gates, gates_from_table

CONFIG_FILES = (".dockwise.toml", "pyproject.toml")
LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")


class ConfigError(Exception):
    """A configuration file dockwise cannot use; the message names the file."""


class Config(Struct, frozen=True):
    source: str | None = None  # the file it was read from
    section: str = ""  # how its keys are named in that file: "tool.dockwise." in pyproject
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
    # `[tool.dockwise.image]`: size gates on built images (imagescan/gates.py)
    image_gates: Gates = field(default_factory=lambda: Gates())

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
    """The nearest `.dockwise.toml`, or `pyproject.toml` with a `[tool.dockwise]` table, in
    the folder of `start` or above. A folder that cannot be read is skipped, not fatal."""
    try:
        folder = start if start.is_dir() else start.parent
        chain = [folder, *folder.resolve().parents]
    except OSError:
        return None
    for candidate in chain:
        for name in CONFIG_FILES:
            path = candidate / name
            try:
                found = path.is_file()
            except OSError:  # an unreadable folder on the way up: look further up
                found = False
            if found and (name != "pyproject.toml" or _has_tool_table(path)):
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
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read: not valid UTF-8") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    if path.name != "pyproject.toml":
        return config_from_table(data, str(path))
    tool = data.get("tool", {})
    table = tool.get("dockwise", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.dockwise must be a table")
    return config_from_table(table, str(path), "tool.dockwise.")


KNOWN_SETTINGS = (
    "image",
    "select",
    "extend-select",
    "ignore",
    "per-path-ignores",
    "severity",
    "fail-on",
    "label-schema",
    "strict-labels",
    "trusted-registries",
    "disable-ignore-pragmas",
    "target",
)
FAIL_ON = ("error", "warning", "info", "never")


def normalize_selector(item: str) -> str:
    """Rule ids and `ALL` are case-insensitive; lessons are lowercase words."""
    text = item.strip()
    upper = text.upper()
    if upper.startswith("DW") or upper == "ALL":
        return upper
    return text.lower() if text.lower() in _lessons() else text


def _lessons() -> tuple[str, ...]:
    from dockwise.findings import LESSONS

    return LESSONS


def config_from_table(
    table: Mapping[str, object], source: str | None = None, key_prefix: str = ""
) -> Config:
    """A Config from a parsed TOML table; every value is type-checked, and anything dockwise
    cannot use is one ConfigError naming the file and the key. Rule ids are checked
    separately (`check_rule_ids`), once the rules are loaded."""
    where = source or "configuration"

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: {key_prefix}{key}: {problem}")

    def string_list(key: str, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise fail(key, f"must be a list of strings, not {_shown(value)}")
        return tuple(v.strip() for v in value if v.strip())

    def selectors(key: str, value: object) -> tuple[str, ...]:
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise fail(
                key,
                f'must be a list of rule ids, prefixes or lessons ("DW901"), not {_shown(value)}',
            )
        return tuple(normalize_selector(v) for v in string_list(key, value))

    def sub_table(key: str) -> Mapping[str, object]:
        value = table.get(key, {})
        if not isinstance(value, Mapping):
            raise fail(key, f"must be a table, not {_shown(value)}")
        return value

    def flag(key: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise fail(key, f"must be true or false, not {_shown(value)}")
        return value

    def text(key: str, choices: tuple[str, ...] = ()) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, not {_shown(value)}")
        if choices and value not in choices:
            raise fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    unknown = sorted(set(table) - set(KNOWN_SETTINGS))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], KNOWN_SETTINGS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise fail(unknown[0], f"unknown setting ({hint}known: {', '.join(KNOWN_SETTINGS)})")

    severity: dict[str, Severity] = {}
    for rule_id, level in sub_table("severity").items():
        if not isinstance(level, str):
            raise fail(
                f"severity.{rule_id}", f"must be error, warning or info, not {_shown(level)}"
            )
        try:
            severity[rule_id.strip().upper()] = Severity.parse(level)
        except ValueError:
            raise fail(
                f"severity.{rule_id}", f"must be error, warning or info, not {_shown(level)}"
            ) from None

    schema: dict[str, str] = {}
    for name, kind in sub_table("label-schema").items():
        if not isinstance(kind, str) or kind not in LABEL_TYPES:
            raise fail(
                f"label-schema.{name}",
                f"must be one of {', '.join(LABEL_TYPES)}, not {_shown(kind)}",
            )
        schema[name] = kind

    per_path = {
        pattern: selectors(f"per-path-ignores.{pattern}", rules)
        for pattern, rules in sub_table("per-path-ignores").items()
    }
    try:
        image_gates = gates_from_table(sub_table("image"))
    except GateError as error:
        raise fail("image.", str(error)) from None
    return Config(
        source=source,
        section=key_prefix,
        image_gates=image_gates,
        select=selectors("select", table.get("select", ())),
        ignore=selectors("ignore", table.get("ignore", ())),
        per_path_ignores=MappingProxyType(per_path),
        severity=MappingProxyType(severity),
        fail_on=text("fail-on", FAIL_ON),
        label_schema=MappingProxyType(schema),
        strict_labels=flag("strict-labels"),
        trusted_registries=string_list("trusted-registries", table.get("trusted-registries", ())),
        disable_ignore_pragmas=flag("disable-ignore-pragmas"),
        extend_select=selectors("extend-select", table.get("extend-select", ())),
        target=text("target"),
    )


def _shown(value: object) -> str:
    """A TOML value as the user wrote it, shortly: `901`, `"false"`, `[1, 2]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:40]}..."'
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:40] + "..."


def unknown_selector(selector: str, rule_ids: Iterable[str]) -> bool:
    """True when `selector` names no rule: not a lesson, not ALL, no id starts with it."""
    if selector in _lessons() or selector == "ALL":
        return False
    return not any(rule_id.startswith(selector) for rule_id in rule_ids)


def check_rule_ids(config: Config, rule_ids: Iterable[str]) -> None:
    """Every selector in the configuration names a rule, a prefix or a lesson; every
    severity override names one rule. Raises ConfigError naming the file and the key."""
    ids = sorted(rule_ids)
    where = config.source or "configuration"
    lists: list[tuple[str, tuple[str, ...]]] = [
        ("select", config.select),
        ("extend-select", config.extend_select),
        ("ignore", config.ignore),
        *((f"per-path-ignores.{p}", rules) for p, rules in config.per_path_ignores.items()),
    ]
    for key, selectors in lists:
        for selector in selectors:
            if unknown_selector(selector, ids):
                raise ConfigError(
                    f"{where}: {config.section}{key}: unknown rule or lesson {selector!r} "
                    f"(lessons: {', '.join(_lessons())}; rules: `dockwise rules`)"
                )
    for rule_id in config.severity:
        if rule_id not in ids:
            raise ConfigError(
                f"{where}: {config.section}severity.{rule_id}: unknown rule (see `dockwise rules`)"
            )
