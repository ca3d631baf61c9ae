"""Meetings and reminders: recurring UK-time meetings, RSVPs, calendar files and
restart-safe reminders (see :mod:`bot.meetings.commands` for the commands).
:func:`meeting_lines` is what the weekly digest and /strikes show of them;
:func:`events_file` makes a calendar file of any events (a volunteer's shifts)."""

from bot.meetings.commands import register
from bot.meetings.ics import events_file
from bot.meetings.upcoming import meeting_lines

__all__ = ["events_file", "meeting_lines", "register"]
