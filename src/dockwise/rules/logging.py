"""Rules of the logging lesson."""

from __future__ import annotations
