"""Spans of time as people type them — "30m", "2h", "1h30m", "3 days", "1 week" —
in one grammar, for a meeting's reminders and length and a poll's closing time.

A span is written as parts, each a number and a unit. What differs between the
places that read one is only which units make sense there (a meeting lasts hours,
not weeks) and what may stand between the parts ("1d, 1h" is two reminders, while a
poll closing in "1h 30m" closes once): so those are the caller's, and the units,
their spellings and how a span is said back are here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

# Minutes in each unit, by the unit's first letter.
MINUTES: dict[str, int] = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}
_PART = re.compile(r"(\d+)\s*(w|weeks?|d|days?|h|hrs?|hours?|m|mins?|minutes?)(?![a-z])")


@dataclass(frozen=True)
class Part:
    number: str  # as typed: each caller checks its range, in its own words
    unit: int  # minutes in one of the unit


def parts(
    text: str, *, units: str = "wdhm", between: str = r"\s", separated: bool = False
) -> list[Part] | None:
    """The parts ``text`` is written in, or ``None`` unless it is nothing but parts
    in ``units`` (first letters) with only ``between`` (a pattern) around them.

    ``separated``: each part stands alone, set apart from the next ("1d 1h" is two
    parts, "1h30m" is refused), for lists where every part is a span of its own.
    """
    found = list(_PART.finditer(text))
    if not found or any(part[2][0] not in units for part in found):
        return None
    if re.sub(between, "", _PART.sub("", text)):
        return None
    if separated and any(one.end() == two.start() for one, two in pairwise(found)):
        return None
    return [Part(part[1], MINUTES[part[2][0]]) for part in found]


def duration_text(minutes: int) -> str:
    """1440 → "1 day", 90 → "90 minutes": the largest unit that divides it."""
    for name, size in (("week", MINUTES["w"]), ("day", MINUTES["d"]), ("hour", MINUTES["h"])):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {name}{'s' if count != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
