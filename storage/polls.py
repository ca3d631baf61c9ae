"""Polls and their ballots (the copies posted to chats are :mod:`storage.copies`'s).

A ballot is one row per voter per poll — the primary key is what makes "one vote per
person, however many of the poll's chats they are in" hold, even for presses that
arrive together. ``choices`` is a bit set of option indexes (bit *i* = option *i*),
so a single-choice vote and a ``--multi`` vote are the same row, a change is an
upsert, and the tally is one ``GROUP BY choices``.

Who a voter is depends on the poll:

* an ordinary poll keys the ballot by the person's id and links it to ``people`` with
  ``ON DELETE CASCADE``, so ``/forgetme`` erases their votes;
* an anonymous poll keys it by a keyed hash of the voter's platform identity with a
  per-poll random secret, and touches no ``people`` row: enough to stop double
  voting and let people change their vote while it is open. At close the secret is
  deleted and the ballots are rewritten under meaningless keys, so nothing in the
  database ties a vote to a person afterwards (:func:`unlink_ballots`).

Votes come by the thousand, so :func:`record_votes` writes a whole batch of presses —
voters and ballots — with a handful of set-based statements.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BindParameter,
    ForeignKey,
    String,
    Table,
    bindparam,
    delete,
    false,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.types import ChatRef, UserRef
from storage.copies import Copy, posted_to
from storage.models import NO_ID_REUSE, Base, BigId, Chat, Person, UTCDateTime

POSTED = "poll"
"""The ``copies.subject`` of a poll's posted copies."""


class Poll(Base):
    """A poll. ``closed_at`` is set once, by whoever closes it first (a timer in any
    process, or ``/poll close``). ``shown`` is the tally the posted copies last showed,
    so an unchanged tally is not edited again."""

    __tablename__ = "polls"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(String(300))
    options: Mapped[list[str]] = mapped_column(JSON)
    multi: Mapped[bool] = mapped_column(default=False)
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Who may see a named poll's voters: everyone (True) or organisers (False).
    public: Mapped[bool] = mapped_column(default=False, server_default=false())
    hide_results: Mapped[bool] = mapped_column(default=False)
    quorum: Mapped[int | None]
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    secret: Mapped[str | None] = mapped_column(String(64))
    shown: Mapped[str] = mapped_column(String(200), default="")


class PollBallot(Base):
    """One voter's choices in one poll (see the module docstring for ``voter``)."""

    __tablename__ = "poll_ballots"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    voter: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    choices: Mapped[int] = mapped_column(default=0)
    # Where a named vote was cast, so a chat is shown only its own voters' names.
    # Always NULL for an anonymous poll.
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))


# --- creating and finding ------------------------------------------------------------


async def create_poll(
    session: AsyncSession,
    *,
    creator_id: int | None,
    question: str,
    options: Sequence[str],
    multi: bool,
    anonymous: bool,
    hide_results: bool,
    quorum: int | None,
    closes_at: datetime | None,
    now: datetime,
    public: bool = False,
) -> Poll:
    poll = Poll(
        creator_id=creator_id,
        question=question,
        options=list(options),
        multi=multi,
        anonymous=anonymous,
        public=public and not anonymous,
        hide_results=hide_results,
        quorum=quorum,
        closes_at=closes_at,
        created_at=now,
        secret=secrets.token_hex(32) if anonymous else None,
        shown="",
    )
    session.add(poll)
    await session.flush()
    return poll


async def open_polls(session: AsyncSession, chat_ids: Iterable[int] | None = None) -> list[Poll]:
    """Polls still open: everywhere, or those posted in any of these chats."""
    query = select(Poll).where(Poll.closed_at.is_(None)).order_by(Poll.id)
    if chat_ids is not None:
        query = query.where(Poll.id.in_(posted_to(POSTED, chat_ids)))
    return list(await session.scalars(query))


# --- counting ------------------------------------------------------------------------


