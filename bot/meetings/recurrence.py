"""A meeting row's :class:`~bot.dates.schedule.Schedule`, and its moved dates as
the row keeps them (the schedule's arithmetic is shared, in :mod:`bot.dates`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.dates.schedule import Schedule
from storage.meetings import Meeting


def schedule_of(meeting: Meeting) -> Schedule:
    moves = tuple(
        sorted(
            (datetime.fromisoformat(original), datetime.fromisoformat(new))
            for original, new in (meeting.moves or {}).items()
        )
    )
    return Schedule(meeting.starts_at, meeting.rule, ZoneInfo(meeting.zone), meeting.ends_on, moves)


def store_moves(moves: tuple[tuple[datetime, datetime], ...]) -> dict[str, str] | None:
    """Moves as the meeting row keeps them (``None``: none)."""
    stored = {original.isoformat(): new.isoformat() for original, new in moves}
    return stored or None
