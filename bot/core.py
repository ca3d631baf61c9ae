"""Route each platform-neutral event to its handler, inside one transaction.

The core never sends anything: handlers return :class:`~bot.types.Outgoing`
messages and the core writes them to the outbox in the *same* transaction as the
handler's changes. A handler that refuses (:class:`UserError`) or fails rolls back
everything and the person gets a friendly sentence instead — never a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, UserError
from bot.outbox import BULK_LANE, REPLY_LANE
from bot.parse import ParseError, parse, suggest
from bot.registry import ButtonAnswer, QuickButtonHandler
from bot.roles import effective_role
from bot.services import Services
from bot.text import Rich, rich
from bot.types import (
    BotAdded,
    BotRemoved,
    ButtonIn,
    ChatMoved,
    CommandIn,
    Content,
    Event,
    EventResult,
    MemberJoined,
    Outgoing,
)
from storage.chats import deactivate_chat, find_chat, move_chat, register_chat, register_person
from storage.models import Chat, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Known:
    chat_id: int | None = None
    person_id: int | None = None
    messages: list[Outgoing] = field(default_factory=list)


SORRY = "Sorry, something went wrong on my side. It has been logged; please try again in a minute."
STALE_BUTTON = "That button is from an old message and no longer works — try the command again."


class Core:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db = services.db
        self.outbox = services.outbox
        self.registry = services.registry
        self.config = services.config
        self.clock = services.clock

    async def handle(self, event: Event) -> EventResult:
        """Handle one event; safe to call concurrently."""
        if isinstance(event, ButtonIn):
            quick = self.registry.quick_buttons.get(event.data.partition(":")[0])
            if quick is not None:
                return await self._quick(quick, event)
        messages: list[Outgoing] = []
        try:
            # First, on its own, note who and where: a refused command still registers
            # its chat and person (and is answered in that chat).
            async with self.db.session() as session:
                known = await self._register(session, event)
                await self._enqueue(session, event, known.messages)
            messages = known.messages
            if known.chat_id is None or known.person_id is None:
                return EventResult()
            async with self.db.session() as session:
                messages, result = await self._act(session, event, known.chat_id, known.person_id)
                await self._enqueue(session, event, messages)
        except UserError as refusal:
            return await self._refuse(event, refusal.text)
        except ParseError as error:
            return await self._refuse(event, rich(str(error)))
        except Exception:
            log.exception("handling %s failed", type(event).__name__)
            return await self._refuse(event, rich(SORRY))
        finally:
            self.outbox.notify(m.chat.platform for m in messages)
        return result

    async def _quick(self, handler: QuickButtonHandler, event: ButtonIn) -> EventResult:
        try:
            return EventResult(notice=await handler(self.services, event))
        except UserError as refusal:
            return EventResult(notice=str(refusal.text))
        except Exception:
            log.exception("handling a %s press failed", event.data.partition(":")[0])
            return EventResult(notice=SORRY)

    async def _enqueue(self, session: AsyncSession, event: Event, messages: list[Outgoing]) -> None:
        replies = [m for m in messages if m.chat == event.chat]
        others = [m for m in messages if m.chat != event.chat]
        await self.outbox.enqueue(session, replies, REPLY_LANE)
        await self.outbox.enqueue(session, others, BULK_LANE)

    async def _refuse(self, event: Event, text: Rich) -> EventResult:
        if isinstance(event, ButtonIn):
            return EventResult(notice=str(text))
        if not isinstance(event, CommandIn):
            return EventResult()
        reply = Outgoing(event.chat, Content(text, private=True, reply_handle=event.reply_handle))
        try:
            async with self.db.session() as session:
                await self.outbox.enqueue(session, [reply], REPLY_LANE)
        except Exception:
            log.exception("could not even queue an apology")
            return EventResult()
        self.outbox.notify([event.chat.platform])
        return EventResult()

    async def _register(self, session: AsyncSession, event: Event) -> _Known:
        """Keep chats and people current; fully handle the life-cycle events."""
        now = self.clock.now()
        if isinstance(event, BotRemoved | ChatMoved):
            chat = await find_chat(session, event.chat.platform, event.chat.chat_id)
            if chat is not None and isinstance(event, BotRemoved):
                reason = "the bot was removed from the chat"
                failed = await deactivate_chat(session, chat.id, reason)
                await self.registry.finished(self.services, session, failed)
            elif chat is not None and isinstance(event, ChatMoved):
                await move_chat(session, chat.id, event.new_chat_id)
            return _Known()
        chat = await register_chat(session, event.chat, now)
        if isinstance(event, BotAdded):
            greeting = rich(
                f"Hello! I'm {self.config.bot.name}. I share picket-line alerts, meetings and "
                "polls here. Send /help to see what I can do."
            )
            return _Known(messages=[Outgoing(event.chat, Content(greeting))])
        person = await register_person(session, event.user, chat, now)
        if isinstance(event, MemberJoined):
            welcome: list[Outgoing] = []
            for hook in self.registry.joined:
                welcome += await hook(session, self.services, chat, person)
            return _Known(messages=welcome)
        return _Known(chat.id, person.id)

    async def _act(
        self, session: AsyncSession, event: Event, chat_id: int, person_id: int
    ) -> tuple[list[Outgoing], EventResult]:
        assert isinstance(event, CommandIn | ButtonIn)
        chat = await session.get(Chat, chat_id)
        person = await session.get(Person, person_id)
        if chat is None or person is None:  # erased between the two transactions
            return [], EventResult()
        role = await effective_role(session, self.config, person, chat, event.user)
        ctx = Context(session, event, chat, person, role, self.services)
        if isinstance(event, CommandIn):
            return await self._command(ctx, event), EventResult()
        answer = await self._button(ctx, event)
        return answer.messages, EventResult(notice=answer.notice)

    async def _command(self, ctx: Context, event: CommandIn) -> list[Outgoing]:
        name = event.name.lower()
        command = self.registry.get(name)
        if command is None:
            hint = suggest(name, [c.name for c in self.registry])
            tip = f" Did you mean /{hint}?" if hint else ""
            raise UserError(f"I don't know /{name}.{tip} Send /help for the list.")
        parsed = parse(command, event.text)
        ctx.require(parsed.command.role, f"use /{command.name}")
        ctx.args = parsed.args
        ctx.private = command.private or parsed.command.private
        handler = parsed.command.handler
        if handler is None:  # pragma: no cover - a group without a subcommand is caught by parse
            raise UserError(f"/{command.name} needs a subcommand.")
        return await handler(ctx)

    async def _button(self, ctx: Context, event: ButtonIn) -> ButtonAnswer:
        action, _, argument = event.data.partition(":")
        handler = self.registry.buttons.get(action)
        if handler is None:
            return ButtonAnswer(STALE_BUTTON)
        return await handler(ctx, argument)
