"""The Discord adapter: gateway events in, outbox deliveries out, over discord.py.

Everything arrives as a core event — slash commands and ``!`` text commands as
:class:`CommandIn`, button presses as :class:`ButtonIn`, server joins and member
joins as life-cycle events. The core's failures are logged here, and apologised
for where someone waits, rather than left to discord.py's generic error log.
Everything leaves through :meth:`DiscordAdapter.deliver` (``outgoing``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from adapters.base import EventHandler
from adapters.discord import render, slash
from adapters.discord.outgoing import PACING, ReplyHandle, Sender
from bot.clock import Clock, SystemClock
from bot.config import DiscordSettings
from bot.delivery import Pacing
from bot.registry import Command
from bot.types import (
    BotAdded,
    BotRemoved,
    ButtonIn,
    ChatKind,
    ChatRef,
    CommandIn,
    Delivery,
    Event,
    EventResult,
    MemberJoined,
    UserRef,
)

log = logging.getLogger(__name__)

Listener = Callable[..., Coroutine[Any, Any, None]]

PLATFORM = "discord"

# discord.py sleeps through 429s itself and retries (5 tries per request); a wait longer
# than this raises RateLimited instead, which becomes RetryAfter so the outbox waits
# rather than a send. 30 s is the smallest value discord.py accepts.
MAX_RATELIMIT_WAIT = 30.0

BUTTON_FAILED = "Sorry, that button didn't work — try again."
COMMAND_FAILED = "Sorry, something went wrong — try again."


def intents(settings: DiscordSettings) -> discord.Intents:
    """The fewest intents that work.

    ``members`` (for member joins) and ``message_content`` (for ``!`` commands) are
    *privileged*: switch them on under Bot → Privileged Gateway Intents in the
    Developer Portal, or the gateway refuses to connect.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True
    if settings.text_commands:
        wanted.guild_messages = True
        wanted.message_content = True
    return wanted


class OrganiseClient(commands.Bot):
    """discord.py's bot, set up for an adapter that only translates.

    Text commands are read by the adapter, not by ``discord.ext.commands``, so the
    core parses one syntax. There is no member cache and no chunking at start: events
    carry the members we need, and downloading every member of every server is slow.
    """

    def __init__(self, settings: DiscordSettings) -> None:
        super().__init__(
            command_prefix=settings.prefix,
            help_command=None,
            intents=intents(settings),
            allowed_mentions=render.NO_MENTIONS,
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )

    async def on_message(self, message: discord.Message, /) -> None:
        """Replaces ``ext.commands``' own command processing (see the class docstring)."""


