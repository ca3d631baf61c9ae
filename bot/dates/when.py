"""Read when a meeting is (or a poll closes), as people in the UK type it.

One-off dates ("tomorrow 7pm", "Sat 10am", "12/3 19:00" = 12 March, ISO dates) go
to dateparser — day first, preferring the future — once the time of day has been
taken out of the text. We read the time ourselves because dateparser quietly drops
some ("tomorrow at 7" comes back at the current time), and a weekday on its own
ourselves because dateparser skips today even when the time is still to come.

Repeats ("every Saturday 10:00", "first Tuesday of the month 19:30", "every 2 weeks
on Thursday", "the 31st of every month") are matched against a small table of
phrases, each giving dateutil ``rrule`` parameters; dateutil does the arithmetic.

Whatever we had to assume — no time, "next Saturday", a bare "at 7", a date far
off, the 31st in short months — comes back as ``notes``, so the organiser is shown
how it was read and confirms or fixes it. A time already passed is refused, with
how it was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateparser  # type: ignore[import-untyped]
from dateutil.rrule import (  # type: ignore[import-untyped]
    DAILY,
    FR,
    MO,
    MONTHLY,
    SA,
    SU,
    TH,
    TU,
    WE,
    WEEKLY,
    rrule,
    weekday,
)

from bot.context import UserError
from bot.dates.durations import duration_text, parts
from bot.dates.schedule import Schedule, to_local, to_utc
from bot.values import whole_number

DEFAULT_TIME = time(19, 0)
FAR_AHEAD = timedelta(days=183)
EXAMPLES = (
    "“tomorrow 7pm”, “Sat 10am”, “12/3 19:00”, “2026-04-01 19:30”, “every Saturday 10:00”, "
    "“first Tuesday of the month 19:30”, “every 2 weeks on Thursday 18:00”"
)

_DAYS: dict[str, weekday] = {
    "monday": MO,
    "mon": MO,
    "tuesday": TU,
    "tues": TU,
    "tue": TU,
    "wednesday": WE,
    "weds": WE,
    "wed": WE,
    "thursday": TH,
    "thurs": TH,
    "thur": TH,
    "thu": TH,
    "friday": FR,
    "fri": FR,
    "saturday": SA,
    "sat": SA,
    "sunday": SU,
    "sun": SU,
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
}
ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


def _alternatives(words: dict[str, Any]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_DAY = rf"(?:{_alternatives(_DAYS)})s?"
_DAY_LIST = rf"{_DAY}(?:\s*(?:,|and|&)\s*{_DAY})*"
_NTH = rf"(?:{_alternatives(_ORDINALS)})"
_NTH_LIST = rf"{_NTH}(?:\s*(?:,|and|&)\s*{_NTH})*"
_EVERY = r"(?:every|each)"
_MONTH = r"(?:of|in) (?:the|every|each|a) month"
_DATE_OF_MONTH = r"(?P<dom>\d{1,2})(?:st|nd|rd|th)?"
_REPEAT_WORDS = re.compile(
    r"\b(?:every|each|daily|weekly|fortnightly|monthly|weekdays|alternate)\b|\bmonth\b"
)


@dataclass(frozen=True)
class _Repeat:
    """A row of the phrase table: a pattern and how often it repeats."""

    pattern: re.Pattern[str]
    freq: int
    interval: int = 1
    weekdays: tuple[weekday, ...] = ()
    last_day: bool = False


def _row(pattern: str, freq: int, **options: Any) -> _Repeat:
    return _Repeat(re.compile(pattern), freq, **options)


_WORKDAYS = (MO, TU, WE, TH, FR)
# Tried in order; the first whose pattern matches the whole phrase wins.
_TABLE = (
    _row(rf"{_EVERY} day|daily", DAILY),
    _row(rf"{_EVERY} weekday|weekdays", WEEKLY, weekdays=_WORKDAYS),
    _row(rf"{_EVERY} (?P<n>\d+|other|second) weeks? on (?P<days>{_DAY_LIST})", WEEKLY),
    _row(rf"(?:{_EVERY} fortnight on|fortnightly on) (?P<days>{_DAY_LIST})", WEEKLY, interval=2),
    _row(rf"(?P<days>{_DAY_LIST}) fortnightly", WEEKLY, interval=2),
    _row(rf"(?:{_EVERY} other|alternate) (?P<days>{_DAY_LIST})", WEEKLY, interval=2),
    _row(rf"(?:{_EVERY}|weekly on) (?P<days>{_DAY_LIST})", WEEKLY),
    _row(rf"(?P<days>{_DAY_LIST}) weekly", WEEKLY),
    _row(rf"(?:the )?(?P<nths>{_NTH_LIST}) (?P<day>{_DAY}) {_MONTH}", MONTHLY),
    _row(rf"{_EVERY} (?P<nths>{_NTH_LIST}) (?P<day>{_DAY})", MONTHLY),
    _row(rf"(?:the )?last day {_MONTH}|(?:{_EVERY} month|monthly) on the last day", MONTHLY,
         last_day=True),
    _row(rf"(?:the )?{_DATE_OF_MONTH} (?:day )?{_MONTH}", MONTHLY),
    _row(rf"(?:{_EVERY} month|monthly) on the {_DATE_OF_MONTH}", MONTHLY),
)  # fmt: skip

_CLOCK = re.compile(
    r"(?:\bat\s+)?\b(?:"
    r"(?P<word>noon|midday)"
    r"|(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>[ap])\.?m\b\.?"
    r"|(?P<hh>\d{1,2})[:.](?P<mm>\d{2})(?![\d.:/-])"
    r"|(?<=\bat )(?P<bare>\d{1,2})\b(?![.:/-]\d)"
    r")"
)
_FROM = re.compile(r"\s+(?:from|starting(?: on| from)?|beginning)\s+(?P<date>.+)$")
_WEEKDAY_ONLY = re.compile(rf"(?:(?P<word>on|this|next) )?(?P<day>{_DAY})")
_ISO_T = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})t(?=\d)")
_FILLER = re.compile(r"^(?:on|at|the)\s+|[\s,]+(?:at|on)$")


@dataclass(frozen=True)
class Understood:
    schedule: Schedule
    repeat_text: str  # "every Saturday at 10:00"; "" for a one-off
    notes: tuple[str, ...]  # what was assumed, for the organiser to confirm


def understand(text: str, zone: ZoneInfo, now: datetime) -> Understood:
    """Read ``text`` in ``zone``, relative to ``now`` (aware)."""
    cleaned = " ".join(text.lower().replace("’", "'").split()).strip(" .,")
    if not cleaned:
        raise UserError(f"When is it? For example {EXAMPLES}.")
    cleaned = _ISO_T.sub(r"\1 ", cleaned)
    rest, clock, notes = _take_time(cleaned)
    if _REPEAT_WORDS.search(rest):
        return _repeating(text, rest, clock, notes, zone, now)
    return _once(text, rest, clock, notes, zone, now)


def time_alone(text: str) -> tuple[time, tuple[str, ...]] | None:
    """The time of day, if ``text`` is nothing else ("19:30", "7pm"), with any notes."""
    cleaned = " ".join(text.lower().replace("’", "'").split()).strip(" .,")
    rest, clock, notes = _take_time(cleaned)
    return None if rest or clock is None else (clock, tuple(notes))


def understand_on(text: str, day: date, zone: ZoneInfo, now: datetime) -> Understood:
    """A new time for the meeting on ``day``: a time alone ("19:00", "7pm") keeps
    the day; anything else is read as :func:`understand` reads it."""
    alone = time_alone(text)
    if alone is None:
        return understand(text, zone, now)
    start = to_utc(datetime.combine(day, alone[0]), zone)
    if start <= now:
        raise UserError(f"{_shown(start, zone)} has already passed. Give a time still to come.")
    return Understood(Schedule(start, "", zone), "", alone[1])


def retimed(schedule: Schedule, text: str, now: datetime) -> Understood | None:
    """``schedule`` at the time of day ``text`` gives alone (``None`` if it gives
    more): the same day, or for a series the same repeat, at the new time."""
    alone = time_alone(text)
    if alone is None:
        return None
    clock, notes = alone
    day = schedule.local_start.date()
    if not schedule.rule:
        return understand_on(text, day, schedule.zone, now)
    moved = Schedule(
        to_utc(datetime.combine(day, clock), schedule.zone), schedule.rule, schedule.zone
    )
    first = moved.start if moved.start > now else moved.next(now)
    if first is None:
        raise UserError("That series has no dates still to come.")
    return Understood(replace(moved, start=first), describe(schedule.rule, clock), notes)


def read_day(text: str, zone: ZoneInfo, now: datetime) -> date:
    """Just a date ("24/12", "Sat", "next Tuesday"), today included."""
    cleaned = _tidy(" ".join(text.lower().split()))
    if not cleaned:
        raise UserError("Which date? For example “24/12” or “Sat”.")
    return _day(text, cleaned, time(23, 59), to_local(now, zone), [])


def _take_time(cleaned: str) -> tuple[str, time | None, list[str]]:
    found = _CLOCK.search(cleaned)
    if found is None:
        return cleaned, None, []
    notes: list[str] = []
    rest = _tidy(cleaned[: found.start()] + " " + cleaned[found.end() :])
    if found["word"]:
        return rest, time(12, 0), notes
    if found["ap"]:
        hour, minute = int(found["h"]), int(found["m"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise UserError(f"“{found[0].strip()}” isn't a time of day.")
        return rest, time(hour % 12 + (12 if found["ap"] == "p" else 0), minute), notes
    written = found["hh"] or found["bare"]
    hour, minute = int(written), int(found["mm"] or 0)
    if hour > 23 or minute > 59:
        raise UserError(f"“{found[0].strip()}” isn't a time of day.")
    if 1 <= hour <= 7 and not written.startswith("0"):
        notes.append(
            f"“{found[0].strip()}” has no am or pm, so I took it as {hour + 12:02d}:{minute:02d} "
            f"in the evening; write {hour}am for the morning."
        )
        hour += 12
    elif found["bare"]:
        notes.append(
            f"I took “{found[0].strip()}” as {hour:02d}:00; write 8pm or 20:00 to be sure."
        )
    return rest, time(hour, minute), notes


def _tidy(text: str) -> str:
    text = " ".join(text.replace(" ,", ",").split()).strip(" ,")
    return _FILLER.sub("", text).strip(" ,")


# --- one-off ---------------------------------------------------------------------


def _once(
    original: str,
    rest: str,
    clock: time | None,
    notes: list[str],
    zone: ZoneInfo,
    now: datetime,
) -> Understood:
    local_now = to_local(now, zone)
    if clock is None:
        notes.append(f"No time was given, so I assumed {DEFAULT_TIME:%H:%M}.")
    at = clock or DEFAULT_TIME
    if not rest or rest == "today":
        day = local_now.date()
        if rest == "" and datetime.combine(day, at) <= local_now:
            day += timedelta(days=1)
            notes.append("That time has passed today, so I took it as tomorrow.")
    else:
        day = _day(original, rest, at, local_now, notes)
    start = to_utc(datetime.combine(day, at), zone)
    if start <= now:
        raise UserError(
            f"I read “{original}” as {_shown(start, zone)}, which has already passed. "
            "Send it again with a time still to come, e.g. “tomorrow 7pm”."
        )
    if start - now > FAR_AHEAD:
        notes.append("That is more than six months away.")
    return Understood(Schedule(start, "", zone), "", tuple(notes))


def _day(original: str, rest: str, at: time, local_now: datetime, notes: list[str]) -> date:
    weekday_only = _WEEKDAY_ONLY.fullmatch(rest)
    if weekday_only:
        wanted = _weekday(weekday_only["day"]).weekday
        ahead = (wanted - local_now.weekday()) % 7
        day = local_now.date() + timedelta(days=ahead)
        if datetime.combine(day, at) <= local_now or (
            ahead == 0 and weekday_only["word"] == "next"
        ):
            day += timedelta(days=7)
        if weekday_only["word"] == "next":
            notes.append(
                f"“next {DAY_NAMES[wanted]}” can mean the coming one or the one after; "
                f"I took the coming one, {_date_shown(day)}."
            )
        return day
    parsed = dateparser.parse(
        rest,
        languages=["en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now,
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if not isinstance(parsed, datetime) or parsed.year > local_now.year + 5:
        raise UserError(
            f"I couldn't read “{original}” as a date and time. Dates are day first "
            f"(12/3 is 12 March). Try {EXAMPLES}."
        )
    return parsed.date()


def _weekday(name: str) -> weekday:
    return _DAYS[name.removesuffix("s") if name not in _DAYS else name]


# --- repeating -------------------------------------------------------------------


def _repeating(
    original: str,
    rest: str,
    clock: time | None,
    notes: list[str],
    zone: ZoneInfo,
    now: datetime,
) -> Understood:
    local_now = to_local(now, zone)
    anchor = local_now.date()
    starting = _FROM.search(rest)
    if starting:
        rest = _tidy(rest[: starting.start()])
        anchor = _day(original, _tidy(starting["date"]), clock or DEFAULT_TIME, local_now, notes)
    for row in _TABLE:
        match = row.pattern.fullmatch(rest)
        if match:
            break
    else:
        raise UserError(
            f"I couldn't read the repeat in “{original}”. I understand e.g. “every Saturday "
            "10:00”, “every 2 weeks on Thursday 18:00”, “first Tuesday of the month 19:30”, "
            "“the 12th of every month 19:00”, “last day of the month 18:00”."
        )
    if clock is None:
        notes.append(f"No time was given, so I assumed {DEFAULT_TIME:%H:%M}.")
    at = clock or DEFAULT_TIME
    interval, params = _parameters(row, match, notes)
    first: datetime | None = rrule(row.freq, dtstart=datetime.combine(anchor, at), **params).after(
        local_now, inc=False
    )
    if first is None:  # pragma: no cover - every rule in the table repeats forever
        raise UserError(f"“{original}” never happens.")
    rule = str(rrule(row.freq, dtstart=first, interval=interval, **params)).split("RRULE:")[1]
    start = to_utc(first, zone)
    return Understood(Schedule(start, rule, zone), describe(rule, at), tuple(notes))


def _parameters(row: _Repeat, match: re.Match[str], notes: list[str]) -> tuple[int, dict[str, Any]]:
    groups = match.groupdict()
    interval = row.interval
    if groups.get("n"):
        interval = (
            2
            if groups["n"] in {"other", "second"}
            else whole_number(groups["n"], "The number of weeks between meetings", 1, 52)
        )
    if row.last_day:
        return interval, {"bymonthday": (-1,)}
    if groups.get("dom"):
        day = int(groups["dom"])
        if not 1 <= day <= 31:
            raise UserError(f"There is no {day}{_suffix(day)} day of a month.")
        if day >= 29:
            notes.append(
                f"Months without a {day}{_suffix(day)} are skipped. For the end of every "
                "month, write “last day of the month”."
            )
        return interval, {"bymonthday": (day,)}
    if groups.get("nths"):
        day = _weekday(groups["day"])
        nths = [_ORDINALS[n] for n in re.findall(_NTH, groups["nths"])]
        return interval, {"byweekday": tuple(day(n) for n in dict.fromkeys(nths))}
    if groups.get("days"):
        days = [_weekday(d) for d in re.findall(_DAY, groups["days"])]
        return interval, {"byweekday": tuple(dict.fromkeys(days))}
    return interval, {"byweekday": row.weekdays} if row.weekdays else {}


# --- words -----------------------------------------------------------------------


def _suffix(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_BYDAY = re.compile(r"([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)")
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def describe(rule: str, at: time) -> str:
    """Plain English for the RRULE bodies the table produces."""
    parts = dict(item.split("=", 1) for item in rule.split(";"))
    interval = int(parts.get("INTERVAL", "1"))
    days = [
        (int(n) if n else 0, _CODES.index(code))
        for n, code in _BYDAY.findall(parts.get("BYDAY", ""))
    ]
    names = [DAY_NAMES[day] for _, day in days]
    when = f" at {at:%H:%M}"
    if parts["FREQ"] == "DAILY":
        return "every day" + when
    if parts["FREQ"] == "WEEKLY":
        if [day for _, day in days] == list(range(5)) and interval == 1:
            return "every weekday" + when
        if interval == 1:
            return f"every {_and(names)}" + when
        if interval == 2:
            return f"every other {_and(names)}" + when
        return f"every {interval} weeks on {_and(names)}" + when
    if "BYMONTHDAY" in parts:
        day = int(parts["BYMONTHDAY"])
        if day == -1:
            return "on the last day of each month" + when
        return f"on the {day}{_suffix(day)} of each month" + when
    nths = _and([ORDINAL_WORDS[n] for n, _ in days])
    return f"on the {nths} {names[0]} of each month" + when


def _date_shown(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _shown(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


# --- reminder offsets and lengths -----------------------------------------------

MAX_OFFSET = 28 * 24 * 60
MAX_OFFSETS = 4
OFFSET_EXAMPLE = "“1d,1h” (a day and an hour before), “2h”, “30m”, or “none”"


def parse_offsets(text: str) -> tuple[int, ...]:
    """ "1d,1h" → (1440, 60): minutes before, largest first; "none" → ()."""
    cleaned = text.strip().lower()
    if cleaned in {"none", "off", "no"}:
        return ()
    found = parts(cleaned, between=r"[\s,&]|\band\b|\bbefore\b", separated=True)
    if found is None:
        raise UserError(f"I couldn't read the reminders “{text}”. Use e.g. {OFFSET_EXAMPLE}.")
    minutes = sorted(
        {whole_number(p.number, "A reminder's number", 1, MAX_OFFSET) * p.unit for p in found},
        reverse=True,
    )
    if len(minutes) > MAX_OFFSETS or not all(1 <= m <= MAX_OFFSET for m in minutes):
        raise UserError(
            f"Reminders: at most {MAX_OFFSETS}, each between a minute and four weeks before."
        )
    return tuple(minutes)


DURATION_EXAMPLE = "“2h”, “90m”, “1h30m”, or the time it ends, e.g. “21:00”"
MAX_DURATION = 24 * 60


def parse_duration(text: str, starts: time) -> int:
    """How long a meeting lasts, in minutes: "2h", "1h30m", "90m", or the time it
    ends ("21:00", "9pm") on the day it starts at ``starts``."""
    cleaned = text.strip().lower()
    found = parts(cleaned, units="hm", between=r"[\s,&]|\band\b")
    if found is not None:
        minutes = sum(int(p.number) * p.unit for p in found)
    else:
        rest, ends, _notes = _take_time(cleaned)
        if rest or ends is None:
            raise UserError(f"I couldn't read how long “{text}” is. Use e.g. {DURATION_EXAMPLE}.")
        minutes = (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)
        if minutes <= 0:
            raise UserError(f"It can't end at {ends:%H:%M}: it starts at {starts:%H:%M}.")
    if not 1 <= minutes <= MAX_DURATION:
        raise UserError("A meeting lasts between a minute and a day.")
    return minutes


def offsets_text(offsets: tuple[int, ...]) -> str:
    """(1440, 60) → "1 day and 1 hour before"."""
    if not offsets:
        return "no reminders"
    return _and([duration_text(m) for m in offsets]) + " before"


def store_offsets(offsets: tuple[int, ...]) -> str:
    return ",".join(str(m) for m in offsets)


def load_offsets(stored: str) -> tuple[int, ...]:
    return tuple(int(m) for m in stored.split(",") if m)
