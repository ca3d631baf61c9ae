"""Rota figures: one rota posted to 200 chats, 2,000 sign-ups and drops pressed at
once across them, through the real core (a press is a transaction of its own, as a
button press from any platform is), on SQLite and on PostgreSQL.

Each run adds a fresh rota ("every Saturday", four dates, slots Driver:5,
Packing:10, Front desk:5 — 80 places) with ``--to`` to 200 tagged chats, then:

1. 1,500 volunteers press "join the waiting list" (which gives a place while one is
   free) for a date and slot, each in one of the chats, all at once;
2. 500 of them drop out with ``/rota drop``, all at once, while the first
   waiting of each slot is promoted.

And checks, after each run: no slot over capacity; on each date and slot, those on
it are exactly the earliest in the queue still there (waiting lists promoted in
order); every copy in the 200 chats shows the same message, and its counts are the
counts in the tables. Reported: presses per second, medians of :data:`RUNS` runs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.common import scratch_sqlite, table
from bot.app import App
from bot.commands import build_registry
from bot.config import AlertsSettings, Config, DatabaseSettings, RolesSettings
from bot.types import ButtonIn, ChatKind, ChatRef, CommandIn, UserRef
from storage.chats import add_tags, register_chat
from storage.copies import live
from storage.models import OutboxRow
from storage.rotas import POSTED, RotaSignup, RotaSlot
from tests.support.clock import FakeClock
from tests.support.databases import create_postgres_database, drop_postgres_database

CHATS = 200
SIGNUPS = 1_500
DROPS = 500
RUNS = 3
TAG = "bench:rota"
ADMIN = UserRef("telegram", "1", "Organiser")
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
ADD = (
    '"Food bank" "every Saturday 09:30-12:30" "Hub, Market St" '
    f'--slots "Driver:5, Packing:10, Front desk:5" --weeks 4 --to {TAG}'
)
ZONE = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Run:
    signups: float  # presses/s
    drops: float
    refresh: float  # seconds to redraw every copy once the presses are in
    problems: tuple[str, ...]


def _chat(number: int) -> ChatRef:
    return ChatRef("telegram", str(-1_005_000_000 - number), f"Hub {number}", ChatKind.GROUP)


def _person(number: int) -> UserRef:
    return UserRef("telegram", str(20_000 + number), f"Volunteer {number}")


async def _setup(app: App) -> tuple[int, list[tuple[int, str, datetime]]]:
    """The chats, the rota posted to them; its id and every (slot, name, date)."""
    async with app.db.session() as session:
        for number in range(CHATS):
            row = await register_chat(session, _chat(number), app.clock.now(), approve_new=True)
            await add_tags(session, row, [TAG])
    await app.core.handle(CommandIn(_chat(0), ADMIN, "rota", f"add {ADD}"))
    async with app.db.session() as session:
        slots = list(await session.scalars(select(RotaSlot).order_by(RotaSlot.id)))
    rota_id = slots[-1].rota_id
    saturdays = [datetime(2026, 12, 5 + 7 * week, 9, 30, tzinfo=UTC) for week in range(4)]
    choices = [(s.id, s.name, when) for when in saturdays for s in slots if s.rota_id == rota_id]
    return rota_id, choices


async def _timed(events: list[ButtonIn | CommandIn], app: App) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(app.core.handle(event) for event in events))
    return len(events) / (time.perf_counter() - start)


async def _one_run(url: str) -> Run:
    config = Config(
        database=DatabaseSettings(url=url),
        roles=RolesSettings(admins=[f"{ADMIN.platform}:{ADMIN.user_id}"]),
        alerts=AlertsSettings(confirm_above_chats=CHATS),
    )
    clock = FakeClock(FRIDAY)
    app = App(config, registry=build_registry(), clock=clock)
    await app.start()
    try:
        rota_id, choices = await _setup(app)
        picks = [choices[(n * 7) % len(choices)] for n in range(SIGNUPS)]
        signups = [
            ButtonIn(
                _chat(n % CHATS),
                _person(n),
                f"rota:w:{rota_id}:{when:%Y%m%d%H%M}:{slot_id}",
            )
            for n, (slot_id, _name, when) in enumerate(picks)
        ]
        signed = await _timed(signups, app)
        drops = [
            CommandIn(
                _chat((n + 1) % CHATS),
                _person(n),
                "rota",
                f"drop {rota_id} {when.astimezone(ZONE):%d/%m} {name}",
            )
            for n, (_slot, name, when) in enumerate(picks)
            if n % 3 == 0
        ][:DROPS]
        dropped = await _timed(drops, app)
        clock.advance(seconds=5)  # the copies' refresh, due shortly after the presses
        began = time.perf_counter()
        await app.timer.run_due()
        refreshed = time.perf_counter() - began
        problems = await _check(app, rota_id, SIGNUPS - len(drops))
    finally:
        await app.stop()
    return Run(signed, dropped, refreshed, tuple(problems))


async def _check(app: App, rota_id: int, remaining: int) -> list[str]:
    problems = []
    async with app.db.session() as session:
        slots = {s.id: s for s in await session.scalars(select(RotaSlot))}
        rows = list(
            await session.scalars(
                select(RotaSignup)
                .where(RotaSignup.rota_id == rota_id)
                .order_by(RotaSignup.position)
            )
        )
        if len(rows) != remaining:
            problems.append(f"{len(rows)} sign-ups left, {remaining} expected")
        queues: dict[tuple[int, datetime], list[RotaSignup]] = {}
        for row in rows:
            queues.setdefault((row.slot_id, row.occurrence), []).append(row)
        counts: dict[tuple[int, datetime], int] = {}
        for (slot_id, when), queue in queues.items():
            capacity = slots[slot_id].capacity
            on = [row.waiting is False for row in queue]
            counts[(slot_id, when)] = sum(on)
            if sum(on) > capacity:
                problems.append(f"slot {slot_id} on {when}: {sum(on)} of {capacity}")
            if on != [index < capacity for index in range(len(queue))]:
                problems.append(f"slot {slot_id} on {when}: not promoted in order")
        shown = set()
        for _copy, row_id, _platform in await live(session, POSTED, rota_id):
            newest = await session.scalar(
                select(OutboxRow)
                .where(OutboxRow.target_id == row_id)
                .order_by(OutboxRow.id.desc())
                .limit(1)
            )
            sent = newest or await session.get(OutboxRow, row_id)
            assert sent is not None
            shown.add(str(sent.payload["text"]))
        if len(shown) != 1:
            problems.append(f"the copies show {len(shown)} different messages")
        for (slot_id, when), count in counts.items():
            slot = slots[slot_id]
            day = when.astimezone(ZONE)
            fill = f"{slot.name} {count}/{slot.capacity}"
            if not all(f"{day:%a} {day.day} {day:%b}" in text and fill in text for text in shown):
                problems.append(f"a copy does not show {fill} on {day:%d/%m}")
    return problems


async def _runs(backend: str) -> list[Run]:
    """:data:`RUNS` runs, each on a fresh database."""
    runs = []
    for _ in range(RUNS):
        if backend == "SQLite":
            runs.append(await _one_run(scratch_sqlite()))
            continue
        # The helpers run their own event loop, so they get a thread.
        url = await asyncio.to_thread(create_postgres_database)
        try:
            runs.append(await _one_run(url))
        finally:
            await asyncio.to_thread(drop_postgres_database, url)
    return runs


async def main() -> None:
    rows: list[tuple[str, str]] = []
    for backend in ("SQLite", "PostgreSQL"):
        try:
            runs = await _runs(backend)
        except OSError as error:
            rows.append((backend, f"skipped: {error}"))
            continue
        problems = sorted({problem for run in runs for problem in run.problems})
        verdict = "yes" if not problems else "NO: " + "; ".join(problems[:3])
        rows += [
            (
                f"{backend}: sign-ups/s, {SIGNUPS:,} at once",
                f"{statistics.median(r.signups for r in runs):8.0f}",
            ),
            (
                f"{backend}: drops/s, {DROPS:,} at once",
                f"{statistics.median(r.drops for r in runs):8.0f}",
            ),
            (
                f"{backend}: then every copy edited, ms",
                f"{statistics.median(r.refresh for r in runs) * 1000:8.0f}",
            ),
            (f"{backend}: every count exact in every copy, in order, none over", verdict),
        ]
    table(
        f"Rotas: one rota in {CHATS} chats, {SIGNUPS + DROPS:,} presses at once "
        f"(medians of {RUNS} runs)",
        rows,
    )
