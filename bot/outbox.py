"""The one delivery path: every message is written down before it is sent.

:class:`Outbox` puts rows in the ``outbox`` table inside the caller's own
transaction, so a command's changes and the messages announcing them are saved
together or not at all. One :class:`Sender` per platform then claims due rows,
paces them (:mod:`bot.pacing`), hands each to its adapter and records the outcome:

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
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Select, Table, and_, bindparam, event, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import OutboxSettings
from bot.delivery import ChatMoved, DeliveryError, Permanent, RetryAfter, Transient, Transport
from bot.dispatch import choose, pause
from bot.pacing import Pacer, Stamp
from bot.types import ChatKind, Content, Delivery, Finished, Op, Outgoing
from storage.chats import deactivate_chat, move_chat
from storage.db import Database
from storage.models import Chat, OutboxRow

log = logging.getLogger(__name__)

REPLY_LANE = 0
BULK_LANE = 1
# An edit waits this long for the message it edits to be sent first.
EDIT_WAIT = timedelta(seconds=2)
STOP_GRACE_SECONDS = 10.0
# Ids per IN list: bounded, so that no statement grows with the number of chats.
IN_LIST_CHUNK = 500


class Status:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Outbox:
    """Writes rows; wakes the senders. Shared by everything that speaks."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._listeners: list[Callable[[str], None]] = []
        self._takers: dict[str, tuple[timedelta, Callable[[list[_Claimed]], None]]] = {}

    def on_enqueue(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def on_hand_over(
        self, platform: str, lease: timedelta, take: Callable[[list[_Claimed]], None]
    ) -> None:
        """Let this process's sender for ``platform`` take rows enqueued with
        ``hand_over`` straight from the enqueuer, already claimed for ``lease``."""
        self._takers[platform] = (lease, take)

    def notify(self, platforms: Iterable[str]) -> None:
        """Wake the senders of these platforms (call after the transaction commits)."""
        for platform in set(platforms):
            for listener in self._listeners:
                listener(platform)

    async def enqueue(
        self,
        session: AsyncSession,
        messages: Sequence[Outgoing],
        lane: int = BULK_LANE,
        *,
        hand_over: bool = False,
    ) -> list[int | None]:
        """Add messages; returns each row id (``None`` where a ``dedupe_key`` already
        existed, or the chat is unknown or inactive).

        With ``hand_over`` (the core's replies), rows for a platform this process
        sends are written already claimed and go to its sender when the transaction
        commits, without the sender's own claiming round trip to the database — on a
        busy bot the longest wait before an answer. Should this process die first,
        the lease runs out and any sender claims them as usual.
        """
        if not messages:
            return []
        chat_ids = await _chat_ids(session, messages)
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        for message in messages:
            chat_id = chat_ids.get((message.chat.platform, message.chat.chat_id))
            taker = self._takers.get(message.chat.platform) if hand_over else None
            if chat_id is not None:
                rows.append(
                    {
                        "platform": message.chat.platform,
                        "chat_id": chat_id,
                        "op": Op.SEND.value,
                        "lane": lane,
                        "payload": message.content.to_payload(),
                        "dedupe_key": message.dedupe_key,
                        "status": Status.PENDING if taker is None else Status.SENDING,
                        "lease_until": None if taker is None else now + taker[0],
                        "attempts": 0,
                        "next_attempt_at": now,
                        "message_ids": "",
                        "error": "",
                        "created_at": now,
                    }
                )
        keyed = await _insert_keyed(session, [r for r in rows if r["dedupe_key"] is not None])
        plain = await _insert_plain(session, [r for r in rows if r["dedupe_key"] is None])
        ids: list[int | None] = []
        for message in messages:
            if (message.chat.platform, message.chat.chat_id) not in chat_ids:
                ids.append(None)
            elif message.dedupe_key is None:
                ids.append(next(plain))
            else:
                ids.append(keyed.pop(message.dedupe_key, None))
        if hand_over:
            self._hand_over_after_commit(session, messages, ids, chat_ids, lane)
        return ids

    def _hand_over_after_commit(
        self,
        session: AsyncSession,
        messages: Sequence[Outgoing],
        ids: list[int | None],
        chat_ids: dict[tuple[str, str], int],
        lane: int,
    ) -> None:
        handed: dict[str, list[_Claimed]] = {}
        for message, row_id in zip(messages, ids, strict=True):
            chat = message.chat
            if row_id is None or chat.platform not in self._takers:
                continue
            handed.setdefault(chat.platform, []).append(
                _Claimed(
                    id=row_id,
                    chat_row=chat_ids[(chat.platform, chat.chat_id)],
                    chat_key=chat.chat_id,
                    is_group=chat.kind != ChatKind.PRIVATE,
                    lane=lane,
                    attempts=0,
                    key=message.dedupe_key,
                    delivery=Delivery(
                        op=Op.SEND,
                        chat_id=chat.chat_id,
                        content=message.content,
                        nonce=f"ob{row_id}",
                        message_ids=(),
                        attempt=0,
                        chat_kind=chat.kind,
                    ),
                )
            )

        def take(_session: Session) -> None:
            for platform, claimed in handed.items():
                self._takers[platform][1](claimed)

        if handed:
            event.listen(session.sync_session, "after_commit", take, once=True)

    async def enqueue_edit(
        self, session: AsyncSession, target_id: int, content: Content, lane: int = BULK_LANE
    ) -> int:
        """Edit a message sent (or still to be sent) from row ``target_id``.

        Edits of one message coalesce: a newer edit replaces a pending older one,
        so a live tally edited 50 times a second costs the platform one edit.
        """
        return (await self.enqueue_edits(session, [target_id], content, lane))[0]

    async def enqueue_edits(
        self,
        session: AsyncSession,
        target_ids: Sequence[int],
        content: Content,
        lane: int = BULK_LANE,
    ) -> list[int]:
        """:meth:`enqueue_edit` of every copy of one message at once (a live tally in
        fifty chats) in a few statements, not a few per copy; returns the edit rows'
        ids in the order of ``target_ids``."""
        return await self._enqueue_changes(session, target_ids, Op.EDIT, content.to_payload(), lane)

    async def enqueue_delete(self, session: AsyncSession, target_id: int) -> int:
        return (await self._enqueue_changes(session, [target_id], Op.DELETE, {}, BULK_LANE))[0]

    async def _enqueue_changes(
        self,
        session: AsyncSession,
        target_ids: Sequence[int],
        op: Op,
        payload: dict[str, Any],
        lane: int,
    ) -> list[int]:
        wanted = list(dict.fromkeys(target_ids))
        targets: dict[int, Row[int, str, int]] = {}
        pending: dict[int, OutboxRow] = {}
        for start in range(0, len(wanted), IN_LIST_CHUNK):
            chunk = wanted[start : start + IN_LIST_CHUNK]
            rows = await session.execute(
                select(OutboxRow.id, OutboxRow.platform, OutboxRow.chat_id).where(
                    OutboxRow.id.in_(chunk)
                )
            )
            targets.update((row.id, row) for row in rows)
            changes = await session.scalars(
                select(OutboxRow).where(
                    OutboxRow.target_id.in_(chunk),
                    OutboxRow.op == op.value,
                    OutboxRow.status == Status.PENDING,
                )
            )
            pending.update((row.target_id, row) for row in changes if row.target_id is not None)
        missing = [target_id for target_id in wanted if target_id not in targets]
        if missing:
            raise ValueError(f"no outbox row {missing[0]}")
        now = self.clock.now()
        for row in pending.values():  # coalesce: the newer change replaces it
            row.payload = payload
            row.next_attempt_at = now
            row.message_ids = ""  # and starts again at the first part
        fresh = [target_id for target_id in wanted if target_id not in pending]
        inserted = await _insert_plain(
            session,
            [
                {
                    "platform": targets[target_id].platform,
                    "chat_id": targets[target_id].chat_id,
                    "op": op.value,
                    "lane": lane,
                    "payload": payload,
                    "target_id": target_id,
                    "status": Status.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "message_ids": "",
                    "error": "",
                    "created_at": now,
                }
                for target_id in fresh
            ],
        )
        ids = {target_id: row.id for target_id, row in pending.items()}
        ids.update(zip(fresh, inserted, strict=True))
        return [ids[target_id] for target_id in target_ids]


async def _chat_ids(
    session: AsyncSession, messages: Sequence[Outgoing]
) -> dict[tuple[str, str], int]:
    wanted = {(m.chat.platform, m.chat.chat_id) for m in messages}
    found: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, chat_id in wanted:
        by_platform.setdefault(platform, []).append(chat_id)
    for platform, chat_ids in by_platform.items():
        for start in range(0, len(chat_ids), IN_LIST_CHUNK):
            rows = await session.execute(
                select(Chat.id, Chat.platform_chat_id).where(
                    Chat.platform == platform,
                    Chat.platform_chat_id.in_(chat_ids[start : start + IN_LIST_CHUNK]),
                    Chat.active.is_(True),
                )
            )
            for row_id, chat_id in rows:
                found[(platform, chat_id)] = row_id
    return found


async def _insert_plain(session: AsyncSession, rows: list[dict[str, Any]]) -> Iterator[int]:
    """One multi-row INSERT; ids come back in the order of ``rows``."""
    if not rows:
        return iter(())
    statement = insert(OutboxRow).returning(OutboxRow.id, sort_by_parameter_order=True)
    return iter(list(await session.scalars(statement, rows)))


async def _insert_keyed(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows whose ``dedupe_key`` is new; return the new ids by key. A key that
    already exists (a retried command, a second process) is skipped, not an error."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        upsert(OutboxRow)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxRow.dedupe_key, OutboxRow.id)
    )
    result = await session.execute(statement, rows)
    return {key: row_id for key, row_id in result if key is not None}


@dataclass
class _Claimed:
    """A claimed row with what the sender needs, detached from any session."""

    id: int
    chat_row: int
    chat_key: str
    is_group: bool
    delivery: Delivery
    lane: int
    attempts: int
    key: str | None


@dataclass
class _Outcome:
    claimed: _Claimed
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
        self._buffer: list[_Claimed] = []
        # Set by anything the loop should look at: new work, a freed send slot, a
        # finished claim. The loop clears it before it looks, so that it never finds
        # it set by its own doing: every turn sleeps (see bot.dispatch).
        self._changed = asyncio.Event()
        self._wake = False  # new rows were written: claim, after any claim under way
        self._progress = asyncio.Event()
        # Rows handed to the send workers whose outcome is not yet recorded: a
        # crash resends at most these, so their number never passes max_in_flight.
        self._in_flight = 0
        self._handoff: asyncio.Queue[tuple[_Claimed, Stamp]] = asyncio.Queue()
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
        self._to_put_back: list[_Claimed] = []  # held rows, back to the table soon
        self._stopping = True  # until started: takes no rows handed over
        self._after_delivery: list[RecordedHook] = []
        outbox.on_enqueue(self._on_enqueue)
        outbox.on_hand_over(self.platform, timedelta(seconds=settings.lease_seconds), self._take)

    def after_delivery(self, hook: RecordedHook) -> None:
        """Run ``hook(session, rows)`` in the transaction that records sent or
        failed rows (delivery receipts and live tallies build on this)."""
        self._after_delivery.append(hook)

    # --- life-cycle --------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"sender-{self.platform}")
        self._workers = [
            asyncio.create_task(self._send_forever(), name=f"send-{self.platform}-{n}")
            for n in range(self.max_in_flight)
        ]
        self._writer = asyncio.create_task(self._write_outcomes(), name=f"recorder-{self.platform}")

    async def stop(self) -> None:
        """Stop claiming, let sends in flight finish and record them, release the rest."""
        self._stopping = True
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

    def _take(self, claimed: list[_Claimed]) -> None:
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

    def _chat_wait(self, claimed: _Claimed) -> float:
        """Seconds until a message to this row's chat may go, by the chat's own limits
        (as the pacer has them now, or as they were when its rows were held back)."""
        wait = self.pacer.chat_wait(claimed.chat_key, claimed.is_group)
        held = self._held.get(claimed.chat_row)
        if held is not None:
            wait = max(wait, held - asyncio.get_running_loop().time())
        return wait

    def _hold(self, held: list[_Claimed], waits: dict[int, float], now: float) -> None:
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

    async def _send(self, claimed: _Claimed, stamps: list[Stamp]) -> None:
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

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        due = or_(
            and_(OutboxRow.status == Status.PENDING, OutboxRow.next_attempt_at <= now),
            and_(OutboxRow.status == Status.SENDING, OutboxRow.lease_until < now),
        )
        candidates: Select[int] = (
            select(OutboxRow.id)
            .where(OutboxRow.platform == self.platform, due)
            .order_by(OutboxRow.lane, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        held = [c.id for c in self._buffer]
        if held:
            candidates = candidates.where(OutboxRow.id.not_in(held))
        waiting = list(self._held)  # chats whose rows could not go yet
        if waiting:
            candidates = candidates.where(OutboxRow.chat_id.not_in(waiting))
        async with self.db.session() as session:
            claimed = list(
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(candidates.scalar_subquery()), due)
                    .values(status=Status.SENDING, lease_until=lease)
                    .returning(*_CLAIMED_COLUMNS)
                )
            )
            if not claimed:
                return []
            return await self._load(session, sorted(claimed, key=lambda row: (row.lane, row.id)))

    async def _load(self, session: AsyncSession, claimed: list[Row[Any]]) -> list[_Claimed]:
        """Turn claimed rows into deliveries. Plain rows, not ORM objects: this runs
        for every message, and the few rows that cannot go now are set aside with
        one UPDATE each kind."""
        chats = await self._chats(session, {row.chat_id for row in claimed})
        targets = await self._targets(session, [row.target_id for row in claimed if row.target_id])
        ready: list[_Claimed] = []
        failed: list[tuple[Finished, str]] = []
        waiting: list[int] = []
        for row in claimed:
            chat = chats[row.chat_id]
            if not chat.active:
                failed.append(
                    (Finished(row.id, row.dedupe_key), f"chat inactive: {chat.inactive_reason}")
                )
                continue
            # A row's own ids are the parts an earlier attempt did (see Delivery): a
            # send's, or those an edit reached.
            message_ids = _ids(row.message_ids)
            done = len(message_ids)
            if row.target_id is not None:
                target = targets.get(row.target_id)
                if target is None or target.status == Status.FAILED:
                    failed.append(
                        (Finished(row.id, row.dedupe_key), "the message to change was never sent")
                    )
                    continue
                if target.status != Status.SENT:
                    waiting.append(row.id)
                    continue
                message_ids = _ids(target.message_ids)
            ready.append(
                _Claimed(
                    id=row.id,
                    chat_row=chat.id,
                    chat_key=chat.platform_chat_id,
                    is_group=chat.kind != ChatKind.PRIVATE.value,
                    lane=row.lane,
                    attempts=row.attempts,
                    key=row.dedupe_key,
                    delivery=Delivery(
                        op=Op(row.op),
                        chat_id=chat.platform_chat_id,
                        content=Content.from_payload(row.payload),
                        nonce=f"ob{row.id}",
                        message_ids=message_ids,
                        attempt=row.attempts,
                        chat_kind=ChatKind(chat.kind),
                        done=done,
                    ),
                )
            )
        if waiting:  # an edit whose message is not out yet: look again shortly
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(waiting))
                .values(
                    status=Status.PENDING,
                    next_attempt_at=self.clock.now() + EDIT_WAIT,
                    lease_until=None,
                )
            )
        if failed:
            await session.execute(
                _MARK_FAILED, [{"row": done.row_id, "why": why} for done, why in failed]
            )
            await self._run_hooks(session, [done for done, _ in failed])
        return ready

    async def _chats(
        self, session: AsyncSession, ids: set[int]
    ) -> dict[int, Row[int, str, str, bool, str]]:
        rows = await session.execute(
            select(
                Chat.id, Chat.platform_chat_id, Chat.kind, Chat.active, Chat.inactive_reason
            ).where(Chat.id.in_(ids))
        )
        return {row.id: row for row in rows}

    async def _run_hooks(self, session: AsyncSession, finished: list[Finished]) -> None:
        for hook in self._after_delivery:
            await hook(session, finished)

    async def _targets(
        self, session: AsyncSession, ids: list[int]
    ) -> dict[int, Row[int, str, str]]:
        if not ids:
            return {}
        rows = await session.execute(
            select(OutboxRow.id, OutboxRow.status, OutboxRow.message_ids).where(
                OutboxRow.id.in_(ids)
            )
        )
        return {row.id: row for row in rows}

    async def _renew_leases(self) -> None:
        """Rows waiting in our buffer keep their lease, so no one else claims them."""
        loop_now = asyncio.get_running_loop().time()
        if not self._buffer or loop_now - self._last_renewal < self.settings.lease_seconds / 3:
            return
        self._last_renewal = loop_now
        lease = self.clock.now() + timedelta(seconds=self.settings.lease_seconds)
        async with self.db.session() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([c.id for c in self._buffer]))
                .values(lease_until=lease)
            )

    async def _release(self, claimed: list[_Claimed]) -> None:
        """Rows claimed but not sent go back to the table, due at once."""
        if not claimed:
            return
        async with self.db.session() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_([c.id for c in claimed]), OutboxRow.status == Status.SENDING
                )
                .values(status=Status.PENDING, lease_until=None)
            )

    async def _has_due(self) -> bool:
        async with self.db.session() as session:
            found = await session.scalar(
                select(OutboxRow.id)
                .where(
                    OutboxRow.platform == self.platform,
                    OutboxRow.status.in_([Status.PENDING, Status.SENDING]),
                    OutboxRow.next_attempt_at <= self.clock.now(),
                )
                .limit(1)
            )
        return found is not None

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
                    await session.execute(
                        _MARK_SENT.values(sent_at=now),
                        [
                            {
                                "row": o.claimed.id,
                                "ids": ",".join(o.message_ids or o.claimed.delivery.message_ids),
                            }
                            for o in sent
                        ],
                    )
                    self.stats.sent += len(sent)
                done = [Finished(o.claimed.id, o.claimed.key) for o in sent]
                for outcome in failed:
                    row = await session.get(OutboxRow, outcome.claimed.id)
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
            _retry(row, now, error.reason)
            chat = outcome.claimed.chat_row
            held = [c for c in self._buffer if c.chat_row == chat]
            self._hold(held, {chat: error.seconds}, asyncio.get_running_loop().time())
            return []
        if outcome.sent and not isinstance(error, ChatMoved):
            # The parts out before it failed: a retry starts after them. (A moved
            # chat gets the message whole, so that all its parts are in one chat.)
            row.message_ids = ",".join(outcome.sent)
        if isinstance(error, RetryAfter):
            self.stats.rate_limited += 1
            when = now + timedelta(seconds=error.seconds)
            _retry(row, when, error.reason)
            await self._hold_back(session, outcome.claimed.chat_row, when)
            return []
        if isinstance(error, ChatMoved):
            await move_chat(session, outcome.claimed.chat_row, error.new_chat_id)
            _retry(row, now, error.reason)
            return []
        if isinstance(error, Permanent) or row.attempts + 1 >= self.settings.max_attempts:
            _fail(row, error.reason)
            self.stats.failed += 1
            if isinstance(error, Permanent) and error.chat_gone:
                gone = await deactivate_chat(session, outcome.claimed.chat_row, error.reason)
                return [Finished(row.id, row.dedupe_key), *gone]
            return [Finished(row.id, row.dedupe_key)]
        row.attempts += 1
        self.stats.retried += 1
        delay = min(self.settings.backoff_cap_seconds, 2.0**row.attempts) * random.uniform(0.5, 1.0)
        _retry(row, now + timedelta(seconds=delay), error.reason)
        return []

    async def _hold_back(self, session: AsyncSession, chat_row: int, until: datetime) -> None:
        """After a "retry after", the chat's other claimed rows wait as long, rather
        than each earning its own 429 (Discord bans bots that collect too many)."""
        held = [c for c in self._buffer if c.chat_row == chat_row]
        if not held:
            return
        self._buffer = [c for c in self._buffer if c.chat_row != chat_row]
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([c.id for c in held]))
            .values(status=Status.PENDING, next_attempt_at=until, lease_until=None)
        )


