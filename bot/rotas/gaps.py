"""Where a rota needs people: its dates with places free, for ``/rota``, for the
newcomers' welcome ("Help wanted on the rota") and for the weekly digest
(:func:`week_lines`, every date of the week, full or not)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rotas.render import day_text, fill_line, free_places
from bot.rotas.slots import dates_ahead, schedule_of
from bot.text import Rich, counted, rich
from storage.copies import posted_to
from storage.rotas import POSTED, Rota, active_rotas, fill_of, skips_of, slots_of


async def rotas_in(session: AsyncSession, chat_ids: Sequence[int]) -> list[Rota]:
    """The running rotas posted to any of these chats."""
    return await active_rotas(session, posted_to(POSTED, chat_ids))


async def gap_lines(
    session: AsyncSession, rota: Rota, now: datetime, *, limit: int = 0
) -> list[Rich]:
    """``• Sat 12 Dec · Driver 1/2 · Front desk 0/2`` for each date with places
    free (the full slots left out), soonest first."""
    skips = await skips_of(session, rota.id)
    slots = (await slots_of(session, [rota.id]))[rota.id]
    fill = await fill_of(session, rota.id, now)
    zone = ZoneInfo(rota.zone)
    lines = [
        rich("• " + fill_line(moment, slots, fill, zone, gaps_only=True))
        for moment in dates_ahead(rota, now, skips)
        if free_places(moment, slots, fill)
    ]
    return lines[:limit] if limit else lines


async def help_wanted(session: AsyncSession, chat_id: int, now: datetime, limit: int) -> list[Rich]:
    """What the welcome shows: each rota here with gaps, and its first few gaps."""
    found: list[Rich] = []
    for rota in await rotas_in(session, [chat_id]):
        lines = await gap_lines(session, rota, now, limit=limit)
        if lines:
            found.append(rich(f"{rota.title} (rota #{rota.id}):"))
            found += lines
    return found


async def week_lines(
    session: AsyncSession, chat_id: int, start: datetime, until: datetime, zone: ZoneInfo
) -> list[Rich]:
    """One line per date in ``[start, until)`` of a rota posted to the chat, soonest
    first, with its gaps: ``• Sat 12 Dec, 09:30 — Food bank (rota #1): 3 places
    free (Driver 1/2 · Packing 0/2)``, or ``…: full ✔``."""
    since = start - timedelta(microseconds=1)
    found: list[tuple[datetime, int, Rich]] = []
    for rota in await rotas_in(session, [chat_id]):
        skips = await skips_of(session, rota.id)
        slots = (await slots_of(session, [rota.id]))[rota.id]
        fill = await fill_of(session, rota.id, since)
        for moment in schedule_of(rota).occurrences(since, skips):
            if moment >= until:
                break
            free = free_places(moment, slots, fill)
            gaps = fill_line(moment, slots, fill, zone, gaps_only=True).partition(" · ")[2]
            state = f"{counted(free, 'place')} free ({gaps})" if free else "full ✔"
            when = f"{day_text(moment, zone)}, {moment.astimezone(zone):%H:%M}"
            line = rich(f"• {when} — {rota.title} (rota #{rota.id}): {state}")
            found.append((moment, rota.id, line))
    return [line for _moment, _id, line in sorted(found, key=lambda row: row[:2])]
