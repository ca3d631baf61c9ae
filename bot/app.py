"""The application: storage, core, outbox and one sender per adapter, wired once.

Platform-neutral: it is handed ready-made adapters (built from their platforms'
specs in ``adapters.runner``) and the command registry (``bot.commands``), so the
same wiring serves ``organise-bot run``, the console, Discord's ``create_bot()``
and the tests.

Several processes may share one PostgreSQL database. Each platform given a
:class:`~bot.platform.Sharing` is sent by the one process elected for its token,
and timers fire in the one elected for them (:mod:`storage.leadership`); the
others take commands, write the outbox and wake the elected sender by ``NOTIFY``.
Platforms without one (the console, tests' adapters) are this process's alone.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping, Sequence

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.core import Core
from bot.metrics import Metrics
from bot.outbox import Outbox, Sender, takeover_seconds
from bot.platform import Adapter, Sharing
from bot.registry import Registry
from bot.scheduler import Timer
from bot.services import Services
from storage import outbox as outbox_table
from storage.db import Database
from storage.leadership import Leadership
from storage.migrate import prepare

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "organise_outbox"  # payload: a platform with new rows to send
TIMERS_CHANNEL = "organise_timers"  # a follower armed a timer: arm again from the tables
TIMERS_ELECTION = "timers"
# A follower tells the leader of a timer it armed this long after, when the command
# that armed it has committed (and the leader also re-arms whenever it takes over).
ARMED_NOTICE_SECONDS = 1.0


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
        sharing: Mapping[str, Sharing] | None = None,
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
        self.sharing = dict(sharing or {})
        self.leadership = Leadership(self.db)
        self._leading: set[str] = set()  # the shared platforms this process sends
        self._rearming: asyncio.Task[None] | None = None

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
        await self._arm_from_tables()
        self.timer.start(firing=False)  # until elected: at once when alone
        self._elect()
        for adapter in self.adapters:
            if adapter.platform not in self.sharing:
                self.senders[adapter.platform].start()
        await self.leadership.start()  # a lone process leads everything from here
        for adapter in self.adapters:
            sharing = self.sharing.get(adapter.platform)
            if sharing is None or not sharing.listens_alone:
                await self._listen(adapter)
        self.running = True

    def _elect(self) -> None:
        """Stand for the timers and for sending each shared platform; listen to
        the other processes' wake-ups."""
        self.leadership.add(TIMERS_ELECTION, self._lead_timers, self._follow_timers)
        for adapter in self.adapters:
            if adapter.platform in self.sharing:
                self.leadership.add(
                    self.sharing[adapter.platform].election,
                    functools.partial(self._lead, adapter),
                    functools.partial(self._follow, adapter),
                )
        self.leadership.listen(OUTBOX_CHANNEL, self._rows_elsewhere)
        self.leadership.listen(TIMERS_CHANNEL, self._armed_elsewhere)
        self.outbox.on_enqueue(self._wake_leader)
        self.timer.on_armed(self._armed_here)

    async def _listen(self, adapter: Adapter) -> None:
        await adapter.start(self.core.handle)
        self._started.append(adapter)
        log.info("%s adapter listening", adapter.platform)

    async def _lead(self, adapter: Adapter) -> None:
        """Elected to send this platform's rows (and to listen, where only one may):
        rows its last sender had claimed go back to the queue first."""
        if self.leadership.exclusive:
            async with self.db.session() as session:
                released = await outbox_table.release_sending(session, adapter.platform)
            if released:  # it died sending: what it sent still counts at the platform
                await asyncio.sleep(takeover_seconds(adapter.pacing))
        sharing = self.sharing[adapter.platform]
        if sharing.listens_alone:
            await self._listen(adapter)
        self.senders[adapter.platform].start()
        self._leading.add(adapter.platform)

    async def _follow(self, adapter: Adapter) -> None:
        self._leading.discard(adapter.platform)
        await self.senders[adapter.platform].stop()
        if self.sharing[adapter.platform].listens_alone and adapter in self._started:
            self._started.remove(adapter)
            await adapter.stop()

    async def _lead_timers(self) -> None:
        """Elected to fire the timers: what other processes armed is armed again
        from the tables, and what fell due meanwhile runs."""
        if self.leadership.exclusive:
            await self._arm_from_tables()
        self.timer.resume()
        await self.timer.run_due()

    async def _follow_timers(self) -> None:
        self.timer.pause()

    async def _arm_from_tables(self) -> None:
        for hook in self.registry.startup:
            await hook(self.services)

    def _wake_leader(self, platform: str) -> None:
        """Rows were committed for a platform another process sends: wake it."""
        if platform in self.sharing and platform not in self._leading:
            self.leadership.notify(OUTBOX_CHANNEL, platform)

    def _rows_elsewhere(self, platform: str) -> None:
        if platform in self._leading:
            self.outbox.notify([platform])

    def _armed_here(self, _key: str) -> None:
        """A follower armed a timer: the leader arms it again from the tables."""
        asyncio.get_running_loop().call_later(
            ARMED_NOTICE_SECONDS, self.leadership.notify, TIMERS_CHANNEL, ""
        )

    def _armed_elsewhere(self, _payload: str) -> None:
        if self.timer.firing and (self._rearming is None or self._rearming.done()):
            self._rearming = asyncio.create_task(self._arm_from_tables(), name="re-arm")

    async def stop(self) -> None:
        """Stop the timer and the senders — sends in flight finish and are recorded
        while their adapters' connections are still open — then each adapter, in
        reverse order of starting; what is still to send waits in the outbox. The
        elections are given up last, when nothing of this process sends any more."""
        self.running = False
        await self.leadership.pause()
        try:
            if self._rearming is not None:
                await asyncio.wait({self._rearming})
            await self.timer.stop()
            for sender in self.senders.values():
                await sender.stop()
            for adapter in reversed(self._started):
                try:
                    await adapter.stop()
                except Exception:
                    log.exception("stopping the %s adapter failed", adapter.platform)
            self._started.clear()
            self._leading.clear()
        finally:
            await self.leadership.stop()
            await self.db.close()
            logging.getLogger().removeHandler(self.metrics.errors)
