"""Meetings in a platform's own calendar: each posted card carries an
:class:`~bot.types.EventMirror` of the meeting's next date, which the Discord
adapter keeps as one scheduled event per server (Telegram has no such calendar
and ignores it).

The mirror always shows the *next* date from now, whichever card carries it: a
card edited after a move, or a series' reminder for its next date, moves the
server's event along with it; a cancelled meeting's cards remove it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.meetings.ics import DURATION
from bot.text import bold, rich
from bot.types import Content, EventMirror
from storage.meetings import Meeting, MeetingStatus

# Discord's limits on a scheduled event's name, location and description.
TITLE_LIMIT, PLACE_LIMIT, DESCRIPTION_LIMIT = 100, 100, 1000
NO_PLACE = "See the meeting's message"
REFUSED = rich(
    "ℹ️ I could not add this meeting to this server's events: a server admin can give me ",
    bold("Manage Events"),
    " (the meeting's message works either way).",
)


def event_of(meeting: Meeting, upcoming: datetime | None) -> EventMirror | None:
    """The mirror of ``meeting`` at its ``upcoming`` date; ``None`` once a meeting
    that is not cancelled has no date to come (its event simply ends)."""
    cancelled = meeting.status == MeetingStatus.CANCELLED.value
    if upcoming is None and not cancelled:
        return None
    start = upcoming or meeting.starts_at
    notes = [
        f"{label}: {url}"
        for label, url in (("Link", meeting.link), ("Agenda", meeting.agenda))
        if url
    ]
    return EventMirror(
        key=f"meeting:{meeting.id}",
        title=meeting.title[:TITLE_LIMIT],
        starts_at=start,
        ends_at=start + DURATION,
        place=(meeting.place or meeting.link or NO_PLACE)[:PLACE_LIMIT],
        description="\n".join(
            [*notes, f"RSVP with the buttons under the meeting's message (#{meeting.id})."]
        )[:DESCRIPTION_LIMIT],
        cancelled=cancelled,
        refused_note=REFUSED,
    )


def mirrored(content: Content, meeting: Meeting, upcoming: datetime | None) -> Content:
    """``content`` carrying the mirror of ``meeting`` at its ``upcoming`` date."""
    return replace(content, event=event_of(meeting, upcoming))
