"""Who may do what.

Roles rise member < organiser < tulo < admin. Admins come from config
(``[roles] admins``) or ``/grant``; TULOs hold everywhere; an organiser organises
the chat they were granted in — and, in a chat the organisation approved
(:mod:`bot.network`), a platform's own chat admins (if configured) and holders of
a configured platform organiser role are organisers there too. Platform roles
count by the ids their platform's settings configure (:func:`bot.platform.
platform_roles`), never by name. Admins grant any role; TULOs grant organiser.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config, platform_names
from bot.context import Context, UserError
from bot.network import belongs
from bot.platform import platform_roles
from bot.registry import Command, Kind, Param, Registry, Role
from bot.text import Rich, bold, join, rich
from bot.types import Outgoing, UserRef
from storage.chats import find_person, members_named
from storage.models import Chat, Person, RoleGrant

GLOBAL_ROLES = {Role.TULO, Role.ADMIN}
GRANTABLE = ("organiser", "tulo", "admin")


async def effective_role(
    session: AsyncSession, config: Config, person: Person, chat: Chat, user: UserRef
) -> Role:
    role = Role.MEMBER
    if user.key in config.roles.admins:
        return Role.ADMIN
    grants = await session.scalars(
        select(RoleGrant.role).where(
            RoleGrant.person_id == person.id,
            or_(RoleGrant.chat_id.is_(None), RoleGrant.chat_id == chat.id),
        )
    )
    for granted in grants:
        role = max(role, Role[granted.upper()])
    # Configured role ids only (a server's own role *names* mean nothing), and a
    # chat's own admins or organiser roles only in a chat the organisation approved.
    held = set(user.platform_roles)
    configured = platform_roles(config, user.platform)
    if held & configured.tulo:
        role = max(role, Role.TULO)
    if belongs(chat) and (
        (config.roles.platform_admins_are_organisers and user.is_chat_admin)
        or held & configured.organiser
    ):
        role = max(role, Role.ORGANISER)
    return role


async def _resolve(ctx: Context, who: str) -> Person:
    platform, sep, ident = who.partition(":")
    if sep and platform in platform_names():
        person = await find_person(ctx.session, platform, ident)
        if person is None:
            raise UserError(f"I haven't met {who} yet: they need to send me a message first.")
        return person
    matches = await members_named(ctx.session, ctx.chat, who)
    if not matches:
        raise UserError(
            f"Nobody called “{who}” has spoken in this chat yet. "
            "Use their exact display name, or platform:id (shown by /whoami)."
        )
    if len(matches) > 1:
        ids = ", ".join(f"{p.platform}:{p.platform_user_id}" for p in matches)
        raise UserError(f"More than one person is called “{who}”. Use one of: {ids}")
    return matches[0]


def _check_can_grant(ctx: Context, role: Role) -> None:
    allowed = ctx.role >= Role.ADMIN or (ctx.role >= Role.TULO and role is Role.ORGANISER)
    if not allowed:
        raise UserError("Only admins can grant or revoke that role (TULOs can grant organiser).")


@dataclass(frozen=True)
class _Change:
    """The role change a /grant or /revoke asks for, checked and resolved."""

    person: Person
    role: Role
    chat_id: int | None  # None: the role holds everywhere

    @property
    def where(self) -> str:
        return "everywhere" if self.chat_id is None else "in this chat"

    def matches(self) -> list[ColumnElement[bool]]:
        return [
            RoleGrant.person_id == self.person.id,
            RoleGrant.role == self.role.label,
            RoleGrant.chat_id.is_(None)
            if self.chat_id is None
            else RoleGrant.chat_id == self.chat_id,
        ]

    def says(self, ctx: Context, state: str) -> list[Outgoing]:
        name = bold(self.person.display_name)
        return [ctx.reply(rich(name, f" {state} {self.role.label} {self.where}."))]


async def _change(ctx: Context) -> _Change:
    role = Role[ctx.args["role"].upper()]
    _check_can_grant(ctx, role)
    person = await _resolve(ctx, ctx.args["person"])
    return _Change(person, role, None if role in GLOBAL_ROLES else ctx.chat.id)


async def grant(ctx: Context) -> list[Outgoing]:
    change = await _change(ctx)
    if await ctx.session.scalar(select(RoleGrant.id).where(*change.matches())) is not None:
        return change.says(ctx, "is already")
    ctx.session.add(
        RoleGrant(
            person_id=change.person.id,
            role=change.role.label,
            chat_id=change.chat_id,
            granted_by=ctx.person.id,
            created_at=ctx.clock.now(),
        )
    )
    return change.says(ctx, "is now")


async def revoke(ctx: Context) -> list[Outgoing]:
    change = await _change(ctx)
    result = await ctx.session.execute(delete(RoleGrant).where(*change.matches()))
    return change.says(ctx, "is no longer" if getattr(result, "rowcount", 0) else "was not")


async def roles(ctx: Context) -> list[Outgoing]:
    rows = await ctx.session.execute(
        select(Person.display_name, Person.platform, Person.platform_user_id, RoleGrant.role)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(or_(RoleGrant.chat_id.is_(None), RoleGrant.chat_id == ctx.chat.id))
        .order_by(RoleGrant.role, Person.display_name)
    )
    lines: list[Rich] = [rich(bold("Roles here"))]
    lines += [
        rich(f"• {name} ({platform}:{ident}) — {role}") for name, platform, ident, role in rows
    ]
    lines += [rich(f"• {admin} — admin (from config)") for admin in ctx.config.roles.admins]
    if ctx.config.roles.platform_admins_are_organisers:
        lines.append(rich("This chat's own admins are organisers here too."))
    return [ctx.reply(join(lines))]


async def whoami(ctx: Context) -> list[Outgoing]:
    user = ctx.event.user
    return [
        ctx.reply(
            join(
                [
                    rich("You are ", bold(ctx.person.display_name or user.display_name)),
                    rich(f"Id: {user.key}"),
                    rich(f"Your role here: {ctx.role.label}"),
                ]
            )
        )
    ]


def register(registry: Registry) -> None:
    person = Param("person", "their display name in this chat, or platform:id", Kind.TEXT)
    role = Param("role", "organiser, tulo or admin", Kind.CHOICE, choices=GRANTABLE)
    registry.add(
        Command("whoami", "Show who the bot thinks you are and your role", whoami, private=True)
    )
    registry.add(
        Command(
            "grant",
            "Give someone a role",
            grant,
            (person, role),
            example='/grant "Sam Jones" organiser',
            role=Role.TULO,
            details=(
                "Admins grant any role; TULOs grant organiser only. Organiser applies to this "
                "chat; tulo and admin apply everywhere. The person must have sent me a "
                "message first (in this chat, for a name; e.g. /whoami)."
            ),
        )
    )
    registry.add(
        Command(
            "revoke",
            "Take a role away",
            revoke,
            (person, role),
            example='/revoke "Sam Jones" organiser',
            role=Role.TULO,
        )
    )
    registry.add(Command("roles", "List who holds which role here", roles))
