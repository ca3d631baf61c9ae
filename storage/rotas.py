"""Volunteer rotas: a repeating shift with named slots, and who signed up for which.

A rota is one schedule (the same first start and RRULE a meeting keeps) with slots
("Driver", 2 places). A sign-up is one person in one slot on one date — at most once
(the unique key) — either *on* the rota or *waiting*, in ``position`` order, for a
place to free up. Its copies in chats are in the shared ``copies`` table under
:data:`POSTED`; dates called off are :class:`RotaSkip` rows; a reminder or a gaps
note sent for a date is a :class:`RotaSend` claim, so it goes once however many
processes wake for it.

Capacity is kept by the database, not by one process: :func:`sign_up` and
:func:`drop` lock the rota's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
writes one transaction at a time) before they count, so concurrent presses in any
number of processes never put more people on a slot than it has places, a place
freed goes to the first person waiting, once, and the unique key keeps each person
to one sign-up per date and slot whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    Select,
    String,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.alerts import claim
from storage.models import NO_ID_REUSE, Base, BigId, Person, UTCDateTime

POSTED = "rota"  # the copies' subject


class RotaStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Rota(Base):
    __tablename__ = "rotas"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(300), default="")
    zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule: Mapped[str] = mapped_column(String(200), default="")
    repeat_text: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Single dates moved (/rota move): {original UTC ISO: new UTC ISO}, or none.
    moves: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    weeks: Mapped[int] = mapped_column(Integer, default=6)
    status: Mapped[str] = mapped_column(String(16), default=RotaStatus.ACTIVE.value)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # A digest of what its copies show, so a refresh with nothing new edits nothing.
    shown: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RotaSlot(Base):
    """One kind of place on every date of the rota, and how many there are."""

    __tablename__ = "rota_slots"
    __table_args__ = (UniqueConstraint("rota_id", "position"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rota_id: Mapped[int] = mapped_column(ForeignKey("rotas.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60))
    capacity: Mapped[int] = mapped_column(Integer)


class RotaSignup(Base):
    """One person in one slot on one date: on the rota, or waiting at ``position``."""

    __tablename__ = "rota_signups"
    __table_args__ = (
        UniqueConstraint("slot_id", "occurrence", "person_id"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rota_id: Mapped[int] = mapped_column(ForeignKey("rotas.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("rota_slots.id", ondelete="CASCADE"))
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    waiting: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RotaSkip(Base):
    """A date of the rota called off."""

    __tablename__ = "rota_skips"

    rota_id: Mapped[int] = mapped_column(
        ForeignKey("rotas.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)


class RotaSend(Base):
    """A reminder (``kind`` "remind") or gaps note ("gaps") sent for a date: once."""

    __tablename__ = "rota_sends"

    rota_id: Mapped[int] = mapped_column(
        ForeignKey("rotas.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)


# --- what a press does ----------------------------------------------------------------


class Outcome(StrEnum):
    ON = "on"  # a place on the rota
    WAITING = "waiting"  # the slot is full: on its waiting list
    ALREADY = "already"  # signed up (or waiting) there already
    FULL = "full"  # the slot is full, and the person did not ask to wait


@dataclass(frozen=True)
class Signed:
    outcome: Outcome
    position: int = 0  # on the waiting list, 1 = next


async def lock(session: AsyncSession, rota_id: int) -> str:
    """Hold the rota's row until the transaction ends (``FOR UPDATE``; a no-op on
    SQLite, whose writers take turns): presses on one rota then take turns, so
    every count that follows is the truth, and the message drawn from it is never
    overwritten by one drawn from older counts. Returns ``shown`` as committed."""
    shown = await session.scalar(select(Rota.shown).where(Rota.id == rota_id).with_for_update())
    return shown or ""


async def _locked_slot(session: AsyncSession, slot_id: int) -> RotaSlot | None:
    slot = await session.get(RotaSlot, slot_id)
    if slot is not None:
        await lock(session, slot.rota_id)
    return slot


async def sign_up(
    session: AsyncSession,
    slot_id: int,
    occurrence: datetime,
    person_id: int,
    chat_id: int,
    now: datetime,
    *,
    wait: bool,
) -> Signed:
    """Put the person in the slot on that date: on it if a place is free, else on
    the waiting list if ``wait``."""
    slot = await _locked_slot(session, slot_id)
    if slot is None:
        raise LookupError(slot_id)
    mine = await session.scalar(
        select(RotaSignup).where(
            RotaSignup.slot_id == slot_id,
            RotaSignup.occurrence == occurrence,
            RotaSignup.person_id == person_id,
        )
    )
    if mine is not None:
        return Signed(Outcome.ALREADY, await _place_of(session, mine))
    on, last = (
        await session.execute(
            select(
                func.count().filter(RotaSignup.waiting.is_(False)),
                func.max(RotaSignup.position),
            ).where(RotaSignup.slot_id == slot_id, RotaSignup.occurrence == occurrence)
        )
    ).one()
    waiting = on >= slot.capacity
    if waiting and not wait:
        return Signed(Outcome.FULL)
    row = RotaSignup(
        rota_id=slot.rota_id,
        slot_id=slot_id,
        occurrence=occurrence,
        person_id=person_id,
        chat_id=chat_id,
        waiting=waiting,
        position=(last or 0) + 1,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    if not waiting:
        return Signed(Outcome.ON)
    return Signed(Outcome.WAITING, await _place_of(session, row))


async def _place_of(session: AsyncSession, signup: RotaSignup) -> int:
    """Where a waiting sign-up is in the queue (1: next); 0 for a place on the rota."""
    if not signup.waiting:
        return 0
    ahead = await session.scalar(
        select(func.count()).where(
            RotaSignup.slot_id == signup.slot_id,
            RotaSignup.occurrence == signup.occurrence,
            RotaSignup.waiting.is_(True),
            RotaSignup.position < signup.position,
        )
    )
    return int(ahead or 0) + 1


async def drop(
    session: AsyncSession, slot_id: int, occurrence: datetime, person_id: int
) -> tuple[bool, int | None]:
    """Take the person out of the slot on that date. Returns whether they were in
    it, and the person promoted from the waiting list to the place they freed."""
    if await _locked_slot(session, slot_id) is None:
        return False, None
    mine = await session.scalar(
        select(RotaSignup).where(
            RotaSignup.slot_id == slot_id,
            RotaSignup.occurrence == occurrence,
            RotaSignup.person_id == person_id,
        )
    )
    if mine is None:
        return False, None
    was_on = not mine.waiting
    await session.delete(mine)
    await session.flush()
    if not was_on:
        return True, None
    first = await session.scalar(
        select(RotaSignup)
        .where(
            RotaSignup.slot_id == slot_id,
            RotaSignup.occurrence == occurrence,
            RotaSignup.waiting.is_(True),
        )
        .order_by(RotaSignup.position)
        .limit(1)
    )
    if first is None:
        return True, None
    first.waiting = False
    await session.flush()
    return True, first.person_id


async def resize(
    session: AsyncSession, slot: RotaSlot, capacity: int, after: datetime
) -> list[tuple[datetime, int]]:
    """Give the slot ``capacity`` places on every date after ``after``; those
    waiting move up into new places, first come first. Returns ``(date, person)``
    of each promoted. Refuses (``ValueError``, with the fullest date) to go below
    the people already on a date."""
    await lock(session, slot.rota_id)
    rows = list(
        await session.scalars(
            select(RotaSignup)
            .where(RotaSignup.slot_id == slot.id, RotaSignup.occurrence > after)
            .order_by(RotaSignup.occurrence, RotaSignup.position)
        )
    )
    by_date: dict[datetime, list[RotaSignup]] = {}
    for row in rows:
        by_date.setdefault(row.occurrence, []).append(row)
    for when, queue in by_date.items():
        if sum(not row.waiting for row in queue) > capacity:
            raise ValueError(when)
    slot.capacity = capacity
    promoted = []
    for when, queue in by_date.items():
        free = capacity - sum(not row.waiting for row in queue)
        for row in [row for row in queue if row.waiting][: max(free, 0)]:
            row.waiting = False
            promoted.append((when, row.person_id))
    await session.flush()
    return promoted


# --- reading -------------------------------------------------------------------------


async def slots_of(session: AsyncSession, rota_ids: Iterable[int]) -> dict[int, list[RotaSlot]]:
    ids = list(rota_ids)
    found: dict[int, list[RotaSlot]] = {rota_id: [] for rota_id in ids}
    for slot in await session.scalars(
        select(RotaSlot).where(RotaSlot.rota_id.in_(ids)).order_by(RotaSlot.position)
    ):
        found[slot.rota_id].append(slot)
    return found


async def skips_of(session: AsyncSession, rota_id: int) -> set[datetime]:
    return set(
        await session.scalars(select(RotaSkip.occurrence).where(RotaSkip.rota_id == rota_id))
    )


Fill = dict[tuple[datetime, int], int]  # (date, slot id) → people on it


async def fill_of(session: AsyncSession, rota_id: int, after: datetime) -> Fill:
    """How many are on each slot of each date after ``after`` (waiting not counted)."""
    rows = await session.execute(
        select(RotaSignup.occurrence, RotaSignup.slot_id, func.count())
        .where(
            RotaSignup.rota_id == rota_id,
            RotaSignup.occurrence > after,
            RotaSignup.waiting.is_(False),
        )
        .group_by(RotaSignup.occurrence, RotaSignup.slot_id)
    )
    return {(when, slot_id): int(count) for when, slot_id, count in rows}


async def people_on(
    session: AsyncSession, rota_id: int, occurrence: datetime, *, waiting: bool | None = False
) -> list[tuple[Person, RotaSlot]]:
    """Who is signed up for the date (``waiting=None``: on it or waiting), by slot."""
    query = (
        select(Person, RotaSlot)
        .join(RotaSignup, RotaSignup.person_id == Person.id)
        .join(RotaSlot, RotaSlot.id == RotaSignup.slot_id)
        .where(RotaSignup.rota_id == rota_id, RotaSignup.occurrence == occurrence)
        .order_by(RotaSlot.position, RotaSignup.position)
    )
    if waiting is not None:
        query = query.where(RotaSignup.waiting.is_(waiting))
    return [(person, slot) for person, slot in await session.execute(query)]


async def signups_after(
    session: AsyncSession, person_id: int, after: datetime
) -> list[tuple[RotaSignup, Rota, RotaSlot]]:
    """A person's sign-ups for dates still to come, soonest first."""
    rows = await session.execute(
        select(RotaSignup, Rota, RotaSlot)
        .join(Rota, Rota.id == RotaSignup.rota_id)
        .join(RotaSlot, RotaSlot.id == RotaSignup.slot_id)
        .where(
            RotaSignup.person_id == person_id,
            RotaSignup.occurrence > after,
            Rota.status == RotaStatus.ACTIVE.value,
        )
        .order_by(RotaSignup.occurrence, RotaSlot.position)
    )
    return [(signup, rota, slot) for signup, rota, slot in rows]


