"""Rules of the health lesson."""

from __future__ import annotations
