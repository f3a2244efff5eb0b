"""Rules of the limits lesson."""

from __future__ import annotations