async def ballot_groups(session: AsyncSession, poll_id: int) -> dict[int, int]:
    """How many ballots hold each set of choices (empty ballots left out)."""
    rows = await session.execute(
        select(PollBallot.choices, func.count())
        .where(PollBallot.poll_id == poll_id, PollBallot.choices != 0)
        .group_by(PollBallot.choices)
    )
    return {choices: count for choices, count in rows}


async def turnouts(session: AsyncSession, poll_ids: Sequence[int]) -> dict[int, int]:
    if not poll_ids:
        return {}
    rows = await session.execute(
        select(PollBallot.poll_id, func.count())
        .where(PollBallot.poll_id.in_(poll_ids), PollBallot.choices != 0)
        .group_by(PollBallot.poll_id)
    )
    return {poll_id: count for poll_id, count in rows}


async def voter_names(session: AsyncSession, poll: Poll, chat_id: int) -> list[tuple[int, str]]:
    """``(choices, display name)`` of each voter of an ordinary poll who voted in
    chat ``chat_id``: names seen in one chat are never shown in another. An
    anonymous poll's ballots have no person to name, by construction."""
    if poll.anonymous:
        return []
    rows = await session.execute(
        select(PollBallot.choices, Person.display_name)
        .join(Person, Person.id == PollBallot.person_id)
        .where(
            PollBallot.poll_id == poll.id,
            PollBallot.choices != 0,
            PollBallot.chat_id == chat_id,
        )
        .order_by(Person.display_name)
    )
    return [(choices, name) for choices, name in rows]


# --- closing -------------------------------------------------------------------------


async def claim_close(session: AsyncSession, poll_id: int, now: datetime) -> Poll | None:
    """Close the poll if it is still open and return it; ``None`` if someone else
    closed it first. On PostgreSQL this waits for vote batches holding the poll's row
    (:func:`record_votes` locks it for share), so no vote lands after the count."""
    claimed = await session.scalar(
        update(Poll)
        .where(Poll.id == poll_id, Poll.closed_at.is_(None))
        .values(closed_at=now, secret=None)
        .returning(Poll.id)
    )
    if claimed is None:
        return None
    return await session.get(Poll, poll_id, populate_existing=True)


async def unlink_ballots(session: AsyncSession, poll_id: int) -> None:
    """Break every link between an anonymous poll's voters and their ballots.

    The secret is already gone (:func:`claim_close`); the ballots are then rewritten
    with the same choices under keys numbered in order of choice, so neither a key
    nor the order of rows says who voted, or when.
    """
    kept = list(
        await session.scalars(
            select(PollBallot.choices)
            .where(PollBallot.poll_id == poll_id, PollBallot.choices != 0)
            .order_by(PollBallot.choices)
        )
    )
    await session.execute(delete(PollBallot).where(PollBallot.poll_id == poll_id))
    if kept:
        await session.execute(
            _insert(session, PollBallot),
            [
                {"poll_id": poll_id, "voter": f"closed-{n}", "person_id": None, "choices": c}
                for n, c in enumerate(kept)
            ],
        )


# --- voting --------------------------------------------------------------------------


class VoteStatus(StrEnum):
    RECORDED = "recorded"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # no such poll or option, or a button from a chat it wasn't posted to


@dataclass(frozen=True, slots=True)
class VoteIn:
    """One press: option ``option`` of poll ``poll_id``, by ``user`` in ``chat``."""

    poll_id: int
    option: int
    chat: ChatRef
    user: UserRef


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    status: VoteStatus
    poll: Poll | None = None
    choices: int = 0  # the voter's ballot after the press (after the whole batch)


