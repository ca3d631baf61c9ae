"""Calendar files (RFC 5545, via icalendar) and "add to Google Calendar" links.

Events carry their wall time with a TZID (``DTSTART;TZID=Europe/London:…T193000``)
and the series' RRULE, so a phone calendar repeats them at 19:30 local through the
clock changes, exactly as the bot does; skipped dates are EXDATEs. The VTIMEZONE
is generated from zoneinfo for a few years only — calendars know the zone by its
name, and the full table since 1970 would make a file of a few KB many times bigger.

The calendar goes to chats as a file (:func:`calendar_file`): a phone imports it
with one tap, where text in a message would have to be saved as a file first.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from icalendar import Calendar, Event, vRecur

from bot.meetings.recurrence import schedule_of
from bot.types import Attachment
from storage.meetings import Meeting

DURATION = timedelta(minutes=90)
MIME_TYPE = "text/calendar"
PRODID = "-//organise-bot//meetings//EN"
VTIMEZONE_YEARS = 3


def event(meeting: Meeting, skips: Collection[datetime]) -> Event:
    schedule = schedule_of(meeting)
    start = schedule.start.astimezone(schedule.zone)
    item = Event()
    item.add("uid", f"meeting-{meeting.id}@organise-bot")
    item.add("dtstamp", meeting.created_at)
    item.add("sequence", meeting.revision)
    item.add("summary", meeting.title)
    item.add("dtstart", start)
    item.add("dtend", start + length(meeting))
    if meeting.place:
        item.add("location", meeting.place)
    if meeting.link:
        item.add("url", meeting.link)
    notes = []
    if meeting.link:
        notes.append(f"Online: {meeting.link}")
    if meeting.agenda:
        notes.append(f"Agenda: {meeting.agenda}")
    if notes:
        item.add("description", "\n".join(notes))
    if schedule.rule:
        rule = vRecur.from_ical(schedule.rule)
        if schedule.until is not None:  # RFC 5545: in UTC when DTSTART has a zone
            last = datetime.combine(schedule.until + timedelta(days=1), time(), schedule.zone)
            rule["UNTIL"] = [last.astimezone(UTC) - timedelta(seconds=1)]
        item.add("rrule", rule)
        gone = set(skips) | {original for original, _new in schedule.moves}
        for skipped in sorted(gone):
            item.add("exdate", skipped.astimezone(schedule.zone))
        for _original, new in schedule.moves:
            item.add("rdate", new.astimezone(schedule.zone))
    return item


def length(meeting: Meeting) -> timedelta:
    """How long the meeting lasts, or ``DURATION`` when nobody said."""
    return timedelta(minutes=meeting.duration_minutes) if meeting.duration_minutes else DURATION


def calendar_file(
    meetings: Sequence[tuple[Meeting, Collection[datetime]]], name: str, today: date
) -> Attachment:
    """The calendar of these meetings as a file to send, named after ``name``."""
    return Attachment(file_name(name), calendar(meetings, name, today), MIME_TYPE)


def calendar(
    meetings: Sequence[tuple[Meeting, Collection[datetime]]], name: str, today: date
) -> bytes:
    """A whole calendar file for these meetings (and their skipped dates), in UTF-8
    with the CRLF line ends RFC 5545 asks for."""
    first = min((m.starts_at.date() for m, _ in meetings), default=today)
    return events_calendar([event(m, skips) for m, skips in meetings], name, first, today)


def events_file(events: Sequence[Event], name: str, first: date, today: date) -> Attachment:
    """Any events (a volunteer's rota shifts, say) as a calendar file to send: the
    same file, zones and name as a meeting's, from ``first``, the earliest day."""
    return Attachment(file_name(name), events_calendar(events, name, first, today), MIME_TYPE)


def events_calendar(events: Sequence[Event], name: str, first: date, today: date) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for item in events:
        cal.add_component(item)
    cal.add_missing_timezones(
        first_date=min(first, today) - timedelta(days=1),
        last_date=today + timedelta(days=366 * VTIMEZONE_YEARS),
    )
    data: bytes = cal.to_ical()
    return data


def file_name(title: str) -> str:
    """``GC meeting`` → ``gc-meeting.ics``."""
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)[:40].strip("-") + ".ics" if words else "meeting.ics"


def google_link(meeting: Meeting, occurrence: datetime) -> str:
    """An "add to Google Calendar" address: one tap on a phone, no file needed."""
    end = occurrence + length(meeting)
    query = {
        "action": "TEMPLATE",
        "text": meeting.title,
        "dates": f"{occurrence:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "ctz": meeting.zone,
        "location": meeting.place,
        "details": "\n".join(filter(None, [meeting.link, meeting.agenda])),
    }
    if meeting.rule:
        query["recur"] = f"RRULE:{meeting.rule}"
    return "https://calendar.google.com/calendar/render?" + urlencode(query)
