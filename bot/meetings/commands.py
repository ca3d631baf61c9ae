"""The meeting commands: /meeting add|cancel|move|skip|ics, /meetings, /calendar,
/meetingset timezone|reminders — and the Confirm / Fix question asked when a time
had to be guessed.

Organisers add and change meetings; anyone lists them, exports them and answers
RSVPs. A meeting is added in one chat and posted to its target chats (this chat,
or a tag expression for organisers); it can be changed from any of them by the
organiser who added it, an organiser of the chat it was added in, or a TULO.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context, UserError
from bot.dates.schedule import Schedule, store_moves, to_utc
from bot.dates.when import (
    DURATION_EXAMPLE,
    EXAMPLES,
    OFFSET_EXAMPLE,
    Understood,
    offsets_text,
    parse_duration,
    parse_offsets,
    read_day,
    retimed,
    store_offsets,
    understand,
    understand_on,
)
from bot.meetings import access, reminders, rsvp, settings, upcoming
from bot.meetings.access import manageable
from bot.meetings.posts import announce, posted_after, refresh, to_chat
from bot.meetings.recurrence import schedule_of
from bot.meetings.render import (
    RSVP_ACTION,
    cancelled_state,
    confirm_text,
    day_text,
    moment_text,
    notice,
)
from bot.names import who_is_coming
from bot.registry import ButtonAnswer, Command, Kind, Param, Registry, Role
from bot.targeting import resolve
from bot.text import Rich, bold, counted, platforms_text, rich
from bot.types import Button, Content, Outgoing, TextIn
from bot.values import button_id, visible
from storage.chats import direct_chat, outbox_row_id
from storage.meetings import (
    Meeting,
    MeetingProposal,
    MeetingSkip,
    MeetingStatus,
    MeetingTarget,
    PostKind,
    active_chats,
    awaiting_answer,
    carry_answers,
    clear_skips,
    forget_proposals,
    going_after,
    going_names,
    going_to,
    meetings_for_chat,
    move_answers,
    save_settings,
    skips_of,
    targets_of,
)
from storage.models import Chat, Person

ASK_ACTION = "mtgask"
ASK_EXPIRES = timedelta(days=1)
# After "✏ Fix", how long the next message is read as the time.
FIX_EXPIRES = timedelta(hours=1)
ADD_EXAMPLE = (
    '/meeting add "GC meeting" "first Tuesday of the month 19:30" '
    '"Miners\' Welfare, Cannock" --to region:cannock'
)
_URL = re.compile(r"https?://\S+")

# What another feature does once a guessed time it asked about (:func:`ask_time`)
# is confirmed or fixed: ``carry_out(ctx, payload, schedule, repeat_text)``.
ConfirmedTime = Callable[[Context, dict[str, Any], Schedule, str], Awaitable[list[Outgoing]]]
_CONFIRMED: dict[str, ConfirmedTime] = {}


@dataclass(frozen=True)
class Draft:
    """A meeting as typed, checked, before it exists (kept while a time is confirmed)."""

    title: str
    place: str
    link: str
    agenda: str
    reminders: str | None  # stored offsets; None: each chat's own
    chats: list[int]
    when: str


# --- checks --------------------------------------------------------------------------


def _words(value: str, what: str, limit: int) -> str:
    text = visible(value)
    if len(text) > limit:
        raise UserError(f"{what} is too long: keep it under {limit} characters.")
    return text


def _url(value: str, option: str) -> str:
    if value and (len(value) > 500 or not _URL.fullmatch(value)):
        raise UserError(
            f"{option} should be a web address starting with https://, "
            "e.g. https://meet.jit.si/cannock-branch"
        )
    return value


# --- /meeting add and the Confirm / Fix question ------------------------------------------


async def add(ctx: Context) -> list[Outgoing]:
    title = _words(ctx.args["title"], "The title", 200)
    if not title:
        raise UserError(f"Give the meeting a title. Example: {ADD_EXAMPLE}")
    targets = (
        await resolve(ctx, ctx.args["to"], "post meetings to other chats")
        if "to" in ctx.args
        else [ctx.chat]
    )
    remind = ctx.args.get("remind")
    draft = Draft(
        title=title,
        place=_words(ctx.args.get("where", ""), "The place", 300),
        link=_url(ctx.args.get("link", ""), "--link"),
        agenda=_url(ctx.args.get("agenda", ""), "--agenda"),
        reminders=store_offsets(parse_offsets(remind)) if remind is not None else None,
        chats=[chat.id for chat in targets],
        when=ctx.args["when"],
    )
    if not draft.place and not draft.link:
        raise UserError(
            "Where is it? Give a place after the time, or an online link with --link. "
            f"Example: {ADD_EXAMPLE}"
        )
    zone = await settings.zone_of(ctx.session, ctx.config, ctx.chat.id)
    understood = understand(draft.when, zone, ctx.clock.now())
    if len(targets) > ctx.config.alerts.confirm_above_chats:  # as announcements do
        where = counted(len(targets), "chat") + platforms_text(targets)
        understood = replace(
            understood, notes=(*understood.notes, f"It goes to {where} matching {ctx.args['to']}.")
        )
    if understood.notes:
        return [await _ask(ctx, understood, draft.when, {"kind": "add", **asdict(draft)}, None)]
    return await _create(ctx, draft, understood.schedule, understood.repeat_text)


async def _create(
    ctx: Context, draft: Draft, schedule: Schedule, repeat_text: str
) -> list[Outgoing]:
    chats = await active_chats(ctx.session, draft.chats)
    if not chats:
        raise UserError("None of the chats this meeting was for is reachable any more.")
    meeting = Meeting(
        chat_id=ctx.chat.id,
        created_by=ctx.person.id,
        title=draft.title,
        place=draft.place,
        link=draft.link,
        agenda=draft.agenda,
        zone=schedule.zone.key,
        starts_at=schedule.start,
        rule=schedule.rule,
        repeat_text=repeat_text,
        reminders=draft.reminders,
        status=MeetingStatus.ACTIVE.value,
        revision=0,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(meeting)
    await ctx.session.flush()
    ctx.session.add_all(MeetingTarget(meeting_id=meeting.id, chat_id=chat.id) for chat in chats)
    await ctx.session.flush()
    await reminders.reschedule(ctx.session, ctx.services, [meeting])
    messages = await announce(ctx, meeting, schedule.start, chats)
    if all(chat.id != ctx.chat.id for chat in chats):
        messages.append(ctx.reply(_posted_to(meeting, chats)))
    return messages


def _posted_to(meeting: Meeting, chats: list[Chat]) -> Rich:
    names = ", ".join(chat.title or chat.platform_chat_id for chat in chats[:10])
    more = f" and {len(chats) - 10} more" if len(chats) > 10 else ""
    return rich(f"Meeting #{meeting.id} ", bold(meeting.title), f" posted to {names}{more}.")


async def _ask(
    ctx: Context,
    understood: Understood,
    original: str,
    payload: dict[str, Any],
    meeting_id: int | None,
) -> Outgoing:
    """Show how the time was read, with Confirm and Fix buttons for the asker."""
    now = ctx.clock.now()
    await forget_proposals(ctx.session, now - ASK_EXPIRES)
    schedule = understood.schedule
    proposal = MeetingProposal(
        person_id=ctx.person.id,
        chat_id=ctx.chat.id,
        meeting_id=meeting_id,
        payload=payload
        | {
            "start": schedule.start.isoformat(),
            "rule": schedule.rule,
            "repeat_text": understood.repeat_text,
            "zone": schedule.zone.key,
        },
        created_at=now,
    )
    ctx.session.add(proposal)
    await ctx.session.flush()
    text = confirm_text(
        original, schedule.start, schedule.zone, understood.repeat_text, understood.notes
    )
    buttons = (
        (
            Button("✔ Confirm", f"{ASK_ACTION}:ok:{proposal.id}"),
            Button("✏ Fix", f"{ASK_ACTION}:fix:{proposal.id}"),
        ),
    )
    return replace(ctx.reply(text, buttons=buttons), dedupe_key=_ask_key(proposal.id))


def when_confirmed(kind: str, carry_out: ConfirmedTime) -> None:
    """Let another feature (a rota) ask about a time it had to guess with this same
    Confirm / ✏ Fix question; ``carry_out`` does what was asked once it is answered."""
    _CONFIRMED[kind] = carry_out


async def ask_time(
    ctx: Context, understood: Understood, typed: str, kind: str, payload: dict[str, Any]
) -> Outgoing:
    """Ask the organiser to Confirm or ✏ Fix how ``typed`` was read; ``payload`` (plain
    JSON) is handed to the ``kind``'s :func:`when_confirmed` handler afterwards."""
    return await _ask(ctx, understood, typed, {**payload, "kind": kind, "when": typed}, None)


