"""Meetings, their target chats, RSVPs and reminder claims (their posted copies are
:mod:`storage.copies`).

These tables are the truth about meetings; the timer only wakes the bot up.
``meetings.next_reminder_at`` is the earliest reminder still to go, kept current
whenever a meeting changes, so start-up needs one indexed ``min()`` to know when to
wake, however many meetings there are.

A reminder occurrence is *claimed* by inserting its ``(meeting, occurrence,
offset)`` row into ``meeting_reminder_sends`` before anything is queued: the primary
key lets exactly one process win, also when two processes share one PostgreSQL.

Everything personal (an RSVP, a pending confirmation) hangs off ``people.id`` with
``ON DELETE CASCADE``, so ``/forgetme`` erases it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    String,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.types import ChatKind
from storage.models import NO_ID_REUSE, Base, BigId, Chat, Person, UTCDateTime


class MeetingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Answer(StrEnum):
    """An RSVP; the one-letter values travel in button data."""

    GOING = "g"
    MAYBE = "m"
    CANT = "n"


POSTED = "meeting"
"""The ``copies.subject`` of a meeting's posted cards."""


class PostKind(StrEnum):
    ANNOUNCEMENT = "announce"
    MOVED = "moved"  # the card posted when a meeting moves
    REMINDER = "reminder"


class Outcome(StrEnum):
    SENT = "sent"
    LATE = "late"
    SKIPPED = "skipped"


class MeetingSettings(Base):
    """A chat's own time zone and default reminder offsets (NULL: the defaults)."""

    __tablename__ = "meeting_settings"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    zone: Mapped[str | None] = mapped_column(String(64))
    # Minutes before the meeting, comma-separated, largest first; "" means none.
    reminders: Mapped[str | None] = mapped_column(String(64))


class Meeting(Base):
    """One meeting, or a series of them.

    ``starts_at`` is the first occurrence in UTC; ``rule`` an RFC 5545 RRULE body
    (``FREQ=WEEKLY;BYDAY=SA``, empty for a one-off) expanded in the wall time of
    ``zone``, so a 19:30 meeting stays 19:30 through clock changes. ``reminders``
    NULL means each target chat's own offsets. ``revision`` counts changes, which
    calendar apps read as the event's SEQUENCE.
    """

    __tablename__ = "meetings"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(String(500), default="")
    zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule: Mapped[str] = mapped_column(String(200), default="")
    repeat_text: Mapped[str] = mapped_column(String(200), default="")
    reminders: Mapped[str | None] = mapped_column(String(64))
    # How long it lasts (NULL: not said; calendars get 90 minutes), and the last
    # local day of a series (NULL: it goes on).
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Single dates of a series moved to another time: {original: new}, UTC ISO.
    moves: Mapped[dict[str, str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.ACTIVE.value)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingTarget(Base):
    __tablename__ = "meeting_targets"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MeetingSkip(Base):
    """An occurrence of a series that will not happen (``/meeting skip``)."""

    __tablename__ = "meeting_skips"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)


class MeetingRsvp(Base):
    __tablename__ = "meeting_rsvps"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: Mapped[str] = mapped_column(String(1))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Where the answer was pressed, so a chat's organisers see only their own chat's
    # names. NULL for answers from before it was kept: counted, never named.
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))


class ReminderSend(Base):
    """The claim on one reminder occurrence: sent, sent late, or skipped."""

    __tablename__ = "meeting_reminder_sends"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    offset_minutes: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingProposal(Base):
    """An add or move waiting for its organiser's Confirm (the input was ambiguous)."""

    __tablename__ = "meeting_proposals"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


