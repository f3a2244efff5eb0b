"""Progress bars for long scans (image layers, large build contexts): rich, on stderr, and
only when stderr is a terminal; everywhere else (CI logs, pipes, --quiet) a no-op that costs
nothing and imports nothing.

    from dockwise.report.progress import progress

    with progress(total=len(layers), description="reading layers", quiet=args.quiet) as advance:
        for layer in layers:
            ...
            advance(1)           # or advance(bytes_read) with total in bytes
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")


def _nothing(amount: float = 1) -> None:
    return None


@contextmanager
def progress(
    total: float | None,
    description: str,
    *,
    quiet: bool = False,
    stream: TextIO | None = None,
) -> Iterator[Callable[[float], None]]:
    """A context giving `advance(amount=1)`. `total=None` draws an indeterminate bar.
    The bar is drawn on `stream` (stderr) only if it is a TTY and not `quiet`; the report on
    stdout is never touched. The bar disappears when the work is done."""
    stream = stream or sys.stderr
    if quiet or not _is_tty(stream):
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=stream)
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(amount: float = 1) -> None:
            bar.advance(task, amount)

        yield advance


def track(
    items: Iterable[T], description: str, *, total: int | None = None, quiet: bool = False
) -> Iterator[T]:
    """Each item of `items`, with a bar advancing one step per item (same rules as
    `progress`): `for layer in track(layers, "reading layers", quiet=args.quiet): ...`."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with progress(total, description, quiet=quiet) as advance:
        for item in items:
            yield item
            advance(1)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
