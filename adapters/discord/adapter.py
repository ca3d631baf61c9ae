"""The Discord adapter: gateway events in, outbox deliveries out, over discord.py.

Everything arrives as a core event — slash commands and ``!`` text commands as
:class:`CommandIn`, button presses as :class:`ButtonIn`, server joins and member
joins as life-cycle events. The core's failures are logged here, and apologised
for where someone waits, rather than left to discord.py's generic error log.
Everything leaves through :meth:`DiscordAdapter.deliver` (``outgoing``).

Given its token (``organise-bot run``), the adapter connects the client when it is
started and closes it when stopped, like any other adapter. Without one, the
connection is whoever owns the :class:`OrganiseClient`: they log it in and connect
it (``bot.start(token)``; see ``factory``), and the client starts the application —
and so this adapter — from its ``setup_hook``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord import render, slash
from adapters.discord.events import EventMirrors
from adapters.discord.gateway import close, explained, open_gateway
from adapters.discord.outgoing import PACING, ReplyHandle, Sender
from adapters.discord.spec import PLATFORM, DiscordSettings
from bot.clock import Clock, SystemClock
from bot.delivery import Pacing
from bot.platform import EventHandler
from bot.registry import Command
from bot.text import join
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
    Op,
    UserRef,
)
from storage.platform_state import StateStore

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

Listener = Callable[..., Coroutine[Any, Any, None]]


# discord.py sleeps through 429s itself and retries (5 tries per request); a wait longer
# than this raises RateLimited instead, which becomes RetryAfter so the outbox waits
# rather than a send. 30 s is the smallest value discord.py accepts.
MAX_RATELIMIT_WAIT = 30.0

BUTTON_FAILED = "Sorry, that button didn't work — try again."
COMMAND_FAILED = "Sorry, something went wrong — try again."

# What the bot does in a channel: read it and its events, post (in threads too), show
# announcements as embeds and attach calendar files; and in a server, keep meetings
# in its Events list. Editing and deleting its own
# messages, answering interactions and ephemeral messages need no permission.
# docs/discord.md explains it.
INVITE_PERMISSIONS = discord.Permissions(
    manage_events=True,
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
)
INVITE_SCOPES = ("bot", "applications.commands")

# The bot never joins a voice channel: discord.py's warnings at every start that the
# voice libraries are missing would only worry the person running it.
discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False


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

    Once given an application (:meth:`host`), the client runs it: ``setup_hook`` —
    after login, before the gateway connects — starts it, and :meth:`close` stops it
    before the HTTP session closes, so sends in flight still finish.
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
            # Where the config splits the bot across processes, each connects one
            # shard: Discord sends it the events of the servers in that shard,
            # ``(server_id >> 22) % shard_count``.
            shard_id=settings.shard_id if settings.shard_count else None,
            shard_count=settings.shard_count or None,
        )
        self.app: App | None = None
        self._app_running = False

    def host(self, app: App) -> None:
        self.app = app

    async def setup_hook(self) -> None:
        if self.app is not None:
            self._app_running = True
            await self.app.start()

    async def close(self) -> None:
        if self.app is not None and self._app_running:
            self._app_running = False
            await self.app.stop()
        await super().close()

    async def on_message(self, message: discord.Message, /) -> None:
        """Replaces ``ext.commands``' own command processing (see the class docstring)."""


