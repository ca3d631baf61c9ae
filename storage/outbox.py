"""The ``outbox`` table's statements, for :mod:`bot.outbox` alone.

Every statement here runs in the caller's session: enqueueing inside the
transaction of the change it announces, claiming and recording in the sender's.
Lists of ids go out in bounded chunks (:data:`IN_LIST_CHUNK`), so that no
statement grows with the number of chats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, cast

from sqlalchemy import Row, Select, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import Op
from storage.db import insert_or_skip
from storage.models import Chat, OutboxRow

# Ids per IN list: bounded, so that no statement grows with the number of chats.
IN_LIST_CHUNK = 500


class Status(StrEnum):
    """A row's ``status``: pending → sending → sent | failed (stored as the value)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Lane(IntEnum):
    """A row's ``lane``: claimed lowest first, so a broadcast never makes a reply wait."""

    REPLY = 0
    BULK = 1


ChatRow = Row[int, str, str, bool, str]
TargetRow = Row[int, str, str]


# --- enqueueing -------------------------------------------------------------------


async def active_chat_ids(
    session: AsyncSession, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The row ids of the active chats among ``wanted`` (platform, platform chat id)."""
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


async def insert_plain(session: AsyncSession, rows: list[dict[str, Any]]) -> Iterator[int]:
    """One multi-row INSERT; ids come back in the order of ``rows``."""
    if not rows:
        return iter(())
    statement = insert(OutboxRow).returning(OutboxRow.id, sort_by_parameter_order=True)
    return iter(list(await session.scalars(statement, rows)))


async def insert_keyed(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows whose ``dedupe_key`` is new; return the new ids by key. A key that
    already exists (a retried command, a second process) is skipped, not an error."""
    if not rows:
        return {}
    statement = (
        insert_or_skip(session)(OutboxRow)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxRow.dedupe_key, OutboxRow.id)
    )
    result = await session.execute(statement, rows)
    return {key: row_id for key, row_id in result if key is not None}


async def change_targets(
    session: AsyncSession, wanted: Sequence[int], op: Op
) -> tuple[dict[int, Row[int, str, int]], dict[int, OutboxRow]]:
    """For an edit or delete of the rows ``wanted``: each row's id, platform and chat,
    and the pending change of the same ``op`` already queued for it, if any."""
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
    return targets, pending


# --- claiming ---------------------------------------------------------------------


async def claim(
    session: AsyncSession,
    platform: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    *,
    held_rows: Sequence[int],
    held_chats: Sequence[int],
) -> list[Row[Any]]:
    """Lease up to ``limit`` due rows of ``platform``, replies first, then oldest:
    pending ones whose time has come and sending ones whose lease ran out (their
    sender died). Skips rows already ``held_rows`` and the chats ``held_chats``,
    and rows another sender has locked."""
    due = or_(
        and_(OutboxRow.status == Status.PENDING, OutboxRow.next_attempt_at <= now),
        and_(OutboxRow.status == Status.SENDING, OutboxRow.lease_until < now),
    )
    candidates: Select[int] = (
        select(OutboxRow.id)
        .where(OutboxRow.platform == platform, due)
        .order_by(OutboxRow.lane, OutboxRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if held_rows:
        candidates = candidates.where(OutboxRow.id.not_in(held_rows))
    if held_chats:
        candidates = candidates.where(OutboxRow.chat_id.not_in(held_chats))
    claimed = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(candidates.scalar_subquery()), due)
        .values(status=Status.SENDING, lease_until=lease_until)
        .returning(*_CLAIMED_COLUMNS)
    )
    return sorted(claimed, key=lambda row: (row.lane, row.id))


async def chats(session: AsyncSession, ids: set[int]) -> dict[int, ChatRow]:
    """The chats of claimed rows, by row id: where they go and whether they still may."""
    rows = await session.execute(
        select(Chat.id, Chat.platform_chat_id, Chat.kind, Chat.active, Chat.inactive_reason).where(
            Chat.id.in_(ids)
        )
    )
    return {row.id: row for row in rows}


async def targets(session: AsyncSession, ids: list[int]) -> dict[int, TargetRow]:
    """The status and message ids of the rows that claimed edits and deletes change."""
    if not ids:
        return {}
    rows = await session.execute(
        select(OutboxRow.id, OutboxRow.status, OutboxRow.message_ids).where(OutboxRow.id.in_(ids))
    )
    return {row.id: row for row in rows}


async def has_due(session: AsyncSession, platform: str, now: datetime) -> bool:
    found = await session.scalar(
        select(OutboxRow.id)
        .where(
            OutboxRow.platform == platform,
            OutboxRow.status.in_([Status.PENDING, Status.SENDING]),
            OutboxRow.next_attempt_at <= now,
        )
        .limit(1)
    )
    return found is not None


async def renew(session: AsyncSession, ids: list[int], lease_until: datetime) -> None:
    await session.execute(
        update(OutboxRow).where(OutboxRow.id.in_(ids)).values(lease_until=lease_until)
    )


async def put_back(session: AsyncSession, ids: list[int], *, at: datetime | None = None) -> None:
    """Claimed rows not sent become pending again: due at ``at``, or as they were.
    Only rows still being sent: one that was recorded meanwhile stays recorded."""
    values: dict[str, Any] = {"status": Status.PENDING, "lease_until": None}
    if at is not None:
        values["next_attempt_at"] = at
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids), OutboxRow.status == Status.SENDING)
        .values(**values)
    )


async def release_sending(session: AsyncSession, platform: str) -> int:
    """Every row of ``platform`` being sent becomes pending again, due at once: for
    a sender just elected, whose predecessor died with them claimed (the election
    says no one else sends them now). Returns how many."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.platform == platform, OutboxRow.status == Status.SENDING)
        .values(status=Status.PENDING, lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- recording outcomes -----------------------------------------------------------


async def mark_sent(session: AsyncSession, now: datetime, sent: list[tuple[int, str]]) -> None:
    """Rows sent, with the platform's message ids (comma-separated), in one executemany."""
    await session.execute(
        _MARK_SENT.values(sent_at=now), [{"row": row, "ids": ids} for row, ids in sent]
    )


async def mark_failed(session: AsyncSession, failed: list[tuple[int, str]]) -> None:
    """Rows failed for good, each with why."""
    await session.execute(_MARK_FAILED, [{"row": row, "why": why} for row, why in failed])


async def load_row(session: AsyncSession, row_id: int) -> OutboxRow | None:
    return await session.get(OutboxRow, row_id)


def fail(row: OutboxRow, error: str) -> None:
    row.status = Status.FAILED
    row.lease_until = None
    row.error = error


def retry(row: OutboxRow, when: datetime, reason: str) -> None:
    row.status = Status.PENDING
    row.next_attempt_at = when
    row.lease_until = None
    row.error = reason


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


# --- what is waiting (for /status and /metrics) -------------------------------------


async def backlog(session: AsyncSession) -> dict[str, tuple[int, datetime]]:
    """By platform: how many rows are not yet sent or failed, and when the oldest
    of them was written."""
    rows = await session.execute(
        select(OutboxRow.platform, func.count(), func.min(OutboxRow.created_at))
        .where(OutboxRow.status.in_([Status.PENDING, Status.SENDING]))
        .group_by(OutboxRow.platform)
    )
    return {platform: (count, oldest) for platform, count, oldest in rows}
