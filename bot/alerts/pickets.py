"""/picket: picket-line alerts with a map, an "I'll be there" count, corrections,
cancels, and a private reminder on the morning for those who pressed.

The count on every copy is edited by a timer a few seconds after a press
(``[alerts] count_edit_seconds``), so a burst of presses costs one edit per copy
rather than one per press. Reminders are claimed row by row
(:class:`~storage.alerts.PicketReminder`), so nobody gets one twice, even across
restarts or with two processes; at start every upcoming picket schedules its
reminder again and brings its copies up to date.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.alert import may_change
from bot.alerts.disputes import find_dispute
from bot.alerts.render import GOING_ACTION, picket_content, reminder_content, span_label
from bot.context import Context, UserError
from bot.copies import (
    Action,
    Subject,
    announce,
    change_subject,
    restyle,
    target_text,
)
from bot.dates.days import HORIZON, at, local, parse_day, parse_hours
from bot.names import who_is_coming
from bot.outbox import BULK_LANE
from bot.registry import ButtonAnswer, Command, Kind, Param, Registry, Role
from bot.services import Services
from bot.text import Rich, bold, counted, join, rich
from bot.types import Content, Outgoing
from bot.values import button_id, fit
from storage.alerts import (
    Dispute,
    Picket,
    PicketPledge,
    PicketReminder,
    claim,
    pledge_count,
    pledger_names,
    pledgers,
    unreminded_pledges,
    upcoming_pickets,
)
from storage.chats import direct_chat
from storage.copies import ANNOUNCED, announcements, broadcasts_of, posted_in
from storage.models import Person

COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")
WHERE_EXAMPLES = "a UK postcode like B69 4JE, or coordinates like 52.4862,-1.8904"
STALE = "That button is from an old message and no longer works."
REMIND_BEFORE = timedelta(hours=1)
CHANGEABLE = ("site", "where", "day", "hours", "entrance", "contact")


def parse_where(text: str) -> tuple[str, float | None, float | None]:
    """``(postcode, latitude, longitude)`` from a postcode or ``lat,lon``."""
    found = COORDINATES.match(text)
    if found:
        latitude, longitude = float(found[1]), float(found[2])
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise UserError(f"“{text}” is not a place on Earth — {WHERE_EXAMPLES}.")
        return "", latitude, longitude
    postcode = POSTCODE.match(" ".join(text.upper().split()))
    if postcode:
        return f"{postcode[1]} {postcode[2]}", None, None
    raise UserError(f"I couldn't read “{text}” as a place — {WHERE_EXAMPLES}.")


def _place(picket: Picket, where: str) -> None:
    picket.postcode, picket.latitude, picket.longitude = parse_where(where)


def _times(ctx: Context, day_text: str, hours_text: str) -> tuple[datetime, datetime]:
    zone, now = ctx.config.zone, ctx.clock.now()
    day = parse_day(day_text, zone, now)
    start, end = parse_hours(hours_text)
    starts, ends = at(day, start, zone), at(day, end, zone)
    if ends <= now:
        raise UserError("That picket would already be over. Check the day and the hours.")
    return starts, ends


async def refresh_copies(session: AsyncSession, services: Services, picket_id: int) -> int:
    """Re-render the picket (count, corrections, cancel) onto every copy that shows
    something else; returns the number of copies being edited."""
    picket = await session.get(Picket, picket_id)
    if picket is None:
        return 0
    dispute = await session.get(Dispute, picket.dispute_id)
    if dispute is None:
        return 0
    count = await pledge_count(session, picket.id)
    content = picket_content(picket, dispute, count, services.config.zone, services.clock.now())
    edited = 0
    for broadcast in await broadcasts_of(session, Subject.PICKET.value, picket.id):
        edited += await restyle(session, services, broadcast, content)
    return edited


def _count_soon(services: Services, picket_id: int) -> None:
    """Edit the counts once, shortly: later presses before then ride along."""
    key = f"picket-count:{picket_id}"
    if services.timer.when(key) is not None:
        return

    async def fire() -> None:
        async with services.db.session() as session:
            await refresh_copies(session, services, picket_id)

    delay = timedelta(seconds=services.config.alerts.count_edit_seconds)
    services.timer.at(key, services.clock.now() + delay, fire)


def reminder_at(services: Services, picket: Picket) -> datetime:
    """The morning of the picket at ``[alerts] reminder_time``, or an hour before it
    starts if that is earlier (a 06:00 picket)."""
    zone = services.config.zone
    morning = at(
        local(picket.starts_at, zone).date(),
        time.fromisoformat(services.config.alerts.reminder_time),
        zone,
    )
    return min(morning, picket.starts_at - REMIND_BEFORE)


def arm_reminder(services: Services, picket: Picket) -> None:
    picket_id = picket.id

    async def fire() -> None:
        await send_reminders(services, picket_id)

    services.timer.at(f"picket-reminder:{picket_id}", reminder_at(services, picket), fire)


async def send_reminders(services: Services, picket_id: int) -> None:
    """A private reminder to each person who pledged and has not had one."""
    now = services.clock.now()
    async with services.db.session() as session:
        picket = await session.get(Picket, picket_id)
        if picket is None or picket.cancelled or picket.ends_at <= now:
            return
        dispute = await session.get(Dispute, picket.dispute_id)
        if dispute is None or not dispute.is_open:
            return
        content = reminder_content(picket, dispute, services.config.zone, now)
        messages: list[Outgoing] = []
        for person_id in await unreminded_pledges(session, picket_id):
            person = await session.get(Person, person_id)
            claimed = await claim(
                session, PicketReminder, picket_id=picket_id, person_id=person_id, sent_at=now
            )
            if person is None or not claimed:
                continue
            chat = await direct_chat(session, person, now)
            key = f"picket-reminder:{picket_id}:{person_id}"
            messages.append(Outgoing(chat, content, dedupe_key=key))
        await services.outbox.enqueue(session, messages, BULK_LANE)


async def resume(services: Services) -> None:
    """At start: every upcoming picket's reminder is scheduled again and its copies
    brought up to date (a count edit the last run had only planned)."""
    now = services.clock.now()
    async with services.db.session() as session:
        pickets = await upcoming_pickets(session, now, now + HORIZON)
        for picket in pickets:
            await refresh_copies(session, services, picket.id)
    for picket in pickets:
        arm_reminder(services, picket)


# --- commands -------------------------------------------------------------------------


async def add(ctx: Context) -> list[Outgoing]:
    dispute = await find_dispute(ctx, ctx.args["dispute"])
    starts, ends = _times(ctx, ctx.args["day"], ctx.args["hours"])
    picket = Picket(
        dispute_id=dispute.id,
        site=fit(ctx.args["site"], 200, "The site"),
        entrance=fit(ctx.args["entrance"], 200, "The entrance") if ctx.args.get("entrance") else "",
        starts_at=starts,
        ends_at=ends,
        contact=fit(ctx.args["contact"], 300, "The contact note")
        if ctx.args.get("contact")
        else "",
        target=target_text(ctx.args["to"]) if ctx.args.get("to") else dispute.target,
        cancelled=False,
        corrected=False,
        created_by=ctx.person.id,
        created_at=ctx.clock.now(),
    )
    _place(picket, ctx.args["where"])
    ctx.session.add(picket)
    await ctx.session.flush()
    content = picket_content(picket, dispute, 0, ctx.config.zone, ctx.clock.now())
    await announce(ctx, Subject.PICKET, picket.id, picket.target, content)
    arm_reminder(ctx.services, picket)
    return []


async def _changeable(ctx: Context) -> tuple[Picket, Dispute]:
    picket = await ctx.session.get(Picket, ctx.args["id"])
    if picket is None:
        raise UserError(f"There is no picket #{ctx.args['id']}. /strikes lists upcoming pickets.")
    may_change(ctx, picket.created_by, f"picket #{picket.id}")
    if picket.cancelled:
        raise UserError(f"Picket #{picket.id} is cancelled.")
    return picket, await find_dispute(ctx, picket.dispute_id, must_be_open=False)


async def correct(ctx: Context) -> list[Outgoing]:
    picket, dispute = await _changeable(ctx)
    changed = [name for name in CHANGEABLE if ctx.args.get(name)]
    if not changed:
        raise UserError(
            "Say what to change, e.g. /picket correct 4 --hours 07:00-11:00 "
            "(options: " + ", ".join(f"--{name}" for name in CHANGEABLE) + ")."
        )
    if "site" in changed:
        picket.site = fit(ctx.args["site"], 200, "The site")
    if "entrance" in changed:
        picket.entrance = fit(ctx.args["entrance"], 200, "The entrance")
    if "contact" in changed:
        picket.contact = fit(ctx.args["contact"], 300, "The contact note")
    if "where" in changed:
        _place(picket, ctx.args["where"])
    if "day" in changed or "hours" in changed:
        zone = ctx.config.zone
        day = ctx.args.get("day") or f"{local(picket.starts_at, zone):%d/%m/%Y}"
        hours = ctx.args.get("hours") or (
            f"{local(picket.starts_at, zone):%H:%M}-{local(picket.ends_at, zone):%H:%M}"
        )
        picket.starts_at, picket.ends_at = _times(ctx, day, hours)
    picket.corrected = True
    count = await pledge_count(ctx.session, picket.id)
    content = picket_content(picket, dispute, count, ctx.config.zone, ctx.clock.now())
    detail = "changed " + ", ".join(changed) + ": " + str(content.text)
    chats = await change_subject(ctx, Subject.PICKET, picket.id, content, Action.CORRECT, detail)
    arm_reminder(ctx.services, picket)
    what = ", ".join("place" if name == "where" else name for name in changed)
    head = rich("✏ ", bold(f"Correction ({what})"), " to the picket you said you'd be at:")
    told = await tell_pledgers(ctx, [picket.id], head, content)
    return [
        ctx.reply(
            f"Picket #{picket.id} corrected: updating its copies in {counted(chats, 'chat')}"
            f"{_and_told(told)}."
        ),
        *told,
    ]


async def cancel(ctx: Context) -> list[Outgoing]:
    picket, dispute = await _changeable(ctx)
    picket.cancelled = True
    count = await pledge_count(ctx.session, picket.id)
    reason = ctx.args.get("reason", "")
    content = picket_content(picket, dispute, count, ctx.config.zone, ctx.clock.now(), reason)
    chats = await change_subject(ctx, Subject.PICKET, picket.id, content, Action.CANCEL, reason)
    ctx.services.timer.cancel(f"picket-reminder:{picket.id}")
    head = rich("❌ ", bold("Cancelled:"), " the picket you said you'd be at is off.")
    told = await tell_pledgers(ctx, [picket.id], head, content)
    return [
        ctx.reply(
            f"Picket #{picket.id} cancelled: marking its copies in {counted(chats, 'chat')} "
            "CANCELLED"
            f"{_and_told(told)}."
        ),
        *told,
    ]


def _and_told(told: list[Outgoing]) -> str:
    if not told:
        return ""
    return f", and telling the {len(told):,} who said they'd be there privately"


async def tell_pledgers(
    ctx: Context, picket_ids: list[int], head: Rich, content: Content
) -> list[Outgoing]:
    """A private message to each person who pressed "I'll be there" on these
    pickets: ``head``, then the picket (or strike) as the chats now show it."""
    now = ctx.clock.now()
    text = join([head, content.text])
    return [
        Outgoing(await direct_chat(ctx.session, person, now), Content(text))
        for person in await pledgers(ctx.session, picket_ids)
    ]


async def going(ctx: Context, argument: str) -> ButtonAnswer:
    """ "I'll be there": one per person; pressing again withdraws."""
    number = button_id(argument)
    picket = await ctx.session.get(Picket, number) if number else None
    if picket is None:
        return ButtonAnswer(STALE)
    now = ctx.clock.now()
    if picket.cancelled:
        return ButtonAnswer("This picket has been cancelled.")
    if picket.ends_at <= now:
        return ButtonAnswer("This picket is over — thank you for your support.")
    when = span_label(
        picket.starts_at, picket.ends_at, ctx.config.zone, local(now, ctx.config.zone).date()
    )
    pledge = await ctx.session.get(PicketPledge, (picket.id, ctx.person.id))
    if pledge is not None:
        await ctx.session.delete(pledge)
        notice = (
            f"You've withdrawn from the picket at {picket.site}. "
            "Press the button again if you can make it after all."
        )
    else:
        ctx.session.add(
            PicketPledge(
                picket_id=picket.id, person_id=ctx.person.id, created_at=now, chat_id=ctx.chat.id
            )
        )
        notice = f"Thank you — you're down for the picket at {picket.site}, {when}."
        if reminder_at(ctx.services, picket) > now:
            notice += (
                " I'll remind you privately that morning (start a private chat with me if "
                "you never have)."
            )
        notice += " Press again to withdraw."
    _count_soon(ctx.services, picket.id)
    return ButtonAnswer(notice)


async def going_list(ctx: Context) -> list[Outgoing]:
    """How many said "I'll be there"; the names, of those who pressed in this chat,
    for its organisers (:mod:`bot.names`)."""
    number = ctx.args["id"]
    picket = await ctx.session.get(Picket, number)
    if picket is None or not (
        ctx.role >= Role.TULO
        or await posted_in(
            ctx.session, ANNOUNCED, announcements(Subject.PICKET, picket.id), ctx.chat.id
        )
    ):
        raise UserError(f"There's no picket #{number} here. /strikes lists upcoming pickets.")
    count = await pledge_count(ctx.session, picket.id)
    zone = ctx.config.zone
    when = span_label(picket.starts_at, picket.ends_at, zone, local(ctx.clock.now(), zone).date())
    line = (
        f"{counted(count, 'person', 'people')} said they'll be at picket #{picket.id}, "
        f"{picket.site}, {when}."
    )
    names = await pledger_names(ctx.session, picket.id, ctx.chat.id)
    return await who_is_coming(ctx, line, names)


def register(registry: Registry) -> None:
    number = Param("id", "the picket's number", Kind.INT)
    site = Param("site", "the workplace, in quotes if several words")
    where = Param("where", WHERE_EXAMPLES)
    day = Param("day", "the day, e.g. 12/3, Thu or tomorrow")
    hours = Param("hours", "start-end, e.g. 06:00-10:00")
    entrance = Param("entrance", "which gate or entrance", option=True)
    contact = Param("contact", 'who to ask on the day, e.g. "Sam 07700 900123"', option=True)
    registry.add(
        Command(
            "picket",
            "Announce a picket line, with a map and an “I'll be there” count",
            subcommands=(
                Command(
                    "add",
                    "Announce a picket line",
                    add,
                    (
                        Param("dispute", "the dispute's number (/dispute list)", Kind.INT),
                        site,
                        where,
                        day,
                        hours,
                        entrance,
                        contact,
                        Param(
                            "to", "announce to these chats instead of the dispute's", option=True
                        ),
                    ),
                    role=Role.ORGANISER,
                ),
                Command(
                    "correct",
                    "Change a picket; every copy in every chat is edited",
                    correct,
                    (
                        number,
                        Param("site", site.description, option=True),
                        Param("where", where.description, option=True),
                        Param("day", day.description, option=True),
                        Param("hours", hours.description, option=True),
                        entrance,
                        contact,
                    ),
                    role=Role.ORGANISER,
                ),
                Command(
                    "cancel",
                    "Call off a picket; every copy says CANCELLED",
                    cancel,
                    (number, Param("reason", "why, for the record", Kind.REST, required=False)),
                    role=Role.ORGANISER,
                ),
                Command(
                    "going",
                    "How many said “I'll be there”; organisers also get the names of "
                    "those who pressed in this chat",
                    going_list,
                    (number,),
                    example="/picket going 1",
                ),
            ),
            example='/picket add 1 "Lye Depot" "DY9 8HE" Thu 06:00-10:00 --entrance "Main gate"',
            details="Coordinates (52.45,-2.14) give a map pin; a postcode gives a map search.",
        )
    )
    registry.button(GOING_ACTION, going)
    registry.on_start(resume)