def _ask_key(proposal_id: int) -> str:
    return f"mtg-ask:{proposal_id}"


def _proposed(payload: dict[str, Any]) -> Schedule:
    return Schedule(
        datetime.fromisoformat(payload["start"]), payload["rule"], ZoneInfo(payload["zone"])
    )


async def answer(ctx: Context, argument: str) -> ButtonAnswer:
    """Confirm or Fix, pressed under a question from :func:`_ask`. Fix asks for the
    time alone in the next message (:func:`typed_time`), so nothing is retyped."""
    verb, _, ident = argument.partition(":")
    number = button_id(ident)
    proposal = await ctx.session.get(MeetingProposal, number) if number else None
    if proposal is None or verb not in {"ok", "fix"}:
        return ButtonAnswer("That question was answered already, or has expired.")
    if proposal.person_id != ctx.person.id:
        return ButtonAnswer("Only the organiser who was asked can answer this.")
    payload = dict(proposal.payload)
    question = await outbox_row_id(ctx.session, _ask_key(proposal.id))
    now = ctx.clock.now()
    schedule = _proposed(payload)
    start = schedule.start if schedule.start > now else schedule.next(now)
    if start is None or proposal.created_at < now - ASK_EXPIRES:
        await ctx.session.delete(proposal)
        outcome = rich(
            "That time has passed, or the question expired. Not done. Send it again with "
            f"the time written out, e.g. “12/3 19:30”. You wrote: “{payload['when']}”."
        )
        await _edit_question(ctx, question, outcome)
        return ButtonAnswer(str(outcome))
    if verb == "fix":
        proposal.payload = payload | {"awaiting": True}
        proposal.created_at = now
        outcome = rich(
            "✏ ",
            bold("What time should it be?"),
            " Send just the time as your next message here — e.g. 19:30 or 7pm — or a day "
            f"and time (on Telegram, reply to this message). You wrote: “{payload['when']}”.",
        )
        await _edit_question(ctx, question, outcome)
        return ButtonAnswer("Send the time as your next message here.")
    await ctx.session.delete(proposal)
    messages = await _carry_out(ctx, proposal, replace(schedule, start=start))
    await _edit_question(ctx, question, _confirmed(start, schedule.zone))
    return ButtonAnswer("Done.", messages)


