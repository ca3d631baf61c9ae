"""``/rota``: add a volunteer rota and post it with sign-up buttons; list its gaps;
my shifts (with a calendar file); drop out; cancel, skip, move one date or edit it.

A rota is posted to this chat, or with ``--to`` to the chats a tag expression picks
(organisers and up) — past ``[alerts] confirm_above_chats`` chats, after the
announcements' preview (:func:`bot.copies.hold`), as polls are. It is one rota in
every chat and platform it went to: one sign-up list, every copy edited with it.
It is changed from any chat it was posted to, as a meeting is: by the organiser who
added it, an organiser of the chat it was added in, or a TULO.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Event

from bot.context import Context, UserError
from bot.copies import Subject, hold, post_held_with, target_text
from bot.dates.schedule import Schedule, store_moves
from bot.dates.when import understand_on
from bot.meetings import ask_time, events_file, when_confirmed
from bot.network import seen_from
from bot.registry import Command, Kind, Param, Registry, Role
from bot.rotas import cards, reminders
from bot.rotas.cards import content, post_rota, refresh
from bot.rotas.gaps import gap_lines, rotas_in
from bot.rotas.render import ACTION, changed, heading, moved, shift_text
from bot.rotas.signups import drop_out, give_up_all, press, tell_promoted
from bot.rotas.slots import (
    MAX_SLOTS,
    MAX_WEEKS,
    SLOTS_EXAMPLE,
    dates_ahead,
    on_day,
    read_hours,
    read_slots,
    schedule_of,
)
from bot.targeting import resolve
from bot.text import Rich, bold, counted, join, platforms_text, rich
from bot.types import Content, Outgoing
from bot.values import fit, visible
from storage.chats import direct_chat
from storage.copies import chats_of, posted_in
from storage.meetings import active_chats
from storage.models import Chat, Person
from storage.rotas import (
    POSTED,
    Rota,
    RotaSkip,
    RotaSlot,
    RotaStatus,
    move_signups,
    people_on,
    resize,
    signed_people,
    signups_after,
    skips_of,
    slots_of,
)

ADD_EXAMPLE = (
    '/rota add "Food bank" "every Saturday 09:30-12:30" "Hub, Market St" '
    '--slots "Driver:2, Packing:4, Front desk:2"'
)
DEFAULT_WEEKS = 6
CONFIRM_KIND = "rota-add"  # a rota waiting for its guessed time to be confirmed
MOVE_KIND = "rota-move"  # a date waiting for its guessed new time to be confirmed


# --- /rota add ---------------------------------------------------------------------


async def add(ctx: Context) -> list[Outgoing]:
    """Check what was typed; a time that had to be guessed ("every Saturday 9-12")
    is asked about with the meetings' Confirm / ✏ Fix question before anything is
    posted (:func:`bot.meetings.ask_time`)."""
    title = fit(ctx.args["title"], 200, "The title")
    if "slots" not in ctx.args:
        raise UserError(f"Which slots, and how many places in each? E.g. --slots {SLOTS_EXAMPLE}.")
    specs = read_slots(ctx.args["slots"])
    target = ctx.args.get("to")
    chats = [ctx.chat] if target is None else await resolve(ctx, target, "post rotas to chats")
    hours = read_hours(ctx.args["when"], ctx.config.zone, ctx.clock.now())
    draft: dict[str, Any] = {
        "title": title,
        "place": _optional(ctx.args.get("where", ""), 300, "The place"),
        "slots": [[spec.name, spec.capacity] for spec in specs],
        "chats": [chat.id for chat in chats],
        "to": target,
        "weeks": ctx.args.get("weeks", DEFAULT_WEEKS),
        "minutes": hours.minutes,
    }
    understood = hours.understood
    if understood.notes:
        return [await ask_time(ctx, understood, ctx.args["when"], CONFIRM_KIND, draft)]
    return await _create(ctx, draft, understood.schedule, understood.repeat_text)


async def _create(
    ctx: Context, draft: dict[str, Any], schedule: Schedule, repeat_text: str
) -> list[Outgoing]:
    """Make the rota ``draft`` describes (checked, plain JSON) and post it, at once
    or, to more than ``[alerts] confirm_above_chats`` chats, after the preview."""
    chats = await active_chats(ctx.session, draft["chats"])
    if not chats:
        raise UserError("None of the chats this rota was for is reachable any more.")
    now = ctx.clock.now()
    rota = Rota(
        chat_id=ctx.chat.id,
        created_by=ctx.person.id,
        title=draft["title"],
        place=draft["place"],
        zone=schedule.zone.key,
        starts_at=schedule.start,
        rule=schedule.rule,
        repeat_text=repeat_text,
        duration_minutes=draft["minutes"],
        weeks=draft["weeks"],
        status=RotaStatus.ACTIVE.value,
        revision=0,
        shown="",
        created_at=now,
    )
    ctx.session.add(rota)
    await ctx.session.flush()
    ctx.session.add_all(
        RotaSlot(rota_id=rota.id, position=n, name=name, capacity=capacity)
        for n, (name, capacity) in enumerate(draft["slots"])
    )
    await ctx.session.flush()
    target = draft["to"]
    if target is not None and len(chats) > ctx.config.alerts.confirm_above_chats:
        shown = await content(ctx.session, ctx.services, rota)
        await hold(ctx, Subject.ROTA, rota.id, target_text(target), shown, chats)
        return []
    await post_rota(ctx, rota, chats)
    await reminders.rearm(ctx.session, ctx.services, rota)
    # (The copies are queued already: their row ids are needed for live edits.)
    if all(chat.id == ctx.chat.id for chat in chats) and not ctx.event.reply_handle:
        return []
    posted = f"Rota #{rota.id} is posted to {counted(len(chats), 'chat')}{platforms_text(chats)}."
    return [ctx.reply(posted, private=True)]


async def _send_held(ctx: Context, rota_id: int, chats: list[Chat]) -> Rich:
    """Send pressed under the preview of a rota to many chats: post it now."""
    rota = await ctx.session.get(Rota, rota_id)
    if rota is None or rota.status != RotaStatus.ACTIVE.value:
        raise UserError(f"Rota #{rota_id} is gone; add it again.")
    await post_rota(ctx, rota, chats)
    await reminders.rearm(ctx.session, ctx.services, rota)
    return rich(
        f"Rota #{rota.id} is posted to {counted(len(chats), 'chat')}{platforms_text(chats)}."
    )


async def _drop_held(ctx: Context, rota_id: int, _chats: list[Chat]) -> Rich:
    """Don't send pressed: the rota was never posted anywhere, so it goes."""
    rota = await ctx.session.get(Rota, rota_id)
    if rota is not None:
        await ctx.session.delete(rota)
    return rich(f"Rota #{rota_id}: not sent.")


