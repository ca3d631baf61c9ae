"""``--closes``: when a poll closes, as people type it.

Either a duration from now — "30m", "2h", "3d", "1h30m", "2 days", "1 week", of
any length — or a day and time read exactly as meetings read theirs
(:func:`bot.dates.when.understand`: dateparser, day first, in the bot's time
zone, with the cases where dateparser alone misreads — "Friday 18:00" typed on a
Friday morning, "tomorrow at 7" — handled). A closing time must be in the future
and happens once, so a repeat ("every Friday") is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import UserError
from bot.dates.durations import parts
from bot.dates.when import understand
from bot.text import rich
from bot.values import whole_number

DURATIONS = "a duration: 30m, 2h, 3d"
EXAMPLES = "a duration (30m, 2h, 3d) or a day and time (Friday 18:00, 12/3 19:00)"
ZERO = timedelta()
# More minutes than a poll could ever run: a bigger number is a typing slip.
MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class Closing:
    at: datetime  # aware UTC
    notes: tuple[str, ...] = ()  # what was assumed reading a date ("No time was given…")


def parse_closing(text: str, now: datetime, zone: ZoneInfo) -> Closing:
    """When the poll closes, or a friendly refusal if unreadable, past or repeating."""
    cleaned = " ".join(text.lower().split())
    found = parts(cleaned)
    if found is not None:
        try:
            span = sum(
                (
                    whole_number(p.number, "Each number in a duration", 0, MAX_COUNT)
                    * timedelta(minutes=p.unit)
                    for p in found
                ),
                ZERO,
            )
            at = now + span
        except OverflowError:
            raise UserError(
                f"“{text}” is further ahead than I can count. Use {EXAMPLES}."
            ) from None
        if span <= ZERO:
            raise UserError(f"“{text}” is no time at all. Use {EXAMPLES}.")
        return Closing(at)
    try:
        understood = understand(text, zone, now)
    except UserError as error:
        raise UserError(rich("Closing time: ", error.text, f" Or give {DURATIONS}.")) from None
    if understood.repeat_text:
        raise UserError(f"A poll closes once, not {understood.repeat_text}. Use {EXAMPLES}.")
    return Closing(understood.schedule.start, understood.notes)


def format_time(when: datetime, zone: ZoneInfo) -> str:
    """``Fri 6 Mar 2026 18:00`` in the bot's time zone."""
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"
