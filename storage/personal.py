"""Everything stored about one person: gathered for ``/mydata``, erased by ``/forgetme``.

A person is a ``people`` row, and most of what concerns them hangs off it with
``ON DELETE CASCADE``. Three things do not, and are handled here: their private chat
with the bot (a ``chats`` row whose id *is* their platform id and whose title is their
name), the messages queued to it, and the text of stored messages that name them
(``"Hello Sam!"``, a ``/whoami`` answer, the voters of a poll sent to an organiser).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import ChatKind, Content
from storage.alerts import Picket, PicketPledge, PicketReminder
from storage.copies import AlertAudit, Broadcast
from storage.meetings import Meeting, MeetingRsvp
from storage.models import Chat, ChatMember, OutboxRow, Person, RoleGrant
from storage.newcomers import forget_newcomer, newcomer_rows
from storage.polls import Poll, PollBallot
from storage.rotas import Rota, RotaSignup, RotaSlot

ERASED = "[erased]"
# The tables that held an erased person's name or platform id as text.
ERASED_TABLES = ("people", "chats", "outbox", "broadcasts", "alert_audit", "newcomers")
EXPORTED = 200  # messages queued to the person listed in /mydata, most recent first


def export_key(person_id: int, now: datetime) -> str:
    """The dedupe key of a ``/mydata`` file, so ``/forgetme`` can find and delete it
    (its names are base64 inside the attachment, out of reach of a text search)."""
    return f"mydata:{person_id}:{now.timestamp()}"


def _export_prefix(person_id: int) -> str:
    return f"mydata:{person_id}:"


async def private_chat(session: AsyncSession, person: Person) -> Chat | None:
    return await session.scalar(
        select(Chat).where(
            Chat.platform == person.platform,
            Chat.platform_chat_id == person.platform_user_id,
            Chat.kind == ChatKind.PRIVATE.value,
        )
    )


# --- /mydata -------------------------------------------------------------------------


async def personal_data(session: AsyncSession, person: Person) -> dict[str, Any]:
    """Every row about ``person``, as plain JSON-ready values."""
    chat_names = {
        chat.id: _chat(chat)
        for chat in await session.scalars(
            select(Chat).where(
                Chat.id.in_(select(ChatMember.chat_id).where(ChatMember.person_id == person.id))
                | Chat.id.in_(select(RoleGrant.chat_id).where(RoleGrant.person_id == person.id))
                | Chat.id.in_(select(PollBallot.chat_id).where(PollBallot.person_id == person.id))
                | Chat.id.in_(select(MeetingRsvp.chat_id).where(MeetingRsvp.person_id == person.id))
                | Chat.id.in_(
                    select(PicketPledge.chat_id).where(PicketPledge.person_id == person.id)
                )
                | Chat.id.in_(select(RotaSignup.chat_id).where(RotaSignup.person_id == person.id))
            )
        )
    }
    direct = await private_chat(session, person)
    return {
        "person": {
            "platform": person.platform,
            "id": person.platform_user_id,
            "name": person.display_name,
            "first_seen": person.created_at.isoformat(),
        },
        "chats_seen_in": [
            chat_names[chat_id]
            for chat_id in await session.scalars(
                select(ChatMember.chat_id).where(ChatMember.person_id == person.id)
            )
        ],
        "roles": [
            {
                "role": grant.role,
                "chat": chat_names.get(grant.chat_id) if grant.chat_id else "everywhere",
                "granted_at": grant.created_at.isoformat(),
            }
            for grant in await session.scalars(
                select(RoleGrant).where(RoleGrant.person_id == person.id).order_by(RoleGrant.id)
            )
        ],
        "tags_set": [],  # chat tags are stored without who set them
        "meeting_rsvps": [
            {
                "meeting": meeting_id,
                "title": title,
                "date": occurrence.isoformat(),
                "answer": answer,
                "answered_at": at.isoformat(),
                "in_chat": chat_names.get(chat_id) if chat_id else None,
            }
            for meeting_id, title, occurrence, answer, at, chat_id in await session.execute(
                select(
                    MeetingRsvp.meeting_id,
                    Meeting.title,
                    MeetingRsvp.occurrence,
                    MeetingRsvp.answer,
                    MeetingRsvp.updated_at,
                    MeetingRsvp.chat_id,
                )
                .join(Meeting, Meeting.id == MeetingRsvp.meeting_id)
                .where(MeetingRsvp.person_id == person.id)
                .order_by(MeetingRsvp.meeting_id, MeetingRsvp.occurrence)
            )
        ],
        "picket_pledges": [
            {
                "picket": picket_id,
                "site": site,
                "starts": starts.isoformat(),
                "pledged_at": at.isoformat(),
                "in_chat": chat_names.get(chat_id) if chat_id else None,
            }
            for picket_id, site, starts, at, chat_id in await session.execute(
                select(
                    PicketPledge.picket_id,
                    Picket.site,
                    Picket.starts_at,
                    PicketPledge.created_at,
                    PicketPledge.chat_id,
                )
                .join(Picket, Picket.id == PicketPledge.picket_id)
                .where(PicketPledge.person_id == person.id)
                .order_by(PicketPledge.picket_id)
            )
        ],
        "rota_signups": [
            {
                "rota": title,
                "slot": slot,
                "date": occurrence.isoformat(),
                "waiting_list": waiting,
                "signed_up_at": at.isoformat(),
                "in_chat": chat_names.get(chat_id) if chat_id else None,
            }
            for title, slot, occurrence, waiting, at, chat_id in await session.execute(
                select(
                    Rota.title,
                    RotaSlot.name,
                    RotaSignup.occurrence,
                    RotaSignup.waiting,
                    RotaSignup.created_at,
                    RotaSignup.chat_id,
                )
                .join(Rota, Rota.id == RotaSignup.rota_id)
                .join(RotaSlot, RotaSlot.id == RotaSignup.slot_id)
                .where(RotaSignup.person_id == person.id)
                .order_by(RotaSignup.occurrence, RotaSignup.id)
            )
        ],
        "picket_reminders_sent": [
            {"picket": picket_id, "sent_at": at.isoformat()}
            for picket_id, at in await session.execute(
                select(PicketReminder.picket_id, PicketReminder.sent_at).where(
                    PicketReminder.person_id == person.id
                )
            )
        ],
        "named_votes": [
            {
                "poll": poll.id,
                "question": poll.question,
                "chose": [text for i, text in enumerate(poll.options) if choices >> i & 1],
                "in_chat": chat_names.get(chat_id) if chat_id else None,
            }
            for poll, choices, chat_id in await session.execute(
                select(Poll, PollBallot.choices, PollBallot.chat_id)
                .join(Poll, Poll.id == PollBallot.poll_id)
                .where(PollBallot.person_id == person.id, PollBallot.choices != 0)
                .order_by(Poll.id)
            )
        ],
        "polls_started": [
            {"poll": poll_id, "question": question}
            for poll_id, question in await session.execute(
                select(Poll.id, Poll.question).where(Poll.creator_id == person.id).order_by(Poll.id)
            )
        ],
        "audit_rows": [
            {
                "at": row.at.isoformat(),
                "action": row.action,
                "subject": row.subject,
                "detail": row.detail,
                "target": row.target,
                "chats": row.chat_count,
            }
            for row in await session.scalars(
                select(AlertAudit).where(AlertAudit.actor_id == person.id).order_by(AlertAudit.id)
            )
        ],
        "newcomer_follow_up": [
            {
                "chat": _chat(chat),
                "joined_at": newcomer.joined_at.isoformat(),
                "name": newcomer.display_name,
                "claimed_by_an_organiser": newcomer.claimed_by is not None,
            }
            for newcomer, chat in await newcomer_rows(session, person)
        ],
        "private_chat": _chat(direct) if direct else None,
        "messages_to_you": await _messages(session, person, direct),
        "anonymous_votes": "not stored with you: nothing links them to you",
    }


def _chat(chat: Chat) -> dict[str, str]:
    return {"platform": chat.platform, "id": chat.platform_chat_id, "title": chat.title}


async def _messages(
    session: AsyncSession, person: Person, direct: Chat | None
) -> list[dict[str, Any]]:
    if direct is None:
        return []
    rows = await session.scalars(
        select(OutboxRow)
        .where(
            OutboxRow.chat_id == direct.id,
            OutboxRow.op == "send",
            or_(
                OutboxRow.dedupe_key.is_(None),
                OutboxRow.dedupe_key.not_like(f"{_export_prefix(person.id)}%"),
            ),
        )
        .order_by(OutboxRow.id.desc())
        .limit(EXPORTED)
    )
    return [
        {
            "queued_at": row.created_at.isoformat(),
            "status": row.status,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "text": str(Content.from_payload(row.payload).text),
        }
        for row in rows
    ]


# --- /forgetme -----------------------------------------------------------------------


async def erase_person(session: AsyncSession, person: Person, now: datetime) -> None:
    """Erase ``person`` and every trace of their name and id; the audit keeps only
    that an erasure happened, and when. Anonymous votes stay, as counts."""
    needles = {person.display_name, person.platform_user_id, person_key(person)} - {""}
    await session.execute(
        delete(OutboxRow).where(OutboxRow.dedupe_key.like(f"{_export_prefix(person.id)}%"))
    )
    await forget_newcomer(session, person)
    direct = await private_chat(session, person)
    if direct is not None:  # its queued messages go with it (ON DELETE CASCADE)
        await session.delete(direct)
    for column in _NAMING:
        await _redact_column(session, column, needles)
    session.add(
        AlertAudit(
            at=now,
            actor_id=None,
            action="erasure",
            broadcast_id=None,
            subject="person",
            detail="someone asked to be forgotten (/forgetme)",
            target="",
            chat_count=0,
        )
    )
    await session.delete(person)
    await session.flush()


def person_key(person: Person) -> str:
    return f"{person.platform}:{person.platform_user_id}"


# Stored text that may name someone: messages (a greeting, a /whoami answer, the
# voters sent to an organiser), announcements signed by their sender, and the audit
# of what those said.
_NAMING: tuple[Any, ...] = (OutboxRow.payload, Broadcast.payload, AlertAudit.detail)


async def _redact_column(session: AsyncSession, column: Any, needles: set[str]) -> None:
    """Replace the needles, as whole words, wherever they appear in ``column``."""
    if not needles:
        return
    # JSON is stored as text, where non-ASCII letters are \\u-escaped.
    forms = {form for needle in needles for form in (needle, json.dumps(needle)[1:-1])}
    key = column.class_.id
    text = cast(column, Text)
    rows = await session.execute(
        select(key, column).where(
            or_(*(text.contains(form, autoescape=True) for form in sorted(forms)))
        )
    )
    pattern = re.compile(
        "|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in sorted(needles, key=len, reverse=True))
    )
    for row_id, value in rows:
        redacted = _redact(value, pattern)
        if redacted != value:
            await session.execute(
                update(column.class_).where(key == row_id).values({column.key: redacted})
            )


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern) for key, item in value.items()}
    return value