def _optional(text: str, limit: int, what: str) -> str:
    """An optional phrase (a place, a reason): empty is fine, too long is not."""
    return fit(text, limit, what) if visible(text) else ""


# --- /rota, /rota mine, /rota drop ------------------------------------------------------


async def listing(ctx: Context) -> list[Outgoing]:
    """Each rota here (privately: in the asker's chats) with its dates that have gaps."""
    now = ctx.clock.now()
    rotas = await rotas_in(ctx.session, await seen_from(ctx))
    if not rotas:
        return [ctx.reply(f"No rotas here. Organisers add one with {ADD_EXAMPLE}")]
    blocks: list[Rich] = []
    for rota in rotas:
        lines = await gap_lines(ctx.session, rota, now)
        blocks.append(heading(rota))
        blocks += lines or [rich("Every place is filled ✔")]
    blocks.append(rich("Sign up with the buttons on a rota's message. Your shifts: /rota mine"))
    return [ctx.reply(join(blocks))]


async def mine(ctx: Context) -> list[Outgoing]:
    """The asker's shifts to come, and a calendar file of them."""
    now = ctx.clock.now()
    rows = await signups_after(ctx.session, ctx.person.id, now)
    if not rows:
        return [
            ctx.reply("You're not signed up for any rota dates. /rota shows where help is wanted.")
        ]
    lines: list[Rich] = [rich(bold("Your rota shifts"))]
    events = []
    for signup, rota, slot in rows:
        waiting = " (waiting list)" if signup.waiting else ""
        lines.append(
            rich(f"• {shift_text(rota, signup.occurrence)} · {rota.title} · {slot.name}{waiting}")
        )
        if not signup.waiting:
            events.append(_event(rota, slot, signup.occurrence))
    lines.append(rich("Can't make one? /rota drop <rota> <date>, e.g. /rota drop 1 12/12"))
    first = min(signup.occurrence for signup, _, _ in rows).date()
    file = events_file(events, "my rota shifts", first, now.date()) if events else None
    return [ctx.reply(join(lines), attachment=file)]


