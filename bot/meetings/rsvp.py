"""RSVP buttons: going / maybe / can't, one answer per person per occurrence.

The button carries ``rsvp:<meeting id>:<occurrence yyyymmddhhmm UTC>:<g|m|n>`` —
compact, and never user text. An answer can be changed until the meeting starts;
each change re-renders every posted copy of that occurrence with the new counts.
"""

from __future__ import annotations

from bot.context import Context
from bot.meetings import settings
from bot.meetings.posts import refresh
from bot.meetings.recurrence import schedule_of
from bot.meetings.render import ANSWER_WORDS, day_text, parse_occurrence_code
from bot.registry import ButtonAnswer
from bot.values import button_id
from storage.meetings import Answer, Meeting, MeetingStatus, answer_of, set_answer, skips_of

STALE = "That button is from an old message — send /meetings for the current ones."


async def press(ctx: Context, argument: str) -> ButtonAnswer:
    ident, _, rest = argument.partition(":")
    code, _, letter = rest.partition(":")
    occurrence = parse_occurrence_code(code)
    number = button_id(ident)
    if number is None or occurrence is None or letter not in {a.value for a in Answer}:
        return ButtonAnswer(STALE)
    answer = Answer(letter)
    meeting = await ctx.session.get(Meeting, number)
    if meeting is None:
        return ButtonAnswer(STALE)
    if meeting.status == MeetingStatus.CANCELLED.value:
        return ButtonAnswer("That meeting was cancelled.")
    skips = (await skips_of(ctx.session, [meeting.id]))[meeting.id]
    if occurrence in skips:
        return ButtonAnswer("That date was skipped: it isn't happening.")
    if not schedule_of(meeting).is_occurrence(occurrence):
        return ButtonAnswer("That meeting has moved — use the buttons on the newest message.")
    if occurrence <= ctx.clock.now():
        return ButtonAnswer("That meeting has already started.")
    word = ANSWER_WORDS[answer]
    if await answer_of(ctx.session, meeting.id, occurrence, ctx.person.id) is answer:
        return ButtonAnswer(f"You already said {word}.")
    await set_answer(
        ctx.session, meeting.id, occurrence, ctx.person.id, answer, ctx.clock.now(), ctx.chat.id
    )
    await refresh(ctx.session, ctx.services, meeting, [occurrence])
    zone = await settings.zone_of(ctx.session, ctx.config, ctx.chat.id)
    return ButtonAnswer(f"Noted: {word} — {meeting.title}, {day_text(occurrence, zone)}.")
