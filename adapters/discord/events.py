"""Meetings in a server's Events list: each message carrying an
:class:`~bot.types.EventMirror` keeps one External scheduled event per server in
step with it (created, moved, removed), through discord.py's
``Guild.create_scheduled_event`` and ``ScheduledEvent.edit``/``delete``.

Which scheduled event mirrors what is kept in the database (``platform_state``),
with a digest of what it shows, so the many edits of a meeting's cards (every
RSVP re-renders them) cost Discord nothing unless the meeting itself changed.
The mirror is a courtesy: the message is delivered whatever happens to it. A
server that refuses the bot *Manage Events* gets the core's note with the first
message it refused, and never again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

import aiohttp
import discord

from bot.clock import Clock
from bot.text import Rich
from bot.types import EventMirror
from storage.platform_state import StateStore

log = logging.getLogger(__name__)


class EventMirrors:
    def __init__(self, client: discord.Client, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}  # a mirror's key: one change at a time
        self.state: StateStore | None = None

    async def keep(self, channel_id: int, mirror: EventMirror) -> Rich | None:
        """Bring the server's event in step with ``mirror``; returns the note to add
        to the message where the server refuses it, the first time only."""
        if self.state is None:
            return None  # no database to remember events in
        guild: discord.Guild | None = None
        try:
            guild = await self._guild_of(channel_id)
            if guild is None:
                return None  # a direct message
            key = f"discord:event:{guild.id}:{mirror.key}"
            async with self._locks.setdefault(key, asyncio.Lock()):
                await self._keep(guild, key, mirror, self.state)
        except discord.Forbidden as error:
            if guild is not None:
                return await self._first_refusal(guild.id, mirror, self.state)
            log.warning("could not mirror %s from channel %s: %s", mirror.key, channel_id, error)
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            log.warning("could not mirror %s from channel %s: %s", mirror.key, channel_id, error)
        return None

    async def _keep(
        self, guild: discord.Guild, key: str, mirror: EventMirror, state: StateStore
    ) -> None:
        event_id, _, shown = (await state.get(key) or "").partition(" ")
        wanted = digest(mirror)
        if shown == wanted:
            return
        if mirror.cancelled:
            if event_id:
                await self._delete(guild, int(event_id))
            await state.set(key, f" {wanted}")
            return
        if mirror.starts_at <= self._clock.now():
            return  # Discord schedules nothing in the past; the next date will come
        event = await self._current(guild, int(event_id)) if event_id else None
        if event is None:
            event = await guild.create_scheduled_event(
                name=mirror.title,
                start_time=mirror.starts_at,
                end_time=mirror.ends_at,
                entity_type=discord.EntityType.external,
                privacy_level=discord.PrivacyLevel.guild_only,
                location=mirror.place,
                description=mirror.description,
            )
        else:
            await event.edit(
                name=mirror.title,
                start_time=mirror.starts_at,
                end_time=mirror.ends_at,
                location=mirror.place,
                description=mirror.description,
            )
        await state.set(key, f"{event.id} {wanted}")

    async def _current(self, guild: discord.Guild, event_id: int) -> discord.ScheduledEvent | None:
        """The event, unless it is gone or over (then a new one is made: a series'
        next date after the last one passed)."""
        try:
            event = await guild.fetch_scheduled_event(event_id)
        except discord.NotFound:
            return None
        over = (discord.EventStatus.completed, discord.EventStatus.cancelled)
        return None if event.status in over else event

    async def _delete(self, guild: discord.Guild, event_id: int) -> None:
        try:
            event = await guild.fetch_scheduled_event(event_id)
            await event.delete()
        except discord.NotFound:
            pass  # deleted by hand already

    async def _first_refusal(
        self, guild_id: int, mirror: EventMirror, state: StateStore
    ) -> Rich | None:
        key = f"discord:events-refused:{guild_id}"
        if await state.get(key):
            return None
        await state.set(key, "noted")
        log.warning(
            "server %s refuses the bot Manage Events: meetings stay off its Events", guild_id
        )
        return mirror.refused_note

    async def _guild_of(self, channel_id: int) -> discord.Guild | None:
        """The channel's server, from the gateway's cache (filled as each server
        becomes available), else asked for over REST."""
        channel = self._client.get_channel(channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(channel_id)
        guild = getattr(channel, "guild", None)
        return guild if isinstance(guild, discord.Guild) else None


def digest(mirror: EventMirror) -> str:
    """What the event shows, in a few bytes: unchanged, it is left alone. (The
    payload's last item is the refusal note, which the event never shows.)"""
    shown = mirror.to_payload()[:-1]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:16]