def _confirmed(start: datetime, zone: ZoneInfo) -> Rich:
    return rich("✔ Confirmed: ", bold(moment_text(start, zone)), ".")


async def _edit_question(ctx: Context, question: int | None, text: Rich) -> None:
    if question is not None:
        await ctx.services.outbox.enqueue_edit(ctx.session, question, Content(text))


async def _carry_out(
    ctx: Context, proposal: MeetingProposal, schedule: Schedule, repeat_text: str | None = None
) -> list[Outgoing]:
    """Do what the question was about, at ``schedule``."""
    payload = dict(proposal.payload)
    repeat = payload["repeat_text"] if repeat_text is None else repeat_text
    kind = payload["kind"]
    if kind in _CONFIRMED:
        return await _CONFIRMED[kind](ctx, payload, schedule, repeat)
    if kind == "add":
        fields = {key: payload[key] for key in Draft.__dataclass_fields__}
        return await _create(ctx, Draft(**fields), schedule, repeat)
    assert proposal.meeting_id is not None
    meeting = await manageable(ctx, proposal.meeting_id)
    if kind == "move-one":
        occurrence = datetime.fromisoformat(payload["occurrence"])
        return await _move_one(ctx, meeting, occurrence, schedule.start)
    return await _move(ctx, meeting, schedule, repeat)


