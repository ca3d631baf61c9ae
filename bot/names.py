"""Who sees names: members see how many; a chat's organisers (and TULOs and admins)
see who — of those who pressed in that chat only.

Saying you'll go to a meeting or a picket, or how you voted, tells of your union
membership or politics, so a name pressed in one chat is never shown in another,
and a group never sees them: an organiser asking in a group gets the count there
and the names privately.
"""

from __future__ import annotations

from bot.context import Context
from bot.registry import Role
from bot.text import Rich, bold, join, rich
from bot.types import ChatKind, Content, Outgoing
from storage.chats import direct_chat

FOR_ORGANISERS = "Names are shown only to this chat's organisers."
SENT_PRIVATELY = "I've sent you the names privately."


async def names_privately(ctx: Context, here: Rich | str, named: Rich) -> list[Outgoing]:
    """An organiser's answer that names people: in a private chat, ``named`` there;
    in a group, ``here`` (without names) in the chat and ``named`` to the asker alone."""
    if ctx.chat.kind == ChatKind.PRIVATE.value:
        return [ctx.reply(named)]
    direct = await direct_chat(ctx.session, ctx.person, ctx.clock.now())
    return [ctx.reply(here), Outgoing(direct, Content(named))]


async def who_is_coming(ctx: Context, count: Rich | str, names: list[str]) -> list[Outgoing]:
    """The answer to ``/meeting going`` and ``/picket going``: ``count`` for
    everyone; for the chat's organisers also ``names``, those who pressed here."""
    if ctx.role < Role.ORGANISER:
        return [ctx.reply(rich(count, " ", FOR_ORGANISERS))]
    where = ctx.chat.title or "this chat"
    listed = ", ".join(names) if names else "nobody yet"
    named = join([rich(count), rich(bold(f"Said so in {where}: "), listed)])
    return await names_privately(ctx, rich(count, " ", SENT_PRIVATELY), named)
