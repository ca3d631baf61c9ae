"""Every word the meetings capability shows: cards, reminders, lists, notices.

A *card* is a meeting as posted in a chat, with RSVP buttons and the live counts.
It is rendered from the tables each time (never patched), so an edited copy says
exactly what a fresh one would: times in the chat's own zone, the counts of now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import UTC
from bot.dates.durations import duration_text
from bot.text import Rich, Span, Style, bold, code, italic, join, link, rich
from bot.types import Button, Content
from storage.meetings import Answer, Meeting, PostKind

RSVP_ACTION = "rsvp"
_CODE = "%Y%m%d%H%M"
ANSWER_WORDS = {Answer.GOING: "going", Answer.MAYBE: "maybe", Answer.CANT: "can't make it"}
_LABELS = {Answer.GOING: "✅ Going", Answer.MAYBE: "🤔 Maybe", Answer.CANT: "❌ Can't"}
_COUNTED = {Answer.GOING: "✅ {} going", Answer.MAYBE: "🤔 {} maybe", Answer.CANT: "❌ {} can't"}


def occurrence_code(moment: datetime) -> str:
    """An occurrence in button data: its UTC minute, ``yyyymmddhhmm``."""
    return moment.astimezone(UTC).strftime(_CODE)


def parse_occurrence_code(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, _CODE).replace(tzinfo=UTC)
    except ValueError:
        return None


def moment_text(moment: datetime, zone: ZoneInfo) -> str:
    """``Tue 3 Mar 2026, 19:30 GMT`` — with the zone's own abbreviation, so BST/GMT
    (or another chat's zone) is never left to guesswork."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def day_text(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def _place(text: str) -> Rich:
    return rich(link(text, text)) if text.startswith(("http://", "https://")) else rich(text)


def details(meeting: Meeting, occurrence: datetime, zone: ZoneInfo) -> list[Rich]:
    """Title, time, repeat, place and links: the part of every card and notice."""
    when = moment_text(occurrence, zone)
    if meeting.duration_minutes:
        ends = (occurrence + timedelta(minutes=meeting.duration_minutes)).astimezone(zone)
        when += f", until {ends:%H:%M}"
    lines = [
        rich("📅 ", bold(meeting.title), f"  #{meeting.id}"),
        rich(f"🕖 {when}"),
    ]
    if meeting.repeat_text:
        last = meeting.ends_on
        until = f", until {last:%a} {last.day} {last:%b %Y}" if last else ""
        lines.append(rich(f"🔁 {meeting.repeat_text} ({meeting.zone} time){until}"))
    if meeting.place:
        lines.append(rich("📍 ") + _place(meeting.place))
    if meeting.link:
        lines.append(rich("💻 ", link("Join online", meeting.link)))
    if meeting.agenda:
        lines.append(rich("📄 ", link("Agenda", meeting.agenda)))
    return lines


def counts_text(counts: Mapping[Answer, int]) -> str:
    return " · ".join(_COUNTED[answer].format(counts.get(answer, 0)) for answer in Answer)


def rsvp_buttons(meeting_id: int, occurrence: datetime) -> tuple[tuple[Button, ...], ...]:
    prefix = f"{RSVP_ACTION}:{meeting_id}:{occurrence_code(occurrence)}"
    return (tuple(Button(_LABELS[answer], f"{prefix}:{answer.value}") for answer in Answer),)


def reminder_header(offset: int, late: bool) -> Rich:
    if late:
        return rich("⏰ ", bold("Reminder"), " — sent late: I was offline at the time it was due.")
    return rich("⏰ ", bold("Reminder"), f" — in {duration_text(offset)}")


def card(
    meeting: Meeting,
    occurrence: datetime,
    zone: ZoneInfo,
    counts: Mapping[Answer, int],
    *,
    kind: PostKind = PostKind.ANNOUNCEMENT,
    offset: int = 0,
    late: bool = False,
    state: Rich | None = None,
) -> Content:
    """A posted copy. ``state`` (cancelled, skipped, moved) replaces the buttons."""
    lines: list[Rich] = []
    if state is not None:
        lines.append(state)
    elif kind is PostKind.REMINDER:
        lines.append(reminder_header(offset, late))
    elif kind is PostKind.MOVED:
        lines.append(rich("➡️ ", bold("New time"), " — this meeting has moved."))
    lines += details(meeting, occurrence, zone)
    lines.append(rich(counts_text(counts)))
    if state is None:
        lines.append(rich(italic("Add it to your calendar: "), code(f"/meeting ics {meeting.id}")))
        return Content(_joined(lines), buttons=rsvp_buttons(meeting.id, occurrence))
    return Content(_joined(lines))


def _joined(lines: list[Rich]) -> Rich:
    """``join(lines)`` with neighbouring plain spans merged, in one pass: a thousand
    cards are rendered at once when reminders fall due together, and stored as JSON."""
    spans: list[Span] = []
    for number, line in enumerate(lines):
        for span in ((Span("\n"),) if number else ()) + line.spans:
            if spans and span.style is Style.PLAIN and spans[-1].style is Style.PLAIN:
                spans[-1] = Span(spans[-1].text + span.text)
            else:
                spans.append(span)
    return Rich(tuple(spans))


def cancelled_state(reason: str = "") -> Rich:
    return rich("❌ ", bold("Cancelled"), f": {reason}" if reason else "")


def skipped_state(next_time: datetime | None, zone: ZoneInfo) -> Rich:
    after = f" The next one is {moment_text(next_time, zone)}." if next_time else ""
    return rich("⏭ ", bold("Not happening this time."), after)


def moved_state(new_time: datetime | None, zone: ZoneInfo) -> Rich:
    if new_time is None:
        return rich("➡️ ", bold("Moved."))
    return rich("➡️ ", bold("Moved"), f" to {moment_text(new_time, zone)}.")


def personal_reminder(meeting: Meeting, occurrence: datetime, zone: ZoneInfo) -> Rich:
    return join(
        [
            rich("⏰ ", bold("Reminder:"), " you said you're going."),
            *details(meeting, occurrence, zone),
        ]
    )


def notice(headline: Rich, meeting: Meeting, occurrence: datetime, zone: ZoneInfo) -> Rich:
    """A change told to a chat or to someone going: what happened, then which meeting."""
    return join([headline, *details(meeting, occurrence, zone)])


def confirm_text(
    original: str, start: datetime, zone: ZoneInfo, repeat_text: str, notes: tuple[str, ...]
) -> Rich:
    understood = f"{repeat_text}, first on " if repeat_text else ""
    return join(
        [
            rich(bold("Please check: "), f"I read “{original}” as {understood}"),
            rich(bold(moment_text(start, zone)), "."),
            *(rich(f"• {note}") for note in notes),
            rich("Press Confirm if that's right, or Fix to write it differently."),
        ]
    )


def listing(
    rows: Sequence[tuple[Meeting, datetime, Mapping[Answer, int]]],
    zone: ZoneInfo,
    footer: str,
) -> Rich:
    if not rows:
        return join(
            [
                rich("No meetings coming up here."),
                rich("An organiser can add one: ", code('/meeting add "Title" "Sat 10am" "Place"')),
                rich(italic(footer)),
            ]
        )
    lines = [rich(bold("Coming up here"))]
    for meeting, occurrence, counts in rows:
        repeat = f" · 🔁 {meeting.repeat_text}" if meeting.repeat_text else ""
        where = f" · 📍 {meeting.place}" if meeting.place else ""
        lines.append(rich(f"#{meeting.id} ", bold(meeting.title)))
        lines.append(rich(f"   {moment_text(occurrence, zone)}{where}{repeat}"))
        lines.append(rich(f"   {counts_text(counts)}"))
    lines.append(rich(italic(footer)))
    return join(lines)


def calendar_reply(title: str, file: str, google: str | None) -> Rich:
    """The words that go with a calendar file."""
    lines = [
        rich("📅 ", bold(title)),
        rich(f"Tap {file} to add it to your calendar."),
    ]
    if google:
        lines.append(rich("Or: ", link("add to Google Calendar", google)))
    return join(lines)


def meeting_line(meeting: Meeting, occurrence: datetime, zone: ZoneInfo) -> Rich:
    """A meeting in someone else's list (the weekly digest)."""
    local = occurrence.astimezone(zone)
    where = f", {meeting.place}" if meeting.place else ""
    return rich(
        f"• {local:%a} {local.day} {local:%b, %H:%M} — ",
        bold(meeting.title),
        f"{where} ",
        italic(f"(meeting #{meeting.id})"),
    )
