"""The loop that sends one platform's rows: claim, pace, deliver, record.

One :class:`Sender` per platform claims due rows (:func:`bot.outbox.queue.claim`),
paces them (:mod:`bot.outbox.pacing`), hands each to its adapter and records the
outcome, as :func:`bot.outbox.policy.verdict` decides:

* sent → the platform's message ids, which later edits and deletes address;
* retry-after → tried again after exactly the time the platform asked for;
* transient → tried again with exponential backoff, up to ``max_attempts``;
* permanent → failed with the reason (and the chat marked inactive if it is gone).

A row being sent is *leased*; if the process dies, the lease runs out and the row
is claimed again after restart, so nothing is lost and a message is duplicated at
most if it was in flight at the moment of the crash. A send stays in flight until
its outcome is recorded, and its slot takes no other row until then: so a crash
duplicates at most ``max_in_flight`` messages, however fast the sends go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import OutboxSettings
from bot.delivery import ChatMoved, DeliveryError, RetryAfter, Transient, Transport
from bot.outbox.pacing import Pacer, Stamp
from bot.outbox.policy import Fail, choose, pause, verdict
from bot.outbox.queue import Claimed, Outbox, claim
from bot.types import Finished
from storage import outbox as table
from storage.chats import deactivate_chat, move_chat
from storage.db import Database
from storage.models import OutboxRow

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0


@dataclass
class _Outcome:
    claimed: Claimed
    message_ids: tuple[str, ...] = ()
    error: DeliveryError | None = None
    sent: tuple[str, ...] = ()  # the parts done before it failed or paused


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0


RecordedHook = Callable[[AsyncSession, list[Finished]], Awaitable[None]]


class Sender:
    """Sends one platform's rows, one claim at a time, paced."""

    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        transport: Transport,
        settings: OutboxSettings,
        *,
        pace: bool = True,
    ) -> None:
        self.db = database
        self.outbox = outbox
        self.transport = transport
        self.platform = transport.platform
        self.settings = settings
        self.clock = outbox.clock
        self.pacer = Pacer(transport.pacing if pace else type(transport.pacing)())
        self.paced = pace
        self.max_in_flight = max(1, transport.pacing.max_in_flight)
        self.stats = SenderStats()
        self._buffer: list[Claimed] = []
        # Set by anything the loop should look at: new work, a freed send slot, a
        # finished claim. The loop clears it before it looks, so that it never finds
        # it set by its own doing: every turn sleeps (see bot.outbox.policy).
        self._changed = asyncio.Event()
        self._wake = False  # new rows were written: claim, after any claim under way
        self._progress = asyncio.Event()
        # Rows handed to the send workers whose outcome is not yet recorded: a
        # crash resends at most these, so their number never passes max_in_flight.
        self._in_flight = 0
        self._handoff: asyncio.Queue[tuple[Claimed, Stamp]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._refilling: asyncio.Task[None] | None = None
        self._outcomes: list[_Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._last_renewal = 0.0
        self._exhausted = False
        self._look_again_at = 0.0  # loop time at which to claim even if not woken
        # Chats held back by their own pacing limits, by chat row: the loop time
        # their wait ends. None of their rows is claimed until then.
        self._held: dict[int, float] = {}
        self._to_put_back: list[Claimed] = []  # held rows, back to the table soon
        self._stopping = True  # until started: takes no rows handed over
        self._after_delivery: list[RecordedHook] = []
        outbox.on_enqueue(self._on_enqueue)

    def after_delivery(self, hook: RecordedHook) -> None:
        """Run ``hook(session, rows)`` in the transaction that records sent or
        failed rows (delivery receipts and live tallies build on this)."""
        self._after_delivery.append(hook)

    # --- life-cycle --------------------------------------------------------------

    def start(self) -> None:
        """Begin sending (again, after a :meth:`stop`: another process may have
        sent meanwhile). Only a running sender takes rows handed over."""
        self._stopping = False
        lease = timedelta(seconds=self.settings.lease_seconds)
        self.outbox.on_hand_over(self.platform, lease, self._take)
        self._task = asyncio.create_task(self._run(), name=f"sender-{self.platform}")
        self._workers = [
            asyncio.create_task(self._send_forever(), name=f"send-{self.platform}-{n}")
            for n in range(self.max_in_flight)
        ]
        self._writer = asyncio.create_task(self._write_outcomes(), name=f"recorder-{self.platform}")

    async def stop(self) -> None:
        """Stop claiming, let sends in flight finish and record them, release the rest."""
        self._stopping = True
        self.outbox.stop_hand_over(self.platform)
        self._changed.set()
        # The loop, a claim under way and the recorder end by themselves, soon:
        # cancelled inside a transaction, they would interrupt its connection.
        for task in (self._task, self._refilling):
            if task is not None:
                await _finish(task)
        with contextlib.suppress(TimeoutError):  # unless the database is unreachable
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                while self._in_flight:  # the recorder frees each slot as it records it
                    self._changed.clear()
                    await self._changed.wait()
        for worker in self._workers:  # each waits for its next row: nothing to lose
            await _cancel(worker)
        self._outcome_ready.set()
        if self._writer:
            await _finish(self._writer)
        await self._flush_outcomes()
        await self._release(self._buffer + self._to_put_back)
        self._buffer.clear()
        self._to_put_back.clear()

    async def idle(self) -> None:
        """Wait until nothing is due, queued or in flight for this platform (callers
        bound the wait with ``asyncio.timeout``)."""
        while True:
            self._progress.clear()
            if not self._buffer and not self._in_flight and not self._outcomes:
                if not await self._has_due():
                    return
                self._on_enqueue(self.platform)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), self.settings.poll_seconds)

    def _on_enqueue(self, platform: str) -> None:
        if platform == self.platform:
            self._wake = True
            self._changed.set()

    def _take(self, claimed: list[Claimed]) -> None:
        """Rows handed over already claimed (see :meth:`Outbox.enqueue`): send them
        like rows of our own claiming. When stopping, their lease lets them go."""
        if self._stopping:
            return
        self._buffer.extend(claimed)
        self._buffer.sort(key=lambda c: (c.lane, c.id))
        self._changed.set()

    # --- the loop ----------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._changed.clear()
            try:
                seconds = self._turn(loop.time())
            except Exception:
                log.exception("%s sender: unexpected error; retrying shortly", self.platform)
                seconds = self.settings.poll_seconds
            # Nothing in the turn set _changed, so this sleeps: until the deadline or
            # until something happens elsewhere.
            timer = loop.call_later(seconds, self._changed.set)
            try:
                await self._changed.wait()
            finally:
                timer.cancel()

    def _turn(self, now: float) -> float:
        """Dispatch every row that may go now, start a claim if one is wanted, and
        return how long the loop may sleep unless woken."""
        if now >= self._look_again_at:  # polled: rows of other processes, retries due
            self._look_again_at = now + self.settings.poll_seconds
            self._exhausted = False
        held = len(self._held)
        self._held = {chat: until for chat, until in self._held.items() if until > now}
        if len(self._held) < held:  # a chat's wait is over: claim its rows again
            self._exhausted = False
        send_at: float | None = None
        while self._buffer and self._in_flight < self.max_in_flight:
            choice = choose(self._buffer, self._chat_wait)
            if choice.held:
                self._hold(choice.held, choice.waits, now)
            if choice.row is None:
                break
            wait = self.pacer.wait_for(choice.row.chat_key, choice.row.is_group)
            if wait > 0:
                send_at = now + wait
                break
            self._buffer.remove(choice.row)
            stamp = self.pacer.record(choice.row.chat_key, choice.row.is_group)
            self._in_flight += 1
            self._handoff.put_nowait((choice.row, stamp))
        if not self._claiming:
            if self._wake:
                # Something new, perhaps a reply: claim it now. (A claim already under
                # way may have looked before it was written: the wake waits for it.)
                self._wake = False
                self._exhausted = False
                self._refill_behind()
            elif not self._exhausted and (self._to_put_back or len(self._buffer) < self._low_water):
                # (Exhausted, or the last claim failed: held rows go back to the table
                # with the next wake or poll, or when their chat's wait ends.)
                self._refill_behind()
        return pause(
            now,
            look_again_at=self._look_again_at,
            holds=list(self._held.values()),
            send_at=send_at,
        )

    def _chat_wait(self, claimed: Claimed) -> float:
        """Seconds until a message to this row's chat may go, by the chat's own limits
        (as the pacer has them now, or as they were when its rows were held back)."""
        wait = self.pacer.chat_wait(claimed.chat_key, claimed.is_group)
        held = self._held.get(claimed.chat_row)
        if held is not None:
            wait = max(wait, held - asyncio.get_running_loop().time())
        return wait

    def _hold(self, held: list[Claimed], waits: dict[int, float], now: float) -> None:
        """Rows whose chat must wait leave the buffer and go back to the table (by
        the next claim), and that chat's rows are not claimed until its wait ends:
        a flood in one chat never fills the buffer or the claims other chats need.
        The wait is this process's own pacing, so the rows are due at once for any
        other sender; this one looks in the table again when the wait ends."""
        gone = {id(c) for c in held}
        self._buffer = [c for c in self._buffer if id(c) not in gone]
        self._to_put_back.extend(held)
        for chat, wait in waits.items():
            self._held[chat] = max(self._held.get(chat, now), now + wait)

    @property
    def _capacity(self) -> int:
        """Rows held claimed, ready to go. Half of them must outlast a claim's round
        trip: on a busy event loop that takes tens of milliseconds, in which an
        unpaced sender gets through dozens of messages. A paced one needs few, and
        a small claim also keeps its unpacking from delaying sends that the pacer
        has timed to the millisecond."""
        if self.paced:
            return max(64, self.max_in_flight * 4)
        return max(256, self.max_in_flight * 32)

    @property
    def _low_water(self) -> int:
        return self._capacity // 2

    async def _send_forever(self) -> None:
        """One of ``max_in_flight`` workers. Long-lived workers rather than a task
        per message: HTTP stacks may keep per-task state (PTB's httpx on anyio does),
        and there a fresh task for every send cost as much again as the send."""
        while True:
            claimed, stamp = await self._handoff.get()
            stamps = [stamp]
            try:
                await self._send(claimed, stamps)
            finally:
                for each in stamps:  # its slot is freed once its outcome is recorded
                    self.pacer.done(each)

    async def _send(self, claimed: Claimed, stamps: list[Stamp]) -> None:
        """Deliver one row. Its first part was paced by the loop; each further part
        counts as a message of its own, and one its chat's limits hold back ends
        the attempt: the row resumes there, from the table, when the wait is over."""
        outcome = _Outcome(claimed)

        async def next_part(sent: tuple[str, ...]) -> None:
            outcome.sent = sent
            while True:
                held = self.pacer.chat_wait(claimed.chat_key, claimed.is_group)
                if held > 0:  # the chat's own limits: the rest waits in the table,
                    raise _Paced(held)  # not in this worker, which others need
                wait = self.pacer.wait_for(claimed.chat_key, claimed.is_group)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)  # the all-chats spacing: milliseconds
            stamps.append(self.pacer.record(claimed.chat_key, claimed.is_group))

        try:
            delivery = replace(claimed.delivery, next_part=next_part)
            outcome.message_ids = await self.transport.deliver(delivery)
        except DeliveryError as error:
            outcome.error = error
        except asyncio.CancelledError:  # stopping: keep the parts out, if any
            if outcome.sent:
                outcome.error = Transient("stopped part way")
                self._outcomes.append(outcome)
            raise
        except Exception as error:  # an adapter bug must not kill the sender
            log.exception("%s adapter raised unexpectedly", self.platform)
            outcome.error = DeliveryError(f"unexpected {type(error).__name__}: {error}")
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    # --- claiming ----------------------------------------------------------------

    @property
    def _claiming(self) -> bool:
        return self._refilling is not None and not self._refilling.done()

    def _refill_behind(self) -> None:
        """Claim more in the background while sending goes on from the buffer: on a
        busy event loop a claim's round trip to the database thread takes a while,
        and waiting for it would leave every send slot empty meanwhile."""
        if not self._claiming:
            self._refilling = asyncio.create_task(self._refill_logged())

    async def _refill_logged(self) -> None:
        try:
            await self._refill()
        except Exception:
            log.exception("%s sender: claiming failed; retrying shortly", self.platform)
            self._exhausted = True  # the next wake or poll tries again

    async def _refill(self) -> None:
        """Put held rows back in the table, then claim due rows, replies first, into
        the buffer. A few are claimed even when the buffer is full, so a reply never
        waits for a broadcast to drain."""
        try:
            put_back, self._to_put_back = self._to_put_back, []
            try:
                await self._release(put_back)
            except BaseException:
                self._to_put_back = put_back + self._to_put_back
                raise
            limit = max(self._capacity - len(self._buffer), self.max_in_flight)
            claimed = await self._claim(limit)
            self._exhausted = len(claimed) < limit
            if claimed:
                self._buffer.extend(claimed)
                self._buffer.sort(key=lambda c: (c.lane, c.id))
            await self._renew_leases()
        finally:
            self._changed.set()  # the loop looks at what came, or tries again

    async def _claim(self, limit: int) -> list[Claimed]:
        now, lease = self.clock.now(), timedelta(seconds=self.settings.lease_seconds)
        held_rows = [c.id for c in self._buffer]
        held_chats = list(self._held)  # chats whose rows could not go yet
        async with self.db.session() as session:
            ready, failed = await claim(
                session,
                self.platform,
                now,
                lease,
                limit,
                held_rows=held_rows,
                held_chats=held_chats,
            )
            if failed:
                await self._run_hooks(session, failed)
            return ready

    async def _run_hooks(self, session: AsyncSession, finished: list[Finished]) -> None:
        for hook in self._after_delivery:
            await hook(session, finished)

    async def _renew_leases(self) -> None:
        """Rows waiting in our buffer keep their lease, so no one else claims them."""
        loop_now = asyncio.get_running_loop().time()
        if not self._buffer or loop_now - self._last_renewal < self.settings.lease_seconds / 3:
            return
        self._last_renewal = loop_now
        lease = self.clock.now() + timedelta(seconds=self.settings.lease_seconds)
        async with self.db.session() as session:
            await table.renew(session, [c.id for c in self._buffer], lease)

    async def _release(self, claimed: list[Claimed]) -> None:
        """Rows claimed but not sent go back to the table, due at once."""
        if not claimed:
            return
        async with self.db.session() as session:
            await table.put_back(session, [c.id for c in claimed])

    async def _has_due(self) -> bool:
        async with self.db.session() as session:
            return await table.has_due(session, self.platform, self.clock.now())

    # --- recording outcomes ------------------------------------------------------

    async def _write_outcomes(self) -> None:
        while True:
            await self._outcome_ready.wait()
            self._outcome_ready.clear()
            try:
                await self._flush_outcomes()
            except Exception:
                log.exception("%s sender: could not record outcomes; will retry", self.platform)
                await asyncio.sleep(self.settings.poll_seconds)
                self._outcome_ready.set()
                continue
            if self._stopping and not self._in_flight:
                return

    async def _flush_outcomes(self) -> None:
        """Record a batch of outcomes in one transaction: successes with one bulk
        UPDATE (the common case, thousands a second), failures row by row."""
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        sent = [o for o in batch if o.error is None]
        failed = [o for o in batch if o.error is not None]
        now = self.clock.now()
        try:
            async with self.db.session() as session:
                if sent:
                    await table.mark_sent(
                        session,
                        now,
                        [
                            (
                                o.claimed.id,
                                ",".join(o.message_ids or o.claimed.delivery.message_ids),
                            )
                            for o in sent
                        ],
                    )
                    self.stats.sent += len(sent)
                    if log.isEnabledFor(logging.DEBUG):  # a line a message: not by default
                        for o in sent:
                            log.debug("delivery %d sent", o.claimed.id, extra=self._ids(o.claimed))
                done = [Finished(o.claimed.id, o.claimed.key) for o in sent]
                for outcome in failed:
                    row = await table.load_row(session, outcome.claimed.id)
                    if row is not None:
                        done += await self._apply_failure(session, row, outcome)
                await session.flush()
                await self._run_hooks(session, done)
        except BaseException:
            self._outcomes = batch + self._outcomes
            raise
        self._in_flight -= len(batch)  # recorded: these slots may take the next rows
        self._changed.set()
        self._progress.set()
        if failed:
            self._on_enqueue(self.platform)

    async def _apply_failure(
        self, session: AsyncSession, row: OutboxRow, outcome: _Outcome
    ) -> list[Finished]:
        """Record one failure; return the rows it finished (failed): this one, and
        the chat's other pending rows if the chat is gone."""
        now = self.clock.now()
        error = outcome.error
        assert error is not None
        if isinstance(error, _Paced):  # due at once for any sender; this one waits
            row.message_ids = ",".join(outcome.sent)
            table.retry(row, now, error.reason)
            chat = outcome.claimed.chat_row
            held = [c for c in self._buffer if c.chat_row == chat]
            self._hold(held, {chat: error.seconds}, asyncio.get_running_loop().time())
            return []
        if outcome.sent and not isinstance(error, ChatMoved):
            # The parts out before it failed: a retry starts after them. (A moved
            # chat gets the message whole, so that all its parts are in one chat.)
            row.message_ids = ",".join(outcome.sent)
        decided = verdict(error, row.attempts, now, self.settings)
        ids = self._ids(outcome.claimed)
        if isinstance(decided, Fail):
            table.fail(row, error.reason)
            self.stats.failed += 1
            # The error's type, not its text: the receipt shows the platform's words.
            log.info("delivery %d failed (%s)", row.id, type(error).__name__, extra=ids)
            if decided.chat_gone:
                gone = await deactivate_chat(session, outcome.claimed.chat_row, error.reason)
                return [Finished(row.id, row.dedupe_key), *gone]
            return [Finished(row.id, row.dedupe_key)]
        table.retry(row, decided.at, error.reason)
        log.info("delivery %d will be tried again (%s)", row.id, type(error).__name__, extra=ids)
        if isinstance(error, RetryAfter):
            self.stats.rate_limited += 1
            await self._hold_back(session, outcome.claimed.chat_row, decided.at)
        elif isinstance(error, ChatMoved):
            await move_chat(session, outcome.claimed.chat_row, error.new_chat_id)
        else:
            row.attempts = decided.attempts
            self.stats.retried += 1
        return []

    def _ids(self, claimed: Claimed) -> dict[str, object]:
        """A delivery's log fields (``LOG_FORMAT=json`` shows them): ids, no content."""
        return {"delivery_id": claimed.id, "platform": self.platform}

    async def _hold_back(self, session: AsyncSession, chat_row: int, until: datetime) -> None:
        """After a "retry after", the chat's other claimed rows wait as long, rather
        than each earning its own 429 (Discord bans bots that collect too many)."""
        held = [c for c in self._buffer if c.chat_row == chat_row]
        if not held:
            return
        self._buffer = [c for c in self._buffer if c.chat_row != chat_row]
        await table.put_back(session, [c.id for c in held], at=until)


class _Paced(DeliveryError):
    """The next part of a message must wait for its chat's limits: not a failure."""

    def __init__(self, seconds: float) -> None:
        super().__init__("the next part waits for the chat's limits")
        self.seconds = seconds


async def _finish(task: asyncio.Task[None]) -> None:
    """Give ``task`` a moment to end by itself, then cancel it."""
    await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
    await _cancel(task)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
