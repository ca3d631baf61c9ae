"""Reminders: due times from the tables, one timer, claims that make sending once.

Every active meeting keeps ``next_reminder_at``, the earliest reminder still to go.
The timer holds a single job (:data:`TIMER_KEY`) set for the earliest of them —
so start-up costs one indexed ``min()`` however many meetings there are, and a
thousand reminders due in the same minute are gathered by one wake-up and queued
in a few transactions rather than a thousand.

When it fires, :func:`send_due` takes the meetings whose time has come in batches
(locked with ``SKIP LOCKED`` on PostgreSQL, so two processes share the work),
claims each reminder occurrence in ``meeting_reminder_sends`` (its primary key lets
one process win, ever), queues the copies with deterministic outbox dedupe keys,
and moves ``next_reminder_at`` on. A reminder that fell due while the bot was down
is sent late if within the grace period; an older one is skipped and logged, and
of several due for the same meeting only the latest is sent.

The timer also wakes every :data:`SWEEP` to pick up meetings another process
added, so nothing depends on which process an organiser happened to talk to.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.copies import record
from bot.meetings import settings
from bot.meetings.mirror import mirrored
from bot.meetings.posts import copy_row
from bot.meetings.recurrence import schedule_of
from bot.meetings.render import card, occurrence_code, personal_reminder
from bot.services import Services
from bot.types import Content, Outgoing
from storage.chats import chat_ref, direct_chat
from storage.copies import NewCopy
from storage.meetings import (
    Claim,
    Meeting,
    MeetingStatus,
    Outcome,
    PostKind,
    claim,
    counts_for,
    due_meetings,
    earliest_reminder,
    going_to,
    set_next_reminders,
    skips_of,
    targets_of,
)
from storage.models import Chat

log = logging.getLogger(__name__)

TIMER_KEY = "meeting-reminders"
BATCH = 250
# Wake at least this often, to see meetings another process added.
SWEEP = timedelta(minutes=10)
# Meetings another process holds locked are tried again after this long.
RETRY = timedelta(seconds=30)
# A reminder queued more than this after its time is marked late.
LATE = timedelta(minutes=1)
# Reminders missed longer ago than this are not even looked at (nor logged one by one).
LOOKBACK = timedelta(days=7)


@dataclass
class _Targets:
    """Who hears which reminders, for a batch of meetings."""

    chats: dict[int, list[Chat]]
    offsets: dict[int, dict[int, tuple[int, ...]]]  # meeting → chat → minutes before
    skips: dict[int, set[datetime]]

    def union(self, meeting_id: int) -> tuple[int, ...]:
        every = set().union(*self.offsets[meeting_id].values())
        return tuple(sorted(every, reverse=True))


async def _targets(session: AsyncSession, meetings: Sequence[Meeting]) -> _Targets:
    ids = [meeting.id for meeting in meetings]
    chats = await targets_of(session, ids)
    by_chat = await settings.offsets(session, {c.id for cs in chats.values() for c in cs})
    offsets = {
        meeting.id: settings.meeting_offsets(meeting, [c.id for c in chats[meeting.id]], by_chat)
        for meeting in meetings
    }
    return _Targets(chats, offsets, await skips_of(session, ids))


# --- the timer ---------------------------------------------------------------------


def arm(services: Services, when: datetime) -> None:
    """Make sure the timer wakes by ``when`` (an earlier wake-up is kept)."""
    current = services.timer.when(TIMER_KEY)
    if current is None or when < current:
        services.timer.at(TIMER_KEY, when, functools.partial(send_due, services))


async def on_start(services: Services) -> None:
    """Schedule the earliest reminder again from the tables. If it fell due while we
    were down, the timer runs it at once (the app runs what is due after start-up)."""
    async with services.db.session() as session:
        earliest = await earliest_reminder(session)
    now = services.clock.now()
    arm(services, min(earliest or now + SWEEP, now + SWEEP))


async def reschedule(
    session: AsyncSession, services: Services, meetings: Sequence[Meeting]
) -> None:
    """Recompute ``next_reminder_at`` after a meeting (or a chat's offsets) changed.
    A reminder already due but not yet sent stays due (its claim keeps it single)."""
    now = services.clock.now()
    targets = await _targets(session, meetings)
    soonest: datetime | None = None
    for meeting in meetings:
        pending = meeting.next_reminder_at
        since = pending - timedelta(microseconds=1) if pending and pending <= now else now
        meeting.next_reminder_at = _next_due(meeting, targets, since)
        if meeting.next_reminder_at and (soonest is None or meeting.next_reminder_at < soonest):
            soonest = meeting.next_reminder_at
    if soonest is not None:
        arm(services, soonest)


def _next_due(meeting: Meeting, targets: _Targets, after: datetime) -> datetime | None:
    if meeting.status != MeetingStatus.ACTIVE.value:
        return None
    schedule = schedule_of(meeting)
    upcoming = schedule.reminders(targets.union(meeting.id), after, targets.skips[meeting.id])
    return next((due for due, _, _ in upcoming), None)


# --- sending -------------------------------------------------------------------------


async def send_due(services: Services) -> None:
    """Queue every reminder due by now, then set the timer for the next one."""
    now = services.clock.now()
    try:
        while await _send_batch(services, now) == BATCH:
            pass
    finally:
        async with services.db.session() as session:
            earliest = await earliest_reminder(session)
        if earliest is not None and earliest <= now:  # held by another process just now
            earliest = now + RETRY
        arm(services, min(earliest or now + SWEEP, now + SWEEP))


async def _send_batch(services: Services, now: datetime) -> int:
    """One transaction's worth; a meeting that fails is set aside, not the batch."""
    try:
        async with services.db.session() as session:
            meetings = await due_meetings(session, now, BATCH)
            await _remind(session, services, meetings, now)
    except Exception:
        log.exception("sending a batch of meeting reminders failed; trying one by one")
        return await _send_one_by_one(services, now)
    return len(meetings)


async def _send_one_by_one(services: Services, now: datetime) -> int:
    async with services.db.session() as session:
        ids = [meeting.id for meeting in await due_meetings(session, now, BATCH)]
    for meeting_id in ids:
        try:
            async with services.db.session() as session:
                meeting = await session.get(
                    Meeting, meeting_id, with_for_update={"skip_locked": True}
                )
                due = [meeting] if meeting and _is_due(meeting, now) else []
                await _remind(session, services, due, now)
        except Exception:
            log.exception("meeting %s: reminders failed; trying again later", meeting_id)
            async with services.db.session() as session:
                failed = await session.get(Meeting, meeting_id)
                if failed is not None:
                    failed.next_reminder_at = now + SWEEP
    return 0


def _is_due(meeting: Meeting, now: datetime) -> bool:
    return (
        meeting.status == MeetingStatus.ACTIVE.value
        and meeting.next_reminder_at is not None
        and meeting.next_reminder_at <= now
    )


@dataclass
class _Send:
    meeting: Meeting
    occurrence: datetime
    offset: int
    late: bool
    chats: list[Chat]
    personal: bool  # the last reminder before the meeting: those going hear privately


@dataclass
class _Plan:
    claims: list[tuple[Claim, Outcome]] = field(default_factory=list)
    sends: list[_Send] = field(default_factory=list)
    next_due: dict[int, datetime | None] = field(default_factory=dict)


async def _remind(
    session: AsyncSession, services: Services, meetings: Sequence[Meeting], now: datetime
) -> None:
    if not meetings:
        return
    targets = await _targets(session, meetings)
    grace = timedelta(minutes=services.config.meetings.reminder_grace_minutes)
    plan = _Plan()
    for meeting in meetings:
        _plan(plan, meeting, targets, now, grace)
    won = await claim(session, plan.claims, now)
    sends = [s for s in plan.sends if (s.meeting.id, s.occurrence, s.offset) in won]
    messages = await _messages(session, services, sends, now)
    await services.outbox.enqueue(session, messages)
    await set_next_reminders(session, plan.next_due)


def _plan(
    plan: _Plan, meeting: Meeting, targets: _Targets, now: datetime, grace: timedelta
) -> None:
    """Decide what to do with each reminder of ``meeting`` due by ``now``, and when
    its next one is due."""
    union = targets.union(meeting.id)
    schedule = schedule_of(meeting)
    assert meeting.next_reminder_at is not None  # only due meetings are planned
    since = max(meeting.next_reminder_at, now - LOOKBACK) - timedelta(microseconds=1)
    due: dict[datetime, list[tuple[datetime, int]]] = {}
    plan.next_due[meeting.id] = None
    for when, occurrence, offset in schedule.reminders(union, since, targets.skips[meeting.id]):
        if when > now:
            plan.next_due[meeting.id] = when
            break
        due.setdefault(occurrence, []).append((when, offset))
    for occurrence, reminders in due.items():
        *superseded, (when, offset) = reminders
        plan.claims += [
            ((meeting.id, occurrence, early), Outcome.SKIPPED) for _, early in superseded
        ]
        overdue = now - when
        if occurrence <= now or overdue > grace:
            log.warning(
                "meeting %s: skipped the reminder %s before %s — it was due %s ago, "
                "more than the grace of %s (the bot was down)",
                meeting.id,
                timedelta(minutes=offset),
                occurrence.isoformat(),
                overdue,
                grace,
            )
            plan.claims.append(((meeting.id, occurrence, offset), Outcome.SKIPPED))
            continue
        late = overdue > LATE
        plan.claims.append(
            ((meeting.id, occurrence, offset), Outcome.LATE if late else Outcome.SENT)
        )
        chats = [
            c for c in targets.chats[meeting.id] if offset in targets.offsets[meeting.id][c.id]
        ]
        plan.sends.append(_Send(meeting, occurrence, offset, late, chats, offset == union[-1]))


async def _messages(
    session: AsyncSession, services: Services, sends: list[_Send], now: datetime
) -> list[Outgoing]:
    counts = await counts_for(session, {(s.meeting.id, s.occurrence) for s in sends})
    going = await going_to(session, {(s.meeting.id, s.occurrence) for s in sends if s.personal})
    zones = await settings.zones(
        session,
        services.config,
        {c.id for s in sends for c in s.chats} | {s.meeting.chat_id for s in sends},
    )
    messages: list[Outgoing] = []
    posts: list[NewCopy] = []
    for send in sends:
        meeting, occurrence = send.meeting, send.occurrence
        for chat in send.chats:
            post = copy_row(
                meeting, occurrence, chat.id, PostKind.REMINDER, offset=send.offset, late=send.late
            )
            posts.append(post)
            content = card(
                meeting,
                occurrence,
                zones[chat.id],
                counts[(meeting.id, occurrence)],
                kind=PostKind.REMINDER,
                offset=send.offset,
                late=send.late,
            )
            # The next date's reminder moves the meeting's calendar entry to it.
            content = mirrored(content, meeting, occurrence)
            messages.append(Outgoing(chat_ref(chat), content, post.key))
        people = going.get((meeting.id, occurrence), [])
        if not people:
            continue
        text = personal_reminder(meeting, occurrence, zones[meeting.chat_id])
        for person in people:
            key = f"mtg:{meeting.id}:{occurrence_code(occurrence)}:r{send.offset}:p{person.id}"
            messages.append(Outgoing(await direct_chat(session, person, now), Content(text), key))
    await record(session, posts)
    return messages