class DiscordAdapter:
    """Carries the core to Discord: see the module docstring."""

    def __init__(
        self,
        token: str,
        settings: DiscordSettings,
        commands: Sequence[Command] = (),
        *,
        clock: Clock | None = None,
    ) -> None:
        self._token = token
        self._settings = settings
        self._on_event: EventHandler | None = None
        self._gateway: asyncio.Task[None] | None = None
        self.client = OrganiseClient(settings)
        self._sender = Sender(self.client, clock or SystemClock())
        for command in commands:
            self.client.tree.add_command(slash.build(command, self._on_slash))

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def pacing(self) -> Pacing:
        return PACING

    # --- life-cycle ---------------------------------------------------------------

    def attach(self, on_event: EventHandler) -> None:
        """Wire the event handlers without connecting.

        Tests feed gateway payloads to an attached client; an application that logs
        in by itself calls this, then :meth:`sync_commands` from its ``setup_hook``.
        """
        if self._on_event is None:
            listeners: dict[str, Listener] = {
                "on_interaction": self._on_interaction,
                "on_guild_join": self._on_guild_join,
                "on_guild_remove": self._on_guild_remove,
                "on_member_join": self._on_member_join,
            }
            if self._settings.text_commands:
                listeners["on_message"] = self._on_message
            for name, listener in listeners.items():
                self.client.add_listener(listener, name)
        self._on_event = on_event

    async def start(self, on_event: EventHandler) -> None:
        """Log in, publish slash commands, connect, and return once the gateway is ready."""
        self.attach(on_event)
        await self.client.login(self._token)
        await self.sync_commands()
        self._gateway = asyncio.create_task(self.client.connect(), name="discord-gateway")
        self._gateway.add_done_callback(_gateway_stopped)
        ready = asyncio.create_task(self.client.wait_until_ready())
        await asyncio.wait({ready, self._gateway}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise ConnectionError("the Discord gateway stopped before it was ready; see the log")

    async def stop(self) -> None:
        await self.client.close()
        if self._gateway is not None:
            await asyncio.gather(self._gateway, return_exceptions=True)
            self._gateway = None

    async def sync_commands(self) -> None:
        """Publish the slash commands to each of ``settings.guilds`` (they show at once,
        handy while testing), or globally when none is set; commands published the other
        way stay until a sync of that kind replaces them. A failure is logged, not fatal:
        ``!`` commands and buttons keep working."""
        tree = self.client.tree
        try:
            if not self._settings.guilds:
                await tree.sync()
            for guild_id in self._settings.guilds:
                guild = discord.Object(id=guild_id)
                tree.copy_global_to(guild=guild)
                await tree.sync(guild=guild)
        except (discord.DiscordException, aiohttp.ClientError, OSError) as error:
            log.warning("could not publish Discord slash commands: %s", error)

    # --- events in ------------------------------------------------------------------

    async def _dispatch(self, event: Event) -> EventResult:
        if self._on_event is None:
            raise RuntimeError("DiscordAdapter.attach() was not called")
        return await self._on_event(event)

    async def _notify(self, event: Event) -> None:
        """Hand over an event nobody waits on; a failure is logged, not raised into discord.py."""
        try:
            await self._dispatch(event)
        except Exception:
            log.exception("the core failed on a Discord %s", type(event).__name__)

    async def _on_slash(
        self, interaction: discord.Interaction, name: str, text: str, private: bool
    ) -> None:
        handle = await _acknowledge(interaction, thinking=True, ephemeral=private)
        chat = self._interaction_chat(interaction)
        event = CommandIn(chat, user_ref(interaction.user), name, text, handle)
        await self._answer(interaction, event, COMMAND_FAILED)

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        """Every button press, on any message the bot ever sent, lands here by custom_id."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        handle = await _acknowledge(interaction, thinking=False, ephemeral=False)
        chat = self._interaction_chat(interaction)
        event = ButtonIn(chat, user_ref(interaction.user), custom_id, handle)
        await self._answer(interaction, event, BUTTON_FAILED)

    async def _answer(self, interaction: discord.Interaction, event: Event, apology: str) -> None:
        """Run the event; show its notice (or an apology) only to the person who acted."""
        try:
            notice = (await self._dispatch(event)).notice
        except Exception:
            log.exception("the core failed on a Discord %s", type(event).__name__)
            notice = apology
        if not notice or not interaction.response.is_done():
            return
        try:
            await interaction.followup.send(
                render.escape(notice), ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )
        except discord.HTTPException as error:
            log.warning("could not answer a Discord interaction: %s", error)

    def _interaction_chat(self, interaction: discord.Interaction) -> ChatRef:
        channel: Any = interaction.channel
        if channel is None:
            channel = self.client.get_partial_messageable(interaction.channel_id or 0)
        return chat_ref(channel, private=interaction.guild_id is None)

    async def _on_message(self, message: discord.Message) -> None:
        """``!help poll`` is ``/help poll``: the same text goes to the core."""
        prefix = self._settings.prefix
        if message.author.bot or not message.content.startswith(prefix):
            return
        words = message.content[len(prefix) :].split(maxsplit=1)
        if not words:
            return
        text = words[1] if len(words) > 1 else ""
        chat = chat_ref(message.channel, private=message.guild is None)
        await self._notify(CommandIn(chat, user_ref(message.author), words[0].lower(), text))

    async def _on_guild_join(self, guild: discord.Guild) -> None:
        channel = welcome_channel(guild)
        if channel is not None:
            await self._notify(BotAdded(chat_ref(channel)))

    async def _on_guild_remove(self, guild: discord.Guild) -> None:
        for channel in [*guild.text_channels, *guild.threads]:
            await self._notify(BotRemoved(chat_ref(channel)))

    async def _on_member_join(self, member: discord.Member) -> None:
        channel = welcome_channel(member.guild)
        if channel is not None and not member.bot:
            await self._notify(MemberJoined(chat_ref(channel), user_ref(member)))

    # --- deliveries out -------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        """Send, edit or delete; return the message ids of a send (one per part)."""
        return await self._sender.deliver(delivery)


# --- translation helpers ------------------------------------------------------------


async def _acknowledge(interaction: discord.Interaction, *, thinking: bool, ephemeral: bool) -> str:
    """Defer at once — Discord drops an interaction not acknowledged within 3 s — and
    return the reply handle the core's answer will come back with."""
    try:
        await interaction.response.defer(thinking=thinking, ephemeral=ephemeral)
    except discord.HTTPException as error:
        log.warning("could not acknowledge a Discord interaction: %s", error)
        return ""
    return ReplyHandle(interaction.application_id, interaction.id, interaction.token).encode()


def chat_ref(channel: Any, *, private: bool = False) -> ChatRef:
    """A text channel or thread is a group chat titled ``#name (Server)``."""
    if private:
        return ChatRef(PLATFORM, str(channel.id), "Direct message", ChatKind.PRIVATE)
    name = getattr(channel, "name", None) or str(channel.id)
    guild = getattr(channel, "guild", None)
    title = f"#{name} ({guild.name})" if guild is not None and guild.name else f"#{name}"
    return ChatRef(PLATFORM, str(channel.id), title, ChatKind.GROUP)


def user_ref(user: discord.User | discord.Member) -> UserRef:
    """*Manage Server* makes a chat admin; role names go to the core as they are."""
    if not isinstance(user, discord.Member):
        return UserRef(PLATFORM, str(user.id), user.display_name)
    permissions = user.resolved_permissions or user.guild_permissions
    roles = tuple(role.name for role in user.roles if not role.is_default())
    return UserRef(PLATFORM, str(user.id), user.display_name, permissions.manage_guild, roles)


def welcome_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The server's system channel, else its first text channel the bot may post in."""
    me = guild.me
    for channel in [guild.system_channel, *guild.text_channels]:
        if channel is not None and (me is None or channel.permissions_for(me).send_messages):
            return channel
    return None


def _gateway_stopped(task: asyncio.Task[None]) -> None:
    if task.cancelled() or task.exception() is None:
        return
    error = task.exception()
    if isinstance(error, discord.PrivilegedIntentsRequired):
        log.error(
            "Discord refused the gateway: enable the Server Members intent (and Message "
            "Content, for ! commands) under Bot → Privileged Gateway Intents"
        )
    else:
        log.error("the Discord gateway stopped: %r", error)