async def typed_time(ctx: Context) -> list[Outgoing] | None:
    """The next message after "✏ Fix": the time alone keeps the day (or the
    repeat); a day and time is read afresh, and asked about again if guessed."""
    now = ctx.clock.now()
    proposal = await awaiting_answer(ctx.session, ctx.person.id, ctx.chat.id, now - FIX_EXPIRES)
    if proposal is None or not isinstance(ctx.event, TextIn):
        return None
    text = ctx.event.text.strip()
    payload = dict(proposal.payload)
    question = await outbox_row_id(ctx.session, _ask_key(proposal.id))
    await ctx.session.delete(proposal)
    proposed = _proposed(payload)
    understood = retimed(proposed, text, now) or understand(text, proposed.zone, now)
    if understood.notes:
        again = {key: value for key, value in payload.items() if key != "awaiting"}
        await _edit_question(ctx, question, rich(f"✏ Fixed below: “{text}”."))
        return [await _ask(ctx, understood, text, again | {"when": text}, proposal.meeting_id)]
    schedule = understood.schedule
    messages = await _carry_out(ctx, proposal, schedule, understood.repeat_text)
    await _edit_question(ctx, question, _confirmed(schedule.start, schedule.zone))
    return messages


# --- /meeting cancel | move | skip -------------------------------------------------------


async def _tell(
    ctx: Context,
    meeting: Meeting,
    occurrence: datetime,
    headline: Callable[[ZoneInfo], Rich],
    people: list[Person],
) -> list[Outgoing]:
    """A change told to every target chat and, privately, to those going."""
    chats = (await targets_of(ctx.session, [meeting.id]))[meeting.id]
    zones = await settings.zones(
        ctx.session, ctx.config, [chat.id for chat in chats] + [ctx.chat.id, meeting.chat_id]
    )
    messages = [
        to_chat(
            ctx,
            chat,
            Content(notice(headline(zones[chat.id]), meeting, occurrence, zones[chat.id])),
        )
        for chat in chats
    ]
    now = ctx.clock.now()
    zone = zones[meeting.chat_id]
    for person in people:
        personal = notice(headline(zone), meeting, occurrence, zone)
        messages.append(Outgoing(await direct_chat(ctx.session, person, now), Content(personal)))
    if all(chat.id != ctx.chat.id for chat in chats):
        messages.append(
            ctx.reply(
                f"Done: told {counted(len(chats), 'chat')} and "
                f"{counted(len(people), 'person', 'people')} going."
            )
        )
    return messages


async def cancel(ctx: Context) -> list[Outgoing]:
    meeting = await manageable(ctx, ctx.args["id"])
    now = ctx.clock.now()
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    occurrence = schedule_of(meeting).next(now, skips) or meeting.starts_at
    going = await going_after(ctx.session, meeting.id, now)
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.next_reminder_at = None
    await refresh(ctx.session, ctx.services, meeting, await posted_after(ctx.session, meeting, now))
    reason = _words(ctx.args.get("reason", ""), "The reason", 300)
    return await _tell(ctx, meeting, occurrence, lambda _: cancelled_state(reason), going)


async def skip(ctx: Context) -> list[Outgoing]:
    meeting = await manageable(ctx, ctx.args["id"])
    if not meeting.rule:
        raise UserError(
            f"Meeting #{meeting.id} happens once: to call it off, use /meeting cancel {meeting.id}."
        )
    now = ctx.clock.now()
    schedule = schedule_of(meeting)
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    occurrence = _chosen_date(ctx, meeting, schedule, skips, now)
    ctx.session.add(MeetingSkip(meeting_id=meeting.id, occurrence=occurrence))
    await ctx.session.flush()
    skips.add(occurrence)
    await refresh(ctx.session, ctx.services, meeting, [occurrence])
    await reminders.reschedule(ctx.session, ctx.services, [meeting])
    following = schedule.next(now, skips)  # what comes next now, not after the date skipped
    going = (await going_to(ctx.session, [(meeting.id, occurrence)]))[(meeting.id, occurrence)]

    def headline(zone: ZoneInfo) -> Rich:
        after = f" The next one is {day_text(following, zone)}:" if following else ""
        return rich("⏭ ", bold(f"Not happening on {day_text(occurrence, zone)}."), after)

    return await _tell(ctx, meeting, following or occurrence, headline, going)


