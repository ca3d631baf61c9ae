"""Retention: personal data past its time, counted (a dry run) or purged.

Each kind has its own cutoff (``None``: kept for ever); :mod:`bot.retention` turns the
configured days into cutoffs and runs :func:`purge` at start and daily.

A delivered message's row is *emptied* rather than deleted: its platform message
ids are what later edits (a poll's final tally, a correction) address, so the row
stays, with no text, buttons or file. Rows of edits and deletions, which nothing
addresses once done, are deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from storage.alerts import Picket, PicketPledge, PicketReminder
from storage.copies import AlertAudit
from storage.meetings import MeetingRsvp
from storage.models import OutboxRow
from storage.newcomers import Newcomer
from storage.polls import Poll, PollBallot, unlink_ballots
from storage.rotas import RotaSignup

EMPTIED: dict[str, Any] = {"text": []}
FINISHED = ("sent", "failed")


@dataclass(frozen=True)
class Cutoffs:
    """Rows from before each moment go; ``None`` keeps that kind for ever."""

    delivered_messages: datetime | None
    closed_poll_voters: datetime | None
    past_rsvps: datetime | None
    audit: datetime | None
    newcomers: datetime | None


async def purge(session: AsyncSession, cutoffs: Cutoffs, *, dry_run: bool) -> dict[str, int]:
    """Purge (or with ``dry_run`` only count) what is past its time; the counts by
    kind, in the order the README lists them."""
    counts: dict[str, int] = {}
    if (before := cutoffs.delivered_messages) is not None:
        finished = (OutboxRow.status.in_(FINISHED), OutboxRow.created_at < before)
        sends = (
            *finished,
            OutboxRow.op == "send",
            cast(OutboxRow.payload, Text) != json.dumps(EMPTIED),
        )
        others = (*finished, OutboxRow.op != "send")
        counts["delivered messages emptied"] = await _count(session, OutboxRow, sends)
        counts["done edits and deletions"] = await _count(session, OutboxRow, others)
        if not dry_run:
            await session.execute(update(OutboxRow).where(*sends).values(payload=EMPTIED))
            await session.execute(delete(OutboxRow).where(*others))
    if (before := cutoffs.closed_poll_voters) is not None:
        named = (
            PollBallot.person_id.is_not(None),
            PollBallot.poll_id.in_(select(Poll.id).where(Poll.closed_at < before)),
        )
        counts["named votes of closed polls unlinked"] = await _count(session, PollBallot, named)
        if not dry_run:
            polls = await session.scalars(select(PollBallot.poll_id).where(*named).distinct())
            for poll_id in list(polls):
                await unlink_ballots(session, poll_id)
    if (before := cutoffs.past_rsvps) is not None:
        rsvps = (MeetingRsvp.occurrence < before,)
        over = select(Picket.id).where(Picket.ends_at < before)
        pledges = (PicketPledge.picket_id.in_(over),)
        reminders = (PicketReminder.picket_id.in_(over),)
        counts["RSVPs of past meetings"] = await _count(session, MeetingRsvp, rsvps)
        counts["pledges of past pickets"] = await _count(session, PicketPledge, pledges)
        counts["reminders of past pickets"] = await _count(session, PicketReminder, reminders)
        signups = (RotaSignup.occurrence < before,)
        counts["sign-ups of past rota dates"] = await _count(session, RotaSignup, signups)
        if not dry_run:
            await session.execute(delete(RotaSignup).where(*signups))
            await session.execute(delete(MeetingRsvp).where(*rsvps))
            await session.execute(delete(PicketPledge).where(*pledges))
            await session.execute(delete(PicketReminder).where(*reminders))
    if (before := cutoffs.audit) is not None:
        audit = (AlertAudit.at < before,)
        counts["audit rows"] = await _count(session, AlertAudit, audit)
        if not dry_run:
            await session.execute(delete(AlertAudit).where(*audit))
    if (before := cutoffs.newcomers) is not None:
        newcomers = (Newcomer.joined_at < before,)
        counts["newcomers not marked contacted"] = await _count(session, Newcomer, newcomers)
        if not dry_run:
            await session.execute(delete(Newcomer).where(*newcomers))
    return counts


async def _count(session: AsyncSession, model: Any, where: tuple[ColumnElement[bool], ...]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
