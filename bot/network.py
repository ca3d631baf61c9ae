"""The organisation's boundary: which chats belong to it, and how a chat joins.

Anyone can add the bot to a chat of their own, so a group chat belongs only once
an admin or TULO approves it: ``/invite`` gives a one-time code (single use,
expiring, stored only as a hash) that anyone in the new chat types as
``/join CODE``; or ``/chats pending`` lists the chats waiting, with an Approve
button. Until then the chat gets only :data:`OUTSIDE` commands and an explanation:
it cannot be tagged, receives no announcements, polls or meetings (targeting
picks approved chats only), and its own admins are not organisers
(:func:`bot.roles.effective_role`).

A private chat is one person's: they may use personal commands there, and its
lists (/strikes, /meetings, /polls) show what reaches the approved chats that
person has used the bot in — nothing, for a stranger, but how to join.

Console chats can only be typed at this machine's terminal, so they are approved
as they first speak; ``[network] open = true`` approves every chat (one trusted
server).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete

from bot.context import Context, UserError
from bot.registry import ButtonAnswer, Command, Kind, Param, Registry, Role
from bot.services import Services
from bot.text import Rich, bold, code, join, rich
from bot.types import Button, ChatKind, Content, Outgoing
from storage.chats import (
    approve_every_chat,
    approved_chats,
    chat_ref,
    chats_waiting,
    direct_chat,
    member_chats,
    redeem_invite,
)
from storage.models import Chat, ChatTag, Invite

# Where chats are approved as they first speak: nobody else can type there.
TRUSTED_PLATFORMS = frozenset({"console"})
# What a chat outside the organisation may use: learning what the bot is, who you
# are, joining — and erasing yourself, which nobody should have to join for.
OUTSIDE = frozenset({"start", "help", "whoami", "join", "forgetme"})
OUTSIDE_BUTTONS = frozenset({"forget"})
# Lists a private chat may ask for; they show only the person's own chats' news.
PRIVATE_LISTS = frozenset({"strikes", "meetings", "polls"})
APPROVE_ACTION = "chat-ok"
INVITE_HOURS = 48
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 12
PENDING_SHOWN = 20
ADMINS_ONLY = "manage which chats belong to the organisation"

HOW_TO_JOIN = (
    "To join, an admin or TULO runs /invite and gives this chat the code; then anyone "
    "here types /join CODE. (They can also approve it from /chats pending.)"
)


def belongs(chat: Chat) -> bool:
    """Whether a group chat is part of the organisation (private chats never are)."""
    return chat.approved and chat.kind != ChatKind.PRIVATE.value


def is_private(chat: Chat) -> bool:
    return chat.kind == ChatKind.PRIVATE.value


def outside(ctx: Context) -> Rich:
    return rich(
        f"This chat isn't part of {ctx.config.bot.name}'s organisation yet, so here I only "
        "answer /start, /help, /whoami and /join. " + HOW_TO_JOIN
    )


def not_a_member(ctx: Context) -> Rich:
    return rich(
        "I don't know you from any of the organisation's chats yet, so there is nothing to "
        "show you here. Use me once in your branch's group chat (send /start there), then "
        "ask me here again. If your group isn't with us yet: " + HOW_TO_JOIN
    )


async def limits(ctx: Context) -> tuple[frozenset[str], Rich] | None:
    """The only commands this chat or person may use yet, and why; ``None``: no limit."""
    if is_private(ctx.chat):
        if ctx.role >= Role.TULO or await member_chats(ctx.session, ctx.chat):
            return None
        return OUTSIDE | PRIVATE_LISTS, not_a_member(ctx)
    if not belongs(ctx.chat):
        return OUTSIDE, outside(ctx)
    return None


async def admit(ctx: Context, command: str) -> None:
    """Refuse, with the way in, a command this chat or person may not use yet."""
    limited = await limits(ctx)
    if limited is not None and command not in limited[0]:
        raise UserError(limited[1])


def button_refusal(ctx: Context, action: str) -> str:
    """Why a press may not act here ("" if it may). Buttons work in private chats
    (each checks its presser) and in approved chats; a chat outside the
    organisation has none of ours but /forgetme's."""
    if is_private(ctx.chat) or belongs(ctx.chat) or action in OUTSIDE_BUTTONS:
        return ""
    return str(outside(ctx))


async def seen_from(ctx: Context) -> list[int]:
    """The chats whose news this chat shows: itself; for a private chat, the
    approved chats its person is in — refused, with how to join, if none."""
    if not is_private(ctx.chat):
        return [ctx.chat.id]
    chats = await member_chats(ctx.session, ctx.chat)
    if not chats:
        raise UserError(not_a_member(ctx))
    return [chat.id for chat in chats]


# --- invites and /join ------------------------------------------------------------------


