"""Tables and queries for disputes, ballots, strikes and pickets.

Their announcements, with the copies in every chat, are the shared machinery's
(:mod:`storage.copies`). Personal rows (an "I'll be there", a reminder sent) hang
off ``people.id`` with ON DELETE CASCADE so ``/forgetme`` erases them; rows that
merely name an actor (who created a dispute) keep the fact and lose the name
(SET NULL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import NO_ID_REUSE, Base, BigId, Person, UTCDateTime

# --- the subjects of announcements ---------------------------------------------------


class Dispute(Base):
    """A dispute between a union and an employer; ``target`` is the tag expression
    of the chats it concerns (where its news goes, and where /strikes shows it)."""

    __tablename__ = "disputes"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    union_name: Mapped[str] = mapped_column(String(64))
    employer: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(500))
    is_open: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Ballot(Base):
    """An industrial action ballot: dates and electorate first, the result later."""

    __tablename__ = "ballots"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), index=True
    )
    opens: Mapped[date] = mapped_column(Date)
    closes: Mapped[date] = mapped_column(Date)
    eligible: Mapped[int] = mapped_column(Integer)
    # Important public services (TUA 2016 s.3): the 40%-of-all-eligible rule applied.
    public_service: Mapped[bool] = mapped_column(default=False)
    turnout: Mapped[int | None] = mapped_column(Integer)
    yes_votes: Mapped[int | None] = mapped_column(Integer)
    no_votes: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Who recorded the result: they, a TULO or an admin may correct it.
    result_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StrikeDates:
    """The columns a strike and a strike waiting for confirmation share."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(default=False)
    target: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Strike(StrikeDates, Base):
    __tablename__ = "strikes"
    __table_args__ = (NO_ID_REUSE,)

    cancelled: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class StrikeProposal(StrikeDates, Base):
    """Strike dates that a ballot's mandate does not plainly cover, waiting for their
    sender to press "Go ahead anyway": nothing is a strike until then."""

    __tablename__ = "strike_proposals"
    __table_args__ = (NO_ID_REUSE,)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    quiet: Mapped[bool] = mapped_column(default=False)


class Picket(Base):
    __tablename__ = "pickets"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), index=True
    )
    site: Mapped[str] = mapped_column(String(200))
    entrance: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact: Mapped[str] = mapped_column(String(300), default="")
    target: Mapped[str] = mapped_column(String(500))
    cancelled: Mapped[bool] = mapped_column(default=False)
    corrected: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PicketPledge(Base):
    """Someone pressed "I'll be there"."""

    __tablename__ = "picket_pledges"

    picket_id: Mapped[int] = mapped_column(
        ForeignKey("pickets.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Where it was pressed, so a chat's organisers see only their own chat's names.
    # NULL for pledges from before it was kept: counted, never named.
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))


