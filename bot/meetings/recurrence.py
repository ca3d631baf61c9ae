"""A meeting row's :class:`~bot.dates.schedule.Schedule`, and its moved dates as
the row keeps them (the schedule's arithmetic is shared, in :mod:`bot.dates`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.dates.schedule import Schedule, read_moves
from storage.meetings import Meeting


def schedule_of(meeting: Meeting) -> Schedule:
    return Schedule(
        meeting.starts_at,
        meeting.rule,
        ZoneInfo(meeting.zone),
        meeting.ends_on,
        read_moves(meeting.moves),
    )