# A plain (Core) executemany: the ORM's bulk update by primary key does the same
# with much more Python per row, and this runs for every message sent.
_OUTBOX = cast(Table, OutboxRow.__table__)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row"))
    .values(status=Status.SENT, lease_until=None, message_ids=bindparam("ids"), error="")
)
_MARK_FAILED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row"))
    .values(status=Status.FAILED, lease_until=None, error=bindparam("why"))
)
# What a claim reads of each row it takes.
_CLAIMED_COLUMNS = (
    OutboxRow.id,
    OutboxRow.chat_id,
    OutboxRow.op,
    OutboxRow.lane,
    OutboxRow.payload,
    OutboxRow.target_id,
    OutboxRow.dedupe_key,
    OutboxRow.attempts,
    OutboxRow.message_ids,
)


class _Paced(DeliveryError):
    """The next part of a message must wait for its chat's limits: not a failure."""

    def __init__(self, seconds: float) -> None:
        super().__init__("the next part waits for the chat's limits")
        self.seconds = seconds


def _ids(stored: str) -> tuple[str, ...]:
    """Message ids as the outbox stores them: comma-separated."""
    return tuple(filter(None, stored.split(",")))


def _fail(row: OutboxRow, error: str) -> None:
    row.status = Status.FAILED
    row.lease_until = None
    row.error = error


def _retry(row: OutboxRow, when: datetime, reason: str) -> None:
    row.status = Status.PENDING
    row.next_attempt_at = when
    row.lease_until = None
    row.error = reason


async def _finish(task: asyncio.Task[None]) -> None:
    """Give ``task`` a moment to end by itself, then cancel it."""
    await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
    await _cancel(task)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
