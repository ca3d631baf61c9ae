"""The timer: APScheduler wakes us at the right moment; the tables are the truth.

Meetings, reminders and poll closings live in our own tables. A feature asks the
timer to call it back at a time (:meth:`Timer.at`), keyed so that asking again
replaces the earlier call. At start every feature schedules its future work again
from its tables (``Registry.on_start``), and :meth:`Timer.run_due` runs what fell
due while the bot was down. The job store is APScheduler's in-memory one: its
SQLAlchemy store is synchronous, pickles jobs and must not be shared between
processes (APScheduler's own FAQ), and we need none of that.

Callbacks must be idempotent and claim their work in the database, because two
bot processes may share one database and both be woken. Of several processes, only
the one elected for it fires timers (:mod:`storage.leadership`); the others keep
theirs *paused* — :meth:`when` still answers — and tell the leader when they arm
one (:meth:`on_armed`), so that it arms it again from the tables.

With an injected clock (tests), nothing runs by itself: the test moves the clock
and calls :meth:`run_due`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import UTC, Clock

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]
Lateness = Callable[[timedelta], None]
STOP_GRACE_SECONDS = 10.0


class Timer:
    def __init__(
        self, clock: Clock, *, real_time: bool = True, on_late: Lateness | None = None
    ) -> None:
        self.clock = clock
        self.real_time = real_time
        # Told how late each timed call (not soon()'s) ran: the reminder lag.
        self.on_late = on_late
        self._jobs: dict[str, tuple[datetime, Callback]] = {}
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[Any]] = set()
        self._soon: set[str] = set()
        self._stopping = False
        self.firing = True
        self._armed: list[Callable[[str], None]] = []

    def start(self, *, firing: bool = True) -> None:
        """Start the scheduler; unless ``firing``, paused until :meth:`resume`."""
        self._stopping = False
        self.firing = firing
        if self.real_time:
            self._scheduler.start(paused=not firing)

    def resume(self) -> None:
        """This process fires the timers now (it was elected to)."""
        self.firing = True
        if self._scheduler.running:
            self._scheduler.resume()

    def pause(self) -> None:
        """Another process fires the timers from now on."""
        self.firing = False
        if self._scheduler.running:
            self._scheduler.pause()

    def on_armed(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(key)`` whenever a call is armed while not firing."""
        self._armed.append(listener)

    async def stop(self) -> None:
        """Start nothing more, and let callbacks already running finish: cancelled
        halfway, one would roll back (harmless) but interrupt its database
        connection mid-reset, which SQLAlchemy reports with a traceback."""
        self._stopping = True
        if self._scheduler.running and self.firing:
            self._scheduler.pause()
        if self._running:
            await asyncio.wait(self._running, timeout=STOP_GRACE_SECONDS)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def soon(self, key: str, callback: Callback) -> None:
        """Call ``callback`` now, in the background — whatever the clock, as it is
        work to do rather than a time to wait for — unless the same key's call is
        still running. Stopping waits for it like any other callback."""
        if self._stopping or key in self._soon:
            return
        self._soon.add(key)
        self._jobs[key] = (self.clock.now(), callback)
        task = asyncio.create_task(self._fire(key), name=key)
        task.add_done_callback(lambda _task: self._soon.discard(key))

    def at(self, key: str, when: datetime, callback: Callback) -> None:
        """Call ``callback`` at ``when`` (at once if that has passed); replaces any
        earlier call with the same key."""
        self._jobs[key] = (when, callback)
        if self.real_time:
            self._scheduler.add_job(
                self._fire,
                DateTrigger(run_date=max(when, self.clock.now())),
                args=[key],
                id=key,
                replace_existing=True,
                misfire_grace_time=None,
            )
        if not self.firing:
            for listener in self._armed:
                listener(key)

    def cancel(self, key: str) -> None:
        if self._jobs.pop(key, None) is not None and self.real_time:
            self._scheduler.remove_job(key)

    def pending(self) -> dict[str, datetime]:
        return {key: when for key, (when, _) in self._jobs.items()}

    def when(self, key: str) -> datetime | None:
        """When ``key``'s call is due, or ``None`` if none is pending. Cheap: a poll
        asks on every press."""
        job = self._jobs.get(key)
        return None if job is None else job[0]

    async def run_due(self) -> int:
        """Run every callback whose time has come, by our clock; return how many."""
        now = self.clock.now()
        due = sorted((when, key) for key, (when, _) in self._jobs.items() if when <= now)
        for _, key in due:
            await self._fire(key)
        return len(due)

    async def _fire(self, key: str) -> None:
        job = self._jobs.pop(key, None)
        if job is None:
            return
        if self.real_time and self._scheduler.get_job(key):
            self._scheduler.remove_job(key)
        task = asyncio.current_task()
        assert task is not None  # APScheduler runs each job as a task, and so does soon()
        if self.on_late is not None and key not in self._soon:
            self.on_late(self.clock.now() - job[0])
        self._running.add(task)
        try:
            await job[1]()
        except Exception:
            log.exception("timer job %s failed", key)
        finally:
            self._running.discard(task)
