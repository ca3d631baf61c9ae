"""What an organiser types for a rota, read: its hours ("every Saturday 09:30-12:30")
and its slots ("Driver:2, Packing:4"); and a rota row's dates.

The hours are the meetings' own grammar (:func:`bot.dates.when.understand`) with the
pickets' "start-end" (:func:`bot.dates.days.parse_hours`) at the end: the end
becomes the shift's length, the rest is read exactly as a meeting's time is. What
had to be assumed — no time, "next Saturday", or a bare hour in "9-12" — comes back
as notes, for the organiser to confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import UserError
from bot.dates.days import HOURS_EXAMPLES, parse_hours
from bot.dates.schedule import Schedule, read_moves
from bot.dates.when import Understood, read_day, understand
from bot.values import visible
from storage.rotas import Rota

SLOTS_EXAMPLE = "“Driver:2, Packing:4, Front desk:2”"
MAX_SLOTS = 8
MAX_PLACES = 100
MAX_SLOT_NAME = 40
MAX_WEEKS = 26
# Dates shown on a rota's message and open for sign-up (however many weeks it runs).
SHOWN_DATES = 6
# A time range at the end of what was typed: "09:30-12:30", "9am-12.30pm".
_HOURS = re.compile(r"(\S+\s*(?:-|–|—|\bto\b)\s*\S+)\s*$")
# An end of the range written as a bare hour ("9-12"): up to 12, morning or evening
# is a guess (13 and after are not).
_BARE = re.compile(r"(?:^|[-–—\s])(\d{1,2})(?=$|[-–—\s])")


@dataclass(frozen=True)
class SlotSpec:
    name: str
    capacity: int


@dataclass(frozen=True)
class Hours:
    understood: Understood
    minutes: int  # how long each shift lasts; 0 when no end was given


def read_hours(text: str, zone: ZoneInfo, now: datetime) -> Hours:
    """``every Saturday 09:30-12:30`` → the series at 09:30, shifts of 3 hours."""
    found = _HOURS.search(text.strip())
    if found is None or not any(ch.isdigit() for ch in found[1]):
        return Hours(understand(text, zone, now), 0)
    start, end = parse_hours(found[1])
    head = text.strip()[: found.start()].strip()
    if not head:
        raise UserError(f"Which day? E.g. “every Saturday 09:30-12:30” ({HOURS_EXAMPLES}).")
    understood = understand(f"{head} {start:%H:%M}", zone, now)
    if any(int(hour) <= 12 for hour in _BARE.findall(found[1])):
        exact = f"{start:%H:%M}-{end:%H:%M}"
        note = f"I took “{found[1]}” as {exact}; write {exact} to be sure."
        understood = replace(understood, notes=(*understood.notes, note))
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return Hours(understood, minutes)


def read_slots(text: str) -> list[SlotSpec]:
    """``Driver:2, Packing:4`` → the slots, each named once, each with 1 to 100 places."""
    specs: list[SlotSpec] = []
    seen: set[str] = set()
    for part in (piece.strip() for piece in text.split(",")):
        name, colon, number = part.rpartition(":")
        name = visible(name)
        if not colon or not name or not number.strip().isdigit():
            raise UserError(
                f"I couldn't read the slot “{part}”: write each as name:places, "
                f"e.g. {SLOTS_EXAMPLE}."
            )
        capacity = int(number)
        if not 1 <= capacity <= MAX_PLACES:
            raise UserError(f"“{name}” needs 1 to {MAX_PLACES} places; you gave {capacity}.")
        if len(name) > MAX_SLOT_NAME:
            raise UserError(f"The slot name “{name}” is too long: keep it to {MAX_SLOT_NAME}.")
        if name.casefold() in seen:
            raise UserError(f"“{name}” is there twice: each slot must be different.")
        seen.add(name.casefold())
        specs.append(SlotSpec(name, capacity))
    if not 1 <= len(specs) <= MAX_SLOTS:
        raise UserError(f"A rota has 1 to {MAX_SLOTS} slots, e.g. {SLOTS_EXAMPLE}.")
    return specs


def schedule_of(rota: Rota) -> Schedule:
    return Schedule(rota.starts_at, rota.rule, ZoneInfo(rota.zone), moves=read_moves(rota.moves))


def dates_ahead(rota: Rota, now: datetime, skips: set[datetime]) -> list[datetime]:
    """The rota's dates open for sign-up: the next few within its weeks."""
    horizon = now + timedelta(weeks=rota.weeks)
    found: list[datetime] = []
    for moment in schedule_of(rota).occurrences(now, skips):
        if moment > horizon or len(found) == SHOWN_DATES:
            break
        found.append(moment)
    return found


def on_day(rota: Rota, text: str, now: datetime, skips: set[datetime]) -> datetime:
    """The rota's date on the day ``text`` names ("12/12", "Sat"), or a refusal."""
    zone = ZoneInfo(rota.zone)
    day: date = read_day(text, zone, now)
    for moment in schedule_of(rota).occurrences(now, skips):
        local = moment.astimezone(zone).date()
        if local == day:
            return moment
        if local > day:
            break
    raise UserError(
        f"Rota #{rota.id} has no date on {day:%a} {day.day} {day:%b} still to come. "
        f"Send /rota to see its dates."
    )
