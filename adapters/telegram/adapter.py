"""The adapter's life-cycle: a PTB ``Application`` receiving updates by long
polling or webhook, and the outbox's transport."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypedDict

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram import error as tg
from telegram.constants import BotCommandLimit, FloodLimit
from telegram.ext import Application, ApplicationBuilder, TypeHandler, Updater

from adapters.telegram.incoming import ANSWERS_AT_ONCE, AdminCache, Incoming
from adapters.telegram.ordering import UpdateOrder
from adapters.telegram.outgoing import carry_out
from adapters.telegram.redact import protect_token, redact
from adapters.telegram.spec import PLATFORM, TelegramSettings
from adapters.telegram.transport import AiohttpRequest
from bot import faults
from bot.config import ConfigError
from bot.delivery import Limit, Pacing, Scope, Transient
from bot.faults import StartupError
from bot.platform import EventHandler
from bot.registry import Command, Role
from bot.types import Delivery

log = logging.getLogger(__name__)

# Only what we translate. channel_post: commands its admins post in a channel.
# chat_member (other people's joins and leaves) must be
# asked for by name, and comes only from groups where the bot is an administrator;
# elsewhere the join service messages are what we have (Telegram leaves them out in
# large groups, hence both).
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
    Update.CHANNEL_POST,
)

# Telegram's FAQ, "My bot is hitting limits, how do I avoid this?"
# (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
# in one chat "avoid sending more than one message per second"; bulk notifications
# are limited to "30 messages per second or so"; and the bot "will not be able to
# send more than 20 messages per minute to the same group". PTB's
# telegram.constants.FloodLimit carries the same figures, so we take them from it.
#
# A send holds its slot until its outcome is recorded (so that a crash resends at
# most this many, bot/outbox/sender.py): 16, where 8 kept the pace when a slot was freed at
# the answer. At 30 messages a second that covers round trips and recording of up
# to half a second; unpaced, recording in batches of a few keeps the rate up.
# Catching up 0.1 s of late timer wake-ups keeps the rate at the limit, and the
# pacer's sliding window over all chats stops it from ever going over (0 429s,
# bench/telegram.py).
PACING = Pacing(
    limits=(
        Limit(FloodLimit.MESSAGES_PER_SECOND, 1.0, Scope.ALL),
        Limit(FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP, 60.0, Scope.GROUP),
        Limit(FloodLimit.MESSAGES_PER_SECOND_PER_CHAT, 1.0, Scope.CHAT),
    ),
    max_in_flight=16,
    catch_up_seconds=0.1,
)
# The outbox sends through a Bot of its own, with a connection for each send in
# flight. The application's Bot answers button presses and looks up admins, with
# one more connection for that; getUpdates has its own. Separate pools, so that a
# broadcast filling every sending connection never keeps a press waiting for its
# answer, nor the next getUpdates.
APP_CONNECTIONS = ANSWERS_AT_ONCE + 1

# Where PTB sends Bot API calls unless [telegram] base_url says otherwise.
DEFAULT_BASE_URL = "https://api.telegram.org/bot"

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class _Urls(TypedDict, total=False):
    """``Bot``'s address keywords, only those configured."""

    base_url: str
    base_file_url: str