def _chosen_date(
    ctx: Context, meeting: Meeting, schedule: Schedule, skips: set[datetime], now: datetime
) -> datetime:
    """The occurrence ``/meeting skip`` means: on the date given, else the next one."""
    text = ctx.args.get("date", "")
    if not text:
        upcoming = schedule.next(now, skips)
        if upcoming is None:  # pragma: no cover - the table's rules repeat forever
            raise UserError(f"Meeting #{meeting.id} has no more dates.")
        return upcoming
    day = read_day(text, schedule.zone, now)
    found = schedule.next(to_utc(datetime.combine(day, time()), schedule.zone), skips)
    if found is None or found.astimezone(schedule.zone).date() != day or found <= now:
        upcoming = schedule.next(now, skips)
        shown = moment_text(upcoming, schedule.zone) if upcoming else "none"
        raise UserError(
            f"Meeting #{meeting.id} has no date still to come on {day:%a} {day.day} {day:%b}. "
            f"The next one is {shown}."
        )
    return found


async def going(ctx: Context) -> list[Outgoing]:
    """How many are going to the next date (or the date given); the names, of those
    who said so in this chat, for its organisers (:mod:`bot.names`)."""
    meeting = await access.visible(ctx, ctx.args["id"])
    now = ctx.clock.now()
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    occurrence = _chosen_date(ctx, meeting, schedule_of(meeting), skips, now)
    count = len((await going_to(ctx.session, [(meeting.id, occurrence)]))[(meeting.id, occurrence)])
    zone = await settings.zone_of(ctx.session, ctx.config, ctx.chat.id)
    line = (
        f"{counted(count, 'person', 'people')} going to #{meeting.id} {meeting.title}, "
        f"{day_text(occurrence, zone)}."
    )
    names = await going_names(ctx.session, meeting.id, occurrence, ctx.chat.id)
    return await who_is_coming(ctx, line, names)


MOVE_EXAMPLE = '/meeting move 1 5/1 "Wed 6 Jan 19:30"'


async def move(ctx: Context) -> list[Outgoing]:
    """A one-off gets a new time; a series has one date moved (``<date> <new time>``)
    or, with --series, a new repeat."""
    meeting = await manageable(ctx, ctx.args["id"])
    first, new_time = ctx.args.get("date", ""), ctx.args.get("when", "")
    whole = " ".join(part for part in (first, new_time) if part)
    zone, now = ZoneInfo(meeting.zone), ctx.clock.now()
    if not whole:
        raise UserError(f"What is the new time? Example: {MOVE_EXAMPLE}")
    if not meeting.rule or ctx.args.get("series"):
        understood = understand(whole, zone, now)
        if understood.notes:
            payload = {"kind": "move", "when": whole}
            return [await _ask(ctx, understood, whole, payload, meeting.id)]
        return await _move(ctx, meeting, understood.schedule, understood.repeat_text)
    schedule = schedule_of(meeting)
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    if new_time:
        occurrence = _chosen_date(ctx, meeting, schedule, skips, now)
        day = occurrence.astimezone(zone).date()
        understood = understand_on(new_time, day, zone, now)
        notes = understood.notes
    else:  # only the new time: the nearest date of the series is the one moving
        understood = understand(whole, zone, now)
        occurrence = _nearest(meeting, schedule, skips, now, understood.schedule.start)
        notes = (
            *understood.notes,
            f"This moves only the meeting of {day_text(occurrence, zone)}; to change every "
            f"date, use /meeting move {meeting.id} --series followed by the new repeat.",
        )
    if understood.schedule.repeats:
        raise UserError(
            f"To change the whole series, add --series: /meeting move {meeting.id} --series "
            f"“{whole}”. To move one date: {MOVE_EXAMPLE}"
        )
    if notes:
        payload = {"kind": "move-one", "when": whole, "occurrence": occurrence.isoformat()}
        return [await _ask(ctx, replace(understood, notes=notes), whole, payload, meeting.id)]
    return await _move_one(ctx, meeting, occurrence, understood.schedule.start)


def _nearest(
    meeting: Meeting, schedule: Schedule, skips: set[datetime], now: datetime, new: datetime
) -> datetime:
    """The date of the series still to come nearest to ``new``."""
    nearest: datetime | None = None
    for occurrence in schedule.occurrences(now, skips):
        if nearest is None or abs(occurrence - new) < abs(nearest - new):
            nearest = occurrence
        if occurrence > new:
            break
    if nearest is None:
        raise UserError(f"Meeting #{meeting.id} has no more dates.")
    return nearest


