"""Rules of the secrets lesson."""

from __future__ import annotations
