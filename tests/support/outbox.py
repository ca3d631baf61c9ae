"""A sender with its database and clock, for tests that put rows in the outbox and
look at what became of them."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from bot.config import OutboxSettings
from bot.delivery import Transport
from bot.outbox import Lane, Outbox, Sender
from bot.types import Outgoing
from storage.chats import register_chat
from storage.db import Database
from storage.models import OutboxRow
from tests.support.clock import FakeClock

SETTINGS = OutboxSettings(max_attempts=3, lease_seconds=60, poll_seconds=0.02)
T = TypeVar("T", bound=Transport)


class Rig(Generic[T]):
    def __init__(self, database: Database, clock: FakeClock, transport: T) -> None:
        self.db, self.clock, self.transport = database, clock, transport
        self.outbox = Outbox(clock)
        self.sender = Sender(database, self.outbox, transport, SETTINGS)

    async def put(
        self, *messages: Outgoing, lane: Lane = Lane.BULK, register: bool = True
    ) -> list[int | None]:
        async with self.db.session() as session:
            for m in messages if register else ():
                await register_chat(session, m.chat, self.clock.now())
            return await self.outbox.enqueue(session, list(messages), lane)

    async def settle(self) -> None:
        async with asyncio.timeout(10):
            await self.sender.idle()

    async def row(self, row_id: int | None) -> OutboxRow:
        async with self.db.session() as session:
            row = await session.get(OutboxRow, row_id)
            assert row is not None
            return row
