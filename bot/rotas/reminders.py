"""Timed rota work: a reminder to those signed up (``[rotas] remind_hours_before``),
a "help wanted" note to the rota's chats for a date not yet full
(``gaps_days_before``), and the rota's message moved on once a date has passed.

The tables are the truth and the timer only a wake-up, as for meetings: one timer
job (:data:`TIMER_KEY`) is set for the earliest thing due across every rota, and at
each start (``Registry.on_start``) it is set again from the tables, so nothing is
lost to a restart — what fell due while the bot was down goes at once, as long as
its date is still to come. Each send is first claimed in ``rota_sends``, so two
processes woken together send it once. The timer also wakes every :data:`SWEEP`
to see rotas another process added.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import RotasSettings
from bot.outbox import BULK_LANE
from bot.rotas.cards import refresh
from bot.rotas.render import code, gaps_note, reminder
from bot.rotas.slots import schedule_of
from bot.services import Services
from bot.types import Content, Outgoing
from storage.chats import chat_ref, direct_chat
from storage.copies import chats_of
from storage.models import Person
from storage.rotas import (
    POSTED,
    Rota,
    active_rotas,
    claim_send,
    fill_of,
    people_on,
    skips_of,
    slots_of,
)

log = logging.getLogger(__name__)

TIMER_KEY = "rota-timer"
SWEEP = timedelta(minutes=10)
# A date that passed longer ago than this is not looked at again.
LOOKBACK = timedelta(days=1)


class Kind:
    REMIND = "remind"
    GAPS = "gaps"
    PASSED = "passed"  # the message moves on to the next dates


def leads(settings: RotasSettings) -> dict[str, timedelta]:
    """How long before a date each kind of work is due (the turned-off kinds left out)."""
    found = {Kind.PASSED: timedelta(0)}
    if settings.remind_hours_before:
        found[Kind.REMIND] = timedelta(hours=settings.remind_hours_before)
    if settings.gaps_days_before:
        found[Kind.GAPS] = timedelta(days=settings.gaps_days_before)
    return found


def _due(
    rota: Rota, skips: set[datetime], now: datetime, settings: RotasSettings
) -> Iterator[tuple[datetime, str]]:
    """``(date, kind)`` of the work due by ``now``: dates just passed, and dates
    coming up within each kind's lead."""
    schedule = schedule_of(rota)
    for moment in schedule.occurrences(now - LOOKBACK, skips):
        if moment > now:
            break
        yield moment, Kind.PASSED
    longest = max(leads(settings).values())
    for moment in schedule.occurrences(now, skips):
        if moment - longest > now:
            break
        for kind, lead in leads(settings).items():
            if kind != Kind.PASSED and moment - lead <= now:
                yield moment, kind


def next_due(rota: Rota, skips: set[datetime], now: datetime, settings: RotasSettings) -> datetime:
    """When the rota next has work to do (a sweep's time at the latest)."""
    times = [now + SWEEP]
    for moment in islice(schedule_of(rota).occurrences(now, skips), 3):
        times += [moment - lead for lead in leads(settings).values() if moment - lead > now]
    return min(times)


def arm(services: Services, when: datetime) -> None:
    """Make sure the timer wakes by ``when`` (an earlier wake-up is kept)."""
    current = services.timer.when(TIMER_KEY)
    if current is None or when < current:
        services.timer.at(TIMER_KEY, when, functools.partial(send_due, services))


async def rearm(session: AsyncSession, services: Services, rota: Rota) -> None:
    """After a rota was added or changed: wake for its next work."""
    skips = await skips_of(session, rota.id)
    now = services.clock.now()
    arm(services, next_due(rota, skips, now, services.config.rotas))


async def on_start(services: Services) -> None:
    """Set the timer again from the tables; work that fell due while the bot was
    down runs at once (the app runs what is due after start-up)."""
    arm(services, services.clock.now())


async def send_due(services: Services) -> None:
    """Do every rota's due work, each piece once; then wake for the next."""
    now = services.clock.now()
    settings = services.config.rotas
    wake = now + SWEEP
    async with services.db.session() as session:
        for rota in await active_rotas(session):
            skips = await skips_of(session, rota.id)
            for moment, kind in _due(rota, skips, now, settings):
                if await claim_send(session, rota.id, moment, kind):
                    await _do(session, services, rota, moment, kind)
            wake = min(wake, next_due(rota, skips, now, settings))
    arm(services, wake)


async def _do(
    session: AsyncSession, services: Services, rota: Rota, moment: datetime, kind: str
) -> None:
    if kind == Kind.PASSED:
        await refresh(session, services, rota)
        return
    now = services.clock.now()
    messages: list[Outgoing] = []
    if kind == Kind.REMIND:
        by_person: dict[int, tuple[Person, list[str]]] = {}
        for person, slot in await people_on(session, rota.id, moment):
            by_person.setdefault(person.id, (person, []))[1].append(slot.name)
        for person_id, (person, names) in by_person.items():
            chat = await direct_chat(session, person, now)
            key = f"rota-remind:{rota.id}:{code(moment)}:{person_id}"
            messages.append(
                Outgoing(chat, Content(reminder(rota, " and ".join(names), moment)), key)
            )
    else:
        slots = (await slots_of(session, [rota.id]))[rota.id]
        fill = await fill_of(session, rota.id, moment - timedelta(seconds=1))
        if all(fill.get((moment, slot.id), 0) >= slot.capacity for slot in slots):
            return
        note = Content(gaps_note(rota, slots, moment, fill))
        for target in await chats_of(session, POSTED, rota.id):
            if target.active:
                key = f"rota-gaps:{rota.id}:{code(moment)}:{target.id}"
                messages.append(Outgoing(chat_ref(target), note, key))
    if messages:
        await services.outbox.enqueue(session, messages, BULK_LANE)
    log.info("rota #%s: %s for %s, %d messages", rota.id, kind, moment, len(messages))
