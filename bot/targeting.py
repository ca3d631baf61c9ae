"""Which chats an announcement reaches: a tag expression, checked against roles.

``region:west-midlands``, ``union:unison and region:cannock``,
``(region:cannock or region:stafford) and not union:gmb``, ``all``. Parsed with
pyparsing's infix notation (``not`` binds tightest, then ``and``, then ``or``).
Private chats are never targets. Organisers reach only chats they organise; TULOs
and admins reach any chat, on every platform at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyparsing as pp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, UserError
from bot.registry import Role
from bot.text import counted
from storage.models import Chat, ChatTag, RoleGrant

Predicate = Callable[[frozenset[str]], bool]

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


def parse_target(text: str) -> Target:
    cleaned = " ".join(text.lower().split())
    try:
        result = _EXPRESSION.parse_string(cleaned, parse_all=True)
    except pp.ParseException as error:
        raise UserError(
            f"I couldn't read the target “{text}” (near character {error.col}). Use tags joined "
            f"with and / or / not, or all, e.g. {EXAMPLE}"
        ) from None
    predicate: Predicate = result[0]
    return Target(cleaned, predicate)


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
    """Every active group chat whose tags satisfy ``target``, oldest first."""
    chats = list(
        await session.scalars(
            select(Chat).where(Chat.active.is_(True), Chat.kind != "private").order_by(Chat.id)
        )
    )
    tags: dict[int, set[str]] = {}
    for chat_id, tag in await session.execute(select(ChatTag.chat_id, ChatTag.tag)):
        tags.setdefault(chat_id, set()).add(tag)
    return [chat for chat in chats if target.matches(frozenset(tags.get(chat.id, ())))]


async def resolve(ctx: Context, text: str, doing: str) -> list[Chat]:
    """The chats ``text`` targets that this person may reach, or a friendly refusal.

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
    if not chats:
        raise UserError(f"No chat has tags matching “{target.text}”. See /tags in each chat.")
    return chats
