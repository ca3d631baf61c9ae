"""What is coming up for one chat: strikes, ballots closing, pickets, meetings and
(for the weekly digest) rota dates.

/strikes, the weekly digest and the welcome all show the same thing, so it is
gathered here once. An item concerns a chat when its tag expression matches the
chat's tags; a private chat sees what concerns the approved chats its person is
in, and a chat outside the organisation sees nothing. Meetings come from the
meetings capability through :func:`meeting_lines`, the one place they plug in;
rota dates, with their gaps, from the rotas' :func:`week_lines` in the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.render import ballot_line, picket_line, strike_line
from bot.meetings import meeting_lines
from bot.rotas import week_lines
from bot.targeting import Target, stored_target
from bot.text import Rich, bold, rich
from bot.types import ChatKind
from storage.alerts import (
    disputes_by_id,
    open_ballots,
    pledge_counts,
    upcoming_pickets,
    upcoming_strikes,
)
from storage.chats import chat_tags, member_chats
from storage.models import Chat

_TAG_WORD = re.compile(r"[a-z0-9][a-z0-9-]*:[a-z0-9][a-z0-9-]*")


# At most this many tags of kinds a chat has no tag of are tried both ways (2^n).
FREE_TAGS = 8


class Relevance:
    """Whether a tag expression concerns any of some chats (given by their tags);
    expressions are parsed once each.

    Looser than announcing: a chat that says nothing about some kind of tag is
    taken to cover all of that kind. A regional chat tagged only
    ``region:west-midlands`` sees a dispute tagged ``region:west-midlands and
    union:unison`` (it has no ``union:`` tag), and a UNISON chat with no region
    sees its union's disputes everywhere; a ``region:staffordshire`` chat does
    not see the West Midlands' — and a chat shares at least one tag with what it
    sees, so an untagged chat or one tagged ``topic:housing`` is not flooded.
    """

    def __init__(self, tag_sets: list[frozenset[str]]) -> None:
        self.tag_sets = tag_sets
        self._known: dict[str, bool] = {}

    def __call__(self, target: str) -> bool:
        if target not in self._known:
            parsed = stored_target(target)
            self._known[target] = any(_concerns(parsed, tags) for tags in self.tag_sets)
        return self._known[target]


def _concerns(parsed: Target, tags: frozenset[str]) -> bool:
    if parsed.matches(tags):
        return True
    kinds = {tag.partition(":")[0] for tag in tags}
    named = set(_TAG_WORD.findall(parsed.text))
    free = sorted(tag for tag in named if tag.partition(":")[0] not in kinds)
    if not named & tags or not free or len(free) > FREE_TAGS:
        return False
    return any(
        parsed.matches(tags | {tag for bit, tag in enumerate(free) if chosen >> bit & 1})
        for chosen in range(1, 2 ** len(free))
    )


async def relevance(session: AsyncSession, chat: Chat) -> Relevance:
    """A group chat sees what concerns it — nothing, outside the organisation; a
    private chat what concerns the approved chats its person is in."""
    if chat.kind == ChatKind.PRIVATE.value:
        chats = await member_chats(session, chat)
    else:
        chats = [chat] if chat.approved else []
    return Relevance([frozenset(await chat_tags(session, c)) for c in chats])


@dataclass
class Upcoming:
    strikes: list[Rich] = field(default_factory=list)
    ballots: list[Rich] = field(default_factory=list)
    pickets: list[Rich] = field(default_factory=list)
    meetings: list[Rich] = field(default_factory=list)
    rotas: list[Rich] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.strikes, self.ballots, self.pickets, self.meetings, self.rotas))

    def sections(self) -> list[Rich]:
        out: list[Rich] = []
        for heading, lines in (
            ("Strikes", self.strikes),
            ("Ballots", self.ballots),
            ("Pickets", self.pickets),
            ("Meetings", self.meetings),
            ("Rotas", self.rotas),
        ):
            if lines:
                out += [rich(bold(heading)), *lines]
        return out


async def upcoming(
    session: AsyncSession,
    chat: Chat,
    start: datetime,
    until: datetime,
    zone: ZoneInfo,
    *,
    only_pickets: bool = False,
    meetings: bool = True,
    rotas: bool = False,
    limit: int | None = None,
) -> Upcoming:
    """Everything in ``[start, until)`` that concerns ``chat``, soonest first; at
    most ``limit`` of each kind. ``only_pickets`` leaves out strikes and ballots,
    ``meetings=False`` the meetings; ``rotas`` adds the rota dates of the chat."""
    concerns = await relevance(session, chat)
    today = start.astimezone(zone).date()
    found = Upcoming()
    pickets = [p for p in await upcoming_pickets(session, start, until) if concerns(p.target)]
    pickets = pickets[:limit]
    counts = await pledge_counts(session, [p.id for p in pickets])
    found.pickets = [picket_line(p, counts.get(p.id, 0), zone, today) for p in pickets]
    if meetings:
        found.meetings = (await meeting_lines(session, chat, start, until, zone))[:limit]
    if rotas:
        found.rotas = (await week_lines(session, chat.id, start, until, zone))[:limit]
    if only_pickets:
        return found
    strikes = [s for s in await upcoming_strikes(session, start, until) if concerns(s.target)]
    ballots = await open_ballots(session, today, until.astimezone(zone).date())
    disputes = await disputes_by_id(
        session, [s.dispute_id for s in strikes] + [b.dispute_id for b in ballots]
    )
    found.strikes = [strike_line(s, disputes[s.dispute_id], zone, today) for s in strikes][:limit]
    found.ballots = [
        ballot_line(b, disputes[b.dispute_id], today)
        for b in ballots
        if concerns(disputes[b.dispute_id].target)
    ][:limit]
    return found
