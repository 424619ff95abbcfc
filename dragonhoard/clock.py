"""The one source of "now" for everything that compares times.

Tests freeze it (``tests/conftest.py``'s ``clock`` fixture) to check expiry at
the second boundary; production code never calls ``datetime.now`` itself.
"""
from __future__ import annotations

from datetime import UTC, datetime

UTC = UTC


def _system_now() -> datetime:
    return datetime.now(UTC)


_now = _system_now


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()


def set_now(fn=None) -> None:
    """Replace the clock (tests only); ``None`` restores the system clock."""
    global _now
    _now = fn or _system_now
