"""Post a message to many chats, then keep every copy in step: edit, delete, find.

Each copy is an outbox row and a row in ``copies`` naming its subject, its chat and
the outbox row's dedupe key (:mod:`storage.copies`); both are written in the same
transaction, so a copy is never sent without being remembered, nor remembered
without being sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import Lane
from bot.services import Services
from bot.types import Content, Outgoing
from storage import copies
from storage.copies import NewCopy
from storage.models import Chat


async def record(session: AsyncSession, new: Sequence[NewCopy]) -> None:
    """Remember copies whose messages are queued under their keys by someone else
    in this transaction — the core, when a handler returns them — or later, in
    chunks of their own (a big announcement)."""
    await copies.add(session, new)


async def post(
    session: AsyncSession,
    services: Services,
    subject: str,
    subject_id: int,
    messages: Sequence[tuple[Chat, Outgoing]],
    lane: Lane,
    *,
    occurrence: datetime | None = None,
) -> list[int | None]:
    """Queue each message to its chat as a copy of ``subject`` #``subject_id`` and
    remember it; returns the outbox row ids (``None`` where the chat is inactive).
    Every message needs its own ``dedupe_key``: it is how the copy finds its row."""
    new = []
    for chat, message in messages:
        if message.dedupe_key is None:
            raise ValueError("a copy needs a dedupe key")
        new.append(NewCopy(subject, subject_id, chat.id, message.dedupe_key, occurrence))
    await copies.add(session, new)
    rows = await services.outbox.enqueue(session, [message for _, message in messages], lane)
    return rows


async def edit(
    session: AsyncSession, services: Services, subject: str, subject_id: int, content: Content
) -> int:
    """Show ``content`` on every live copy of the subject; returns how many copies
    are being edited. The outbox coalesces pending edits of one message."""
    rows = await copies.live(session, subject, subject_id)
    await services.outbox.enqueue_edits(session, [row for _copy, row, _platform in rows], content)
    return len(rows)


async def delete(session: AsyncSession, services: Services, subject: str, subject_id: int) -> int:
    """Delete every live copy of the subject from its chat; returns how many."""
    rows = await copies.live(session, subject, subject_id)
    for _copy, row, _platform in rows:
        await services.outbox.enqueue_delete(session, row)
    return len(rows)
