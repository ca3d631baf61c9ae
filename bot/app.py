"""The application: storage, core, outbox and one sender per adapter, wired once.

Platform-neutral: it is handed ready-made adapters (built from their platforms'
specs in ``adapters.runner``) and the command registry (``bot.commands``), so the
same wiring serves ``organise-bot run``, the console, Discord's ``create_bot()``
and the tests.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.core import Core
from bot.metrics import Metrics
from bot.outbox import Outbox, Sender
from bot.platform import Adapter
from bot.registry import Registry
from bot.scheduler import Timer
from bot.services import Services
from storage.db import Database
from storage.migrate import prepare

log = logging.getLogger(__name__)


class App:
    def __init__(
        self,
        config: Config,
        adapters: Sequence[Adapter] = (),
        *,
        registry: Registry,
        clock: Clock | None = None,
        pace: bool = True,
        database: Database | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        # Given when an adapter was built to keep state in it (adapters.runner).
        self.db = database or Database(config.database.url)
        self.outbox = Outbox(self.clock)
        self.registry = registry
        self.metrics = Metrics()
        # An injected clock means a test drives time: the timer then runs only
        # when the test calls timer.run_due().
        self.timer = Timer(self.clock, real_time=clock is None, on_late=self.metrics.timer_fired)
        self.services = Services(
            self.db, self.outbox, self.timer, config, self.clock, self.registry, self.metrics
        )
        self.core = Core(self.services)
        self.adapters = list(adapters)
        self.senders = {
            adapter.platform: Sender(self.db, self.outbox, adapter, config.outbox, pace=pace)
            for adapter in self.adapters
        }
        for sender in self.senders.values():
            sender.after_delivery(functools.partial(self.registry.finished, self.services))
            self.metrics.sending(sender.platform, sender.stats)
        self._started: list[Adapter] = []
        # Started, every adapter listening, and not stopped since (/healthz asks).
        self.running = False

    async def start(self, *, migrate: bool = True) -> None:
        """Migrate, start sending (rows left from before a restart go first), then
        listen. If any of it fails, what did start is stopped again."""
        try:
            await self._start(migrate)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, migrate: bool) -> None:
        logging.getLogger().addHandler(self.metrics.errors)
        await prepare(self.db, migrate=migrate)
        await self.db.scrubber.catch_up()  # deleted rows a crash left in the files
        for hook in self.registry.startup:
            await hook(self.services)
        self.timer.start()
        await self.timer.run_due()  # what fell due while we were down
        for sender in self.senders.values():
            sender.start()
        for adapter in self.adapters:
            await adapter.start(self.core.handle)
            self._started.append(adapter)
            log.info("%s adapter listening", adapter.platform)
        self.running = True

    async def stop(self) -> None:
        """Stop the timer and the senders — sends in flight finish and are recorded
        while their adapters' connections are still open — then each adapter, in
        reverse order of starting; what is still to send waits in the outbox."""
        self.running = False
        await self.timer.stop()
        for sender in self.senders.values():
            await sender.stop()
        for adapter in reversed(self._started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        self._started.clear()
        await self.db.close()
        logging.getLogger().removeHandler(self.metrics.errors)