async def _move_one(
    ctx: Context, meeting: Meeting, occurrence: datetime, new: datetime
) -> list[Outgoing]:
    """Move one date of a series; the series, its other dates and skips stay."""
    schedule = schedule_of(meeting)
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    if new == occurrence:
        raise UserError(f"Meeting #{meeting.id} is already at that time.")
    if schedule.is_occurrence(new) and new not in skips:
        raise UserError(f"Meeting #{meeting.id} already meets then.")
    moved = schedule.moving(occurrence, new)
    original = next(old for old, when in moved.moves if when == new)
    meeting.moves = store_moves(moved.moves)
    meeting.revision += 1
    going = (await going_to(ctx.session, [(meeting.id, occurrence)]))[(meeting.id, occurrence)]
    await move_answers(ctx.session, meeting.id, occurrence, new)
    await refresh(ctx.session, ctx.services, meeting, [occurrence, original])
    await reminders.reschedule(ctx.session, ctx.services, [meeting])
    chats = (await targets_of(ctx.session, [meeting.id]))[meeting.id]
    messages = await announce(ctx, meeting, new, chats, PostKind.MOVED)
    zone = await settings.zone_of(ctx.session, ctx.config, meeting.chat_id)
    messages += await _tell_going(ctx, meeting, new, going, zone, day_text(occurrence, zone))
    if all(chat.id != ctx.chat.id for chat in chats):
        messages.append(
            ctx.reply(f"Moved: told {counted(len(chats), 'chat')} and {len(going)} going.")
        )
    return messages


async def _tell_going(
    ctx: Context,
    meeting: Meeting,
    new: datetime,
    going: list[Person],
    zone: ZoneInfo,
    which: str = "",
) -> list[Outgoing]:
    """Privately, to each person who said they were going: the meeting moved."""
    moved = f"Moved from {which}." if which else "Moved."
    messages = []
    for person in going:
        text = notice(
            rich(
                "➡️ ",
                bold(moved),
                " You said you were going; your answer now counts for "
                "the new time — change it with the buttons in the chat.",
            ),
            meeting,
            new,
            zone,
        )
        chat = await direct_chat(ctx.session, person, ctx.clock.now())
        messages.append(Outgoing(chat, Content(text)))
    return messages


async def _move(
    ctx: Context, meeting: Meeting, schedule: Schedule, repeat_text: str
) -> list[Outgoing]:
    now = ctx.clock.now()
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    old_next = schedule_of(meeting).next(now, skips)
    if old_next == schedule.start and meeting.rule == schedule.rule:
        raise UserError(f"Meeting #{meeting.id} is already at that time.")
    going = (
        (await going_to(ctx.session, [(meeting.id, old_next)]))[(meeting.id, old_next)]
        if old_next
        else []
    )
    posted = await posted_after(ctx.session, meeting, now)
    meeting.starts_at, meeting.rule, meeting.repeat_text = (
        schedule.start,
        schedule.rule,
        repeat_text,
    )
    meeting.revision += 1
    meeting.moves = None  # the dates moved belonged to the old repeat
    await clear_skips(ctx.session, meeting.id)
    await carry_answers(ctx.session, meeting.id, now, old_next, schedule.start)
    await refresh(ctx.session, ctx.services, meeting, posted)
    await reminders.reschedule(ctx.session, ctx.services, [meeting])
    chats = (await targets_of(ctx.session, [meeting.id]))[meeting.id]
    messages = await announce(ctx, meeting, schedule.start, chats, PostKind.MOVED)
    zone = await settings.zone_of(ctx.session, ctx.config, meeting.chat_id)
    messages += await _tell_going(ctx, meeting, schedule.start, going, zone)
    if all(chat.id != ctx.chat.id for chat in chats):
        messages.append(
            ctx.reply(f"Moved: told {counted(len(chats), 'chat')} and {len(going)} going.")
        )
    return messages


# --- /meeting edit ------------------------------------------------------------------------

EDIT_OPTIONS = ("title", "where", "link", "agenda", "duration", "until")
EDIT_EXAMPLE = '/meeting edit 1 --where "Miners\' Welfare, Cannock" --duration 2h'


