"""Posted copies: one message in many chats, and the announcements that send them.

A *copy* is one chat's copy of something posted to many chats — an announcement,
a meeting card, a poll — so the whole set can be edited, deleted, counted or found
again, before or after a restart. Every feature keeps its copies in the one
``copies`` table, found by ``(subject, subject_id)``: what they are copies of
(``"broadcast"`` and its id, ``"meeting"``, ``"poll"``, …). There is no foreign key
on ``subject_id`` (it names rows of different tables); the subjects' ids are never
reused (``NO_ID_REUSE``), so a copy can never come to belong to something else.

A copy is linked to its outbox row by the row's ``dedupe_key`` — one scheme for
every feature, whether the feature queued the row itself, a timer did, or the core
queued what a handler returned. The key also makes queueing the same copy twice
impossible. A copy whose key has no outbox row was refused (its chat had become
inactive) or, while an announcement is still being written, is yet to come.
``occurrence`` says which date of something repeating a copy shows (a meeting's
next date; a rota's shift), and ``detail`` holds what the feature needs to draw the
copy again (a meeting reminder's offset).

An *announcement* (:class:`Broadcast`) is one message copied to many chats with a
preview, a live receipt for its sender and an audit trail (:class:`AlertAudit`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import NO_ID_REUSE, Base, BigId, Chat, OutboxRow, UTCDateTime


class Copy(Base):
    """One chat's copy of a subject posted to many chats (see the module docstring)."""

    __tablename__ = "copies"
    __table_args__ = (
        Index("ix_copies_subject", "subject", "subject_id", "occurrence"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigId)
    occurrence: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True)
class NewCopy:
    """A copy about to be recorded; queue its message under ``key``."""

    subject: str
    subject_id: int
    chat_id: int
    key: str
    occurrence: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _of(subject: str, subject_id: int) -> tuple[Any, ...]:
    return (Copy.subject == subject, Copy.subject_id == subject_id)


async def add(session: AsyncSession, copies: Sequence[NewCopy]) -> None:
    """Record copies in bulk (one statement, not one per copy)."""
    if copies:
        await session.execute(
            insert(Copy),
            [
                {
                    "subject": c.subject,
                    "subject_id": c.subject_id,
                    "occurrence": c.occurrence,
                    "chat_id": c.chat_id,
                    "dedupe_key": c.key,
                    "detail": c.detail,
                }
                for c in copies
            ],
        )


