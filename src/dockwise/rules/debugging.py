"""Rules of the debugging lesson."""

from __future__ import annotations