async def edit(ctx: Context) -> list[Outgoing]:
    """Change what a meeting is, not when: every posted card is edited in place, and
    those going are told privately."""
    meeting = await manageable(ctx, ctx.args["id"])
    given = [name for name in EDIT_OPTIONS if name in ctx.args]
    if not given:
        raise UserError(f"What should change? Example: {EDIT_EXAMPLE}")
    if "title" in ctx.args:
        meeting.title = _words(ctx.args["title"], "The title", 200) or meeting.title
    if "where" in ctx.args:
        meeting.place = _words(ctx.args["where"], "The place", 300)
    if "link" in ctx.args:
        meeting.link = _url(ctx.args["link"], "--link")
    if "agenda" in ctx.args:
        meeting.agenda = _url(ctx.args["agenda"], "--agenda")
    if not meeting.place and not meeting.link:
        raise UserError("A meeting needs a place or an online link (--link).")
    zone, now = ZoneInfo(meeting.zone), ctx.clock.now()
    if "duration" in ctx.args:
        starts = meeting.starts_at.astimezone(zone).time()
        meeting.duration_minutes = parse_duration(ctx.args["duration"], starts)
    if "until" in ctx.args:
        if not meeting.rule:
            raise UserError(f"Meeting #{meeting.id} happens once, so it has no last date.")
        meeting.ends_on = read_day(ctx.args["until"], zone, now)
        if meeting.ends_on < meeting.starts_at.astimezone(zone).date():
            raise UserError("The series would end before it starts.")
    meeting.revision += 1
    await refresh(ctx.session, ctx.services, meeting, await posted_after(ctx.session, meeting, now))
    await reminders.reschedule(ctx.session, ctx.services, [meeting])
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    upcoming = schedule_of(meeting).next(now, skips)
    going = await going_after(ctx.session, meeting.id, now)
    changed = ", ".join("place" if name == "where" else name for name in given)
    messages = [ctx.reply(f"Meeting #{meeting.id} changed ({changed}); its cards show it.")]
    if upcoming is not None:
        zone = await settings.zone_of(ctx.session, ctx.config, meeting.chat_id)
        headline = rich("✏ ", bold(f"Changed: {changed}."), " You said you were going.")
        for person in going:
            chat = await direct_chat(ctx.session, person, now)
            messages.append(Outgoing(chat, Content(notice(headline, meeting, upcoming, zone))))
    return messages


# --- /meetingset -----------------------------------------------------------------------


async def set_timezone(ctx: Context) -> list[Outgoing]:
    zone = settings.zone_named(ctx.args["zone"])
    if zone is None:
        raise UserError(
            f"“{ctx.args['zone']}” isn't a time zone I know. Use a name like Europe/London, "
            "Europe/Dublin or Europe/Berlin."
        )
    await save_settings(ctx.session, ctx.chat.id, zone=zone.key)
    local = ctx.clock.now().astimezone(zone)
    return [
        ctx.reply(
            rich(
                "Times here are now shown in ",
                bold(zone.key),
                f" (it's {local:%H:%M} {local.tzname()} there now). Meetings added here from "
                "now on keep to its clock.",
            )
        )
    ]


async def set_reminders(ctx: Context) -> list[Outgoing]:
    offsets = parse_offsets(ctx.args["offsets"])
    await save_settings(ctx.session, ctx.chat.id, reminders=store_offsets(offsets))
    await reminders.reschedule(
        ctx.session, ctx.services, await meetings_for_chat(ctx.session, ctx.chat.id)
    )
    return [
        ctx.reply(
            rich(
                "Reminders here: ",
                bold(offsets_text(offsets)),
                ", for meetings that don't set their own (--remind).",
            )
        )
    ]


# --- declarations ------------------------------------------------------------------------


