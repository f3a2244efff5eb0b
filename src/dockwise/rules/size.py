"""Rules of the size lesson."""

from __future__ import annotations
