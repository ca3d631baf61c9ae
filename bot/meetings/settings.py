"""Each chat's meeting settings: its time zone and its default reminder offsets.

Scoped settings with registered defaults (the Red-DiscordBot pattern): a chat
without a row, or with a NULL, uses the default — the config's ``bot.timezone``
and :data:`DEFAULT_OFFSETS`. Read in bulk, because reminders for a thousand
meetings are computed at once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.dates.when import load_offsets
from storage.meetings import Meeting, settings_for

DEFAULT_OFFSETS = (24 * 60, 60)  # a day and an hour before


async def zones(
    session: AsyncSession, config: Config, chat_ids: Iterable[int]
) -> dict[int, ZoneInfo]:
    ids = list(chat_ids)
    found = await settings_for(session, ids)
    return {
        chat_id: ZoneInfo(found[chat_id].zone or config.bot.timezone)
        if chat_id in found
        else config.zone
        for chat_id in ids
    }


async def zone_of(session: AsyncSession, config: Config, chat_id: int) -> ZoneInfo:
    return (await zones(session, config, [chat_id]))[chat_id]


async def offsets(session: AsyncSession, chat_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    ids = list(chat_ids)
    found = await settings_for(session, ids)
    return {
        chat_id: load_offsets(stored)
        if chat_id in found and (stored := found[chat_id].reminders) is not None
        else DEFAULT_OFFSETS
        for chat_id in ids
    }


def meeting_offsets(
    meeting: Meeting, chat_ids: Iterable[int], by_chat: dict[int, tuple[int, ...]]
) -> dict[int, tuple[int, ...]]:
    """The offsets each target chat is reminded at: the meeting's own, else the chat's."""
    if meeting.reminders is not None:
        own = load_offsets(meeting.reminders)
        return dict.fromkeys(chat_ids, own)
    return {chat_id: by_chat.get(chat_id, DEFAULT_OFFSETS) for chat_id in chat_ids}


@functools.cache
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def zone_named(text: str) -> ZoneInfo | None:
    """An IANA zone, whatever the case it was typed in (``europe/london``)."""
    name = _zone_names().get(text.strip().casefold())
    return ZoneInfo(name) if name else None