def register(registry: Registry) -> None:
    ident = Param("id", "the meeting's number, shown as #12", Kind.INT)
    when = Param("when", f"a date and time, or a repeat, e.g. {EXAMPLES}")
    registry.add(
        Command(
            "meeting",
            "Add, change or export a meeting",
            subcommands=(
                Command(
                    "add",
                    "Add a meeting, or a repeating series, and post it with RSVP buttons",
                    add,
                    (
                        Param("title", "what it is, in quotes"),
                        when,
                        Param("where", "the place, in quotes", required=False),
                        Param("link", "an online meeting link", option=True, required=False),
                        Param("agenda", "a link to the agenda", option=True, required=False),
                        Param(
                            "to",
                            "the chats to post to, as tags, e.g. region:cannock (default: here)",
                            option=True,
                            required=False,
                        ),
                        Param(
                            "remind",
                            f"when to remind, e.g. {OFFSET_EXAMPLE}",
                            option=True,
                            required=False,
                        ),
                    ),
                    example=ADD_EXAMPLE,
                    role=Role.ORGANISER,
                ),
                Command(
                    "move",
                    "Move one date (of a series: give the date, then the new time), or with "
                    "--series change every date; tells the chats and those going",
                    move,
                    (
                        ident,
                        Param("date", "of a series, the date that moves, e.g. 5/1"),
                        Param("when", "the new time, e.g. 19:00", Kind.REST, required=False),
                        Param("series", "change every date", option=True, flag=True),
                    ),
                    example=MOVE_EXAMPLE,
                    role=Role.ORGANISER,
                ),
                Command(
                    "edit",
                    "Change a meeting's title, place, links, length, or a series' last date",
                    edit,
                    (
                        ident,
                        Param("title", "a new title", option=True, required=False),
                        Param("where", "a new place", option=True, required=False),
                        Param("link", "a new online link", option=True, required=False),
                        Param("agenda", "a new agenda link", option=True, required=False),
                        Param(
                            "duration",
                            f"how long it lasts, e.g. {DURATION_EXAMPLE}",
                            option=True,
                            required=False,
                        ),
                        Param(
                            "until",
                            "a series' last date, e.g. 31/7",
                            option=True,
                            required=False,
                        ),
                    ),
                    example=EDIT_EXAMPLE,
                    role=Role.ORGANISER,
                ),
                Command(
                    "skip",
                    "Skip one date of a repeating meeting (the next, or the date given)",
                    skip,
                    (ident, Param("date", "which date, e.g. 24/12", Kind.REST, required=False)),
                    example="/meeting skip 1 1/12",
                    role=Role.ORGANISER,
                ),
                Command(
                    "going",
                    "How many are going to the next date (or the date given); "
                    "organisers also get the names of those who said so in this chat",
                    going,
                    (ident, Param("date", "which date, e.g. 24/12", Kind.REST, required=False)),
                    example="/meeting going 1",
                ),
                Command(
                    "ics",
                    "Get a meeting as a calendar file for your phone",
                    upcoming.meeting_file,
                    (ident,),
                    example="/meeting ics 1",
                ),
                Command(
                    "cancel",
                    "Cancel a meeting (or a whole series); tells the chats and those going",
                    cancel,
                    (ident, Param("reason", "why, for everyone told", Kind.REST, required=False)),
                    example="/meeting cancel 1 The hall is flooded",
                    role=Role.ORGANISER,
                ),
            ),
            example=ADD_EXAMPLE,
            details=(
                "Times are read the UK way: 12/3 is 12 March. Repeats: “every Saturday 10:00”, "
                "“every 2 weeks on Thursday 18:00”, “first Tuesday of the month 19:30”, “the "
                "12th of every month 19:00” (months without that day are skipped), “last day "
                "of the month 18:00”. Reminders go a day and an hour before unless --remind "
                "or /meetingset reminders says otherwise."
            ),
        )
    )
    registry.add(Command("meetings", "List the meetings coming up here", upcoming.meetings_list))
    registry.add(
        Command(
            "calendar",
            "This chat's meetings as a calendar file for your phone",
            upcoming.chat_calendar,
        )
    )
    registry.add(
        Command(
            "meetingset",
            "Set this chat's time zone and default meeting reminders",
            subcommands=(
                Command(
                    "timezone",
                    "The time zone meetings here are shown and read in",
                    set_timezone,
                    (Param("zone", "a time zone name, e.g. Europe/London", Kind.WORD),),
                    example="/meetingset timezone Europe/London",
                    role=Role.ORGANISER,
                ),
                Command(
                    "reminders",
                    "When meetings posted here are reminded of",
                    set_reminders,
                    (Param("offsets", f"e.g. {OFFSET_EXAMPLE}", Kind.REST),),
                    example="/meetingset reminders 1d,1h",
                    role=Role.ORGANISER,
                ),
            ),
            role=Role.ORGANISER,
        )
    )
    registry.button(RSVP_ACTION, rsvp.press)
    registry.button(ASK_ACTION, answer)
    registry.on_answer(typed_time)
    registry.on_start(reminders.on_start)