async def record_votes(
    session: AsyncSession, presses: Sequence[VoteIn], now: datetime
) -> list[VoteOutcome]:
    """Record a batch of presses in the session's transaction; one outcome per press.

    Presses of one voter in one batch are applied in order (the last single choice
    wins; ``--multi`` toggles combine), and each of them is told the ballot as it
    stands after the batch.
    """
    polls, posted = await _polls_posted(session, presses)
    outcomes: list[VoteOutcome] = [VoteOutcome(VoteStatus.UNKNOWN)] * len(presses)
    accepted: list[tuple[int, VoteIn, Poll]] = []
    for index, press in enumerate(presses):
        poll = polls.get(press.poll_id)
        where = (press.poll_id, press.chat.platform, press.chat.chat_id)
        if poll is None or where not in posted or not 0 <= press.option < len(poll.options):
            continue
        if poll.closed_at is not None:
            outcomes[index] = VoteOutcome(VoteStatus.CLOSED, poll)
            continue
        accepted.append((index, press, poll))
    named = [press.user for _, press, poll in accepted if not poll.anonymous]
    people = await register_voters(session, named, now) if named else {}
    ballots: dict[tuple[int, str], _Ballot] = {}
    keys: list[tuple[int, tuple[int, str]]] = []
    for index, press, poll in accepted:
        person_id = None if poll.anonymous else people[press.user.key]
        key = (poll.id, _anonymous_key(poll, press.user) if person_id is None else str(person_id))
        ballot = ballots.setdefault(key, _Ballot(poll.id, key[1], person_id, 0, poll.multi))
        if person_id is not None:  # the chat of an anonymous vote is not kept
            ballot.chat_id = posted[(poll.id, press.chat.platform, press.chat.chat_id)]
        bit = 1 << press.option
        ballot.choices = ballot.choices ^ bit if poll.multi else bit
        keys.append((index, key))
    stored = await _upsert_ballots(session, list(ballots.values())) if ballots else {}
    for index, key in keys:
        outcomes[index] = VoteOutcome(VoteStatus.RECORDED, polls[key[0]], stored[key])
    return outcomes


def _anonymous_key(poll: Poll, user: UserRef) -> str:
    """An anonymous poll's ballot key: an HMAC of the voter's platform identity with
    the poll's secret, which exists only while the poll is open. No ``people`` row is
    read or written for it, so not even the fact of having pressed leaves a trace."""
    if poll.secret is None:
        raise ValueError(f"anonymous poll {poll.id} has no secret: it is closed")
    return hmac.new(bytes.fromhex(poll.secret), user.key.encode(), hashlib.sha256).hexdigest()


async def register_voters(
    session: AsyncSession, users: Sequence[UserRef], now: datetime
) -> dict[str, int]:
    """People by ``UserRef.key`` → ``people.id``, creating those we have not met and
    keeping display names current: :func:`storage.chats.register_person` for a whole
    batch of presses. Most voters are known already, so they are looked up first and
    only newcomers are written. Chat membership is not noted: it only serves
    ``/grant``'s lookup by name, and anyone wanting a role speaks in the chat."""
    refs = {user.key: user for user in users}
    found = await _people(session, refs.values())
    renamed = [
        {"id": found[key][0], "display_name": ref.display_name}
        for key, ref in refs.items()
        if key in found and ref.display_name and ref.display_name != found[key][1]
    ]
    if renamed:
        await session.execute(update(Person), renamed)
    newcomers = [ref for key, ref in sorted(refs.items()) if key not in found]
    if newcomers:
        # DO UPDATE (a no-op) rather than DO NOTHING, so that someone created meanwhile
        # by another process still comes back with their id.
        statement = _insert(session, Person)
        people = statement.table
        rows = await session.execute(
            statement.on_conflict_do_update(
                index_elements=["platform", "platform_user_id"],
                set_={"platform": statement.excluded.platform},
            ).returning(people.c.id, people.c.platform, people.c.platform_user_id),
            [
                {
                    "platform": ref.platform,
                    "platform_user_id": ref.user_id,
                    "display_name": ref.display_name,
                    "created_at": now,
                }
                for ref in newcomers
            ],
        )
        found.update({f"{platform}:{user_id}": (pid, "") for pid, platform, user_id in rows})
    return {key: person_id for key, (person_id, _) in found.items()}


