"""Drive the real application through the Telegram adapter, against the fake Bot
API: push an update as a member would, get back what the bot sent in answer.

It is wired the way ``organise-bot run`` wires it (``build_adapters`` builds the
adapter, with the registry's command menu), only the Bot API server is fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

from telegram import Chat

from adapters.runner import build_adapters, serving
from adapters.telegram import SPEC as TELEGRAM
from adapters.telegram import TelegramSettings, incoming
from bot.app import App
from bot.clock import Clock
from bot.commands import build_registry
from bot.config import Config, RolesSettings
from bot.outbox import Sender
from bot.text import rich
from bot.types import ChatRef, Content, Outgoing
from storage.db import Database
from tests.fakes.telegram.api import (
    JSON,
    FakeTelegramAPI,
    Params,
    command_update,
    private_chat,
    user,
    visible_text,
)
from tests.support.config import make_config
from tests.support.session import AppSession

TIMEOUT = 5.0
# The calls that show a member a message with text (a file's text is its caption).
MESSAGES = frozenset({"sendMessage", "sendDocument"})
# Someone whose private chat with the bot serves as a barrier (see settled()).
PROBE = user(999, "Probe")


class TelegramApp(AppSession):
    """The real :class:`~bot.app.App` serving Telegram from the Bot API server that
    ``config`` names (a fake in a process of its own, for benchmarks).

    Pacing is off by default: Telegram allows one message a second per chat, and
    tests that wait for that would be slow without testing more (the benchmark
    measures pacing against a fake enforcing the limits).
    """

    def __init__(self, config: Config, clock: Clock | None = None, *, pace: bool = False) -> None:
        registry = build_registry()
        database = Database(config.database.url)
        adapters = build_adapters(config, serving(config), registry, database)
        self.app = App(
            config, adapters, clock=clock, pace=pace, registry=registry, database=database
        )

    @property
    def sender(self) -> Sender:
        return self.app.senders["telegram"]

    async def enqueue(self, chats: list[JSON], text: str) -> list[int | None]:
        """Put ``text`` in the outbox for each chat in one transaction, as a broadcast
        would (the commit wakes the sender); returns the row ids (``None``: chat
        unknown or inactive)."""
        messages = [Outgoing(chat_ref(chat), Content(rich(text))) for chat in chats]
        async with self.app.db.session() as session:
            ids = await self.app.outbox.enqueue(session, messages)
        return ids


class TelegramSession(TelegramApp):
    """:class:`TelegramApp` on the in-process fake ``api``, which tests can look into."""

    def __init__(
        self,
        api: FakeTelegramAPI,
        config: Config,
        clock: Clock | None = None,
        *,
        pace: bool = False,
    ) -> None:
        self.api = api
        settings = TelegramSettings(base_url=api.base_url, base_file_url=api.base_file_url)
        config = dataclasses.replace(
            config.with_platform(TELEGRAM.name, settings),
            tokens={**config.tokens, TELEGRAM.name: api.token},
        )
        super().__init__(config, clock, pace=pace)

    async def idle(self) -> None:
        """Wait until the outbox has nothing due for Telegram."""
        async with asyncio.timeout(TIMEOUT):
            await self.sender.idle()

    async def say(self, text: str, chat: JSON, sender: JSON) -> list[str]:
        """``sender`` sends the command ``text`` in ``chat``; returns what members see
        of each message the bot then sent there."""
        mark = self.api.mark()
        self.api.push(command_update(text, chat, sender))
        await self.wait_sent(chat["id"], after=mark)
        await self.idle()
        return [shown(call) for call in self.sent(chat["id"], after=mark)]

    async def ask(self, text: str, chat: JSON, sender: JSON) -> str:
        """:meth:`say`, for a command answered with exactly one message."""
        (answer,) = await self.say(text, chat, sender)
        return answer

    async def privately(self, text: str, chat: JSON, sender: JSON) -> str:
        """:meth:`ask` for an answer meant for ``sender`` alone (the console's
        "(only you)"): it arrives in their private chat with the bot, which they
        have started, and nothing of it in ``chat``."""
        mark = self.api.mark()
        self.api.push(command_update(text, chat, sender))
        await self.wait_sent(sender["id"], after=mark)
        await self.idle()
        assert self.sent(chat["id"], after=mark) == []
        (answer,) = [shown(call) for call in self.sent(sender["id"], after=mark)]
        return answer

    async def start_privately(self, *people: JSON) -> None:
        """Each person opens a private chat with the bot (``/start`` there)."""
        for person in people:
            await self.say("/start", private_chat(person), person)

    def sent(self, chat_id: int | str, *, after: int = 0) -> list[Params]:
        """The sendMessage and sendDocument calls Telegram accepted for ``chat_id``
        (since a mark)."""
        wanted = str(chat_id)
        return [
            call.params
            for call in self.api.calls[after:]
            if call.method in MESSAGES
            and call.status == 200
            and str(call.params["chat_id"]) == wanted
        ]

    async def wait_sent(self, chat_id: int | str, *, after: int = 0) -> Params:
        """Wait for a message to ``chat_id`` (since a mark) that Telegram accepted."""
        await self.api.wait_until(lambda: bool(self.sent(chat_id, after=after)), TIMEOUT)
        return self.sent(chat_id, after=after)[0]

    async def settled(self) -> None:
        """Return once the updates pushed so far have been handled. Updates are
        fetched in order and each starts before the next, but updates of different
        chats run at once (adapters/telegram/ordering.py): a probe command answered
        in a private chat shows that everything before it was fetched and started,
        and the tests' updates, each a single quick step, have finished by then."""
        await self.say("/start", private_chat(PROBE), PROBE)


@contextlib.asynccontextmanager
async def telegram_session(
    url: str, admin: JSON, clock: Clock | None = None
) -> AsyncIterator[TelegramSession]:
    """A :class:`TelegramSession` on a fresh fake Bot API and the database at ``url``,
    in which ``admin`` (a Bot API user) is an admin, as the config would name them."""
    roles = RolesSettings(admins=[f"telegram:{admin['id']}"])
    config = dataclasses.replace(make_config(url), roles=roles)
    async with FakeTelegramAPI() as api, TelegramSession(api, config, clock) as bot:
        yield bot


def shown(params: Params) -> str:
    """What members see of a sent message's text (of a file: its caption)."""
    return visible_text(str(params.get("text", params.get("caption", ""))))


def chat_ref(chat: JSON) -> ChatRef:
    """The core's address of a chat given as Bot API JSON, as the adapter makes it."""
    return incoming.chat_ref(Chat.de_json(chat))


def addressed(line: str) -> str:
    """``/cmd args`` as ``/cmd@OrganiseBot args``, the way a group's command menu
    sends it (a bare command the bot does not know may be another bot's there, so it
    is left unanswered)."""
    head, _, rest = line.partition(" ")
    return f"{head}@OrganiseBot {rest}".rstrip()
