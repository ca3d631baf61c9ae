"""Discord, through discord.py: slash and ``!`` commands, buttons, and the outbox's sends.

A package because it outgrew one module: ``adapter`` (life-cycle and events in),
``slash`` (slash commands from the registry), ``outgoing`` (deliveries and errors),
``render`` (Markdown, embeds, buttons) and ``factory`` (``create_bot()``: the whole
application run by discord.py's own life-cycle).
Imports are absolute, so ``import discord`` in here always reaches discord.py.
"""

from adapters.discord.adapter import (
    INVITE_PERMISSIONS,
    PLATFORM,
    DiscordAdapter,
    OrganiseClient,
    intents,
    invite_url,
)
from adapters.discord.factory import connected, create_bot, host, identify, publish_commands
from adapters.discord.outgoing import PACING, ReplyHandle

__all__ = [
    "INVITE_PERMISSIONS",
    "PACING",
    "PLATFORM",
    "DiscordAdapter",
    "OrganiseClient",
    "ReplyHandle",
    "connected",
    "create_bot",
    "host",
    "identify",
    "intents",
    "invite_url",
    "publish_commands",
]
