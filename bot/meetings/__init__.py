"""Meetings and reminders: recurring UK-time meetings, RSVPs, calendar files and
restart-safe reminders (see :mod:`bot.meetings.commands` for the commands).
:func:`meeting_lines` is what the weekly digest and /strikes show of them;
:func:`events_file` makes a calendar file of any events (a volunteer's shifts);
:func:`ask_time` and :func:`when_confirmed` let another feature ask about a guessed
time with the meetings' own Confirm / ✏ Fix question (a rota's hours)."""

from bot.meetings.commands import ask_time, register, when_confirmed
from bot.meetings.ics import events_file
from bot.meetings.upcoming import meeting_lines

__all__ = ["ask_time", "events_file", "meeting_lines", "register", "when_confirmed"]
