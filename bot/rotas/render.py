"""Every word a rota says: its message in each chat, the pickers, the notes.

One message per chat shows the next dates and each slot's fill ("Sat 12 Dec ·
Driver 1/2 · Packing 4/4 ✔ · Front desk 0/2"). Its buttons sign up straight for a
date and slot when they fit the platforms (Discord allows 25 buttons, in rows of
5); otherwise they are a date picker, and a press on a date answers with that
date's slots. Button data is ``rota:<verb>:<rota>:<yyyymmddhhmm UTC>[:<slot>]``:
compact, and never user text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.text import Rich, bold, counted, join, rich
from bot.types import Button, Content
from storage.rotas import Fill, Rota, RotaSlot, RotaStatus

ACTION = "rota"
_CODE = "%Y%m%d%H%M"
# Straight "date · slot" buttons when there are at most this many (else a date
# picker); a row per date, and Discord allows 5 rows of 5.
MAX_DIRECT = 10
MAX_ROW = 5
MAX_ROWS = 5


class Verb:
    DATE = "d"  # show the date's slots
    SIGN = "s"  # sign up for a slot
    WAIT = "w"  # join a full slot's waiting list


def code(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_CODE)


def parse_code(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, _CODE).replace(tzinfo=UTC)
    except ValueError:
        return None


def data(verb: str, rota: Rota, moment: datetime, slot: RotaSlot | None = None) -> str:
    tail = f":{slot.id}" if slot is not None else ""
    return f"{ACTION}:{verb}:{rota.id}:{code(moment)}{tail}"


def day_text(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def shift_text(rota: Rota, moment: datetime) -> str:
    """``Sat 12 Dec, 09:30-12:30``."""
    zone = ZoneInfo(rota.zone)
    local = moment.astimezone(zone)
    end = (
        f"–{(moment + timedelta(minutes=rota.duration_minutes)).astimezone(zone):%H:%M}"
        if rota.duration_minutes
        else ""
    )
    return f"{day_text(moment, zone)}, {local:%H:%M}{end}"


def fill_line(
    moment: datetime, slots: Sequence[RotaSlot], fill: Fill, zone: ZoneInfo, *, gaps_only: bool
) -> str:
    """``Sat 12 Dec · Driver 1/2 · Packing 4/4 ✔`` (with ``gaps_only``, the full
    slots left out)."""
    parts = [day_text(moment, zone)]
    for slot in slots:
        taken = fill.get((moment, slot.id), 0)
        if gaps_only and taken >= slot.capacity:
            continue
        parts.append(
            f"{slot.name} {taken}/{slot.capacity}" + (" ✔" if taken >= slot.capacity else "")
        )
    return " · ".join(parts)


def free_places(moment: datetime, slots: Sequence[RotaSlot], fill: Fill) -> int:
    return sum(max(slot.capacity - fill.get((moment, slot.id), 0), 0) for slot in slots)


def heading(rota: Rota) -> Rich:
    zone = ZoneInfo(rota.zone)
    start = rota.starts_at.astimezone(zone)
    when = rota.repeat_text or f"{day_text(rota.starts_at, zone)} at {start:%H:%M}"
    if rota.duration_minutes:
        end = (rota.starts_at + timedelta(minutes=rota.duration_minutes)).astimezone(zone)
        when += f" until {end:%H:%M}"
    where = f" · {rota.place}" if rota.place else ""
    return join([rich("🙋 ", bold(rota.title), f" — rota #{rota.id}"), rich(f"{when}{where}")])


def card(rota: Rota, slots: Sequence[RotaSlot], dates: Sequence[datetime], fill: Fill) -> Content:
    """The rota's message, the same in every chat (so one edit serves every copy)."""
    zone = ZoneInfo(rota.zone)
    lines = [heading(rota)]
    if rota.status == RotaStatus.CANCELLED.value:
        return Content(join([*lines, rich(bold("❌ Cancelled."))]))
    if not dates:
        return Content(join([*lines, rich("No dates coming up.")]))
    lines += [rich(fill_line(moment, slots, fill, zone, gaps_only=False)) for moment in dates]
    direct = (
        len(dates) * len(slots) <= MAX_DIRECT and len(slots) <= MAX_ROW and len(dates) <= MAX_ROWS
    )
    lines.append(
        rich("Press a date and slot to sign up." if direct else "Press a date to sign up.")
    )
    return Content(
        join(lines), buttons=_direct(rota, slots, dates) if direct else _dates(rota, dates)
    )


