"""Putting messages in the outbox, and taking them out to send.

:class:`Outbox` writes rows inside the caller's own transaction, so a command's
changes and the messages announcing them are saved together or not at all. When
that transaction commits, the outbox wakes this process's senders for the
platforms it wrote rows for: whoever enqueues — the core, a timer, a feature
writing rows to learn their ids — never wakes anyone by hand, and no sender looks
before the rows are visible. (Without a wake a sender finds rows at its next poll,
``poll_seconds`` later: rows written by another process.)

:func:`claim` is the other end: the rows a sender leases, ready to deliver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.types import ChatKind, Content, Delivery, Finished, Op, Outgoing
from storage import outbox as table
from storage.outbox import Lane, Status

# An edit waits this long for the message it edits to be sent first.
EDIT_WAIT = timedelta(seconds=2)
# Where a session keeps, until it commits, what each outbox must do then.
_AFTER_COMMIT = "outbox.after_commit"


@dataclass
class Claimed:
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
class _Committed:
    """What an outbox does when the transaction that wrote its rows commits."""

    platforms: set[str] = field(default_factory=set)  # wake their senders
    handed: dict[str, list[Claimed]] = field(default_factory=dict)  # rows handed over


Take = Callable[[list[Claimed]], None]


class Outbox:
    """Writes rows; wakes the senders once they are committed. Shared by everything
    that speaks."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._listeners: list[Callable[[str], None]] = []
        self._takers: dict[str, tuple[timedelta, Take]] = {}

    def on_enqueue(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def on_hand_over(self, platform: str, lease: timedelta, take: Take) -> None:
        """Let this process's sender for ``platform`` take rows enqueued with
        ``hand_over`` straight from the enqueuer, already claimed for ``lease``."""
        self._takers[platform] = (lease, take)

    def stop_hand_over(self, platform: str) -> None:
        """That sender stopped: its platform's rows are written pending again."""
        self._takers.pop(platform, None)

    def notify(self, platforms: Iterable[str]) -> None:
        """Wake the senders of these platforms: to look in the table now, for rows
        this outbox did not write (another process's, a test's)."""
        for platform in set(platforms):
            for listener in self._listeners:
                listener(platform)

    async def enqueue(
        self,
        session: AsyncSession,
        messages: Sequence[Outgoing],
        lane: Lane = Lane.BULK,
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
        chat_ids = await table.active_chat_ids(
            session, {(m.chat.platform, m.chat.chat_id) for m in messages}
        )
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
        keyed = await table.insert_keyed(session, [r for r in rows if r["dedupe_key"] is not None])
        plain = await table.insert_plain(session, [r for r in rows if r["dedupe_key"] is None])
        ids: list[int | None] = []
        for message in messages:
            if (message.chat.platform, message.chat.chat_id) not in chat_ids:
                ids.append(None)
            elif message.dedupe_key is None:
                ids.append(next(plain))
            else:
                ids.append(keyed.pop(message.dedupe_key, None))
        committed = self._after_commit(session)
        committed.platforms.update(m.chat.platform for m in messages)
        if hand_over:
            self._hand_over(committed, messages, ids, chat_ids, lane)
        return ids

    def _hand_over(
        self,
        committed: _Committed,
        messages: Sequence[Outgoing],
        ids: list[int | None],
        chat_ids: dict[tuple[str, str], int],
        lane: Lane,
    ) -> None:
        for message, row_id in zip(messages, ids, strict=True):
            chat = message.chat
            if row_id is None or chat.platform not in self._takers:
                continue
            committed.handed.setdefault(chat.platform, []).append(
                Claimed(
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

    def _after_commit(self, session: AsyncSession) -> _Committed:
        """What this outbox will do when ``session``'s transaction commits (see
        :func:`_committed`); nothing, should it roll back."""
        pending: dict[Outbox, _Committed] = session.info.setdefault(_AFTER_COMMIT, {})
        committed = pending.get(self)
        if committed is None:
            committed = pending[self] = _Committed()
        return committed

    def _committed(self, committed: _Committed) -> None:
        """The rows are visible: hand the claimed ones over, then wake the senders."""
        for platform, claimed in committed.handed.items():
            taker = self._takers.get(platform)
            if taker is not None:  # (stopped meanwhile: the lease lets them go)
                taker[1](claimed)
        self.notify(committed.platforms)

    async def enqueue_edit(
        self, session: AsyncSession, target_id: int, content: Content, lane: Lane = Lane.BULK
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
        lane: Lane = Lane.BULK,
    ) -> list[int]:
        """:meth:`enqueue_edit` of every copy of one message at once (a live tally in
        fifty chats) in a few statements, not a few per copy; returns the edit rows'
        ids in the order of ``target_ids``."""
        return await self._enqueue_changes(session, target_ids, Op.EDIT, content.to_payload(), lane)

    async def enqueue_delete(self, session: AsyncSession, target_id: int) -> int:
        return (await self._enqueue_changes(session, [target_id], Op.DELETE, {}, Lane.BULK))[0]

    async def _enqueue_changes(
        self,
        session: AsyncSession,
        target_ids: Sequence[int],
        op: Op,
        payload: dict[str, Any],
        lane: Lane,
    ) -> list[int]:
        wanted = list(dict.fromkeys(target_ids))
        targets, pending = await table.change_targets(session, wanted, op)
        missing = [target_id for target_id in wanted if target_id not in targets]
        if missing:
            raise ValueError(f"no outbox row {missing[0]}")
        now = self.clock.now()
        for row in pending.values():  # coalesce: the newer change replaces it
            row.payload = payload
            row.next_attempt_at = now
            row.message_ids = ""  # and starts again at the first part
        fresh = [target_id for target_id in wanted if target_id not in pending]
        inserted = await table.insert_plain(
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
        self._after_commit(session).platforms.update(target.platform for target in targets.values())
        return [ids[target_id] for target_id in target_ids]


def _committed(session: Session) -> None:
    for outbox, committed in session.info.pop(_AFTER_COMMIT, {}).items():
        outbox._committed(committed)


def _rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


# Once for every session: a commit with no rows written costs a dictionary lookup.
event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_rollback", _rolled_back)


async def claim(
    session: AsyncSession,
    platform: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    held_rows: Sequence[int],
    held_chats: Sequence[int],
) -> tuple[list[Claimed], list[Finished]]:
    """Lease up to ``limit`` of ``platform``'s due rows (see :func:`storage.outbox.claim`)
    and turn them into deliveries. Plain rows, not ORM objects: this runs for every
    message, and the few rows that cannot go now are set aside with one UPDATE each
    kind. Returns the rows ready to deliver and those failed here (for a chat gone
    inactive, or an edit of a message never sent)."""
    claimed = await table.claim(
        session, platform, now, now + lease, limit, held_rows=held_rows, held_chats=held_chats
    )
    if not claimed:
        return [], []
    chats = await table.chats(session, {row.chat_id for row in claimed})
    targets = await table.targets(session, [row.target_id for row in claimed if row.target_id])
    ready: list[Claimed] = []
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
        message_ids = ids(row.message_ids)
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
            message_ids = ids(target.message_ids)
        ready.append(
            Claimed(
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
        await table.put_back(session, waiting, at=now + EDIT_WAIT)
    if failed:
        await table.mark_failed(session, [(done.row_id, why) for done, why in failed])
    return ready, [done for done, _ in failed]


def ids(stored: str) -> tuple[str, ...]:
    """Message ids as the outbox stores them: comma-separated."""
    return tuple(filter(None, stored.split(",")))
