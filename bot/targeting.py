"""Which chats an announcement reaches: a tag expression, checked against roles.

``region:west-midlands``, ``union:unison and region:cannock``,
``(region:cannock or region:stafford) and not union:gmb``, ``all``. Parsed with
pyparsing's infix notation (``not`` binds tightest, then ``and``, then ``or``).
Private chats and chats outside the organisation (not approved, :mod:`bot.network`)
are never targets. Organisers reach only chats they organise; TULOs and admins reach
any chat, on every platform at once.

An expression is bounded (:data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` brackets
and ``not`` inside each other) before pyparsing sees it: its matcher is a chain of
nested calls, one per level, and a thousand levels overflow Python's stack. One
stored before these bounds (or otherwise unreadable) matches nothing
(:func:`stored_target`) rather than break every listing that checks it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import pyparsing as pp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, UserError
from bot.registry import Role
from bot.text import counted
from bot.values import visible
from storage.models import Chat, ChatTag, RoleGrant

log = logging.getLogger(__name__)

Predicate = Callable[[frozenset[str]], bool]

MAX_LENGTH = 500
MAX_DEPTH = 20
_WORDS = re.compile(r"[()]|[^\s()]+")

_TAG = pp.Regex(r"[a-z0-9][a-z0-9-]*:[a-z0-9][a-z0-9-]*")
_ALL = pp.CaselessKeyword("all")
_NOT, _AND, _OR = (pp.CaselessKeyword(word) for word in ("not", "and", "or"))


def _tag(tokens: pp.ParseResults) -> Predicate:
    tag = str(tokens[0])
    return lambda tags: tag in tags


def _everything(tokens: pp.ParseResults) -> Predicate:
    return lambda tags: True


def _negate(tokens: pp.ParseResults) -> Predicate:
    inner: Predicate = tokens[0][1]
    return lambda tags: not inner(tags)


def _all_of(tokens: pp.ParseResults) -> Predicate:
    parts: list[Predicate] = list(tokens[0][0::2])
    return lambda tags: all(part(tags) for part in parts)


def _any_of(tokens: pp.ParseResults) -> Predicate:
    parts: list[Predicate] = list(tokens[0][0::2])
    return lambda tags: any(part(tags) for part in parts)


_OPERAND = _ALL.set_parse_action(_everything) | _TAG.copy().set_parse_action(_tag)
_EXPRESSION = pp.infix_notation(  # type: ignore[no-untyped-call]
    _OPERAND,
    [
        (_NOT, 1, pp.OpAssoc.RIGHT, _negate),
        (_AND, 2, pp.OpAssoc.LEFT, _all_of),
        (_OR, 2, pp.OpAssoc.LEFT, _any_of),
    ],
)

EXAMPLE = "region:west-midlands and union:unison"


@dataclass(frozen=True)
class Target:
    text: str
    matches: Predicate


def depth(text: str) -> int:
    r"""How deeply ``text`` nests: open brackets plus the ``not``\ s waiting for
    their operand, at the deepest point (``not (a:b or not c:d)`` is 3)."""
    deepest = 0
    waiting = [0]  # per open bracket: the nots before it still waiting for an operand
    for word in _WORDS.findall(text):
        if word == "(":
            waiting.append(0)
        elif word == ")":
            if len(waiting) > 1:
                waiting.pop()
            waiting[-1] = 0  # the bracket was its nots' operand
        elif word == "not":
            waiting[-1] += 1
        else:
            waiting[-1] = 0
        deepest = max(deepest, len(waiting) - 1 + sum(waiting))
    return deepest


def parse_target(text: str) -> Target:
    """``text`` as a target, or a refusal saying what is wrong with it."""
    cleaned = visible(text).lower()
    if len(cleaned) > MAX_LENGTH:
        raise UserError(
            f"That target is {len(cleaned):,} characters long; keep it to {MAX_LENGTH}. "
            "Give the chats you mean a shared tag and name that instead."
        )
    nesting = depth(cleaned)
    if nesting > MAX_DEPTH:
        raise UserError(
            f"That target nests {nesting} deep in brackets and nots; keep it to {MAX_DEPTH}, "
            f"e.g. {EXAMPLE}"
        )
    try:
        result = _EXPRESSION.parse_string(cleaned, parse_all=True)
    except pp.ParseException as error:
        raise UserError(
            f"I couldn't read the target “{text}” (near character {error.col}). Use tags joined "
            f"with and / or / not, or all, e.g. {EXAMPLE}"
        ) from None
    predicate: Predicate = result[0]
    return Target(cleaned, predicate)


def _nothing(tags: frozenset[str]) -> bool:
    return False


# Stored expressions already warned about, so a listing run every minute logs each once.
_warned: set[str] = set()


def stored_target(text: str) -> Target:
    """A target read back from the database. One that can no longer be read (stored
    before the bounds, or by hand) matches no chat, with a warning logged once: a
    listing must never break on it."""
    try:
        return parse_target(text)
    except (UserError, RecursionError, pp.ParseBaseException):
        if text not in _warned:
            _warned.add(text)
            log.warning("a stored target can't be read and matches no chat: %.80r", text)
        return Target(text, _nothing)


async def organised_chat_ids(ctx: Context) -> set[int] | None:
    """The chats this person may announce to; ``None`` means every chat."""
    if ctx.role >= Role.TULO:
        return None
    if ctx.role < Role.ORGANISER:
        return set()
    granted = await ctx.session.scalars(
        select(RoleGrant.chat_id).where(
            RoleGrant.person_id == ctx.person.id,
            RoleGrant.role == Role.ORGANISER.label,
            RoleGrant.chat_id.is_not(None),
        )
    )
    return {chat_id for chat_id in granted if chat_id is not None} | {ctx.chat.id}


async def matching_chats(session: AsyncSession, target: Target) -> list[Chat]:
    """Every active group chat of the organisation (approved: :mod:`bot.network`)
    whose tags satisfy ``target``, oldest first."""
    chats = list(
        await session.scalars(
            select(Chat)
            .where(Chat.active.is_(True), Chat.approved.is_(True), Chat.kind != "private")
            .order_by(Chat.id)
        )
    )
    tags: dict[int, set[str]] = {}
    for chat_id, tag in await session.execute(select(ChatTag.chat_id, ChatTag.tag)):
        tags.setdefault(chat_id, set()).add(tag)
    return [chat for chat in chats if target.matches(frozenset(tags.get(chat.id, ())))]


async def reachable(ctx: Context, text: str, doing: str) -> tuple[Target, list[Chat]]:
    """The chats ``text`` targets now, all of which this person may reach (there
    may be none yet), or a friendly refusal.

    Organisers who target chats they do not organise are told how many were left
    out, rather than the whole announcement silently shrinking.
    """
    ctx.require(Role.ORGANISER, doing)
    target = parse_target(text)
    chats = await matching_chats(ctx.session, target)
    allowed = await organised_chat_ids(ctx)
    if allowed is not None:
        refused = [chat for chat in chats if chat.id not in allowed]
        if refused:
            raise UserError(
                f"“{target.text}” matches {counted(len(refused), 'chat')} you don't organise. "
                "Organisers can only reach their own chats; a TULO or admin can send to all "
                "of them."
            )
    return target, chats


async def resolve(ctx: Context, text: str, doing: str) -> list[Chat]:
    """The chats ``text`` targets that this person may reach: at least one."""
    target, chats = await reachable(ctx, text, doing)
    if not chats:
        raise UserError(f"No chat has tags matching “{target.text}”. See /tags in each chat.")
    return chats