def code_hash(typed: str) -> str:
    """The stored form of a code: dashes, spaces and case don't matter."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


async def invite(ctx: Context) -> list[Outgoing]:
    now = ctx.clock.now()
    typed = new_code()
    ctx.session.add(
        Invite(
            code_hash=code_hash(typed),
            created_by=ctx.person.id,
            created_at=now,
            expires_at=now + timedelta(hours=INVITE_HOURS),
        )
    )
    text = join(
        [
            rich("Invite code: ", bold(typed)),
            rich(
                "Add me to the new chat, then anyone there types ",
                code(f"/join {typed}"),
                f". It works once, within {INVITE_HOURS} hours. Keep it to yourself "
                "until then: whoever types it brings their chat in.",
            ),
        ]
    )
    if is_private(ctx.chat):
        return [ctx.reply(text)]
    # Never in a group, where everyone would read it (a Telegram group has no
    # answer only the asker sees): in the asker's private chat with the bot.
    direct = await direct_chat(ctx.session, ctx.person, now)
    return [
        Outgoing(direct, Content(text)),
        ctx.reply(
            "I've sent you the invite code in a private message. If it doesn't arrive, "
            "open a private chat with me, send /start, and ask again there."
        ),
    ]


def _welcome(chat: Chat) -> Outgoing:
    return Outgoing(
        chat_ref(chat),
        Content(
            rich(
                bold("This chat is now part of the organisation."),
                " An organiser can /tag it (e.g. region:west-midlands union:unison) so "
                "announcements find it; /help lists everything.",
            )
        ),
    )


async def join_chat(ctx: Context) -> list[Outgoing]:
    if is_private(ctx.chat):
        raise UserError("Type /join in the group chat that should join, not here.")
    if belongs(ctx.chat):
        return [ctx.reply("This chat is already part of the organisation.")]
    typed = ctx.args.get("code", "")
    if not typed:
        if ctx.role < Role.TULO:
            raise UserError(rich("/join needs the invite code. " + HOW_TO_JOIN))
    elif not await redeem_invite(ctx.session, code_hash(typed), ctx.chat.id, ctx.clock.now()):
        raise UserError(
            f"That code doesn't work: it may be mistyped, used already or expired (codes "
            f"last {INVITE_HOURS} hours and work once). Ask an admin or TULO for a new one."
        )
    ctx.chat.approved = True
    return [_welcome(ctx.chat)]


# --- /chats -----------------------------------------------------------------------------


def _name(chat: Chat) -> str:
    return f"#{chat.id} {chat.title or chat.platform_chat_id} ({chat.platform})"


async def list_chats(ctx: Context) -> list[Outgoing]:
    found = await approved_chats(ctx.session)
    if not found:
        return [ctx.reply("No chat is part of the organisation yet. /invite brings one in.")]
    lines: list[Rich] = [rich(bold(f"Chats in the organisation ({len(found):,})"))]
    lines += [
        rich(f"• {_name(chat)} — ", code(" ".join(tags)) if tags else "no tags")
        for chat, tags in found
    ]
    return [ctx.reply(join(lines))]


async def pending(ctx: Context) -> list[Outgoing]:
    waiting = await chats_waiting(ctx.session)
    if not waiting:
        return [ctx.reply("No chat is waiting to join.")]
    shown = waiting[:PENDING_SHOWN]
    lines: list[Rich] = [rich(bold(f"Chats waiting to join ({len(waiting):,})"))]
    lines += [rich(f"• {_name(chat)}") for chat in shown]
    if len(waiting) > PENDING_SHOWN:
        lines.append(rich(f"…and {len(waiting) - PENDING_SHOWN:,} more; approve some first."))
    buttons = tuple(
        (Button(f"Approve #{chat.id}", f"{APPROVE_ACTION}:{chat.id}"),) for chat in shown
    )
    return [ctx.reply(join(lines), buttons=buttons)]


async def approve(ctx: Context, argument: str) -> ButtonAnswer:
    if ctx.role < Role.TULO:
        return ButtonAnswer("Only admins and TULOs can approve chats.")
    chat = await ctx.session.get(Chat, int(argument)) if argument.isdigit() else None
    if chat is None or is_private(chat):
        return ButtonAnswer("That chat is gone; send /chats pending again.")
    if chat.approved:
        return ButtonAnswer(f"{_name(chat)} was already approved.")
    chat.approved = True
    return ButtonAnswer(f"Approved {_name(chat)}.", [_welcome(chat)])


async def remove(ctx: Context) -> list[Outgoing]:
    chat = await ctx.session.get(Chat, ctx.args["id"])
    if chat is None or not belongs(chat):
        raise UserError(f"No approved chat is #{ctx.args['id']}. /chats lists them.")
    if ctx.config.network.open:
        raise UserError(
            "The network is open ([network] open = true): every chat belongs. "
            "Set it to false first."
        )
    chat.approved = False
    # Untagged, so approving it again later targets nothing until an organiser tags it.
    await ctx.session.execute(delete(ChatTag).where(ChatTag.chat_id == chat.id))
    note = Outgoing(
        chat_ref(chat), Content(rich("This chat is no longer part of the organisation."))
    )
    reply = ctx.reply(f"Removed {_name(chat)}: it gets no more announcements, polls or meetings.")
    return [reply] if chat.id == ctx.chat.id else [note, reply]


async def open_network(services: Services) -> None:
    if services.config.network.open:
        async with services.db.session() as session:
            await approve_every_chat(session)


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "invite",
            "Get a one-time code that brings a new chat into the organisation",
            invite,
            role=Role.TULO,
            private=True,
            details=f"The code works once, within {INVITE_HOURS} hours.",
        )
    )
    registry.add(
        Command(
            "join",
            "Bring this chat into the organisation with an invite code",
            join_chat,
            (Param("code", "the code from /invite", Kind.WORD, required=False),),
            example="/join K7QF-2M9X-PA4D",
            details="An admin or TULO may type /join alone to approve the chat.",
        )
    )
    listing = Command(
        "list", "The chats in the organisation, with their tags", list_chats, role=Role.TULO
    )
    registry.add(
        Command(
            "chats",
            "Which chats belong to the organisation",
            subcommands=(
                listing,
                Command(
                    "pending",
                    "Chats waiting to join, with Approve buttons",
                    pending,
                    role=Role.TULO,
                ),
                Command(
                    "remove",
                    "Take a chat out of the organisation",
                    remove,
                    (Param("id", "the chat's number, from /chats", Kind.INT),),
                    role=Role.TULO,
                ),
            ),
            default=listing.name,
            role=Role.TULO,
            example="/chats pending",
        )
    )
    registry.button(APPROVE_ACTION, approve)
    registry.on_start(open_network)
