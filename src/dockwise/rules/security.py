"""Rules of the security lesson."""

from __future__ import annotations