class PicketReminder(Base):
    """The claim that a person's reminder for a picket was sent: at most one, ever,
    even with two bot processes woken together."""

    __tablename__ = "picket_reminders"

    picket_id: Mapped[int] = mapped_column(
        ForeignKey("pickets.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- the weekly digest -----------------------------------------------------------------


class DigestSetting(Base):
    """A chat that asked for the weekly digest, and when (local weekday 0 = Monday)."""

    __tablename__ = "digest_settings"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    at_time: Mapped[str] = mapped_column(String(5))


class DigestClaim(Base):
    """The claim that a chat's digest for an ISO week (``2026-W10``) was sent."""

    __tablename__ = "digest_claims"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- queries -------------------------------------------------------------------------


async def claim(session: AsyncSession, model: type[Base], **values: Any) -> bool:
    """Insert a claim row unless its key exists; True if this call made it.

    Two processes woken for the same reminder both try; the database's unique key
    lets exactly one through, without an error for the other.
    """
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(upsert(model).values(**values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


async def open_disputes(session: AsyncSession) -> list[Dispute]:
    return list(
        await session.scalars(select(Dispute).where(Dispute.is_open.is_(True)).order_by(Dispute.id))
    )


Timed = TypeVar("Timed", Strike, Picket)


async def _upcoming(
    session: AsyncSession, model: type[Timed], now: datetime, until: datetime
) -> list[Timed]:
    """Rows of open disputes, not cancelled, not yet over and starting before ``until``."""
    return list(
        await session.scalars(
            select(model)
            .join(Dispute, Dispute.id == model.dispute_id)
            .where(
                Dispute.is_open.is_(True),
                model.cancelled.is_(False),
                model.ends_at > now,
                model.starts_at < until,
            )
            .order_by(model.starts_at, model.id)
        )
    )


async def upcoming_strikes(session: AsyncSession, now: datetime, until: datetime) -> list[Strike]:
    return await _upcoming(session, Strike, now, until)


async def upcoming_pickets(session: AsyncSession, now: datetime, until: datetime) -> list[Picket]:
    return await _upcoming(session, Picket, now, until)


async def open_ballots(session: AsyncSession, today: date, until: date) -> list[Ballot]:
    """Ballots of open disputes open at some time from ``today`` to ``until``: opened
    already or opening by then, not yet closed, with no result recorded."""
    return list(
        await session.scalars(
            select(Ballot)
            .join(Dispute, Dispute.id == Ballot.dispute_id)
            .where(
                Dispute.is_open.is_(True),
                Ballot.opens <= until,
                Ballot.closes >= today,
                Ballot.result_at.is_(None),
            )
            .order_by(Ballot.closes, Ballot.id)
        )
    )


async def ballots_of(session: AsyncSession, dispute_id: int) -> list[Ballot]:
    """A dispute's ballots, the earliest first."""
    found = await session.scalars(
        select(Ballot).where(Ballot.dispute_id == dispute_id).order_by(Ballot.closes, Ballot.id)
    )
    return list(found)


async def disputes_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Dispute]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Dispute).where(Dispute.id.in_(wanted)))
    return {dispute.id: dispute for dispute in rows}


async def pledge_count(session: AsyncSession, picket_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(PicketPledge).where(PicketPledge.picket_id == picket_id)
    )
    return int(count or 0)


async def pledge_counts(session: AsyncSession, picket_ids: Sequence[int]) -> dict[int, int]:
    if not picket_ids:
        return {}
    rows = await session.execute(
        select(PicketPledge.picket_id, func.count())
        .where(PicketPledge.picket_id.in_(picket_ids))
        .group_by(PicketPledge.picket_id)
    )
    return {picket_id: count for picket_id, count in rows}


async def pledgers(session: AsyncSession, picket_ids: Iterable[int]) -> list[Person]:
    """Everyone who said they'll be at any of these pickets, once each."""
    pledged = select(PicketPledge.person_id).where(PicketPledge.picket_id.in_(list(picket_ids)))
    return list(
        await session.scalars(select(Person).where(Person.id.in_(pledged)).order_by(Person.id))
    )


async def pledger_names(session: AsyncSession, picket_id: int, chat_id: int) -> list[str]:
    """The names of those who pressed "I'll be there" on a picket in chat
    ``chat_id``: names pressed in one chat are never shown in another."""
    rows = await session.scalars(
        select(Person.display_name)
        .join(PicketPledge, PicketPledge.person_id == Person.id)
        .where(PicketPledge.picket_id == picket_id, PicketPledge.chat_id == chat_id)
        .order_by(Person.display_name)
    )
    return list(rows)


async def pickets_during(
    session: AsyncSession, dispute_id: int, starts: datetime, ends: datetime
) -> list[Picket]:
    """A dispute's pickets, not cancelled, that overlap ``starts`` to ``ends``."""
    return list(
        await session.scalars(
            select(Picket).where(
                Picket.dispute_id == dispute_id,
                Picket.cancelled.is_(False),
                Picket.starts_at < ends,
                Picket.ends_at > starts,
            )
        )
    )


async def unreminded_pledges(session: AsyncSession, picket_id: int) -> list[int]:
    """People who pledged and have no reminder claim yet."""
    reminded = select(PicketReminder.person_id).where(PicketReminder.picket_id == picket_id)
    return list(
        await session.scalars(
            select(PicketPledge.person_id).where(
                PicketPledge.picket_id == picket_id, PicketPledge.person_id.not_in(reminded)
            )
        )
    )
