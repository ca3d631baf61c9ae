"""Dates and times as UK members type them: ``12/3`` is 12 March, ``Thu``,
``tomorrow``, ``6-10``, ``06:00-10:00`` (or with a dash), ``7am-1pm``.

Days go through :mod:`dateparser` (day-first, English); clock times are matched
against a few :func:`datetime.strptime` formats. Everything is read in the bot's
time zone (Europe/London by default) and stored as aware UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser  # type: ignore[import-untyped]

from bot.context import UserError

DAY_EXAMPLES = "e.g. 12/3, Thu, tomorrow or 12 March 2026"
HOURS_EXAMPLES = "e.g. 06:00-10:00, 6-10 or 7am-1pm"
TIME_FORMATS = ("%H:%M", "%H.%M", "%H", "%I%p", "%I:%M%p", "%I.%M%p")
# How far ahead anything may be planned: a typo like 13/13 should not land in 2113.
HORIZON = timedelta(days=2 * 366)


def _parser(now_local: datetime, prefer: str) -> DateDataParser:
    return DateDataParser(
        languages=["en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": prefer,
            "RETURN_TIME_AS_PERIOD": True,
            "RELATIVE_BASE": now_local.replace(tzinfo=None),
        },
    )


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def parse_moment(
    text: str, zone: ZoneInfo, now: datetime, *, prefer: str = "future"
) -> tuple[datetime, bool]:
    """A local date, with its time if one was given: ``(aware UTC, has_time)``.

    ``prefer`` is dateparser's: "future" for things being planned (``Mon`` is the
    coming Monday), "current_period" for dates that may have passed (a ballot that
    opened last week).
    """
    now_local = local(now, zone)
    data = _parser(now_local, prefer).get_date_data(text.strip())
    found = data.date_obj
    if found is None:
        raise UserError(f"I couldn't read the date “{text}” — {DAY_EXAMPLES}.")
    if prefer == "future":
        found = _not_a_year_late(text, found, now_local)
    has_time = data.period == "time"
    if not has_time:
        found = datetime.combine(found.date(), time())
    moment = found.replace(tzinfo=zone).astimezone(UTC)
    if moment - now > HORIZON:
        raise UserError(
            f"“{text}” reads as {found:%d %B %Y}, more than two years away — {DAY_EXAMPLES}."
        )
    return moment, has_time


def _not_a_year_late(text: str, found: datetime, now_local: datetime) -> datetime:
    """A day and month with no year mean today, or the nearest such day — and one
    that has just passed is a mistake, not next year.

    dateparser's "future" preference turns ``1/12`` typed on 4 December into 1
    December *next* year (and ``4/12`` into a year from today), which would
    announce a strike a year late with no question asked. Whichever reading is
    nearer today wins: ``1/12`` on 4 December (3 days ago, or 362 days ahead) is
    refused as past, while ``5/1`` in December (11 months ago, or a month ahead)
    is next January, as meant.
    """
    this_year = _parser(now_local, "current_period").get_date_data(text.strip()).date_obj
    today = now_local.date()
    if this_year is None or (found.month, found.day, found.year) != (
        this_year.month,
        this_year.day,
        this_year.year + 1,
    ):
        return found  # not the same day a year on: a weekday, a date with its year
    day = this_year.date()
    if day == today:
        return found.replace(year=this_year.year)
    if day < today and today - day < found.date() - today:
        raise UserError(
            f"“{text}” was {day:%a} {day.day} {day:%b %Y}, which has passed. For next "
            f"year's, write the year: {day.day}/{day.month}/{day.year + 1}."
        )
    return found


def parse_day(text: str, zone: ZoneInfo, now: datetime, *, prefer: str = "future") -> date:
    moment, _ = parse_moment(text, zone, now, prefer=prefer)
    return local(moment, zone).date()


def parse_time(text: str) -> time:
    cleaned = text.strip().lower().replace(" ", "")
    formats = ("%H%M",) if len(cleaned) == 4 and cleaned.isdigit() else TIME_FORMATS  # 0630
    for pattern in formats:
        try:
            return datetime.strptime(cleaned, pattern).time()
        except ValueError:
            continue
    raise UserError(f"I couldn't read the time “{text}” — e.g. 06:00, 6am or 18:30.")


def parse_hours(text: str) -> tuple[time, time]:
    """``start-end`` on one day; an end at or before the start is refused."""
    parts = re.split(r"\s*(?:-|–|—|\bto\b)\s*", text.strip(), maxsplit=1)
    if len(parts) != 2 or not all(parts):
        raise UserError(f"I couldn't read the hours “{text}” — {HOURS_EXAMPLES}.")
    start, end = parse_time(parts[0]), parse_time(parts[1])
    if end <= start:
        raise UserError(f"In “{text}” the end is not after the start — {HOURS_EXAMPLES}.")
    return start, end


def at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local day and time as aware UTC."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