def _event(rota: Rota, slot: RotaSlot, moment: datetime) -> Event:
    zone = ZoneInfo(rota.zone)
    start = moment.astimezone(zone)
    item = Event()
    item.add("uid", f"rota-{rota.id}-{slot.id}-{moment:%Y%m%dT%H%MZ}@organise-bot")
    item.add("dtstamp", rota.created_at)
    item.add("summary", f"{rota.title}: {slot.name}")
    item.add("dtstart", start)
    item.add("dtend", start + timedelta(minutes=rota.duration_minutes or 60))
    if rota.place:
        item.add("location", rota.place)
    return item


async def _find(ctx: Context, ident: int | None = None) -> Rota:
    ident = ctx.args["id"] if ident is None else ident
    rota = await ctx.session.get(Rota, ident)
    if rota is None:
        raise UserError(f"There is no rota #{ident}. /rota lists the rotas here.")
    if rota.status == RotaStatus.CANCELLED.value:
        raise UserError(f"Rota #{rota.id} was cancelled.")
    return rota


async def drop_command(ctx: Context) -> list[Outgoing]:
    rota = await _find(ctx)
    now = ctx.clock.now()
    moment = on_day(rota, ctx.args["date"], now, await skips_of(ctx.session, rota.id))
    slot = None
    if ctx.args.get("slot"):
        slots = (await slots_of(ctx.session, [rota.id]))[rota.id]
        wanted = visible(ctx.args["slot"]).casefold()
        slot = next((s for s in slots if s.name.casefold() == wanted), None)
        if slot is None:
            names = ", ".join(s.name for s in slots)
            raise UserError(f"Rota #{rota.id} has no slot “{ctx.args['slot']}”: it has {names}.")
    left, told = await drop_out(ctx, rota, moment, slot)
    done = ctx.reply(
        f"Done: you're off {' and '.join(left)}, {rota.title}, {shift_text(rota, moment)}. "
        "Thanks for saying.",
        private=True,
    )
    return [done, *told]


# --- /rota cancel | skip | edit ------------------------------------------------------------


async def _manageable(ctx: Context, ident: int | None = None) -> Rota:
    """A rota the asker may change, as meetings are governed
    (:mod:`bot.meetings.access`): seen from this chat (added or posted here), and
    theirs, added in this chat (whose organisers they are, the command needing an
    organiser), or any for a TULO — an organiser of one chat it was posted to
    cannot cancel a rota a TULO posted to fifty."""
    rota = await _find(ctx, ident)
    here = rota.chat_id == ctx.chat.id
    if not here and not await posted_in(ctx.session, POSTED, rota.id, ctx.chat.id):
        raise UserError(f"There's no rota #{rota.id} here. /rota lists the rotas here.")
    if rota.created_by != ctx.person.id and not here and ctx.role < Role.TULO:
        raise UserError(
            f"Rota #{rota.id} was added in another chat: the organiser who added it, an "
            "organiser of that chat or a TULO can change it."
        )
    return rota


