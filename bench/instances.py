"""Several ``organise-bot run`` processes on one PostgreSQL database
(tests/support/instances.py), against the fake Bot API in a process of its own
(``tests.fakes.serve``), as the real one is remote.

(a) Webhook mode, 1, 2 and 3 processes: commands served per second — ``/help``
    from as many new people, posted to the processes' webhooks in turn, each
    counted once its reply is written to the outbox (every process takes updates;
    one elected process sends, at Telegram's pace, which is not what is measured
    here). Goal: near-linear until the database or the machine saturates.
(b) Polling mode, 2 processes, the fake enforcing Telegram's limits: a backlog of
    rows written at once drains through the one elected sender — its wall time
    against the least the limits allow (30 messages/s): goal ≥95% of the ceiling,
    as one process gets, and no 429.

Run alone: ``python -m bench.instances``. Needs PostgreSQL (as ``make test`` does).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import func, select, text

from adapters.telegram.adapter import webhook_secret
from bench.common import table
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base, OutboxRow
from tests.fakes.serve import Served, served
from tests.fakes.telegram.api import command_update, private_chat, user
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.instances import Instances, add_groups, broadcast, eventually

COMMANDS = 600  # per run of (a)
AT_ONCE = 24  # webhook posts in flight
BACKLOG = 10_000  # rows of (b): 5.5 minutes at Telegram's 30 messages/s
RUNS = 3
FIRST_PORT = 18600
WAIT = 600.0


async def fresh(url: str) -> None:
    """The shared database migrated and emptied between runs."""
    database = Database(url)
    try:
        await upgrade(database)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with database.session() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await database.close()


async def outbox_rows(url: str) -> int:
    database = Database(url)
    try:
        async with database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)
    finally:
        await database.close()


async def commands_per_second(url: str, fake: Served, processes: int, number: int) -> float:
    """(a): one run with ``processes`` processes in webhook mode."""
    await fresh(url)
    ports = [FIRST_PORT + 10 * number + n for n in range(processes)]
    folder = Path(tempfile.mkdtemp(prefix="organise-bench-"))
    secret = webhook_secret(fake.token)
    async with (
        Instances(folder, url, fake.token, fake.telegram_base_url, processes, ports) as group,
        aiohttp.ClientSession() as http,
    ):
        for port in ports:  # each serves its webhook
            await _until_listening(http, port)
        await eventually(lambda: group.leader() is not None, WAIT, "no sender elected")
        targets = itertools.cycle(ports)
        updates = [
            (next(targets), command_update("/help", private_chat(person), person))
            for person in (user(10_000 + n, f"Member {n}") for n in range(COMMANDS))
        ]
        for n, (_, update) in enumerate(updates):
            update["update_id"] = n + 1
        queue: asyncio.Queue[tuple[int, dict[str, object]]] = asyncio.Queue()
        for item in updates:
            queue.put_nowait(item)
        start = time.perf_counter()
        await asyncio.gather(*(_post_all(http, queue, secret) for _ in range(AT_ONCE)))
        for _ in itertools.count():  # every reply written: every command served
            if await outbox_rows(url) >= COMMANDS:
                break
            await asyncio.sleep(0.05)
        return COMMANDS / (time.perf_counter() - start)


async def _until_listening(http: aiohttp.ClientSession, port: int) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            async with http.get(f"http://127.0.0.1:{port}/telegram"):
                return
        except aiohttp.ClientConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _post_all(
    http: aiohttp.ClientSession, queue: asyncio.Queue[tuple[int, dict[str, object]]], secret: str
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    while not queue.empty():
        port, update = queue.get_nowait()
        async with http.post(
            f"http://127.0.0.1:{port}/telegram", json=update, headers=headers
        ) as response:
            assert response.status == 200, response.status


@dataclass
class Drain:
    wall: float
    refused: int

    @property
    def share(self) -> float:
        return (BACKLOG / 30) / self.wall


async def drain(url: str, fake: Served, processes: int) -> Drain:
    """(b): a backlog written at once, sent by the elected one of ``processes``."""
    await fresh(url)
    database = Database(url)
    try:
        chats = await add_groups(database, BACKLOG)
    finally:
        await database.close()
    folder = Path(tempfile.mkdtemp(prefix="organise-bench-"))
    async with (
        Instances(folder, url, fake.token, fake.telegram_base_url, processes) as group,
        aiohttp.ClientSession() as http,
    ):
        await eventually(lambda: group.leader() is not None, WAIT, "no sender elected")
        before = await _stats(http, fake)
        database = Database(url)
        try:
            start = time.perf_counter()
            await broadcast(database, chats, "Backlog")
            for _ in itertools.count():
                if not await _unsent(database):
                    break
                await asyncio.sleep(0.1)
            wall = time.perf_counter() - start
        finally:
            await database.close()
        after = await _stats(http, fake)
    return Drain(wall, after - before)


async def _unsent(database: Database) -> int:
    async with database.session() as session:
        pending = select(func.count()).where(OutboxRow.status != "sent")
        return int(await session.scalar(pending) or 0)


async def _stats(http: aiohttp.ClientSession, fake: Served) -> int:
    """429s the fake has given so far (its ``/_fake/stats``)."""
    async with http.get(f"http://127.0.0.1:{fake.port}/bot_fake/stats") as response:
        return int((await response.json())["refused"])


async def main() -> None:
    url = await asyncio.to_thread(create_postgres_database)
    try:
        rows: list[tuple[str, str]] = []
        async with served("telegram", limits=False) as fake:
            for processes in (1, 2, 3):
                rates = [
                    await commands_per_second(url, fake, processes, number)
                    for number in range(RUNS)
                ]
                spread = f"runs {min(rates):.0f}–{max(rates):.0f}"
                rows.append(
                    (
                        f"webhook, {processes} process(es): commands/s",
                        f"{statistics.median(rates):8.1f}  ({spread})",
                    )
                )
        table("Several processes on one PostgreSQL: webhook mode", rows)
        async with served("telegram") as fake:
            for processes in (1, 2):
                drained = await drain(url, fake, processes)
                rows.append(
                    (
                        f"{BACKLOG:,}-row backlog, {processes} process(es): drained in, s",
                        f"{drained.wall:8.1f}  ({drained.share:.1%} of the ceiling, "
                        f"{drained.refused} × 429)",
                    )
                )
    finally:
        await asyncio.to_thread(drop_postgres_database, url)
    table("Several processes on one PostgreSQL (fake Bot API in its own process)", rows)


if __name__ == "__main__":
    asyncio.run(main())
