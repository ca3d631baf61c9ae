"""Meetings and reminders: recurring UK-time meetings, RSVPs, calendar files and
restart-safe reminders (see :mod:`bot.meetings.commands` for the commands).
:func:`meeting_lines` is what the weekly digest and /strikes show of them."""

from bot.meetings.commands import register
from bot.meetings.upcoming import meeting_lines

__all__ = ["meeting_lines", "register"]