async def _tell(ctx: Context, rota: Rota, people: list[Person], text: Rich) -> list[Outgoing]:
    now = ctx.clock.now()
    return [
        Outgoing(await direct_chat(ctx.session, person, now), Content(text)) for person in people
    ]


async def cancel(ctx: Context) -> list[Outgoing]:
    rota = await _manageable(ctx)
    now = ctx.clock.now()
    people = await signed_people(ctx.session, rota.id, now)
    rota.status = RotaStatus.CANCELLED.value
    rota.revision += 1
    await refresh(ctx.session, ctx.services, rota)
    reason = _optional(ctx.args.get("reason", ""), 300, "The reason")
    text = changed(rota, None, "cancelled." + (f" {reason}" if reason else ""))
    told = await _tell(ctx, rota, people, rich("❌ ", text))
    reply = ctx.reply(
        f"Rota #{rota.id} cancelled; told {counted(len(people), 'person', 'people')} signed up."
    )
    return [reply, *told]


async def skip(ctx: Context) -> list[Outgoing]:
    rota = await _manageable(ctx)
    now = ctx.clock.now()
    skips = await skips_of(ctx.session, rota.id)
    if ctx.args.get("date"):
        moment = on_day(rota, ctx.args["date"], now, skips)
    else:
        upcoming = dates_ahead(rota, now, skips)
        if not upcoming:
            raise UserError(f"Rota #{rota.id} has no date coming up to skip.")
        moment = upcoming[0]
    people = [
        person for person, _slot in await people_on(ctx.session, rota.id, moment, waiting=None)
    ]
    ctx.session.add(RotaSkip(rota_id=rota.id, occurrence=moment))
    rota.revision += 1
    await ctx.session.flush()
    await refresh(ctx.session, ctx.services, rota)
    await reminders.rearm(ctx.session, ctx.services, rota)
    unique = list({person.id: person for person in people}.values())
    told = await _tell(ctx, rota, unique, rich("🚫 ", changed(rota, moment, "called off.")))
    reply = ctx.reply(
        f"Skipped {shift_text(rota, moment)} of rota #{rota.id}; "
        f"told {counted(len(unique), 'person', 'people')} signed up."
    )
    return [reply, *told]


MOVE_EXAMPLE = '/rota move 1 12/12 "Sun 13 Dec 10:00"'


async def move(ctx: Context) -> list[Outgoing]:
    """One date to another day or time (the rota's other dates stay): those signed
    up move with it, and are told privately. A guessed time is asked about first."""
    rota = await _manageable(ctx)
    now = ctx.clock.now()
    occurrence = on_day(rota, ctx.args["date"], now, await skips_of(ctx.session, rota.id))
    zone = ZoneInfo(rota.zone)
    understood = understand_on(ctx.args["when"], occurrence.astimezone(zone).date(), zone, now)
    if understood.schedule.repeats:
        raise UserError(f"/rota move moves one date, to one day and time: {MOVE_EXAMPLE}")
    if understood.notes:
        payload = {"rota": rota.id, "occurrence": occurrence.isoformat()}
        return [await ask_time(ctx, understood, ctx.args["when"], MOVE_KIND, payload)]
    return await _move_one(ctx, rota, occurrence, understood.schedule.start)


async def _move_confirmed(
    ctx: Context, payload: dict[str, Any], schedule: Schedule, _repeat_text: str
) -> list[Outgoing]:
    rota = await _manageable(ctx, payload["rota"])
    return await _move_one(ctx, rota, datetime.fromisoformat(payload["occurrence"]), schedule.start)


