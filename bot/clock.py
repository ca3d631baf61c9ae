"""Time is injected: code asks a :class:`Clock`, tests move a fake one.

All stored times are aware UTC; local time (Europe/London by default) is only for
what people read and type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

__all__ = ["UTC", "Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