def _direct(
    rota: Rota, slots: Sequence[RotaSlot], dates: Sequence[datetime]
) -> tuple[tuple[Button, ...], ...]:
    zone = ZoneInfo(rota.zone)
    return tuple(
        tuple(
            Button(f"{day_text(moment, zone)} · {slot.name}", data(Verb.SIGN, rota, moment, slot))
            for slot in slots
        )
        for moment in dates
    )


def _dates(rota: Rota, dates: Sequence[datetime]) -> tuple[tuple[Button, ...], ...]:
    zone = ZoneInfo(rota.zone)
    buttons = [Button(day_text(moment, zone), data(Verb.DATE, rota, moment)) for moment in dates]
    return tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))


def slot_picker(rota: Rota, slots: Sequence[RotaSlot], moment: datetime, fill: Fill) -> Content:
    """A date's slots, after a press on the date: one button each, full ones marked."""
    buttons = []
    for slot in slots:
        taken = fill.get((moment, slot.id), 0)
        mark = " ✔ full" if taken >= slot.capacity else ""
        buttons.append(
            Button(
                f"{slot.name} {taken}/{slot.capacity}{mark}", data(Verb.SIGN, rota, moment, slot)
            )
        )
    rows = tuple(tuple(buttons[i : i + MAX_ROW]) for i in range(0, len(buttons), MAX_ROW))
    text = rich(bold(rota.title), f", {shift_text(rota, moment)}: which slot?")
    return Content(text, buttons=rows, private=True)


def waiting_offer(rota: Rota, slot: RotaSlot, moment: datetime) -> Content:
    text = rich(
        bold(f"{slot.name} is full"),
        f" for {rota.title}, {shift_text(rota, moment)}. Join the waiting list? If a place "
        "frees up, the first person waiting gets it and I tell them privately.",
    )
    buttons = ((Button("⏳ Join the waiting list", data(Verb.WAIT, rota, moment, slot)),),)
    return Content(text, buttons=buttons, private=True)


def signed_notice(rota: Rota, slot: RotaSlot, moment: datetime) -> str:
    return (
        f"You're on: {slot.name}, {rota.title}, {shift_text(rota, moment)}. "
        f"Can't make it? /rota drop {rota.id} {_date_typed(rota, moment)}"
    )


def waiting_notice(rota: Rota, slot: RotaSlot, moment: datetime, place: int) -> str:
    return (
        f"You're number {place} on the waiting list for {slot.name}, {rota.title}, "
        f"{shift_text(rota, moment)}. I'll tell you privately if a place frees up."
    )


def promoted(rota: Rota, slot: RotaSlot, moment: datetime) -> Rich:
    return rich(
        "✅ ",
        bold("A place came up — you're on the rota."),
        f" {slot.name}, {rota.title}, {shift_text(rota, moment)}"
        + (f", {rota.place}" if rota.place else "")
        + f". Can't make it after all? /rota drop {rota.id} {_date_typed(rota, moment)}",
    )


def reminder(rota: Rota, slot_names: str, moment: datetime) -> Rich:
    return rich(
        "⏰ ",
        bold(f"Reminder: {rota.title}"),
        f", {shift_text(rota, moment)}" + (f", {rota.place}" if rota.place else ""),
        f". You're down for {slot_names}. Can't make it? /rota drop {rota.id} "
        f"{_date_typed(rota, moment)}",
    )


def gaps_note(rota: Rota, slots: Sequence[RotaSlot], moment: datetime, fill: Fill) -> Rich:
    zone = ZoneInfo(rota.zone)
    return rich(
        "🙋 ",
        bold(f"Help wanted: {rota.title}"),
        f", {shift_text(rota, moment)}: {counted(free_places(moment, slots, fill), 'place')} "
        "still free — "
        + fill_line(moment, slots, fill, zone, gaps_only=True).partition(" · ")[2]
        + ". Sign up on the rota's message, or send /rota.",
    )


def changed(rota: Rota, moment: datetime | None, what: str) -> Rich:
    when = f", {shift_text(rota, moment)}" if moment is not None else ""
    return rich(bold(f"{rota.title}{when}: {what}"), " You had signed up.")


def moved(rota: Rota, old: datetime, new: datetime) -> Rich:
    return rich(
        "➡️ ",
        bold(f"{rota.title}: {shift_text(rota, old)} is moved to {shift_text(rota, new)}."),
        f" You're down for the new time. Can't make it? /rota drop {rota.id} "
        f"{_date_typed(rota, new)}",
    )


def _date_typed(rota: Rota, moment: datetime) -> str:
    """The date as /rota drop takes it: ``12/12``."""
    local = moment.astimezone(ZoneInfo(rota.zone))
    return f"{local.day}/{local.month}"