async def _move_one(
    ctx: Context, rota: Rota, occurrence: datetime, new: datetime
) -> list[Outgoing]:
    schedule = schedule_of(rota)
    skips = await skips_of(ctx.session, rota.id)
    if new == occurrence:
        raise UserError(f"That date of rota #{rota.id} is at that time already.")
    if schedule.is_occurrence(new) and new not in skips:
        raise UserError(f"Rota #{rota.id} has a date then already.")
    people = await people_on(ctx.session, rota.id, occurrence, waiting=None)
    unique = list({person.id: person for person, _slot in people}.values())
    rota.moves = store_moves(schedule.moving(occurrence, new).moves)
    rota.revision += 1
    await move_signups(ctx.session, rota.id, occurrence, new)
    await ctx.session.flush()
    await refresh(ctx.session, ctx.services, rota)
    await reminders.rearm(ctx.session, ctx.services, rota)
    told = await _tell(ctx, rota, unique, moved(rota, occurrence, new))
    reply = ctx.reply(
        f"Moved {shift_text(rota, occurrence)} of rota #{rota.id} to {shift_text(rota, new)}; "
        f"told {counted(len(unique), 'person', 'people')} signed up."
    )
    return [reply, *told]


EDIT_EXAMPLE = '/rota edit 1 --slots "Driver:3, Cook:1"'


async def edit(ctx: Context) -> list[Outgoing]:
    """Change a rota's title, place, weeks ahead, or slots: a slot named again gets
    its new number of places (those waiting move up into new ones, and are told),
    a new name is a new slot."""
    rota = await _manageable(ctx)
    given = [name for name in ("title", "where", "weeks", "slots") if name in ctx.args]
    if not given:
        raise UserError(f"What should change? Example: {EDIT_EXAMPLE}")
    if "title" in ctx.args:
        rota.title = fit(ctx.args["title"], 200, "The title")
    if "where" in ctx.args:
        rota.place = _optional(ctx.args["where"], 300, "The place")
    if "weeks" in ctx.args:
        rota.weeks = ctx.args["weeks"]
    told = await _reslot(ctx, rota, ctx.args["slots"]) if "slots" in ctx.args else []
    rota.revision += 1
    await refresh(ctx.session, ctx.services, rota)
    await reminders.rearm(ctx.session, ctx.services, rota)
    what = ", ".join("place" if name == "where" else name for name in given)
    chats = await chats_of(ctx.session, POSTED, rota.id)
    reply = ctx.reply(
        f"Rota #{rota.id} changed ({what}); its messages in {counted(len(chats), 'chat')} show it."
    )
    return [reply, *told]


async def _reslot(ctx: Context, rota: Rota, typed: str) -> list[Outgoing]:
    slots = (await slots_of(ctx.session, [rota.id]))[rota.id]
    named = {slot.name.casefold(): slot for slot in slots}
    specs = read_slots(typed)
    added = [spec for spec in specs if spec.name.casefold() not in named]
    if len(slots) + len(added) > MAX_SLOTS:
        raise UserError(f"A rota has at most {MAX_SLOTS} slots.")
    told = []
    now = ctx.clock.now()
    for spec in specs:
        slot = named.get(spec.name.casefold())
        if slot is None:
            continue
        try:
            promoted = await resize(ctx.session, slot, spec.capacity, now)
        except ValueError as fullest:
            (when,) = fullest.args
            raise UserError(
                f"{slot.name} has more than {spec.capacity} signed up on "
                f"{shift_text(rota, when)}: ask some to /rota drop first."
            ) from None
        for when, person_id in promoted:
            told.append(await tell_promoted(ctx, rota, slot, when, person_id))
    last = max(slot.position for slot in slots)
    ctx.session.add_all(
        RotaSlot(rota_id=rota.id, position=last + n, name=spec.name, capacity=spec.capacity)
        for n, spec in enumerate(added, 1)
    )
    await ctx.session.flush()
    return told


# --- declarations -----------------------------------------------------------------------


