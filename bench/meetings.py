"""Meetings figures, on SQLite, with 10,000 meetings that all have reminders:

* start-up scheduling: what ``App.start`` spends putting reminders back on the
  timer (the meetings start hook), and the whole start for scale; and, for
  comparison, recomputing every meeting's next reminder from its rule;
* lag from due time to the reminder being queued (its outbox row committed) when
  1,000 reminders fall due at the same moment, on the real timer and clock — with
  the CPU time that took and the machine's load, since on a shared machine the
  lag is mostly waiting for a core;
* memory: peak resident size, and what start-up plus the burst allocate
  (tracemalloc, in a run of its own so tracing does not slow the timings).
"""

from __future__ import annotations

import asyncio
import bisect
import os
import resource
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from bench.common import RUNS, scratch_sqlite, table
from bot.app import App
from bot.commands import build_registry
from bot.config import Config, DatabaseSettings
from bot.dates.schedule import Schedule
from bot.dates.when import understand
from bot.meetings import reminders
from storage.db import Database
from storage.meetings import Meeting, MeetingTarget
from storage.migrate import upgrade
from storage.models import Chat, OutboxRow

MEETINGS = 10_000
BURST = 1_000
CHATS = 500
LEAD = timedelta(seconds=3)  # the burst falls due this long after start-up
ZONE = ZoneInfo("Europe/London")
REPEATS = (
    "every Saturday 10:00",
    "first Tuesday of the month 19:30",
    "every 2 weeks on Thursday 18:00",
    "the 12th of every month 19:00",
    "every Monday 19:30",
    "last day of the month 18:00",
)


@dataclass
class Run:
    hook: float
    start: float
    lags: list[float]
    cpu: float  # process CPU seconds from start-up to the burst queued: the work itself


async def _fill(url: str) -> None:
    """Chats, 9,000 repeating meetings spread over the coming weeks, and 1,000
    one-off meetings with a one-hour reminder (timed by :func:`_burst`)."""
    database = Database(url)
    await upgrade(database)
    now = datetime.now(UTC)
    understood = [understand(text, ZONE, now) for text in REPEATS]
    rows = []
    for number in range(MEETINGS):
        if number < BURST:
            later = now + timedelta(days=1)
            schedule, next_at, remind = Schedule(later, "", ZONE), later, "60"
        else:
            schedule = understood[number % len(understood)].schedule
            next_at = next(due for due, _, _ in schedule.reminders((1440, 60), now))
            remind = None
        rows.append(
            {
                "chat_id": number % CHATS + 1,
                "title": f"Meeting {number}",
                "place": "Union office",
                "link": "",
                "agenda": "",
                "zone": ZONE.key,
                "starts_at": schedule.start,
                "rule": schedule.rule,
                "repeat_text": "",
                "reminders": remind,
                "status": "active",
                "revision": 0,
                "next_reminder_at": next_at,
                "created_at": now,
            }
        )
    async with database.session() as session:
        await session.execute(
            insert(Chat),
            [
                {
                    "platform": "bench",
                    "platform_chat_id": str(n),
                    "title": f"chat {n}",
                    "kind": "group",
                    "active": True,
                    "approved": True,
                    "inactive_reason": "",
                    "created_at": now,
                }
                for n in range(CHATS)
            ],
        )
        await session.execute(insert(Meeting), rows)
        await session.execute(
            insert(MeetingTarget),
            [{"meeting_id": n + 1, "chat_id": n % CHATS + 1} for n in range(MEETINGS)],
        )
    await database.close()


async def _burst(app: App) -> datetime:
    """Make the 1,000 one-off meetings' reminders fall due just after start-up."""
    due = datetime.now(UTC) + LEAD
    async with app.db.session() as session:
        await session.execute(
            update(Meeting)
            .where(Meeting.reminders == "60")
            .values(next_reminder_at=due, starts_at=due + timedelta(hours=1))
        )
    return due


async def _one_run() -> Run:
    url = scratch_sqlite()
    await _fill(url)
    app = App(Config(database=DatabaseSettings(url=url)), registry=build_registry())
    committed: list[datetime] = []
    woken = asyncio.Event()

    def on_commit(_: str) -> None:
        committed.append(datetime.now(UTC))
        woken.set()

    app.outbox.on_enqueue(on_commit)
    due = await _burst(app)
    began = time.perf_counter()
    await app.start()
    start = time.perf_counter() - began
    began = time.perf_counter()
    await reminders.on_start(app.services)
    hook = time.perf_counter() - began
    cpu = time.process_time()
    try:
        async with asyncio.timeout(120):
            while await _queued(app) < BURST:
                await woken.wait()
                woken.clear()
        for _ in range(1000):  # stop only once the run has finished and set the timer again
            if app.timer.pending().get(reminders.TIMER_KEY, due) > due:
                break
            await asyncio.sleep(0.01)
        cpu = time.process_time() - cpu
        async with app.db.session() as session:
            created = list(await session.scalars(select(OutboxRow.created_at)))
    finally:
        await app.stop()
    committed.sort()
    lags = [
        (
            committed[min(bisect.bisect_left(committed, at), len(committed) - 1)] - due
        ).total_seconds()
        for at in created
    ]
    return Run(hook, start, lags, cpu)


async def _queued(app: App) -> int:
    async with app.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


async def _recompute() -> float:
    """Every meeting's next reminder recomputed from its rule, in one transaction."""
    url = scratch_sqlite()
    await _fill(url)
    app = App(Config(database=DatabaseSettings(url=url)), registry=build_registry())
    await upgrade(app.db)
    try:
        async with app.db.session() as session:
            meetings = list(await session.scalars(select(Meeting)))
            began = time.perf_counter()
            await reminders.reschedule(session, app.services, meetings)
            return time.perf_counter() - began
    finally:
        await app.db.close()


async def _memory() -> tuple[float, float]:
    """(tracemalloc peak over start-up and the burst, MiB; peak RSS so far, MiB)."""
    tracemalloc.start()
    try:
        await _one_run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def main() -> None:
    runs = [await _one_run() for _ in range(RUNS)]
    recompute = statistics.median([await _recompute() for _ in range(3)])
    traced, rss = await _memory()
    hooks = statistics.median(r.hook for r in runs)
    starts = statistics.median(r.start for r in runs)
    p50 = statistics.median(statistics.median(r.lags) for r in runs)
    p99 = statistics.median(_p99(r.lags) for r in runs)
    worst = statistics.median(max(r.lags) for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    load = os.getloadavg()[0]
    table(
        f"Meetings (SQLite, {MEETINGS:,} meetings with reminders, median of {RUNS} runs)",
        [
            ("start-up: reminders rescheduled (hook)", f"{hooks * 1000:8.1f} ms   (goal ≤ 2 s)"),
            ("start-up: whole App.start", f"{starts * 1000:8.1f} ms"),
            ("recompute all next reminders from rules", f"{recompute * 1000:8.1f} ms"),
            (f"lag due → queued, {BURST:,} due at once: p50", f"{p50 * 1000:8.1f} ms"),
            ("                                      p99", f"{p99 * 1000:8.1f} ms   (goal ≤ 1 s)"),
            ("                                      max", f"{worst * 1000:8.1f} ms"),
            ("CPU time of the burst (all 1,000)", f"{cpu * 1000:8.1f} ms"),
            ("machine load average (2 cores)", f"{load:8.1f}   (lags scale with it)"),
            ("memory: allocated over start + burst", f"{traced:8.1f} MiB (tracemalloc peak)"),
            ("memory: peak resident size", f"{rss:8.1f} MiB (ru_maxrss, whole bench)"),
        ],
    )
