"""/forgetme: erase everything the bot holds about a person.

A person row is a platform id and a display name; everything personal hangs off it
with ``ON DELETE CASCADE``, so deleting it is complete. A confirm button guards
against a slip of the thumb. The button carries the person's own row id and is
checked against the presser, so nobody can erase someone else.
"""

from __future__ import annotations

from bot.context import Context
from bot.registry import ButtonAnswer, Command, Registry
from bot.types import Button, Outgoing

ACTION = "forget"


async def forgetme(ctx: Context) -> list[Outgoing]:
    return [
        ctx.reply(
            "This erases what I hold about you: your name, your roles, your answers and RSVPs. "
            "Messages already posted in chats stay. Are you sure?",
            buttons=((Button("Yes, forget me", f"{ACTION}:{ctx.person.id}"),),),
        )
    ]


async def confirm(ctx: Context, argument: str) -> ButtonAnswer:
    if argument != str(ctx.person.id):
        return ButtonAnswer("That button isn't yours or has expired — send /forgetme yourself.")
    await ctx.session.delete(ctx.person)
    return ButtonAnswer("Done: I have forgotten you. If you use me again, I start afresh.")


def register(registry: Registry) -> None:
    registry.add(Command("forgetme", "Erase what the bot holds about you", forgetme, private=True))
    registry.button(ACTION, confirm)