class TelegramAdapter:
    """Telegram for the core (events in) and the outbox (deliveries out).

    ``commands`` fill Telegram's command menus at each start, each shown to those
    whose role may use it (:func:`menus`); ``admins`` are the Telegram user ids the
    config makes admins, whose private chats list every command.
    ``request_timeout`` bounds every Bot API call, so a hung request becomes a
    :class:`~bot.delivery.Transient` the outbox can retry.
    """

    platform = PLATFORM

    def __init__(
        self,
        token: str,
        settings: TelegramSettings,
        commands: Sequence[Command] = (),
        *,
        admins: Sequence[int] = (),
        request_timeout: float = 10.0,
    ) -> None:
        protect_token(token)
        self._token = token
        self._settings = settings
        self._menus = menus(commands, admins) if commands else []
        self._timeout = request_timeout
        self._app: AnyApplication | None = None
        self._sender: Bot | None = None

    @property
    def pacing(self) -> Pacing:
        return PACING

    async def start(self, on_event: EventHandler) -> None:
        """Connect (getMe), push the command menu, and begin receiving updates;
        returns once updates are flowing to ``on_event``."""
        if self._app is not None:
            raise RuntimeError("the Telegram adapter is already running")
        app = self._build()
        incoming = Incoming(on_event, AdminCache(app.bot))
        app.add_handler(TypeHandler(Update, incoming.dispatch))
        sender = Bot(self._token, request=self._request(PACING.max_in_flight), **self._urls())
        try:
            async with _plainly(self._base_url):
                await app.initialize()
            await sender.initialize()
            await self._push_commands(app.bot)
            await app.start()
            await self._listen(app.updater)
        except BaseException:
            await _shut_down(app)
            await sender.shutdown()
            raise
        self._app, self._sender = app, sender

    async def identify(self) -> str:
        """The bot's @username, from the Bot API (getMe): the token and the address
        checked, without receiving anything (``organise-bot check``)."""
        bot = Bot(self._token, request=self._request(1), **self._urls())
        try:
            async with _plainly(self._base_url):
                await bot.initialize()
            return f"@{bot.username}"
        finally:
            await bot.shutdown()

    async def stop(self) -> None:
        app, self._app = self._app, None
        sender, self._sender = self._sender, None
        if app is not None:
            await _shut_down(app)
        if sender is not None:
            await sender.shutdown()

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        """Carry out one outbox row, once: errors are mapped, never retried here."""
        if self._sender is None:
            raise Transient("the Telegram adapter is not running")
        return await carry_out(self._sender, delivery)

    def _build(self) -> AnyApplication:
        builder = (
            ApplicationBuilder()
            .token(self._token)
            .job_queue(None)  # the core has its own scheduler
            # Chats at once, each chat's messages in order (a ChatMoved before the
            # next command) and each person's presses: see ordering.py.
            .concurrent_updates(UpdateOrder())
            .request(self._request(APP_CONNECTIONS))
            .get_updates_request(self._request(1))
        )
        urls = self._urls()
        if "base_url" in urls:
            builder = builder.base_url(urls["base_url"])
        if "base_file_url" in urls:
            builder = builder.base_file_url(urls["base_file_url"])
        return builder.build()

    def _urls(self) -> _Urls:
        """The Bot API's addresses where configured (a self-hosted Bot API server, or
        a test server); PTB's defaults otherwise."""
        urls = _Urls()
        if self._settings.base_url:
            urls["base_url"] = self._settings.base_url
        if self._settings.base_file_url:
            urls["base_file_url"] = self._settings.base_file_url
        return urls

    @property
    def _base_url(self) -> str:
        return self._settings.base_url or DEFAULT_BASE_URL

    def _request(self, connections: int) -> AiohttpRequest:
        """A connection pool whose every wait is bounded by ``request_timeout``, so a
        hung request becomes a Transient the outbox can retry (aiohttp rather than
        PTB's httpx: see transport.py)."""
        return AiohttpRequest(connections, self._timeout)

    async def _push_commands(self, bot: Bot) -> None:
        """Fill Telegram's command menus. A failure only costs that menu, so it is
        logged and the bot carries on."""
        for scope, menu in self._menus:
            try:
                await bot.set_my_commands(menu, scope=scope)
            except tg.TelegramError as error:
                log.warning("could not set the Telegram command menu for %s: %s", scope.type, error)

    async def _listen(self, updater: Updater | None) -> None:
        if updater is None:
            raise RuntimeError("the PTB application was built without an updater")
        settings = self._settings
        if settings.mode != "webhook":
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            return
        # Telegram sends the secret back in a header with every update, and PTB's
        # webhook server refuses requests without it. Derived from the token, so
        # that every process behind a load balancer agrees on it without sharing
        # anything more, and none of them reveals the token.
        await updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            allowed_updates=ALLOWED_UPDATES,
            secret_token=webhook_secret(self._token),
        )


def webhook_secret(token: str) -> str:
    """The webhook's secret: an HMAC of the token, in the up to 256 characters of
    ``A-Z a-z 0-9 _ -`` that setWebhook accepts."""
    digest = hmac.new(token.encode(), b"organise-bot webhook", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def menus(
    commands: Sequence[Command], admins: Sequence[int] = ()
) -> list[tuple[BotCommandScope, list[BotCommand]]]:
    """Each menu Telegram shows, with the commands of the roles it is shown to.

    Telegram picks the narrowest scope set for where and to whom it shows the menu:
    a group's administrators see ``AllChatAdministrators`` (they count as organisers
    of their group, ``platform_admins_are_organisers``), everyone else in a group
    ``AllGroupChats``, a private chat ``AllPrivateChats`` — unless it is a
    configured admin's own, set per chat. Default is set too, so that no menu from
    an older version lingers. The menu only hides: the core checks every role.
    """
    by_role = {
        role: [
            BotCommand(c.name, c.summary[: BotCommandLimit.MAX_DESCRIPTION])
            for c in commands
            if c.lowest_role <= role
        ]
        for role in (Role.MEMBER, Role.ORGANISER, Role.ADMIN)
    }
    scopes: list[tuple[BotCommandScope, Role]] = [
        (BotCommandScopeDefault(), Role.MEMBER),
        (BotCommandScopeAllPrivateChats(), Role.MEMBER),
        (BotCommandScopeAllGroupChats(), Role.MEMBER),
        (BotCommandScopeAllChatAdministrators(), Role.ORGANISER),
        *((BotCommandScopeChat(admin), Role.ADMIN) for admin in admins),
    ]
    return [(scope, by_role[role]) for scope, role in scopes]


@contextlib.asynccontextmanager
async def _plainly(base_url: str) -> AsyncIterator[None]:
    """Connecting (getMe), with a rejected token or an unreachable Bot API reported
    in one sentence. PTB's errors can quote the token (InvalidToken, or a failed
    request's URL), so they are dropped, and what is kept of them is redacted."""
    try:
        yield
    except tg.InvalidToken:
        raise ConfigError(
            "Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (from @BotFather)"
        ) from None
    except tg.NetworkError as error:  # TimedOut too; BadRequest is a 400 answer, not this
        if isinstance(error, tg.BadRequest):
            raise
        raise StartupError(
            faults.platform_unreachable("the Telegram Bot API", base_url, redact(str(error)))
        ) from None


async def _shut_down(app: AnyApplication) -> None:
    """Undo as much of start() as happened, in reverse order. The bot is shut down
    on its own too: a failed initialize leaves its HTTP clients open, and
    ``app.shutdown()`` skips an application that never finished initializing."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    await app.bot.shutdown()
