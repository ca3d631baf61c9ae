"""What the running bot counts about itself, for ``/status`` and ``/metrics``.

The core imports no monitoring library (the ``[metrics]`` extra is optional): it
counts here, in plain numbers, and :mod:`adapters.prometheus` translates a
:class:`Snapshot` into Prometheus' text when scraped. Counters live in the process
(updates handled, and each sender's own :class:`~bot.outbox.sender.SenderStats`);
what the database knows better — how many messages wait and since when — is read
from it when asked, so that it is true across every process sharing the database.

:class:`ErrorLog` keeps the last few errors logged, for an admin's ``/status``:
when, where and what kind — never the message's arguments or the exception's
text, which may quote a person's words.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import UTC
from bot.outbox.sender import SenderStats
from storage import outbox as table

ERRORS_KEPT = 5
# Only our own code's errors: their fixed texts are ours, known to hold no one's
# words; a library's may have been formatted before it was logged.
OWN_LOGGERS = ("bot", "adapters", "storage")
# A %-style placeholder in a log line's fixed text, where an argument went.
PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdrfixa]")


@dataclass(frozen=True)
class Backlog:
    """One platform's messages not yet sent or given up on."""

    waiting: int
    oldest_seconds: float


@dataclass(frozen=True)
class Snapshot:
    updates: dict[str, int]
    deliveries: dict[str, SenderStats]
    backlog: dict[str, Backlog]
    # How late the timer fired its last timed job (reminders, poll closes), in
    # seconds; None until one fired.
    timer_lag: float | None
    uptime_seconds: float


@dataclass(frozen=True)
class LoggedError:
    at: datetime
    where: str  # the logger's name, e.g. bot.core
    what: str  # the log line's fixed text and the exception's type


class ErrorLog(logging.Handler):
    """The last :data:`ERRORS_KEPT` records at error level or above, without their
    arguments: ``"handling %s failed"`` is kept as "handling … failed", so no name or
    message text that an argument or an exception carried is kept or shown."""

    def __init__(self, kept: int = ERRORS_KEPT) -> None:
        super().__init__(logging.ERROR)
        self.errors: deque[LoggedError] = deque(maxlen=kept)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.partition(".")[0] not in OWN_LOGGERS:
            return
        what = PLACEHOLDER.sub("…", str(record.msg))
        if record.exc_info and record.exc_info[0] is not None:
            what += f" ({record.exc_info[0].__name__})"
        at = datetime.fromtimestamp(record.created, UTC)
        self.errors.append(LoggedError(at, record.name, what))

    def latest(self) -> list[LoggedError]:
        """Newest first."""
        return list(reversed(self.errors))


@dataclass
class Metrics:
    """One process's counters; :meth:`snapshot` adds what the database says."""

    updates: Counter[str] = field(default_factory=Counter)
    deliveries: dict[str, SenderStats] = field(default_factory=dict)
    errors: ErrorLog = field(default_factory=ErrorLog)
    timer_lag: float | None = None
    started: float = field(default_factory=time.monotonic)

    def handled(self, platform: str) -> None:
        """An update (command, button, message, member event) came in."""
        self.updates[platform] += 1

    def sending(self, platform: str, stats: SenderStats) -> None:
        """A platform's sender counts its deliveries in ``stats``."""
        self.deliveries[platform] = stats

    def timer_fired(self, late: timedelta) -> None:
        self.timer_lag = max(late.total_seconds(), 0.0)

    async def snapshot(self, session: AsyncSession, now: datetime) -> Snapshot:
        """The counters, and the backlog as ``session`` reads it (a handler's own:
        on SQLite a second connection would wait for the one the handler holds)."""
        waiting = await table.backlog(session)
        backlog = {
            platform: Backlog(count, max((now - oldest).total_seconds(), 0.0))
            for platform, (count, oldest) in waiting.items()
        }
        for platform in self.deliveries:
            backlog.setdefault(platform, Backlog(0, 0.0))
        return Snapshot(
            dict(self.updates),
            {platform: replace(stats) for platform, stats in self.deliveries.items()},
            backlog,
            self.timer_lag,
            time.monotonic() - self.started,
        )
