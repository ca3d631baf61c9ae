"""Discord, through discord.py: slash and ``!`` commands, buttons, and the outbox's sends.

A package because it outgrew one module: ``adapter`` (life-cycle and events in),
``slash`` (slash commands from the registry), ``outgoing`` (deliveries and errors),
``render`` (Markdown, embeds, buttons), ``factory`` (``create_bot()``: the whole
application run by discord.py's own life-cycle) and ``spec`` (the platform as the
core sees it). Importing this package (or ``spec``) does not load discord.py: the
names below are imported on first use.
Imports are absolute, so ``import discord`` in here always reaches discord.py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from adapters.discord.spec import PLATFORM, SPEC, DiscordSettings

if TYPE_CHECKING:
    from adapters.discord.adapter import (
        INVITE_PERMISSIONS,
        DiscordAdapter,
        OrganiseClient,
        intents,
        invite_url,
    )
    from adapters.discord.factory import connected, create_bot, host, identify, publish_commands
    from adapters.discord.outgoing import PACING, ReplyHandle

_LAZY = {
    "adapters.discord.adapter": (
        "INVITE_PERMISSIONS",
        "DiscordAdapter",
        "OrganiseClient",
        "intents",
        "invite_url",
    ),
    "adapters.discord.factory": ("connected", "create_bot", "host", "identify", "publish_commands"),
    "adapters.discord.outgoing": ("PACING", "ReplyHandle"),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "INVITE_PERMISSIONS",
    "PACING",
    "PLATFORM",
    "SPEC",
    "DiscordAdapter",
    "DiscordSettings",
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


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
