"""/welcome and /newcomers, and what happens when someone joins an approved chat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, UserError
from bot.network import is_private
from bot.newcomers import follow_up
from bot.newcomers.welcome import MAX_WELCOME, welcome_text
from bot.registry import Command, Kind, Param, Registry, Role
from bot.services import Services
from bot.text import Rich, bold, counted, italic, join, rich
from bot.types import Button, Content, Outgoing, UserRef
from bot.values import fit
from storage.chats import chat_ref, find_person, started_chat
from storage.models import Chat
from storage.newcomers import (
    NewcomerSettings,
    add_newcomer,
    drop_chat_list,
    people_with_roles,
    settings_of,
    waiting,
)

# A join told again this soon after is the same join (Telegram may send a service
# message and a member update; two processes may each hear one).
TOLD_TWICE = timedelta(minutes=10)
LISTED = 20  # newcomers shown by /newcomers, each unclaimed one with a button


async def joined(
    session: AsyncSession, services: Services, chat: Chat, user: UserRef
) -> list[Outgoing]:
    """Welcome the newcomer — in the chat, and privately where they have started a
    chat with the bot — and, with follow-up on, put them on the list and tell the
    organisers. The core calls this for approved chats only."""
    now = services.clock.now()
    settings = await session.get(NewcomerSettings, chat.id)
    messages: list[Outgoing] = []
    if settings is not None and settings.follow_up:
        newcomer, added = await add_newcomer(session, chat.id, user, now)
        if not added and now - newcomer.joined_at < TOLD_TWICE:
            return []
        if added:
            messages += await follow_up.tell_organisers(session, services, chat, newcomer)
    if settings is not None and not settings.welcome_on:
        return messages
    config = services.config
    text = await welcome_text(
        session,
        chat,
        user.display_name,
        settings,
        now,
        config.zone,
        config.retention.newcomers_days,
    )
    welcome = [Outgoing(chat_ref(chat), Content(text))]
    person = await find_person(session, user.platform, user.user_id)
    direct = await started_chat(session, person) if person is not None else None
    if direct is not None:
        helping = Button(follow_up.HELP_LABEL, f"{follow_up.HELP}:{chat.id}")
        welcome.append(Outgoing(direct, Content(text, buttons=((helping,),))))
    return welcome + messages


def _group(ctx: Context, command: str) -> None:
    if is_private(ctx.chat):
        raise UserError(f"Use /{command} in the group chat it is for, not here.")


async def _shown(ctx: Context, settings: NewcomerSettings | None, head: str) -> list[Outgoing]:
    """The welcome someone joining now would get, under ``head``; with the asker's
    name in it."""
    config = ctx.config
    text = await welcome_text(
        ctx.session,
        ctx.chat,
        ctx.person.display_name,
        settings,
        ctx.clock.now(),
        config.zone,
        config.retention.newcomers_days,
    )
    return [ctx.reply(join([rich(italic(head)), text]))]


async def set_welcome(ctx: Context) -> list[Outgoing]:
    _group(ctx, "welcome")
    words = fit(ctx.args["text"], MAX_WELCOME, "The welcome")
    settings = await settings_of(ctx.session, ctx.chat.id)
    settings.welcome_text, settings.welcome_on = words, True
    return await _shown(ctx, settings, "Welcome set. Someone joining here now gets:")


async def welcome_off(ctx: Context) -> list[Outgoing]:
    _group(ctx, "welcome")
    settings = await settings_of(ctx.session, ctx.chat.id)
    settings.welcome_on = False
    return [ctx.reply("No welcome here any more. /welcome set turns it on again.")]


async def preview(ctx: Context) -> list[Outgoing]:
    _group(ctx, "welcome")
    settings = await ctx.session.get(NewcomerSettings, ctx.chat.id)
    if settings is not None and not settings.welcome_on:
        return [ctx.reply("The welcome is off here. /welcome set turns it on.")]
    return await _shown(ctx, settings, "Preview of the welcome someone joining here gets:")


async def follow_up_on(ctx: Context) -> list[Outgoing]:
    _group(ctx, "newcomers")
    settings = await settings_of(ctx.session, ctx.chat.id)
    settings.follow_up = True
    days = ctx.config.newcomers.remind_after_days
    lines = [
        rich(bold("Newcomer follow-up on.")),
        rich(
            "Whoever joins here goes on a list, and this chat's organisers are told "
            "privately, with a button to say who will contact them. Someone nobody has "
            f"claimed after {days} days is raised again. /newcomers lists them; "
            "/newcomers off stops it."
        ),
    ]
    if not await people_with_roles(ctx.session, ("organiser",), ctx.chat.id):
        lines.append(
            rich(
                "Nobody has been granted organiser of this chat, so TULOs and admins get "
                "the notes until someone is (/grant <person> organiser)."
            )
        )
    return [ctx.reply(join(lines))]


async def follow_up_off(ctx: Context) -> list[Outgoing]:
    _group(ctx, "newcomers")
    settings = await settings_of(ctx.session, ctx.chat.id)
    settings.follow_up = False
    for newcomer, _ in await waiting(ctx.session, [ctx.chat.id]):
        ctx.services.timer.cancel(follow_up.remind_key(newcomer.id))
    dropped = await drop_chat_list(ctx.session, ctx.chat.id)
    gone = f" Its list of {dropped} is deleted." if dropped else ""
    return [ctx.reply(f"Newcomer follow-up off here.{gone}")]


async def listing(ctx: Context) -> list[Outgoing]:
    _group(ctx, "newcomers")
    settings = await ctx.session.get(NewcomerSettings, ctx.chat.id)
    if settings is None or not settings.follow_up:
        return [
            ctx.reply(
                "Newcomer follow-up is off here: /newcomers on puts whoever joins on a "
                "list for the organisers."
            )
        ]
    rows = await waiting(ctx.session, [ctx.chat.id])
    if not rows:
        return [ctx.reply("Nobody here is waiting to be contacted.")]
    now = ctx.clock.now()
    lines: list[Rich] = [rich(bold(f"Not yet contacted here ({len(rows)})"))]
    buttons: list[tuple[Button, ...]] = []
    for newcomer, claimer in rows[:LISTED]:
        days = (now - newcomer.joined_at).days
        waited = f"waiting {counted(days, 'day')}" if days else "joined today"
        who = f"{claimer} is contacting them" if claimer else "nobody has claimed them"
        lines.append(rich("• ", bold(newcomer.display_name), f" — {waited}; {who}"))
        if not claimer:
            button = follow_up.claim_button(newcomer)
            label = f"{button.label}: {newcomer.display_name[:30]}"
            buttons.append((Button(label, button.data),))
    if len(rows) > LISTED:
        lines.append(rich(f"…and {len(rows) - LISTED} more."))
    return [ctx.reply(join(lines), buttons=tuple(buttons))]


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "welcome",
            "What someone joining this chat is told, with what is coming up here",
            subcommands=(
                Command(
                    "set",
                    "Set this chat's welcome; {name} and {chat} are filled in",
                    set_welcome,
                    (Param("text", f"the welcome, up to {MAX_WELCOME} characters", Kind.REST),),
                    role=Role.ORGANISER,
                    example='/welcome set "Hello {name}, welcome to {chat}!"',
                ),
                Command("off", "Welcome nobody here", welcome_off, role=Role.ORGANISER),
                Command("preview", "See this chat's welcome as a newcomer would", preview),
            ),
            role=Role.ORGANISER,
            example="/welcome preview",
            details=(
                "The welcome lists what is coming up here — strikes and pickets, the next "
                "meeting, open polls — and someone who has started a private chat with me "
                "gets it there too, with an “I'd like to help” button."
            ),
        )
    )
    list_command = Command(
        "list",
        "Who joined and is not yet contacted, and for how long",
        listing,
        role=Role.ORGANISER,
        private=True,
    )
    registry.add(
        Command(
            "newcomers",
            "Follow up everyone who joins this chat, so nobody is left uncontacted",
            subcommands=(
                list_command,
                Command(
                    "on", "Put whoever joins here on a list", follow_up_on, role=Role.ORGANISER
                ),
                Command(
                    "off", "Stop, and delete this chat's list", follow_up_off, role=Role.ORGANISER
                ),
            ),
            default=list_command.name,
            role=Role.ORGANISER,
            example="/newcomers on",
        )
    )
    registry.on_member_joined(joined)
    registry.button(follow_up.CLAIM, follow_up.claim)
    registry.button(follow_up.DONE, follow_up.contacted)
    registry.button(follow_up.HELP, follow_up.offer_help)
    registry.on_start(follow_up.resume)
    registry.on_digest(follow_up.overdue_for_tulos)
