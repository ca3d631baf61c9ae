"""The application: storage, core, outbox and one sender per adapter, wired once.

Platform-neutral: it is handed ready-made adapters (built in ``adapters.runner``),
so the same wiring serves ``organise-bot run``, the console, Discord's
``create_bot()`` and the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from adapters.base import Adapter
from bot.clock import Clock, SystemClock
from bot.commands import build_registry
from bot.config import Config
from bot.core import Core
from bot.outbox import Outbox, Sender
from bot.registry import Registry
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)


class App:
    def __init__(
        self,
        config: Config,
        adapters: Sequence[Adapter] = (),
        *,
        clock: Clock | None = None,
        pace: bool = True,
        registry: Registry | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.db = Database(config.database.url)
        self.outbox = Outbox(self.clock)
        self.registry = registry or build_registry()
        self.core = Core(self.db, self.outbox, self.registry, config, self.clock)
        self.adapters = list(adapters)
        self.senders = {
            a.platform: Sender(self.db, self.outbox, a, config.outbox, pace=pace)
            for a in self.adapters
        }
        self._started: list[Adapter] = []

    async def start(self, *, migrate: bool = True) -> None:
        """Migrate, start sending (rows left from before a restart go first), then listen."""
        if migrate:
            await upgrade(self.db)
        for sender in self.senders.values():
            sender.start()
        for adapter in self.adapters:
            await adapter.start(self.core.handle)
            self._started.append(adapter)
            log.info("%s adapter listening", adapter.platform)

    async def stop(self) -> None:
        for adapter in reversed(self._started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        self._started.clear()
        for sender in self.senders.values():
            await sender.stop()
        await self.db.close()
