"""Flood figures: one member sends 1,000 commands in one Telegram group, through the
real adapter to the fake Bot API enforcing Telegram's limits (pacing on).

The group may have 20 messages a minute, so the flood's replies take most of an
hour to go; the bot must meanwhile neither spin nor keep anyone else waiting:

* the time to take in the 1,000 commands (each handled, its reply written);
* the bot's CPU time as a share of the wall time over the WATCH_SECONDS after that,
  while the replies wait for the group's window (the fake serves in the same
  process, so its small share of work is counted too);
* the reply time of ``/help`` asked from other chats, twice a second round-robin
  over ten private chats, while the commands are taken in and while the replies
  wait (goal p99 ≤200 ms). While they are taken in, the flood's own commands are
  the bot's work: that the answers then wait is what a per-person rate limit is for.

Each run starts afresh (a new database and fake); medians of RUNS runs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.common import table
from bench.telegram import ASKERS, ask_help, config, keep_asking
from storage.models import Chat, OutboxRow
from tests.fakes.telegram.api import FakeTelegramAPI, command_update, group_chat, user
from tests.support.telegram import TelegramSession

COMMANDS = 1000
WATCH_SECONDS = 10.0
RUNS = 3
PATIENCE = 60.0  # seconds an answer may take before the run fails: measure, don't give up
FLOODER = user(900, "Flooder")
GROUP = group_chat(-1_003_000_000, "Flooded branch")


@dataclass
class Run:
    intake: float  # seconds to handle every command of the flood
    cpu_share: float  # CPU time / wall time while the replies wait
    taking_in: list[float]  # /help reply times from other chats meanwhile, seconds
    waiting: list[float]  # and while the flood's replies wait


async def replies_written(session: TelegramSession) -> int:
    """The flood's replies in the outbox: one per command handled."""
    async with session.app.db.session() as db:
        statement = (
            select(func.count())
            .select_from(OutboxRow)
            .join(Chat, Chat.id == OutboxRow.chat_id)
            .where(Chat.platform_chat_id == str(GROUP["id"]))
        )
        return await db.scalar(statement) or 0


async def run() -> Run:
    replies: list[float] = []
    async with (
        FakeTelegramAPI(enforce_limits=True) as api,
        TelegramSession(api, config(), pace=True) as session,
    ):
        for asker in ASKERS:  # each asker's chat and person exist before we measure
            await ask_help(session, asker, [])
        await asyncio.sleep(1.1)  # the fake's one-second windows empty
        asking = asyncio.create_task(keep_asking(session, replies, within=PATIENCE))
        start = time.perf_counter()
        api.push(*(command_update("/help", GROUP, FLOODER) for _ in range(COMMANDS)))
        while await replies_written(session) < COMMANDS:  # noqa: ASYNC110 - a table
            await asyncio.sleep(0.1)
        intake = time.perf_counter() - start
        taken_in = len(replies)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(WATCH_SECONDS)
        cpu_share = (time.process_time() - cpu) / (time.perf_counter() - wall)
        asking.cancel()
        await asyncio.gather(asking, return_exceptions=True)
    return Run(intake, cpu_share, replies[:taken_in], replies[taken_in:])


def quantile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


async def main() -> None:
    runs = [await run() for _ in range(RUNS)]
    median = statistics.median
    table(
        f"A flood of {COMMANDS:,} /help by one member in one Telegram group, limits on"
        f" (SQLite; medians of {RUNS} runs)",
        [
            (
                f"seconds to take in the {COMMANDS:,} commands",
                f"{median(r.intake for r in runs):8.1f}",
            ),
            (
                f"bot CPU / wall time for {WATCH_SECONDS:.0f} s while the replies wait",
                f"{median(r.cpu_share for r in runs):8.1%}",
            ),
        ]
        + [
            (
                f"/help from other chats {phase}, p{percent}",
                f"{median(quantile(getattr(r, field), percent) for r in runs) * 1000:6.0f} ms",
            )
            for phase, field in (
                ("while the commands are taken in", "taking_in"),
                ("while the replies wait", "waiting"),
            )
            for percent in (50, 99)
        ],
    )
