"""Answers meant for the asker alone, in a chat where everyone reads every answer.

A command declared private (``/whoami``), a refusal or a hint is marked
``Content.private``. Where the platform can show it to the asker alone (a Discord
slash command's ephemeral reply, the console's "(only you)") it stays in the chat.
Where it cannot (a Telegram group, a Discord text command: the event says
``shared``), posting it would tell the whole group; so it goes to the asker's
private chat with the bot — opened by the bot where the platform allows that (a
Discord DM), else only when they have started one. Otherwise the group sees only a
short hint with a link that starts that chat — never the answer itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.text import rich
from bot.types import Button, ChatKind, CommandIn, Content, Event, Outgoing, TextIn
from storage.chats import direct_chat, find_person, started_chat

START_PAYLOAD = "private"
HINT = (
    "I've a private answer for you — tap the button to start a chat with me, then ask again there."
)
START_LABEL = "Start a private chat"


async def route(
    session: AsyncSession, event: Event, messages: list[Outgoing], now: datetime
) -> list[Outgoing]:
    """``messages`` with every private answer to a shared chat sent privately, or
    replaced by one start hint if the asker has no private chat with the bot."""
    if not isinstance(event, CommandIn | TextIn) or not event.shared:
        return messages
    if event.chat.kind is ChatKind.PRIVATE:
        return messages

    def secret(message: Outgoing) -> bool:
        return message.chat == event.chat and message.content.private

    if not any(secret(m) for m in messages):
        return messages
    person = await find_person(session, event.user.platform, event.user.user_id)
    direct = await started_chat(session, person) if person is not None else None
    if direct is None and person is not None and event.opens_private:
        direct = await direct_chat(session, person, now)
    routed = [m for m in messages if not secret(m)]
    if direct is None:
        return [*routed, hint(event)]
    return [
        *routed,
        *(
            Outgoing(direct, replace(m.content, private=False, reply_handle=""))
            for m in messages
            if secret(m)
        ),
    ]


def hint(event: CommandIn | TextIn) -> Outgoing:
    button = Button(START_LABEL, START_PAYLOAD, start_link=True)
    return Outgoing(
        event.chat, Content(rich(HINT), buttons=((button,),), reply_handle=event.reply_handle)
    )
