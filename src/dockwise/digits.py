"""Numbers written as text, read safely.

`str.isdigit()` is true for superscripts and other scripts' digits (`²`, `①`) that `int()`
rejects, and `int()` refuses more than 4,300 digits: a check that passes `isdigit()` and
then calls `int()` breaks on hostile input. Every place that reads a port, a count, a
signal or an index from text asks here instead."""

from __future__ import annotations

MAX_DIGITS = 18  # beyond any port, count or duration dockwise checks, and still a float


def is_digits(text: str) -> bool:
    """True for a plain decimal number of ASCII digits `int()` reads and a float holds
    (at most MAX_DIGITS digits, no sign, no space)."""
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


def small_int(text: str) -> int | None:
    """The value of `text` when is_digits(text), else None."""
    return int(text) if is_digits(text) else None
