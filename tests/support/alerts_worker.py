"""What the alerts tests stand on: the console with a clock the test moves
(:class:`AlertsConsole`), a "test" platform that records deliveries and fails or
holds them on cue (:class:`TestPlatform`), and a process that sends that platform's
rows until it is killed.

Usage: python -m tests.support.alerts_worker DATABASE_URL LOG_FILE

The worker runs the real application (registry, delivery hooks and all) with a
:class:`TestPlatform` that appends a line per delivery to LOG_FILE, flushed at once,
so the log shows exactly what had reached the "platform" when the process died.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import func, select

from bot import alerts, copies, general, privacy, roles, tags
from bot.app import App
from bot.config import AlertsSettings, Config
from bot.platform import EventHandler
from bot.registry import Registry
from bot.types import Delivery, Op
from storage.models import OutboxRow
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.support.transport import RecordingTransport

PLATFORM = "test"


def alerts_registry() -> Registry:
    """The foundation's commands and this capability's, without the others: the
    alerts tests stand on their own."""
    registry = Registry()
    for module in (general, roles, tags, privacy, copies, alerts):
        module.register(registry)
    return registry


@dataclass(frozen=True)
class Record:
    op: Op
    chat_id: str
    nonce: str
    message_id: str  # the message sent, or the one edited
    text: str

    def line(self) -> str:
        fields = (self.op.value, self.chat_id, self.nonce, self.message_id, json.dumps(self.text))
        return "\t".join(fields) + "\n"

    @classmethod
    def parse(cls, line: str) -> Record:
        op, chat_id, nonce, message_id, text = line.rstrip("\n").split("\t")
        return cls(Op(op), chat_id, nonce, message_id, json.loads(text))


class TestPlatform(RecordingTransport):
    """A recording transport that is also an adapter (it hears nothing), whose
    message ids carry ``prefix`` so two processes' ids never collide, and which
    can hold deliveries to some chats until :meth:`release`."""

    __test__ = False  # not a pytest class

    def __init__(self, prefix: str, log: TextIO | None = None) -> None:
        super().__init__(PLATFORM)
        self.prefix = prefix
        self.log = log
        self.records: list[Record] = []
        self.held: set[str] = set()
        self._released = asyncio.Event()

    async def start(self, on_event: EventHandler) -> None:
        return None

    async def stop(self) -> None:
        self.release()

    def release(self) -> None:
        self._released.set()

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        if delivery.chat_id in self.held:
            await self._released.wait()
        (number,) = await super().deliver(delivery)
        sent = f"{self.prefix}{number}"
        target = delivery.message_ids[0] if delivery.message_ids else sent
        record = Record(
            delivery.op, delivery.chat_id, delivery.nonce, target, str(delivery.content.text)
        )
        self.records.append(record)
        if self.log is not None:
            self.log.write(record.line())
        return delivery.message_ids if delivery.op is not Op.SEND else (sent,)


def alerts_config(url: str, **alerts: Any) -> Config:
    """Receipts edited at every delivery (the throttle has its own test), so a
    command's receipt is final by the time the console has printed its answer."""
    settings = AlertsSettings(**{"receipt_edit_seconds": 0.0, **alerts})
    return dataclasses.replace(make_config(url), alerts=settings)


class AlertsConsole(ConsoleSession):
    """The console with only the foundation's and this capability's commands, a
    clock the test moves, and any extra platforms (a :class:`TestPlatform`)."""

    def __init__(self, config: Config, clock: FakeClock, *platforms: Any) -> None:
        super().__init__(config, clock)
        self.clock = clock
        self.app = App(config, [self.console, *platforms], clock=clock, registry=alerts_registry())

    async def say(self, *lines: str) -> str:
        for line in lines:
            await self.console.feed(line)
            await self.settle()
        await self.settle()  # and whatever a timer or another process queued
        text = self.output.getvalue()
        new, self._read = text[self._read :], len(text)
        return new

    async def settle(self) -> None:
        """Until no sender has anything due: one sender's delivery hook may queue an
        edit for another (a receipt), so one pass over them is not enough."""
        async with asyncio.timeout(20):
            while True:
                for sender in self.app.senders.values():
                    await sender.idle()
                due = await self.scalar(
                    select(func.count()).where(
                        OutboxRow.platform.in_(list(self.app.senders)),
                        OutboxRow.status.in_(["pending", "sending"]),
                        OutboxRow.next_attempt_at <= self.clock.now(),
                    )
                )
                if not due:
                    return

    async def tick(self, **delta: float) -> str:
        """Move the clock, run what fell due, and return what the bot printed."""
        self.clock.advance(**delta)
        await self.app.timer.run_due()
        return await self.say()

    async def scalar(self, statement: Any) -> Any:
        async with self.app.db.session() as session:
            return await session.scalar(statement)


async def serve(url: str, log: TextIO) -> None:
    platform = TestPlatform("w", log)
    platform.delay = 0.02
    app = App(make_config(url, poll_seconds=0.05), [platform], registry=alerts_registry())
    await app.start(migrate=False)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    with open(sys.argv[2], "a", buffering=1) as log_file:  # line-buffered: one write per line
        asyncio.run(serve(sys.argv[1], log_file))