def register(registry: Registry) -> None:
    ident = Param("id", "the rota's number, shown as #1", Kind.INT, what="The rota number")
    weeks = Param(
        "weeks",
        f"how many weeks ahead people can sign up (default {DEFAULT_WEEKS})",
        Kind.INT,
        option=True,
        required=False,
        high=MAX_WEEKS,
        what="The number of weeks",
    )
    date = Param("date", "which date, e.g. 12/12 or Sat", Kind.TEXT)
    registry.add(
        Command(
            "rota",
            "Volunteer rotas: sign up for a date and slot",
            subcommands=(
                Command(
                    "list",
                    "The rotas here and their dates with places free (you may leave out list)",
                    listing,
                    example="/rota",
                ),
                Command(
                    "add",
                    "Add a rota with slots and post it with sign-up buttons",
                    add,
                    (
                        Param("title", "what it is, in quotes"),
                        Param("when", "the day and hours, e.g. “every Saturday 09:30-12:30”"),
                        Param("where", "the place, in quotes", required=False),
                        Param(
                            "slots",
                            f"the slots and their places, e.g. {SLOTS_EXAMPLE}",
                            option=True,
                            required=False,
                        ),
                        Param(
                            "to",
                            "the chats to post to, as tags, e.g. region:cannock (default: here)",
                            option=True,
                            required=False,
                        ),
                        weeks,
                    ),
                    example=ADD_EXAMPLE,
                    role=Role.ORGANISER,
                ),
                Command(
                    "mine",
                    "Your shifts to come, with a calendar file",
                    mine,
                    example="/rota mine",
                    private=True,
                ),
                Command(
                    "drop",
                    "Drop out of a date (one slot, or all yours that day); the first waiting "
                    "gets the place",
                    drop_command,
                    (
                        ident,
                        date,
                        Param("slot", "which slot, e.g. Driver", Kind.REST, required=False),
                    ),
                    example="/rota drop 1 Sat",
                    private=True,
                ),
                Command(
                    "skip",
                    "Call off one date (the next, or the date given); tells those signed up",
                    skip,
                    (ident, Param("date", "which date, e.g. 24/12", Kind.REST, required=False)),
                    example="/rota skip 1 26/12",
                    role=Role.ORGANISER,
                ),
                Command(
                    "move",
                    "Move one date to another day or time; those signed up move with it "
                    "and are told privately",
                    move,
                    (
                        ident,
                        date,
                        Param("when", "the new day and time, e.g. “Sun 13 Dec 10:00” or 10:30"),
                    ),
                    example=MOVE_EXAMPLE,
                    role=Role.ORGANISER,
                ),
                Command(
                    "edit",
                    "Change a rota's title, place, weeks ahead, or its slots' places "
                    "(a new name adds a slot)",
                    edit,
                    (
                        ident,
                        Param("title", "a new title", option=True, required=False),
                        Param("where", "a new place", option=True, required=False),
                        weeks,
                        Param(
                            "slots",
                            f"slots and their places, e.g. {SLOTS_EXAMPLE}",
                            option=True,
                            required=False,
                        ),
                    ),
                    example=EDIT_EXAMPLE,
                    role=Role.ORGANISER,
                ),
                Command(
                    "cancel",
                    "Cancel a rota; tells everyone signed up",
                    cancel,
                    (ident, Param("reason", "why, for everyone told", Kind.REST, required=False)),
                    example="/rota cancel 1 The hub is closing",
                    role=Role.ORGANISER,
                ),
            ),
            default="list",
            example=ADD_EXAMPLE,
            details=(
                "One rota across every chat and platform it was posted to; each person once per "
                "date and slot. A full slot offers its waiting list, and when someone drops out "
                "the first person waiting gets the place and is told privately. Reminders go "
                "the day before; a date with gaps is posted to the rota's chats two days ahead."
            ),
        )
    )
    registry.button(ACTION, press)
    registry.on_forget(give_up_all)
    post_held_with(Subject.ROTA, _send_held, _drop_held)
    when_confirmed(CONFIRM_KIND, _create)
    when_confirmed(MOVE_KIND, _move_confirmed)
    registry.on_start(reminders.on_start)
    registry.on_start(cards.on_start)