async def signed_people(session: AsyncSession, rota_id: int, after: datetime) -> list[Person]:
    """Everyone on (or waiting for) any date after ``after``: told of a cancel."""
    return list(
        await session.scalars(
            select(Person)
            .where(
                Person.id.in_(
                    select(RotaSignup.person_id).where(
                        RotaSignup.rota_id == rota_id, RotaSignup.occurrence > after
                    )
                )
            )
            .order_by(Person.id)
        )
    )


async def move_signups(
    session: AsyncSession, rota_id: int, occurrence: datetime, new: datetime
) -> None:
    """Everyone on (or waiting for) the date at ``occurrence`` is on the date at
    ``new`` instead, in the same slot and place in the queue."""
    await session.execute(
        update(RotaSignup)
        .where(RotaSignup.rota_id == rota_id, RotaSignup.occurrence == occurrence)
        .values(occurrence=new)
    )


async def active_rotas(session: AsyncSession, ids: Select[int] | None = None) -> list[Rota]:
    """The rotas still running (of those ``ids`` selects, if given)."""
    query = select(Rota).where(Rota.status == RotaStatus.ACTIVE.value).order_by(Rota.id)
    if ids is not None:
        query = query.where(Rota.id.in_(ids))
    return list(await session.scalars(query))


async def claim_send(session: AsyncSession, rota_id: int, occurrence: datetime, kind: str) -> bool:
    """True for the one caller that gets to send this reminder or note."""
    return await claim(session, RotaSend, rota_id=rota_id, occurrence=occurrence, kind=kind)
