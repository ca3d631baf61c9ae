"""What is coming up in a chat: /meetings, /meeting ics, /calendar — and the lines
the weekly digest and /strikes show of meetings (:func:`meeting_lines`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.dates.when import offsets_text
from bot.meetings import ics, settings
from bot.meetings.access import visible
from bot.meetings.recurrence import schedule_of
from bot.meetings.render import calendar_reply, listing, meeting_line
from bot.network import seen_from
from bot.text import Rich
from bot.types import Outgoing
from storage.meetings import Meeting, counts_for, meetings_for_chats, skips_of
from storage.models import Chat

LIST_LIMIT = 15


async def _here(session: AsyncSession, chat_ids: list[int]) -> list[tuple[Meeting, set[datetime]]]:
    """The chats' active meetings, each with its skipped dates."""
    meetings = await meetings_for_chats(session, chat_ids)
    skips = await skips_of(session, [meeting.id for meeting in meetings])
    return [(meeting, skips[meeting.id]) for meeting in meetings]


async def _next_here(ctx: Context) -> list[tuple[Meeting, datetime, set[datetime]]]:
    """This chat's meetings with a date still to come, soonest first (in a private
    chat, those of the approved chats its person is in)."""
    now = ctx.clock.now()
    found = []
    for meeting, skips in await _here(ctx.session, await seen_from(ctx)):
        upcoming = schedule_of(meeting).next(now, skips)
        if upcoming is not None:
            found.append((meeting, upcoming, skips))
    return sorted(found, key=lambda row: (row[1], row[0].id))


async def meetings_list(ctx: Context) -> list[Outgoing]:
    upcoming = await _next_here(ctx)
    shown = upcoming[:LIST_LIMIT]
    counts = await counts_for(ctx.session, [(m.id, when) for m, when, _ in shown])
    zone = await settings.zone_of(ctx.session, ctx.config, ctx.chat.id)
    offsets = (await settings.offsets(ctx.session, [ctx.chat.id]))[ctx.chat.id]
    more = f"{len(upcoming) - LIST_LIMIT} more not shown · " if len(upcoming) > LIST_LIMIT else ""
    footer = (
        f"{more}Times in {zone.key} · reminders here {offsets_text(offsets)} · "
        "/calendar puts them all in your phone's calendar"
    )
    rows = [(m, when, counts[(m.id, when)]) for m, when, _ in shown]
    return [ctx.reply(listing(rows, zone, footer))]


async def meeting_file(ctx: Context) -> list[Outgoing]:
    meeting = await visible(ctx, ctx.args["id"])
    now = ctx.clock.now()
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    upcoming = schedule_of(meeting).next(now, skips)
    google = ics.google_link(meeting, upcoming) if upcoming else None
    return [_calendar(ctx, meeting.title, [(meeting, skips)], google)]


async def chat_calendar(ctx: Context) -> list[Outgoing]:
    upcoming = await _next_here(ctx)
    if not upcoming:
        return [ctx.reply("No meetings coming up here, so no calendar yet.")]
    name = f"{ctx.chat.title or 'Our'} meetings"
    return [_calendar(ctx, name, [(m, skips) for m, _, skips in upcoming], None)]


def _calendar(
    ctx: Context, name: str, meetings: list[tuple[Meeting, set[datetime]]], google: str | None
) -> Outgoing:
    """A calendar file called after ``name``, with a few words to say what it is."""
    file = ics.calendar_file(meetings, name, ctx.clock.now().date())
    return ctx.reply(calendar_reply(name, file.file_name, google), attachment=file)


async def meeting_lines(
    session: AsyncSession, chat: Chat, start: datetime, until: datetime, zone: ZoneInfo
) -> list[Rich]:
    """One line per occurrence in ``[start, until)`` of a meeting posted to the chat,
    soonest first: ``• Tue 3 Mar, 19:30 — GC meeting, Miners' Welfare (meeting #1)``."""
    since = start - timedelta(microseconds=1)
    found = []
    for meeting, skips in await _here(session, [chat.id]):
        for occurrence in schedule_of(meeting).occurrences(since, skips):
            if occurrence >= until:
                break
            found.append((occurrence, meeting.id, meeting))
    return [meeting_line(m, occurrence, zone) for occurrence, _, m in sorted(found, key=_soonest)]


def _soonest(row: tuple[datetime, int, Meeting]) -> tuple[datetime, int]:
    return row[0], row[1]
