"""The fast indented JSON encoder writes exactly what json.dumps(indent=2) writes."""

from __future__ import annotations

import json
import random

import pytest

from dockwise.jsontext import dumps_indented

STRINGS = ["", "a", "é", "日本", "\x00\x1f", '"\\/', "\ud800", "tab\there", "\u2028", "😀"]
SCALARS: list[object] = [None, True, False, 0, -1, 2**70, 0.1, -2.5e-300, 1e300, float("nan")]
SCALARS += [float("inf"), -float("inf"), *STRINGS]


def _value(rng: random.Random, depth: int) -> object:
    roll = rng.random()
    if depth > 4 or roll < 0.5:
        return rng.choice(SCALARS)
    if roll < 0.75:
        return {
            rng.choice(STRINGS) + str(i): _value(rng, depth + 1) for i in range(rng.randint(0, 4))
        }
    items = [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return items if rng.random() < 0.7 else tuple(items)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_same_text_as_json_dumps(ensure_ascii: bool) -> None:
    rng = random.Random(5)
    for _ in range(2000):
        value = _value(rng, 0)
        assert dumps_indented(value, ensure_ascii=ensure_ascii) == json.dumps(
            value, indent=2, ensure_ascii=ensure_ascii
        )


def test_values_it_does_not_lay_out_go_to_json() -> None:
    class Number(int):
        pass

    for value in ({1: "int key"}, {"n": Number(3)}, [{"k": {True: None}}]):
        assert dumps_indented(value) == json.dumps(value, indent=2)
    with pytest.raises(TypeError):
        dumps_indented({"x": object()})
