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
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context, UserError
from bot.meetings import reminders, rsvp, settings, upcoming
from bot.meetings.access import manageable
from bot.meetings.posts import announce, refresh, to_chat
from bot.meetings.recurrence import Schedule, schedule_of, to_utc
from bot.meetings.render import (
    RSVP_ACTION,
    cancelled_state,
    confirm_text,
    day_text,
    moment_text,
    notice,
)
from bot.meetings.when import (
    EXAMPLES,
    OFFSET_EXAMPLE,
    Understood,
    offsets_text,
    parse_offsets,
    read_day,
    store_offsets,
    understand,
)
from bot.registry import ButtonAnswer, Command, Kind, Param, Registry, Role
from bot.targeting import resolve
from bot.text import Rich, bold, rich
from bot.types import Button, Content, Outgoing
from storage.chats import direct_chat, outbox_row_id
from storage.meetings import (
    Meeting,
    MeetingProposal,
    MeetingSkip,
    MeetingStatus,
    MeetingTarget,
    PostKind,
    active_chats,
    carry_answers,
    clear_skips,
    forget_proposals,
    going_after,
    going_to,
    meetings_for_chat,
    posted_occurrences,
    save_settings,
    skips_of,
    targets_of,
)
from storage.models import Chat, Person

ASK_ACTION = "mtgask"
ASK_EXPIRES = timedelta(days=1)
ADD_EXAMPLE = (
    '/meeting add "GC meeting" "first Tuesday of the month 19:30" '
    '"Miners\' Welfare, Cannock" --to region:cannock'
)
_URL = re.compile(r"https?://\S+")


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
    text = " ".join(value.split())
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


def _ask_key(proposal_id: int) -> str:
    return f"mtg-ask:{proposal_id}"


async def answer(ctx: Context, argument: str) -> ButtonAnswer:
    """Confirm or Fix, pressed under a question from :func:`_ask`."""
    verb, _, ident = argument.partition(":")
    proposal = await ctx.session.get(MeetingProposal, int(ident)) if ident.isdigit() else None
    if proposal is None or verb not in {"ok", "fix"}:
        return ButtonAnswer("That question was answered already, or has expired.")
    if proposal.person_id != ctx.person.id:
        return ButtonAnswer("Only the organiser who was asked can answer this.")
    payload = dict(proposal.payload)
    await ctx.session.delete(proposal)
    question = await outbox_row_id(ctx.session, _ask_key(proposal.id))
    now = ctx.clock.now()
    schedule = Schedule(
        datetime.fromisoformat(payload["start"]), payload["rule"], ZoneInfo(payload["zone"])
    )
    start = schedule.start if schedule.start > now else schedule.next(now)
    if verb == "fix" or start is None or proposal.created_at < now - ASK_EXPIRES:
        outcome = rich(
            "" if verb == "fix" else "That time has passed, or the question expired. ",
            "Not done. Send it again with the time written out, e.g. “12/3 19:30” or "
            f"“every Tuesday 19:30”. You wrote: “{payload['when']}”.",
        )
        if question is not None:
            await ctx.services.outbox.enqueue_edit(ctx.session, question, Content(outcome))
        return ButtonAnswer(str(outcome))
    schedule = replace(schedule, start=start)
    if payload.pop("kind") == "add":
        fields = {key: payload[key] for key in Draft.__dataclass_fields__}
        messages = await _create(ctx, Draft(**fields), schedule, payload["repeat_text"])
    else:
        assert proposal.meeting_id is not None
        meeting = await manageable(ctx, proposal.meeting_id)
        messages = await _move(ctx, meeting, schedule, payload["repeat_text"])
    if question is not None:
        done = rich("✔ Confirmed: ", bold(moment_text(start, schedule.zone)), ".")
        await ctx.services.outbox.enqueue_edit(ctx.session, question, Content(done))
    return ButtonAnswer("Done.", messages)


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
            ctx.reply(f"Done: told {len(chats)} chat(s) and {len(people)} person(s) going.")
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
    await refresh(
        ctx.session, ctx.services, meeting, await posted_occurrences(ctx.session, meeting.id, now)
    )
    return await _tell(ctx, meeting, occurrence, lambda _: cancelled_state(), going)


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
    following = schedule.next(occurrence, skips)
    going = (await going_to(ctx.session, [(meeting.id, occurrence)]))[(meeting.id, occurrence)]

    def headline(zone: ZoneInfo) -> Rich:
        after = " The next one is below." if following else ""
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


async def move(ctx: Context) -> list[Outgoing]:
    meeting = await manageable(ctx, ctx.args["id"])
    understood = understand(ctx.args["when"], ZoneInfo(meeting.zone), ctx.clock.now())
    if understood.notes:
        return [
            await _ask(
                ctx,
                understood,
                ctx.args["when"],
                {"kind": "move", "when": ctx.args["when"]},
                meeting.id,
            )
        ]
    return await _move(ctx, meeting, understood.schedule, understood.repeat_text)


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
    posted = await posted_occurrences(ctx.session, meeting.id, now)
    meeting.starts_at, meeting.rule, meeting.repeat_text = (
        schedule.start,
        schedule.rule,
        repeat_text,
    )
    meeting.revision += 1
    await clear_skips(ctx.session, meeting.id)
    await carry_answers(ctx.session, meeting.id, now, old_next, schedule.start)
    await refresh(ctx.session, ctx.services, meeting, posted)
    await reminders.reschedule(ctx.session, ctx.services, [meeting])
    chats = (await targets_of(ctx.session, [meeting.id]))[meeting.id]
    messages = await announce(ctx, meeting, schedule.start, chats, PostKind.MOVED)
    zone = await settings.zone_of(ctx.session, ctx.config, meeting.chat_id)
    for person in going:
        text = notice(
            rich(
                "➡️ ",
                bold("Moved."),
                " You said you were going; your answer now counts for "
                "the new time — change it with the buttons in the chat.",
            ),
            meeting,
            schedule.start,
            zone,
        )
        messages.append(Outgoing(await direct_chat(ctx.session, person, now), Content(text)))
    if all(chat.id != ctx.chat.id for chat in chats):
        messages.append(ctx.reply(f"Moved: told {len(chats)} chat(s) and {len(going)} going."))
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
                    "cancel",
                    "Cancel a meeting (or a whole series); tells the chats and those going",
                    cancel,
                    (ident,),
                    example="/meeting cancel 12",
                    role=Role.ORGANISER,
                ),
                Command(
                    "move",
                    "Give a meeting a new time; tells the chats and those going",
                    move,
                    (ident, Param("when", "the new time", Kind.REST)),
                    example="/meeting move 12 Thu 7pm",
                    role=Role.ORGANISER,
                ),
                Command(
                    "skip",
                    "Skip one date of a repeating meeting (the next, or the date given)",
                    skip,
                    (ident, Param("date", "which date, e.g. 24/12", Kind.REST, required=False)),
                    example="/meeting skip 12 24/12",
                    role=Role.ORGANISER,
                ),
                Command(
                    "ics",
                    "Get a meeting as a calendar file for your phone",
                    upcoming.meeting_file,
                    (ident,),
                    example="/meeting ics 12",
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
    registry.on_start(reminders.on_start)
