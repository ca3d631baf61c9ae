"""Posted copies of a meeting card, and keeping every copy current.

Each copy is remembered as a copy of the meeting (:mod:`bot.copies`) under the
dedupe key of its outbox row, with the occurrence it shows and, in ``detail``, what
it takes to draw it again. The key is how we find the row again to edit it —
whether the copy was queued by a command (the core enqueues what a handler returns)
or by the reminder timer — and for reminders it is deterministic, so the same copy
can never be queued twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.copies import record
from bot.meetings import settings
from bot.meetings.mirror import mirrored
from bot.meetings.recurrence import schedule_of
from bot.meetings.render import (
    cancelled_state,
    card,
    moved_state,
    occurrence_code,
    skipped_state,
)
from bot.services import Services
from bot.text import Rich
from bot.types import Content, Outgoing
from storage.chats import chat_ref
from storage.copies import NewCopy, live, occurrences_after
from storage.meetings import POSTED, Meeting, MeetingStatus, PostKind, counts_for, skips_of
from storage.models import Chat


def post_key(
    meeting: Meeting, occurrence: datetime, chat_id: int, kind: PostKind, offset: int = 0
) -> str:
    """Reminder copies: one per (meeting, occurrence, offset, chat), ever.
    Announcements: one per chat for each revision (a move posts a fresh card)."""
    stem = f"mtg:{meeting.id}:{occurrence_code(occurrence)}"
    if kind is PostKind.REMINDER:
        return f"{stem}:r{offset}:c{chat_id}"
    return f"{stem}:a{meeting.revision}:c{chat_id}"


def copy_row(
    meeting: Meeting,
    occurrence: datetime,
    chat_id: int,
    kind: PostKind,
    *,
    offset: int = 0,
    late: bool = False,
) -> NewCopy:
    """A copy about to be queued; queue it under its ``key``. Copies are recorded in
    bulk (:func:`bot.copies.record`)."""
    return NewCopy(
        POSTED,
        meeting.id,
        chat_id,
        post_key(meeting, occurrence, chat_id, kind, offset),
        occurrence,
        {"kind": kind.value, "offset": offset, "late": late},
    )


async def announce(
    ctx: Context,
    meeting: Meeting,
    occurrence: datetime,
    chats: Iterable[Chat],
    kind: PostKind = PostKind.ANNOUNCEMENT,
) -> list[Outgoing]:
    """A card with RSVP buttons in every chat; in the chat that asked, it is the reply."""
    chats = list(chats)
    zones = await settings.zones(ctx.session, ctx.config, [chat.id for chat in chats])
    counts = (await counts_for(ctx.session, [(meeting.id, occurrence)]))[(meeting.id, occurrence)]
    rows = [copy_row(meeting, occurrence, chat.id, kind) for chat in chats]
    await record(ctx.session, rows)
    # An announced card's occurrence is the meeting's next date: it is mirrored.
    return [
        to_chat(
            ctx,
            chat,
            mirrored(
                card(meeting, occurrence, zones[chat.id], counts, kind=kind), meeting, occurrence
            ),
            key,
        )
        for chat, key in zip(chats, (row.key for row in rows), strict=True)
    ]


def to_chat(ctx: Context, chat: Chat, content: Content, key: str | None = None) -> Outgoing:
    """A message for ``chat`` — the command's own reply when it is the asking chat,
    so it goes on the reply lane (and answers a Discord interaction)."""
    if chat.id == ctx.chat.id:
        reply = ctx.reply(content.text, buttons=content.buttons, private=False)
        return replace(reply, content=replace(reply.content, event=content.event), dedupe_key=key)
    return Outgoing(chat_ref(chat), content, key)


async def posted_after(session: AsyncSession, meeting: Meeting, after: datetime) -> list[datetime]:
    """The dates after ``after`` that the meeting's posted copies show."""
    return await occurrences_after(session, POSTED, meeting.id, after)


async def refresh(
    session: AsyncSession,
    services: Services,
    meeting: Meeting,
    occurrences: Iterable[datetime],
) -> None:
    """Re-render every copy of these occurrences — new counts, or cancelled, skipped
    or moved — and queue the edits (the outbox coalesces edits of one message)."""
    posts = [
        (copy, copy.occurrence, row_id)
        for copy, row_id, _platform in await live(session, POSTED, meeting.id, occurrences)
        if copy.occurrence is not None
    ]
    if not posts:
        return
    zones = await settings.zones(session, services.config, {copy.chat_id for copy, _, _ in posts})
    counts = await counts_for(session, {(meeting.id, when) for _, when, _ in posts})
    skips = (await skips_of(session, [meeting.id]))[meeting.id]
    now = services.clock.now()
    upcoming = schedule_of(meeting).next(now, skips)
    for copy, when, row_id in posts:
        zone = zones[copy.chat_id]
        content = card(
            meeting,
            when,
            zone,
            counts[(meeting.id, when)],
            kind=PostKind(copy.detail["kind"]),
            offset=copy.detail["offset"],
            late=copy.detail["late"],
            state=_state(meeting, when, skips, zone, now),
        )
        await services.outbox.enqueue_edit(session, row_id, mirrored(content, meeting, upcoming))


def _state(
    meeting: Meeting, occurrence: datetime, skips: set[datetime], zone: ZoneInfo, now: datetime
) -> Rich | None:
    if meeting.status == MeetingStatus.CANCELLED.value:
        return cancelled_state()
    schedule = schedule_of(meeting)
    moved = schedule.moved_to(occurrence)
    if moved is not None:
        return moved_state(moved, zone)
    if occurrence in skips:
        return skipped_state(schedule.next(occurrence, skips), zone)
    if not schedule.is_occurrence(occurrence):
        return moved_state(schedule.next(now, skips), zone)
    return None
