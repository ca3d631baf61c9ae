"""Following newcomers up, so nobody who joins is left uncontacted.

Where a chat turned it on (``/newcomers on``), each joiner goes on the chat's list
and its organisers get a private note with "I'll contact them": the first press
claims the newcomer (later presses say who did), and the claimer gets "Contacted
✔", which takes them off the list — and deletes what was kept. A newcomer nobody
claimed within ``[newcomers] remind_after_days`` is raised again to the
organisers, once, and listed for TULOs and admins beside the chat's weekly digest.

Only approved chats have a list (the core welcomes nobody elsewhere), and every
press is checked against the newcomer's own chat: the presser must organise *it*
(a note is pressed in a private chat, where nobody is an organiser of anything).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.network import belongs
from bot.newcomers.welcome import chat_name
from bot.outbox import BULK_LANE
from bot.registry import ButtonAnswer, Role
from bot.roles import effective_role
from bot.services import Services
from bot.text import Rich, bold, counted, join, rich
from bot.types import Button, Content, Outgoing
from bot.values import button_id
from storage.chats import direct_chat
from storage.models import Chat, Person
from storage.newcomers import (
    Newcomer,
    claim_newcomer,
    people_by_key,
    people_with_roles,
    sent_before,
    unreminded,
    waiting,
)

CLAIM = "nc-claim"
DONE = "nc-done"
HELP = "nc-help"
CLAIM_LABEL = "I'll contact them"
DONE_LABEL = "Contacted ✔"
HELP_LABEL = "👋 I'd like to help"
GONE = "They have been marked contacted already: their details are deleted."


def ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    return "today" if days < 1 else f"{counted(days, 'day')} ago"


def claim_button(newcomer: Newcomer) -> Button:
    return Button(CLAIM_LABEL, f"{CLAIM}:{newcomer.id}")


def remind_key(newcomer_id: int) -> str:
    return f"newcomers:remind:{newcomer_id}"


# --- who hears of newcomers ------------------------------------------------------------


async def tulos_and_admins(session: AsyncSession, services: Services) -> list[Person]:
    granted = await people_with_roles(session, ("tulo", "admin"), None)
    named = await people_by_key(session, services.config.roles.admins)
    return list({person.id: person for person in [*granted, *named]}.values())


async def organisers(session: AsyncSession, services: Services, chat: Chat) -> list[Person]:
    """Who organises the chat by a grant; TULOs and admins if nobody does, so a
    newcomer is never told of to nobody."""
    granted = await people_with_roles(session, ("organiser",), chat.id)
    return granted or await tulos_and_admins(session, services)


async def privately(
    session: AsyncSession,
    services: Services,
    people: Iterable[Person],
    content: Content,
    key: str,
) -> list[Outgoing]:
    """``content`` to each person's private chat, once per ``key`` and person."""
    now = services.clock.now()
    return [
        Outgoing(await direct_chat(session, person, now), content, f"{key}:{person.id}")
        for person in people
    ]


# --- a newcomer joins, and is raised again ---------------------------------------------


async def tell_organisers(
    session: AsyncSession, services: Services, chat: Chat, newcomer: Newcomer
) -> list[Outgoing]:
    """The note to the chat's organisers that someone joined, and the reminder set."""
    arm(services, newcomer)
    text = join(
        [
            rich("👋 ", bold(newcomer.display_name or "Someone"), f" joined {chat_name(chat)}."),
            rich("Could you say hello? Press the button if you will: the others then know."),
        ]
    )
    content = Content(text, buttons=((claim_button(newcomer),),))
    people = await organisers(session, services, chat)
    return await privately(session, services, people, content, f"newcomers:note:{newcomer.id}")


def arm(services: Services, newcomer: Newcomer) -> None:
    days = services.config.newcomers.remind_after_days
    when = newcomer.joined_at + timedelta(days=days)
    callback = functools.partial(remind, services, newcomer.id)
    services.timer.at(remind_key(newcomer.id), when, callback)


async def remind(services: Services, newcomer_id: int) -> None:
    """Raise a newcomer nobody claimed again, once."""
    now = services.clock.now()
    messages: list[Outgoing] = []
    async with services.db.session() as session:
        newcomer = await session.get(Newcomer, newcomer_id)
        chat = await session.get(Chat, newcomer.chat_id) if newcomer else None
        if newcomer is None or chat is None or newcomer.claimed_by is not None:
            return
        if newcomer.reminded_at is not None or not belongs(chat):
            return
        newcomer.reminded_at = now
        text = rich(
            "⏰ ",
            bold(newcomer.display_name or "Someone"),
            f" joined {chat_name(chat)} {ago(newcomer.joined_at, now)} and nobody has said "
            "they'll contact them yet.",
        )
        content = Content(text, buttons=((claim_button(newcomer),),))
        people = await organisers(session, services, chat)
        messages = await privately(session, services, people, content, remind_key(newcomer.id))
        await services.outbox.enqueue(session, messages, BULK_LANE)


async def resume(services: Services) -> None:
    """Set the reminders again at start, from the table."""
    async with services.db.session() as session:
        for newcomer in await unreminded(session):
            arm(services, newcomer)


