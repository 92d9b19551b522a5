"""The clock is injected so tests can pin "now"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], str]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def utc_now_iso() -> str:
    return utc_now().isoformat()


def fixed_clock(iso: str) -> Clock:
    """A clock that always answers `iso` (for tests and reproducible runs)."""
    return lambda: iso
