"""Size gates on a built image: a size budget and dive's CI thresholds.

They come from `[tool.dockwise.image]` (`max-size`, `lowest-efficiency`,
`highest-wasted-bytes`, `highest-user-wasted-percent`), from a `.dive-ci` file read as dive
reads it (its `rules:` keys: `lowestEfficiency`, `highestWastedBytes`,
`highestUserWastedPercent`, each a value or `disabled`) and from `dockwise image` options,
later ones winning. Sizes are read as dive reads them (go-humanize): `200MB` is 200*1000^2
bytes, `200MiB` 200*1024^2; ratios are `0.9` or `90%`.

Light on purpose: config.py imports it on every run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from msgspec import Struct
from msgspec.structs import fields, replace

from dockwise.units import BYTE_UNITS

GATE_KEYS = {
    "max-size": "max_size",
    "lowest-efficiency": "lowest_efficiency",
    "highest-wasted-bytes": "highest_wasted_bytes",
    "highest-user-wasted-percent": "highest_user_wasted_percent",
}
DIVE_KEYS = {
    "lowestEfficiency": "lowest_efficiency",
    "highestWastedBytes": "highest_wasted_bytes",
    "highestUserWastedPercent": "highest_user_wasted_percent",
}
_UNITS = BYTE_UNITS
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")


class GateError(ValueError):
    """A gate value dockwise cannot read (the message says what was expected)."""


class Gates(Struct, frozen=True):
    max_size: int | None = None
    lowest_efficiency: float | None = None
    highest_wasted_bytes: int | None = None
    highest_user_wasted_percent: float | None = None

    def any(self) -> bool:
        return any(getattr(self, item.name) is not None for item in fields(self))

    def merged(self, other: Gates) -> Gates:
        """These gates with every value `other` sets."""
        changes = {
            item.name: getattr(other, item.name)
            for item in fields(other)
            if getattr(other, item.name) is not None
        }
        return replace(self, **changes)


def parse_size(value: object) -> int:
    if isinstance(value, bool):
        raise GateError(f"a size such as 200MB, not {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise GateError(f"a size such as 200MB, not {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise GateError(f"a size such as 200MB, not {value!r}")
    match = _SIZE.match(value)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise GateError(f"a size such as 200MB or 1.5GiB, not {value!r}")
    return int(float(match.group(1)) * _UNITS[unit])


def parse_ratio(value: object) -> float:
    """`0.9`, `90%` -> 0.9."""
    if isinstance(value, bool):
        raise GateError(f"a ratio such as 0.9 or 90%, not {value!r}")
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            ratio = float(value.strip()[:-1]) / 100
        elif isinstance(value, int | float | str):
            ratio = float(value)
        else:
            raise ValueError
    except ValueError:
        raise GateError(f"a ratio such as 0.9 or 90%, not {value!r}") from None
    if not 0 <= ratio <= 1:
        raise GateError(f"a ratio between 0 and 1 (or 0% and 100%), not {value!r}")
    return ratio


def _parse(field_name: str, value: object) -> int | float:
    if field_name in ("max_size", "highest_wasted_bytes"):
        return parse_size(value)
    return parse_ratio(value)


def gates_from_table(table: Mapping[str, object]) -> Gates:
    """`[tool.dockwise.image]`; raises GateError naming the key."""
    values: dict[str, int | float] = {}
    for key, value in table.items():
        if key not in GATE_KEYS:
            raise GateError(f"{key}: unknown setting (known: {', '.join(GATE_KEYS)})")
        try:
            values[GATE_KEYS[key]] = _parse(GATE_KEYS[key], value)
        except GateError as error:
            raise GateError(f"{key}: must be {error}") from None
    return Gates(**values)  # type: ignore[arg-type]


def gates_from_dive_ci(text: str, where: str = ".dive-ci") -> Gates:
    """A `.dive-ci` file's `rules:`; `disabled` turns a rule off (dive's defaults are not
    applied: dockwise gates only on what is asked)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        raise GateError(f"{where}: not YAML ({type(error).__name__})") from None
    if document is None:
        return Gates()
    rules = document.get("rules") if isinstance(document, Mapping) else None
    if rules is None:
        return Gates()
    if not isinstance(rules, Mapping):
        raise GateError(f"{where}: rules: must be a mapping")
    values: dict[str, int | float] = {}
    for key, value in rules.items():
        if key not in DIVE_KEYS:
            raise GateError(f"{where}: rules.{key}: unknown rule (known: {', '.join(DIVE_KEYS)})")
        if isinstance(value, str) and value.strip().lower() == "disabled":
            continue
        try:
            values[DIVE_KEYS[key]] = _parse(DIVE_KEYS[key], value)
        except GateError as error:
            raise GateError(f"{where}: rules.{key}: must be {error}") from None
    return Gates(**values)  # type: ignore[arg-type]
