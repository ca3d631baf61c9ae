"""Discord as the core sees it: its ``[discord]`` table, its token's variable, the
role ids that make organisers and TULOs, and how to build its adapter. Light on
purpose: discord.py is imported only when the adapter is built."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import ConfigError, bounded
from bot.platform import PlatformRoles, PlatformSpec, Setup

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

PLATFORM = "discord"
ROLE_ID = re.compile(r"\d{1,20}:\d{1,20}")  # "<server id>:<role id>"


@dataclass(frozen=True)
class DiscordSettings:
    prefix: str = "!"
    text_commands: bool = True
    guilds: list[int] = field(default_factory=list)  # empty: sync slash commands globally
    # Roles of the organisation's own servers, as "<server id>:<role id>": holders
    # are organisers (of the chats where they type) or TULOs. Ids, never names:
    # anyone can make a role called "TULO" in a server of their own.
    organiser_roles: list[str] = field(default_factory=list)
    tulo_roles: list[str] = field(default_factory=list)
    # Several processes on one database split the gateway: each connects one shard
    # (shard_id of shard_count); 0 shards means one process holding the whole bot.
    shard_count: int = bounded(0, 0, 65536)
    shard_id: int = bounded(0, 0, 65535)


def check(settings: DiscordSettings) -> None:
    """Server ids positive, every role a server id and a role id, the shard one
    of the shards."""
    if settings.shard_count and settings.shard_id >= settings.shard_count:
        raise ConfigError(
            f"discord.shard_id should be from 0 to {settings.shard_count - 1} "
            f"(one less than discord.shard_count), not {settings.shard_id}"
        )
    if any(guild <= 0 for guild in settings.guilds):
        raise ConfigError("discord.guilds should hold server ids (Copy Server ID in Discord)")
    for name in ("organiser_roles", "tulo_roles"):
        for entry in getattr(settings, name):
            if not ROLE_ID.fullmatch(entry):
                raise ConfigError(
                    f"discord.{name} entry {entry!r} should be a server id and a role id, "
                    'like "123456789012345678:234567890123456789" (Developer Mode → Copy ID)'
                )


def roles(settings: DiscordSettings) -> PlatformRoles:
    """A member's roles arrive as the same "<server id>:<role id>" (``adapter.user_ref``)."""
    return PlatformRoles(
        tulo=frozenset(settings.tulo_roles), organiser=frozenset(settings.organiser_roles)
    )


def build(setup: Setup[DiscordSettings]) -> DiscordAdapter:
    from adapters.discord.adapter import DiscordAdapter
    from storage.platform_state import StateStore

    return DiscordAdapter(
        setup.settings,
        setup.commands,
        state=StateStore(setup.database),
        token=setup.token,
        on_failure=setup.on_failure,
    )


async def identify(settings: DiscordSettings, token: str) -> str:
    from adapters.discord.factory import identify as bot_name

    return f"Discord accepts the token of {await bot_name(token)}"


SPEC = PlatformSpec(
    PLATFORM,
    DiscordSettings,
    build,
    token_env="DISCORD_BOT_TOKEN",
    check=check,
    roles=roles,
    identify=identify,
)
