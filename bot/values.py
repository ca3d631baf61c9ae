"""What people type, checked in one place: whole numbers within a range, and text
that has something visible in it.

Numbers: ``int()`` alone takes ``²``-free Unicode digits, underscores and numbers
of any size, and a number too big for the database's integer columns fails there,
as an error rather than a refusal. So every number a person types — an id, a
count, a quorum — goes through :func:`whole_number`, which takes only ASCII digits
and names the range it wants.

Text: a zero-width space, a control character or a NUL looks like nothing in a
chat (PostgreSQL refuses a NUL outright), and two options that differ only by one
look the same. :func:`visible` drops them; :func:`fit` refuses what is then empty
or too long.
"""

from __future__ import annotations

import re
import unicodedata

from bot.context import UserError
from bot.registry import MAX_ID

_WHOLE = re.compile(r"[+-]?[0-9]+")
# Longer than this, no range we use can hold it (and int() refuses over 4,300 digits).
_MOST_DIGITS = 18
# Control, format (zero-width, direction marks) and lone surrogate characters.
_INVISIBLE = frozenset(("Cc", "Cf", "Cs"))


def whole_number(text: str, what: str, low: int = 1, high: int = MAX_ID) -> int:
    """``text`` as a whole number from ``low`` to ``high``, or a refusal naming
    ``what`` (e.g. "The quorum") and the range. A leading ``#`` (as ids are shown)
    is allowed."""
    cleaned = text.strip().removeprefix("#")
    number = (
        int(cleaned)
        if _WHOLE.fullmatch(cleaned) and len(cleaned.lstrip("+-")) <= _MOST_DIGITS
        else None
    )
    if number is None or not low <= number <= high:
        shown = text if len(text) <= 30 else text[:29] + "…"
        raise UserError(f"{what} should be a whole number from {low:,} to {high:,}, not “{shown}”.")
    return number


def visible(text: str) -> str:
    """``text`` in NFC with control and format (zero-width) characters removed and
    every run of whitespace made one space, trimmed."""
    kept = "".join(
        " " if char.isspace() else char
        for char in unicodedata.normalize("NFC", text)
        if char.isspace() or unicodedata.category(char) not in _INVISIBLE
    )
    return " ".join(kept.split())


def fit(text: str, limit: int, what: str) -> str:
    """:func:`visible` ``text``, or a refusal if nothing visible is left or it is
    longer than ``limit`` characters. ``what`` names the field: "The summary"."""
    cleaned = visible(text)
    if not cleaned:
        raise UserError(f"{what} has nothing in it that can be seen: write some words.")
    if len(cleaned) > limit:
        raise UserError(f"{what} is {len(cleaned):,} characters long; keep it to {limit:,}.")
    return cleaned


def button_id(text: str, low: int = 1) -> int | None:
    """The id (or, from ``low=0``, index) a button's data carries, or ``None`` if
    ``text`` is not one a table could hold (an old, foreign or forged button)."""
    if not (text.isascii() and text.isdigit()) or len(text) > _MOST_DIGITS:
        return None
    number = int(text)
    return number if low <= number <= MAX_ID else None
