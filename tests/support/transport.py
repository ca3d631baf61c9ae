"""A transport (what the outbox needs from an adapter) that records deliveries
and fails on cue — for outbox tests that are about the outbox, not a platform."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from bot.delivery import UNPACED, DeliveryError, Pacing
from bot.types import Delivery


class RecordingTransport:
    def __init__(self, platform: str = "test", pacing: Pacing = UNPACED) -> None:
        self.platform = platform
        self.pacing = pacing
        self.deliveries: list[Delivery] = []
        self.failures: dict[str, list[DeliveryError]] = {}
        self.delay = 0.0
        self.on_deliver: Callable[[Delivery], None] | None = None
        self._ids = itertools.count(100)
        self._delivered = asyncio.Event()

    async def wait_for(self, count: int) -> None:
        """Until at least ``count`` deliveries have been made."""
        while len(self.deliveries) < count:
            self._delivered.clear()
            await self._delivered.wait()

    def fail(self, chat_id: str, *errors: DeliveryError) -> None:
        """The next deliveries to ``chat_id`` raise these errors, in order."""
        self.failures.setdefault(chat_id, []).extend(errors)

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        if self.delay:
            await asyncio.sleep(self.delay)
        queued = self.failures.get(delivery.chat_id)
        if queued:
            raise queued.pop(0)
        self.deliveries.append(delivery)
        self._delivered.set()
        if self.on_deliver:
            self.on_deliver(delivery)
        return (str(next(self._ids)),)

    def texts(self) -> list[str]:
        return [str(d.content.text) for d in self.deliveries]
