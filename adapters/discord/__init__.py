"""Discord, through discord.py: slash and ``!`` commands, buttons, and the outbox's sends.

A package because it outgrew one module: ``adapter`` (life-cycle and events in),
``slash`` (slash commands from the registry), ``outgoing`` (deliveries and errors)
and ``render`` (Markdown, embeds, buttons).
Imports are absolute, so ``import discord`` in here always reaches discord.py.
"""

from adapters.discord.adapter import PLATFORM, DiscordAdapter, OrganiseClient, intents
from adapters.discord.outgoing import PACING, ReplyHandle

__all__ = [
    "PACING",
    "PLATFORM",
    "DiscordAdapter",
    "OrganiseClient",
    "ReplyHandle",
    "intents",
]
