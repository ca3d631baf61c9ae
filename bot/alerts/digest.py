"""/digest: a weekly message per chat (opt-in) with the next seven days' strikes,
ballots closing, pickets, meetings and rota dates (with their places free).

The chat's choice of day and time is a row; the timer wakes us at the next slot.
Each week's digest is *claimed* (:class:`~storage.alerts.DigestClaim`, keyed by
the ISO week) before it is queued, so a chat never gets two in one week — not
after a restart, not with two processes, not when its day is changed mid-week.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.render import day_label
from bot.alerts.upcoming import upcoming
from bot.config import WEEKDAYS
from bot.context import Context, UserError
from bot.dates.days import HORIZON, at, local, parse_time
from bot.network import belongs
from bot.outbox import BULK_LANE
from bot.registry import Command, Param, Registry, Role
from bot.services import Services
from bot.text import bold, italic, join, rich
from bot.types import Content, Outgoing
from storage.alerts import DigestClaim, DigestSetting, claim
from storage.chats import chat_ref
from storage.models import Chat

WEEK = timedelta(days=7)
LATER = 3  # of each kind, shown beyond an empty week
# At start, a digest missed by an outage this short still goes (once).
GRACE = timedelta(hours=6)


def weekday_number(text: str) -> int:
    word = text.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return number
    raise UserError(f"“{text}” is not a day of the week — e.g. monday or mon.")


def next_slot(after: datetime, weekday: int, clock: time, zone: ZoneInfo) -> datetime:
    """The first ``weekday`` at ``clock`` (local) strictly after ``after``."""
    start = local(after, zone).date()
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    slot = at(day, clock, zone)
    return slot if slot > after else at(day + WEEK, clock, zone)


def week_of(slot: datetime, zone: ZoneInfo) -> str:
    year, week, _ = local(slot, zone).date().isocalendar()
    return f"{year}-W{week:02d}"


def arm(services: Services, setting: DigestSetting, after: datetime) -> datetime:
    slot = next_slot(
        after, setting.weekday, time.fromisoformat(setting.at_time), services.config.zone
    )
    chat_id = setting.chat_id

    async def fire() -> None:
        await send_digest(services, chat_id, slot)

    services.timer.at(f"digest:{chat_id}", slot, fire)
    return slot


async def send_digest(services: Services, chat_id: int, slot: datetime) -> None:
    """Claim this week's digest for the chat, queue it, and wait for next week."""
    zone, now = services.config.zone, services.clock.now()
    async with services.db.session() as session:
        setting = await session.get(DigestSetting, chat_id)
        chat = await session.get(Chat, chat_id)
        if setting is None or chat is None:
            return
        week = week_of(slot, zone)
        if (
            chat.active
            and belongs(chat)
            and await claim(session, DigestClaim, chat_id=chat_id, week=week, sent_at=now)
        ):
            message = Outgoing(
                chat_ref(chat),
                await digest_content(session, chat, now, zone),
                f"digest:{chat_id}:{week}",
            )
            messages = [message]
            for hook in services.registry.digest:  # e.g. newcomers waiting, for TULOs
                messages += await hook(session, services, chat, now)
            await services.outbox.enqueue(session, messages, BULK_LANE)
        arm(services, setting, max(now, slot))


async def digest_content(
    session: AsyncSession, chat: Chat, now: datetime, zone: ZoneInfo
) -> Content:
    """The next 7 days; when they are empty, what comes after them, so a quiet
    week still says what is next."""
    found = await upcoming(session, chat, now, now + WEEK, zone, rotas=True)
    today = local(now, zone).date()
    head = rich(bold(f"This week, from {day_label(today, today)}"))
    if found:
        return Content(join([head, *found.sections()]))
    later = await upcoming(session, chat, now, now + HORIZON, zone, rotas=True, limit=LATER)
    quiet = rich(
        "Nothing planned for the next 7 days: no strikes, open ballots, pickets, meetings "
        "or rota dates."
    )
    if not later:
        return Content(join([head, quiet]))
    return Content(join([head, quiet, rich(bold("Further ahead")), *later.sections()]))


async def resume(services: Services) -> None:
    async with services.db.session() as session:
        settings = list(await session.scalars(select(DigestSetting)))
    for setting in settings:
        arm(services, setting, services.clock.now() - GRACE)


def _describe(setting: DigestSetting, slot: datetime, ctx: Context) -> str:
    zone = ctx.config.zone
    today = local(ctx.clock.now(), zone).date()
    name = WEEKDAYS[setting.weekday].capitalize()
    return (
        f"Weekly digest on: every {name} at {setting.at_time} ({zone.key}); the next on "
        f"{day_label(local(slot, zone).date(), today)}. /digest off stops it."
    )


async def on(ctx: Context) -> list[Outgoing]:
    day, clock = ctx.args.get("day"), ctx.args.get("time")
    if day and clock is None and day[:1].isdigit():  # /digest on 18:00
        day, clock = None, day
    weekday = weekday_number(day or ctx.config.alerts.digest_day)
    at_time = parse_time(clock or ctx.config.alerts.digest_time).strftime("%H:%M")
    setting = await ctx.session.get(DigestSetting, ctx.chat.id)
    if setting is None:
        setting = DigestSetting(chat_id=ctx.chat.id, weekday=weekday, at_time=at_time)
        ctx.session.add(setting)
    else:
        setting.weekday, setting.at_time = weekday, at_time
    slot = arm(ctx.services, setting, ctx.clock.now())
    zone = ctx.config.zone
    sent = await ctx.session.get(DigestClaim, (ctx.chat.id, week_of(slot, zone)))
    if sent is not None:  # one a week: this week's went already, on the old day
        slot = arm(ctx.services, setting, slot)
    return [ctx.reply(_describe(setting, slot, ctx))]


async def preview(ctx: Context) -> list[Outgoing]:
    """The digest as this chat would get it now."""
    content = await digest_content(ctx.session, ctx.chat, ctx.clock.now(), ctx.config.zone)
    return [ctx.reply(join([rich(italic("Preview of this chat's weekly digest:")), content.text]))]


async def off(ctx: Context) -> list[Outgoing]:
    setting = await ctx.session.get(DigestSetting, ctx.chat.id)
    if setting is None:
        return [ctx.reply("This chat doesn't get the weekly digest. /digest on starts it.")]
    await ctx.session.delete(setting)
    ctx.services.timer.cancel(f"digest:{ctx.chat.id}")
    return [ctx.reply("Weekly digest off for this chat.")]


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "digest",
            "A weekly message with the next 7 days' strikes, open ballots, pickets and meetings",
            subcommands=(
                Command(
                    "on",
                    "Send this chat the weekly digest",
                    on,
                    (
                        Param("day", "day of the week (default monday)", required=False),
                        Param("time", "local time, e.g. 08:00 (default)", required=False),
                    ),
                    role=Role.ORGANISER,
                ),
                Command("off", "Stop the weekly digest here", off, role=Role.ORGANISER),
                Command("preview", "Show this chat's digest as it would be now", preview),
            ),
            example="/digest on friday 17:30",
            role=Role.ORGANISER,
        )
    )
    registry.on_start(resume)