Claim = tuple[int, datetime, int]
"""``(meeting id, occurrence, offset minutes)``"""


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def settings_for(
    session: AsyncSession, chat_ids: Iterable[int]
) -> dict[int, MeetingSettings]:
    wanted = list(set(chat_ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(MeetingSettings).where(MeetingSettings.chat_id.in_(wanted)))
    return {row.chat_id: row for row in rows}


async def save_settings(session: AsyncSession, chat_id: int, **values: str | None) -> None:
    row = await session.get(MeetingSettings, chat_id)
    if row is None:
        session.add(MeetingSettings(chat_id=chat_id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()


async def targets_of(session: AsyncSession, meeting_ids: Iterable[int]) -> dict[int, list[Chat]]:
    """Each meeting's active target chats, oldest first: a group chat taken out of
    the organisation (``/chats remove``) is no longer one."""
    wanted = list(set(meeting_ids))
    out: dict[int, list[Chat]] = {meeting_id: [] for meeting_id in wanted}
    if not wanted:
        return out
    rows = await session.execute(
        select(MeetingTarget.meeting_id, Chat)
        .join(Chat, Chat.id == MeetingTarget.chat_id)
        .where(
            MeetingTarget.meeting_id.in_(wanted),
            Chat.active.is_(True),
            or_(Chat.approved.is_(True), Chat.kind == ChatKind.PRIVATE.value),
        )
        .order_by(Chat.id)
    )
    for meeting_id, chat in rows:
        out[meeting_id].append(chat)
    return out


async def meetings_for_chat(session: AsyncSession, chat_id: int) -> list[Meeting]:
    """Active meetings posted to this chat."""
    return await meetings_for_chats(session, [chat_id])


async def meetings_for_chats(session: AsyncSession, chat_ids: Iterable[int]) -> list[Meeting]:
    """Active meetings posted to any of these chats, each once."""
    posted = select(MeetingTarget.meeting_id).where(MeetingTarget.chat_id.in_(list(chat_ids)))
    return list(
        await session.scalars(
            select(Meeting)
            .where(Meeting.id.in_(posted), Meeting.status == MeetingStatus.ACTIVE.value)
            .order_by(Meeting.id)
        )
    )


async def is_target(session: AsyncSession, meeting_id: int, chat_id: int) -> bool:
    return await session.get(MeetingTarget, (meeting_id, chat_id)) is not None


async def skips_of(session: AsyncSession, meeting_ids: Iterable[int]) -> dict[int, set[datetime]]:
    wanted = list(set(meeting_ids))
    out: dict[int, set[datetime]] = {meeting_id: set() for meeting_id in wanted}
    if not wanted:
        return out
    rows = await session.execute(
        select(MeetingSkip.meeting_id, MeetingSkip.occurrence).where(
            MeetingSkip.meeting_id.in_(wanted)
        )
    )
    for meeting_id, occurrence in rows:
        out[meeting_id].add(occurrence)
    return out


async def due_meetings(session: AsyncSession, now: datetime, limit: int) -> list[Meeting]:
    """Active meetings with a reminder due, locked for this transaction on
    PostgreSQL (rows another process holds are skipped, not waited for)."""
    return list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.status == MeetingStatus.ACTIVE.value,
                Meeting.next_reminder_at <= now,
            )
            .order_by(Meeting.next_reminder_at, Meeting.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def earliest_reminder(session: AsyncSession) -> datetime | None:
    found: datetime | None = await session.scalar(
        select(func.min(Meeting.next_reminder_at)).where(
            Meeting.status == MeetingStatus.ACTIVE.value
        )
    )
    if found is not None and found.tzinfo is None:  # an aggregate skips the column type
        found = UTCDateTime().process_result_value(found, None)
    return found


async def set_next_reminders(session: AsyncSession, next_due: dict[int, datetime | None]) -> None:
    """Move each meeting's ``next_reminder_at`` on, in one statement."""
    if next_due:
        await session.execute(
            update(Meeting), [{"id": k, "next_reminder_at": v} for k, v in next_due.items()]
        )


async def claim(
    session: AsyncSession, claims: Sequence[tuple[Claim, Outcome]], now: datetime
) -> set[Claim]:
    """Insert the claims; return those this transaction won."""
    if not claims:
        return set()
    statement = (
        _insert(session)(ReminderSend)
        .on_conflict_do_nothing()
        .returning(ReminderSend.meeting_id, ReminderSend.occurrence, ReminderSend.offset_minutes)
    )
    rows = [
        {
            "meeting_id": meeting_id,
            "occurrence": occurrence,
            "offset_minutes": offset,
            "outcome": outcome.value,
            "at": now,
        }
        for (meeting_id, occurrence, offset), outcome in claims
    ]
    won = await session.execute(statement, rows)
    return {(meeting_id, occurrence, offset) for meeting_id, occurrence, offset in won}


Occurrence = tuple[int, datetime]
"""``(meeting id, occurrence)``"""


async def counts_for(
    session: AsyncSession, occurrences: Iterable[Occurrence]
) -> dict[Occurrence, dict[Answer, int]]:
    """RSVP counts per answer for each occurrence (zeros included)."""
    wanted = set(occurrences)
    out = {key: dict.fromkeys(Answer, 0) for key in wanted}
    if not wanted:
        return out
    rows = await session.execute(
        select(MeetingRsvp.meeting_id, MeetingRsvp.occurrence, MeetingRsvp.answer, func.count())
        .where(
            MeetingRsvp.meeting_id.in_({m for m, _ in wanted}),
            MeetingRsvp.occurrence.in_({o for _, o in wanted}),
        )
        .group_by(MeetingRsvp.meeting_id, MeetingRsvp.occurrence, MeetingRsvp.answer)
    )
    for meeting_id, occurrence, answer, count in rows:
        if (meeting_id, occurrence) in out:
            out[(meeting_id, occurrence)][Answer(answer)] = count
    return out


async def answer_of(
    session: AsyncSession, meeting_id: int, occurrence: datetime, person_id: int
) -> Answer | None:
    row = await session.get(MeetingRsvp, (meeting_id, occurrence, person_id))
    return Answer(row.answer) if row else None


async def set_answer(
    session: AsyncSession,
    meeting_id: int,
    occurrence: datetime,
    person_id: int,
    answer: Answer,
    now: datetime,
    chat_id: int,
) -> None:
    """Record (or change) an RSVP pressed in chat ``chat_id``; an upsert, so two
    quick presses cannot collide. The latest press decides the chat it is named in."""
    statement = _insert(session)(MeetingRsvp).values(
        meeting_id=meeting_id,
        occurrence=occurrence,
        person_id=person_id,
        answer=answer.value,
        updated_at=now,
        chat_id=chat_id,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["meeting_id", "occurrence", "person_id"],
            set_={"answer": answer.value, "updated_at": now, "chat_id": chat_id},
        )
    )


async def going_names(
    session: AsyncSession, meeting_id: int, occurrence: datetime, chat_id: int
) -> list[str]:
    """The names of those going to one occurrence who said so in chat ``chat_id``:
    names pressed in one chat are never shown in another."""
    rows = await session.scalars(
        select(Person.display_name)
        .join(MeetingRsvp, MeetingRsvp.person_id == Person.id)
        .where(
            MeetingRsvp.meeting_id == meeting_id,
            MeetingRsvp.occurrence == occurrence,
            MeetingRsvp.answer == Answer.GOING.value,
            MeetingRsvp.chat_id == chat_id,
        )
        .order_by(Person.display_name)
    )
    return list(rows)


async def going_to(
    session: AsyncSession, occurrences: Iterable[Occurrence]
) -> dict[Occurrence, list[Person]]:
    """Who said they are going, per occurrence."""
    wanted = set(occurrences)
    out: dict[Occurrence, list[Person]] = {key: [] for key in wanted}
    if not wanted:
        return out
    rows = await session.execute(
        select(MeetingRsvp.meeting_id, MeetingRsvp.occurrence, Person)
        .join(Person, Person.id == MeetingRsvp.person_id)
        .where(
            MeetingRsvp.meeting_id.in_({m for m, _ in wanted}),
            MeetingRsvp.occurrence.in_({o for _, o in wanted}),
            MeetingRsvp.answer == Answer.GOING.value,
        )
        .order_by(Person.id)
    )
    for meeting_id, occurrence, person in rows:
        if (meeting_id, occurrence) in out:
            out[(meeting_id, occurrence)].append(person)
    return out


async def going_after(session: AsyncSession, meeting_id: int, after: datetime) -> list[Person]:
    """Everyone going to any occurrence after ``after``, once each."""
    going = (
        select(MeetingRsvp.person_id)
        .where(
            MeetingRsvp.meeting_id == meeting_id,
            MeetingRsvp.occurrence > after,
            MeetingRsvp.answer == Answer.GOING.value,
        )
        .distinct()
    )
    return list(
        await session.scalars(select(Person).where(Person.id.in_(going)).order_by(Person.id))
    )


async def carry_answers(
    session: AsyncSession, meeting_id: int, now: datetime, old: datetime | None, new: datetime
) -> None:
    """After a move: the answers for the occurrence that was next (``old``) now count
    for the new one; answers for other future dates no longer mean anything."""
    future = (MeetingRsvp.meeting_id == meeting_id) & (MeetingRsvp.occurrence > now)
    if old is None:
        await session.execute(delete(MeetingRsvp).where(future))
        return
    await session.execute(delete(MeetingRsvp).where(future, MeetingRsvp.occurrence != old))
    await session.execute(
        update(MeetingRsvp)
        .where(MeetingRsvp.meeting_id == meeting_id, MeetingRsvp.occurrence == old)
        .values(occurrence=new)
    )


async def move_answers(
    session: AsyncSession, meeting_id: int, old: datetime, new: datetime
) -> None:
    """After one date of a series moved: its answers count for the new time."""
    await session.execute(
        update(MeetingRsvp)
        .where(MeetingRsvp.meeting_id == meeting_id, MeetingRsvp.occurrence == old)
        .values(occurrence=new)
    )


async def clear_skips(session: AsyncSession, meeting_id: int) -> None:
    await session.execute(delete(MeetingSkip).where(MeetingSkip.meeting_id == meeting_id))


async def forget_proposals(session: AsyncSession, before: datetime) -> None:
    """Unanswered confirmations are dropped after a while."""
    await session.execute(delete(MeetingProposal).where(MeetingProposal.created_at < before))


async def awaiting_answer(
    session: AsyncSession, person_id: int, chat_id: int, since: datetime
) -> MeetingProposal | None:
    """The question this person was last asked to answer by message in this chat
    (after "✏ Fix"), if asked ``since``."""
    found = await session.scalars(
        select(MeetingProposal)
        .where(
            MeetingProposal.person_id == person_id,
            MeetingProposal.chat_id == chat_id,
            MeetingProposal.created_at >= since,
        )
        .order_by(MeetingProposal.created_at.desc(), MeetingProposal.id.desc())
    )
    return next((p for p in found if p.payload.get("awaiting")), None)


async def active_chats(session: AsyncSession, chat_ids: Iterable[int]) -> list[Chat]:
    return list(
        await session.scalars(
            select(Chat).where(Chat.id.in_(list(chat_ids)), Chat.active.is_(True)).order_by(Chat.id)
        )
    )