async def overdue_for_tulos(
    session: AsyncSession, services: Services, chat: Chat, now: datetime
) -> list[Outgoing]:
    """Beside a chat's weekly digest: its newcomers nobody claimed in time, to each
    TULO and admin privately."""
    days = services.config.newcomers.remind_after_days
    late = [
        newcomer
        for newcomer, claimer in await waiting(session, [chat.id])
        if not claimer and now - newcomer.joined_at >= timedelta(days=days)
    ]
    if not late:
        return []
    lines: list[Rich] = [
        rich(bold(f"Newcomers in {chat_name(chat)} nobody has claimed for {days}+ days")),
        *(
            rich(f"• {newcomer.display_name} — joined {ago(newcomer.joined_at, now)}")
            for newcomer in late
        ),
        rich("Its organisers can claim them with /newcomers there."),
    ]
    year, week, _ = now.isocalendar()
    people = await tulos_and_admins(session, services)
    key = f"newcomers:digest:{chat.id}:{year}-W{week:02d}"
    return await privately(session, services, people, Content(join(lines)), key)


# --- the buttons ----------------------------------------------------------------------


async def _organised(ctx: Context, argument: str) -> tuple[Newcomer, Chat] | str:
    """The newcomer a button names and their chat, if the presser organises it;
    else why not."""
    newcomer_id = button_id(argument)
    newcomer = await ctx.session.get(Newcomer, newcomer_id) if newcomer_id else None
    if newcomer is None:
        return GONE
    chat = await ctx.session.get(Chat, newcomer.chat_id)
    if chat is None or not belongs(chat):
        return "That chat is no longer part of the organisation."
    role = await effective_role(ctx.session, ctx.config, ctx.person, chat, ctx.event.user)
    if role < Role.ORGANISER:
        return f"Only organisers of {chat_name(chat)} can follow its newcomers up."
    return newcomer, chat


async def _claimer(ctx: Context, newcomer: Newcomer) -> str:
    person = await ctx.session.get(Person, newcomer.claimed_by) if newcomer.claimed_by else None
    return person.display_name if person else "Someone"


async def claim(ctx: Context, argument: str) -> ButtonAnswer:
    found = await _organised(ctx, argument)
    if isinstance(found, str):
        return ButtonAnswer(found)
    newcomer, chat = found
    name = newcomer.display_name or "them"
    if newcomer.claimed_by == ctx.person.id:
        return ButtonAnswer(f"You said you'd contact {name} already.")
    if not await claim_newcomer(ctx.session, newcomer.id, ctx.person.id, ctx.clock.now()):
        await ctx.session.refresh(newcomer)
        return ButtonAnswer(f"{await _claimer(ctx, newcomer)} is contacting {name} already.")
    ctx.services.timer.cancel(remind_key(newcomer.id))
    done = Button(DONE_LABEL, f"{DONE}:{newcomer.id}")
    note = rich(
        "You said you'll contact ",
        bold(name),
        f" ({chat_name(chat)}, joined {ago(newcomer.joined_at, ctx.clock.now())}). Press ",
        f"{DONE_LABEL} once you have: their details are then deleted.",
    )
    direct = await direct_chat(ctx.session, ctx.person, ctx.clock.now())
    return ButtonAnswer(
        f"Thank you — you're contacting {name}.",
        [Outgoing(direct, Content(note, buttons=((done,),)))],
    )


async def contacted(ctx: Context, argument: str) -> ButtonAnswer:
    found = await _organised(ctx, argument)
    if isinstance(found, str):
        return ButtonAnswer(found)
    newcomer, _chat = found
    if newcomer.claimed_by is None:
        return ButtonAnswer(f"Press “{CLAIM_LABEL}” first, so the others know.")
    if newcomer.claimed_by != ctx.person.id:
        claimer = await _claimer(ctx, newcomer)
        return ButtonAnswer(f"{claimer} is contacting them: only they can mark it done.")
    await ctx.session.delete(newcomer)
    ctx.services.timer.cancel(remind_key(newcomer.id))
    name = newcomer.display_name or "They"
    return ButtonAnswer(f"Marked contacted — thank you! {name}'s details are deleted.")


async def offer_help(ctx: Context, argument: str) -> ButtonAnswer:
    """ "I'd like to help", pressed under a private welcome: the chat's organisers
    are told, privately, once."""
    chat_id = button_id(argument)
    chat = await ctx.session.get(Chat, chat_id) if chat_id else None
    if chat is None or not belongs(chat):
        return ButtonAnswer("That chat is no longer part of the organisation.")
    key = f"newcomers:help:{chat.id}:{ctx.person.id}"
    thanks = f"Thank you! The organisers of {chat_name(chat)} will be in touch."
    if await sent_before(ctx.session, key + ":"):
        return ButtonAnswer(f"{thanks} (I told them when you first pressed.)")
    text = rich(
        "🙋 ", bold(ctx.person.display_name), f" joined {chat_name(chat)} and would like to help."
    )
    people = await organisers(ctx.session, ctx.services, chat)
    return ButtonAnswer(
        thanks, await privately(ctx.session, ctx.services, people, Content(text), key)
    )
