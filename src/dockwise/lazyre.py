"""Regular expressions compiled on first use.

dockwise holds a few hundred patterns; compiling them all at import costs tens of
milliseconds of start-up, while a typical run uses a fraction of them.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _LazyPattern:
    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(*self._args)
        return getattr(compiled, name)


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Like `re.compile`, but the work happens when the pattern is first used."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
