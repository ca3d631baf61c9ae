"""/mydata and /forgetme: a person's own data, to take away or to erase.

``/mydata`` sends everything stored about the asker as a JSON file, in a private
chat only: a group would show it to everyone. ``/forgetme`` erases it all
(:func:`storage.personal.erase_person`) after a confirm button, which carries the
person's own row id and is checked against the presser, so nobody can erase someone
else; then the deleted rows are scrubbed from the database files too.
"""

from __future__ import annotations

import json

from bot.context import Context
from bot.registry import ButtonAnswer, Command, Registry
from bot.types import Attachment, Button, ChatKind, Outgoing
from storage.personal import ERASED_TABLES, erase_person, export_key, personal_data
from storage.scrub import scrub_after_commit

ACTION = "forget"
EXPORT_FILE = "my-data.json"


async def mydata(ctx: Context) -> list[Outgoing]:
    if ctx.event.chat.kind is not ChatKind.PRIVATE:
        return [
            ctx.reply(
                "Your data is yours alone: send /mydata to me in a private chat and I'll "
                "send you the file there.",
                private=True,
            )
        ]
    now = ctx.clock.now()
    data = await personal_data(ctx.session, ctx.person)
    data["exported_at"] = now.isoformat()
    file = Attachment(
        EXPORT_FILE,
        json.dumps(data, indent=2, ensure_ascii=False).encode(),
        "application/json",
    )
    reply = ctx.reply(
        "Everything I hold about you, as a file. /forgetme erases it.", attachment=file
    )
    return [Outgoing(reply.chat, reply.content, dedupe_key=export_key(ctx.person.id, now))]


async def forgetme(ctx: Context) -> list[Outgoing]:
    return [
        ctx.reply(
            "This erases what I hold about you: your name and id, your roles, your named "
            "votes, RSVPs, pledges and rota sign-ups, and your name in messages I keep. "
            "Anonymous votes stay as counts; messages already posted in chats stay. Are you sure?",
            buttons=((Button("Yes, forget me", f"{ACTION}:{ctx.person.id}"),),),
        )
    ]


async def confirm(ctx: Context, argument: str) -> ButtonAnswer:
    if argument != str(ctx.person.id):
        return ButtonAnswer("That button isn't yours or has expired — send /forgetme yourself.")
    now = ctx.clock.now()
    handed_on = [message for hook in ctx.registry.forget for message in await hook(ctx)]
    await erase_person(ctx.session, ctx.person, now)
    await scrub_after_commit(ctx.session, ctx.services.db, ERASED_TABLES, now)
    return ButtonAnswer(
        "Done: I have forgotten you. If you use me again, I start afresh.", handed_on
    )


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "mydata",
            "Get everything the bot holds about you, as a file",
            mydata,
            private=True,
        )
    )
    registry.add(Command("forgetme", "Erase what the bot holds about you", forgetme, private=True))
    registry.button(ACTION, confirm)
