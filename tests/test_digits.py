"""Numbers read from text (dockwise/digits.py): never an int() that raises."""

from __future__ import annotations

import pytest

from dockwise.digits import is_digits, small_int


@pytest.mark.parametrize("text", ["0", "8000", "007", "9" * 18])
def test_plain_ascii_numbers(text: str) -> None:
    assert is_digits(text) and small_int(text) == int(text)


@pytest.mark.parametrize(
    "text", ["", "²", "①", "٣", "8000²", "9" * 19, "9" * 5000, "-1", "+1", " 1", "1.0", "0x10"]
)
def test_anything_else_is_no_number(text: str) -> None:
    assert not is_digits(text) and small_int(text) is None