async def _people(session: AsyncSession, refs: Iterable[UserRef]) -> dict[str, tuple[int, str]]:
    """``UserRef.key`` → (id, display name) of those already known.

    The ids are written into the query as (escaped) literals, not parameters: after
    five runs PostgreSQL switches a prepared statement to a generic plan, which
    cannot hash a parameterised IN list and compares every row with every id —
    a hundred times slower for a batch of a thousand voters.
    """
    by_platform: dict[str, list[str]] = {}
    for ref in refs:
        by_platform.setdefault(ref.platform, []).append(ref.user_id)
    found: dict[str, tuple[int, str]] = {}
    for platform, user_ids in by_platform.items():
        ids: BindParameter[str] = bindparam("ids", user_ids, expanding=True, literal_execute=True)
        rows = await session.execute(
            select(Person.id, Person.platform_user_id, Person.display_name).where(
                Person.platform == platform, Person.platform_user_id.in_(ids)
            )
        )
        found.update({f"{platform}:{uid}": (pid, name) for pid, uid, name in rows})
    return found


@dataclass(slots=True)
class _Ballot:
    poll_id: int
    voter: str
    person_id: int | None
    choices: int
    toggles: bool
    chat_id: int | None = None


async def _polls_posted(
    session: AsyncSession, presses: Sequence[VoteIn]
) -> tuple[dict[int, Poll], dict[tuple[int, str, str], int]]:
    """The pressed polls that were posted to the pressed chats, and where their copies
    are, as ``(poll id, platform, platform chat id)`` → chat row id, in one query. The polls are
    locked for share on PostgreSQL, so a close waits for this batch (SQLite has one
    writer at a time anyway, and leaves the clause out)."""
    rows = await session.execute(
        select(Poll, Chat.platform, Chat.platform_chat_id, Chat.id)
        .join(Copy, (Copy.subject == POSTED) & (Copy.subject_id == Poll.id))
        .join(Chat, Chat.id == Copy.chat_id)
        .where(
            Poll.id.in_(sorted({p.poll_id for p in presses})),
            Chat.platform_chat_id.in_(sorted({p.chat.chat_id for p in presses})),
        )
        .order_by(Poll.id)
        .with_for_update(read=True, of=Poll)
    )
    polls: dict[int, Poll] = {}
    posted: dict[tuple[int, str, str], int] = {}
    for poll, platform, chat, chat_id in rows:
        polls[poll.id] = poll
        posted[(poll.id, platform, chat)] = chat_id
    return polls, posted


async def _upsert_ballots(
    session: AsyncSession, ballots: list[_Ballot]
) -> dict[tuple[int, str], int]:
    """Write the ballots; return each one's choices as stored (RETURNING).

    A single-choice press replaces the choice. A ``--multi`` press toggles its
    options — XOR, written ``(a | b) - (a & b)`` since SQLite has no XOR operator —
    atomically in SQL, so two processes toggling one ballot cannot lose a press. Rows
    go in key order, so two processes' batches lock them in the same order and
    cannot deadlock.
    """
    stored: dict[tuple[int, str], int] = {}
    for toggles in (False, True):
        rows = sorted(
            (b for b in ballots if b.toggles is toggles), key=lambda b: (b.poll_id, b.voter)
        )
        if not rows:
            continue
        statement = _insert(session, PollBallot)
        table = statement.table
        old, new = table.c.choices, statement.excluded.choices
        result = await session.execute(
            statement.on_conflict_do_update(
                index_elements=["poll_id", "voter"],
                set_={
                    "choices": (old.bitwise_or(new) - old.bitwise_and(new)) if toggles else new,
                    "chat_id": statement.excluded.chat_id,
                },
            ).returning(table.c.poll_id, table.c.voter, table.c.choices),
            [
                {
                    "poll_id": b.poll_id,
                    "voter": b.voter,
                    "person_id": b.person_id,
                    "choices": b.choices,
                    "chat_id": b.chat_id,
                }
                for b in rows
            ],
        )
        stored.update({(poll_id, voter): choices for poll_id, voter, choices in result})
    return stored


def _insert(session: AsyncSession, model: type[Base]) -> Any:
    """The dialect's INSERT into ``model``'s table (not through the ORM), which knows
    ON CONFLICT — SQLite and PostgreSQL both do. Executed with a list of rows,
    SQLAlchemy sends them as multi-row statements compiled once ("insertmanyvalues"),
    RETURNING included."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        cast(Table, model.__table__)
    )