async def live(
    session: AsyncSession,
    subject: str,
    subject_id: int,
    occurrences: Iterable[datetime] | None = None,
) -> list[tuple[Copy, int, str]]:
    """``(copy, outbox row id, platform)`` of the copies that were (or may still be)
    delivered — what an edit or delete should reach — oldest first; optionally only
    those showing these ``occurrences``. Failed and refused copies are in no chat."""
    query = (
        select(Copy, OutboxRow.id, OutboxRow.platform)
        .join(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
        .where(*_of(subject, subject_id), OutboxRow.status != "failed")
        .order_by(Copy.id)
    )
    if occurrences is not None:
        wanted = list(set(occurrences))
        if not wanted:
            return []
        query = query.where(Copy.occurrence.in_(wanted))
    return [(copy, row_id, platform) for copy, row_id, platform in await session.execute(query)]


async def chats_of(session: AsyncSession, subject: str, subject_id: int) -> list[Chat]:
    """The chats a subject was posted to, by chat id."""
    return list(
        await session.scalars(
            select(Chat)
            .where(Chat.id.in_(select(Copy.chat_id).where(*_of(subject, subject_id))))
            .order_by(Chat.id)
        )
    )


async def posted_in(
    session: AsyncSession, subject: str, subject_ids: int | Select[int], chat_id: int
) -> bool:
    """Whether a copy of the subject (or of any of the subjects ``subject_ids``
    selects) is in chat ``chat_id``."""
    which = (
        Copy.subject_id.in_(subject_ids)
        if isinstance(subject_ids, Select)
        else Copy.subject_id == subject_ids
    )
    found = await session.scalar(
        select(Copy.id).where(Copy.subject == subject, which, Copy.chat_id == chat_id).limit(1)
    )
    return found is not None


def posted_to(subject: str, chat_ids: Iterable[int]) -> Select[int]:
    """The ids of the subjects with a copy in any of these chats, as a subquery."""
    return select(Copy.subject_id).where(Copy.subject == subject, Copy.chat_id.in_(list(chat_ids)))


async def occurrences_after(
    session: AsyncSession, subject: str, subject_id: int, after: datetime
) -> list[datetime]:
    """The dates after ``after`` that copies of the subject show."""
    found = await session.scalars(
        select(Copy.occurrence).where(*_of(subject, subject_id), Copy.occurrence > after).distinct()
    )
    return [when for when in found if when is not None]


async def by_message(session: AsyncSession, chat_id: int, message_id: str) -> Copy | None:
    """The copy that is platform message ``message_id`` in chat ``chat_id`` (any of
    its parts): what a button press or a reply to a copy is about."""
    parts = literal(",") + OutboxRow.message_ids + literal(",")
    return await session.scalar(
        select(Copy)
        .join(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
        .where(Copy.chat_id == chat_id, parts.contains(f",{message_id},"))
        .limit(1)
    )


async def unwritten(
    session: AsyncSession, subject: str, subject_id: int, after_chat: int, limit: int
) -> list[Chat]:
    """The next chats (by id, after ``after_chat``) whose copy has no outbox row yet."""
    return list(
        await session.scalars(
            select(Chat)
            .join(Copy, Copy.chat_id == Chat.id)
            .outerjoin(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
            .where(*_of(subject, subject_id), OutboxRow.id.is_(None), Chat.id > after_chat)
            .order_by(Chat.id)
            .limit(limit)
        )
    )


@dataclass
class Progress:
    """How the delivery of a subject's copies stands, from the outbox itself."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    failures: list[tuple[Chat, str]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.sent + self.failed >= self.total


async def progress(
    session: AsyncSession,
    subject: str,
    subject_id: int,
    *,
    failures: bool,
    unwritten: bool = False,
) -> Progress:
    """Counts by outbox status; with ``failures``, also which chats failed and why
    (the outbox row's error, else the chat's own reason for being inactive). A copy
    without an outbox row failed (its chat was inactive) — unless copies are still
    being ``unwritten``: then it is still to come."""
    rows = await session.execute(
        select(OutboxRow.status, func.count())
        .select_from(Copy)
        .outerjoin(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
        .where(*_of(subject, subject_id))
        .group_by(OutboxRow.status)
    )
    result = Progress()
    for status, count in rows:
        result.total += count
        if status == "sent":
            result.sent += count
        elif status == "failed" or (status is None and not unwritten):
            result.failed += count
    if failures and result.failed:
        failed_copy = OutboxRow.status == "failed"
        if not unwritten:
            failed_copy = failed_copy | OutboxRow.id.is_(None)
        failed = await session.execute(
            select(Chat, OutboxRow.error)
            .select_from(Copy)
            .join(Chat, Chat.id == Copy.chat_id)
            .outerjoin(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
            .where(*_of(subject, subject_id), failed_copy)
            .order_by(Chat.id)
        )
        result.failures = [
            (chat, error or chat.inactive_reason or "not sent") for chat, error in failed
        ]
    return result


# --- announcements ---------------------------------------------------------------------


ANNOUNCED = "broadcast"
"""The ``copies.subject`` of an announcement's copies."""


class BroadcastStatus:
    PREVIEW = "preview"  # waiting for the sender's Confirm
    DROPPED = "dropped"  # the sender chose not to send
    SENDING = "sending"  # the first copies are in the outbox, the rest are being added
    SENT = "sent"  # copies are in the outbox


class Broadcast(Base):
    """One announcement to many chats. ``payload`` is its current content (what a
    correction or a new count edits every copy to); ``receipt_row_id`` is the outbox
    row of the sender's preview-then-receipt message, edited in place. Its copies are
    the ``copies`` of subject ``"broadcast"``."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_subject", "kind", "subject_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    target: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    cancelled: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    chat_count: Mapped[int] = mapped_column(Integer, default=0)
    receipt_row_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_shown: Mapped[str] = mapped_column(Text, default="")
    receipt_final: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertAudit(Base):
    """Every announcement, correction and cancel: who, when, what, where, how many."""

    __tablename__ = "alert_audit"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(String(500))
    chat_count: Mapped[int] = mapped_column(Integer)


def announcements(kind: str, subject_id: int) -> Select[int]:
    """The ids of the announcements of ``kind`` #``subject_id``, as a subquery."""
    return select(Broadcast.id).where(Broadcast.kind == kind, Broadcast.subject_id == subject_id)


async def broadcasts_of(session: AsyncSession, kind: str, subject_id: int) -> list[Broadcast]:
    return list(
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.kind == kind, Broadcast.subject_id == subject_id)
            .order_by(Broadcast.id)
        )
    )


async def broadcasts_sending(session: AsyncSession) -> list[int]:
    """Announcements some of whose copies are still to be put in the outbox."""
    return list(
        await session.scalars(
            select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING)
        )
    )


async def unfinished_receipts(session: AsyncSession) -> list[int]:
    """Announcements whose sender has not yet had the final summary."""
    return list(
        await session.scalars(
            select(Broadcast.id).where(
                Broadcast.status.in_([BroadcastStatus.SENT, BroadcastStatus.SENDING]),
                Broadcast.receipt_final.is_(False),
            )
        )
    )