class DiscordAdapter:
    """Carries the core to Discord: see the module docstring."""

    def __init__(
        self,
        settings: DiscordSettings,
        commands: Sequence[Command] = (),
        *,
        clock: Clock | None = None,
        state: StateStore | None = None,
        token: str = "",
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._settings = settings
        self._token = token
        self._on_failure = on_failure
        self._gateway: asyncio.Task[None] | None = None
        self._on_event: EventHandler | None = None
        self._listening = False
        self.client = OrganiseClient(settings)
        self._sender = Sender(self.client, clock or SystemClock())
        self._events = EventMirrors(self.client, clock or SystemClock())
        self.state = state
        for command in commands:
            self.client.tree.add_command(slash.build(command, self._on_slash))
        self.client.tree.error(self._on_tree_error)

    @property
    def state(self) -> StateStore | None:
        """Where the published commands' hash and the servers' scheduled events are
        kept; without it commands are published at every start and meetings are
        not mirrored as events."""
        return self._events.state

    @state.setter
    def state(self, store: StateStore | None) -> None:
        self._events.state = store

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def pacing(self) -> Pacing:
        return PACING

    # --- life-cycle ---------------------------------------------------------------

    def attach(self, on_event: EventHandler) -> None:
        """Wire the event handlers and start listening, without connecting.

        :meth:`start` does this for the application; tests call it directly to feed
        gateway payloads to a client that is only logged in.
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
        self._listening = True

    async def start(self, on_event: EventHandler) -> None:
        """Connect (given the token; else the client's owner has logged it in, and
        this runs from its ``setup_hook``), listen, and publish the slash commands."""
        if self.client.user is None:
            if not self._token:
                raise RuntimeError(
                    "the Discord client is not logged in: give the adapter its token, or "
                    "start it with bot.start(token) (see adapters.discord.create_bot)"
                )
            self._gateway = await open_gateway(self.client, self._token)
            self._gateway.add_done_callback(self._gateway_ended)
        self.attach(on_event)
        await self.sync_commands()
        log.info("invite the Discord bot with %s", invite_url(self.client))

    async def stop(self) -> None:
        """Stop listening; close the connection if :meth:`start` opened it."""
        self._listening = False
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            await close(self.client, gateway)

    def _gateway_ended(self, gateway: asyncio.Task[None]) -> None:
        """discord.py reconnects by itself: a gateway that ends while we did not
        close it was refused for good; whoever runs the bot is told why."""
        if gateway is not self._gateway or gateway.cancelled():
            return
        error = gateway.exception()
        if error is None:
            return
        if self._on_failure is None:
            log.error("the Discord gateway stopped: %s", explained(error))
        else:
            self._on_failure(explained(error))

    async def sync_commands(self) -> None:
        """:meth:`publish_commands` where they changed since last published. A
        failure is logged, not fatal: ``!`` commands and buttons keep working."""
        try:
            await self.publish_commands()
        except (discord.DiscordException, aiohttp.ClientError, OSError) as error:
            log.warning("could not publish Discord slash commands: %s", error)

    async def publish_commands(self, *, force: bool = False) -> list[str]:
        """Publish the slash commands to each of ``settings.guilds`` (they show at once,
        handy while testing), or globally when none is set; commands published the other
        way stay until a sync of that kind replaces them. Unless ``force``d, a target
        whose commands are as last published (by their hash in :attr:`state`) is
        skipped. Returns the targets published to ("global" or a server id)."""
        tree = self.client.tree
        guilds = [discord.Object(id=guild_id) for guild_id in self._settings.guilds]
        published: list[str] = []
        targets: list[discord.Object | None] = [*guilds] or [None]
        for guild in targets:
            if guild is not None:
                tree.copy_global_to(guild=guild)
            target = "global" if guild is None else str(guild.id)
            key = f"discord:commands:{self.client.application_id}:{target}"
            digest = commands_hash(tree, guild)
            if not force and self.state is not None and await self.state.get(key) == digest:
                log.info("Discord slash commands (%s) unchanged since last published", target)
                continue
            await tree.sync(guild=guild)
            if self.state is not None:
                await self.state.set(key, digest)
            published.append(target)
        return published

    # --- events in ------------------------------------------------------------------

    async def _dispatch(self, event: Event) -> EventResult:
        """Hand an event to the core; while stopping (or before the application has
        started) it is dropped — a slash command then gets the generic apology."""
        if self._on_event is None or not self._listening:
            raise RuntimeError("the Discord adapter is not listening")
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

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """A slash command this version does not have — Discord's menu can lag behind
        an update — goes to the core, which says so and suggests the right one."""
        if isinstance(error, app_commands.CommandNotFound) and not interaction.response.is_done():
            await self._on_slash(interaction, error.name, "", True)
            return
        log.error("a Discord slash command failed", exc_info=error)

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
        if interaction.guild_id is None:
            return direct_ref(interaction.user)
        channel: Any = interaction.channel
        if channel is None:
            channel = self.client.get_partial_messageable(interaction.channel_id or 0)
        return chat_ref(channel)

    async def _on_message(self, message: discord.Message) -> None:
        """``!help poll`` is ``/help poll``: the same text goes to the core."""
        prefix = self._settings.prefix
        if message.author.bot or not message.content.startswith(prefix):
            return
        words = message.content[len(prefix) :].split(maxsplit=1)
        if not words:
            return
        text = words[1] if len(words) > 1 else ""
        name, user = words[0].lower(), user_ref(message.author)
        if message.guild is None:
            event = CommandIn(direct_ref(message.author), user, name, text)
        else:
            # Unlike a slash command's, a text command's answer cannot be ephemeral:
            # the whole channel reads it, so answers for the asker alone go by DM.
            channel = chat_ref(message.channel)
            event = CommandIn(channel, user, name, text, shared=True, opens_private=True)
        await self._notify(event)

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
        """Send, edit or delete; return the message ids of a send (one per part).
        A message about a meeting first brings the server's event in step with it
        (see ``events``); a first refusal there adds the core's note to it."""
        mirror = delivery.content.event
        private = delivery.chat_kind is ChatKind.PRIVATE
        if mirror is not None and delivery.op is not Op.DELETE and not private:
            note = await self._events.keep(int(delivery.chat_id), mirror)
            if note is not None:
                content = delivery.content
                noted = replace(content, text=join([content.text, note]))
                delivery = replace(delivery, content=noted)
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
    placeholder = thinking and not ephemeral
    handle = ReplyHandle(interaction.application_id, interaction.id, interaction.token, placeholder)
    return handle.encode()


def commands_hash(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> str:
    """A digest of exactly what a sync would send for ``guild`` (or globally)."""
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def invite_url(client: discord.Client) -> str:
    """The link a server admin opens to add the bot, with exactly the permissions it uses."""
    return discord.utils.oauth_url(
        client.application_id or 0, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
    )


def direct_ref(user: discord.abc.User) -> ChatRef:
    """A direct message is addressed by the person's own id, as ``storage.chats.
    direct_chat`` addresses it: one private chat per person, whichever side began it."""
    return ChatRef(PLATFORM, str(user.id), user.display_name, ChatKind.PRIVATE)


def chat_ref(channel: Any) -> ChatRef:
    """A text channel or thread is a group chat titled ``#name (Server)``."""
    name = getattr(channel, "name", None) or str(channel.id)
    guild = getattr(channel, "guild", None)
    title = f"#{name} ({guild.name})" if guild is not None and guild.name else f"#{name}"
    return ChatRef(PLATFORM, str(channel.id), title, ChatKind.GROUP)


def user_ref(user: discord.User | discord.Member) -> UserRef:
    """*Manage Server* makes a chat admin; roles go to the core as
    ``<server id>:<role id>`` — ids, never names, which anyone can copy in a server
    of their own (the config names the organisation's roles the same way)."""
    if not isinstance(user, discord.Member):
        return UserRef(PLATFORM, str(user.id), user.display_name)
    permissions = user.resolved_permissions or user.guild_permissions
    roles = tuple(f"{user.guild.id}:{role.id}" for role in user.roles if not role.is_default())
    return UserRef(PLATFORM, str(user.id), user.display_name, permissions.manage_guild, roles)


def welcome_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The server's system channel, else its first text channel the bot may post in."""
    me = guild.me
    for channel in [guild.system_channel, *guild.text_channels]:
        if channel is not None and (me is None or channel.permissions_for(me).send_messages):
            return channel
    return None
