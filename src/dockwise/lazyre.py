"""Regular expressions compiled on first use.

dockwise holds a few hundred patterns; compiling them all at import costs tens of
milliseconds of start-up, while a typical run uses a fraction of them.
"""

from __future__ import annotations

import re
from typing import Any, cast

# what a compiled pattern offers; copied onto the lazy one when it is compiled, so that
# later uses cost a plain attribute lookup
_PATTERN_ATTRIBUTES = (
    "search",
    "match",
    "fullmatch",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
    "scanner",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class _LazyPattern:
    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        # only reached for what is not set yet: the first use of the pattern
        if name.startswith("_"):
            raise AttributeError(name)
        compiled = re.compile(*self._args)
        for attribute in _PATTERN_ATTRIBUTES:
            setattr(self, attribute, getattr(compiled, attribute))
        self._compiled = compiled
        return getattr(compiled, name)


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Like `re.compile`, but the work happens when the pattern is first used."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
