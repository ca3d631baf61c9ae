"""Route each platform-neutral event to its handler, inside one transaction.

The core never sends anything: handlers return :class:`~bot.types.Outgoing`
messages and the core writes them to the outbox in the *same* transaction as the
handler's changes. A handler that refuses (:class:`UserError`) or fails rolls back
everything and the person gets a friendly sentence instead — never a traceback.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot import private_answers
from bot.context import STALE_BUTTON, Context, UserError
from bot.network import HOW_TO_JOIN, TRUSTED_PLATFORMS, admit, belongs, button_refusal
from bot.outbox import BULK_LANE, REPLY_LANE
from bot.parse import ParseError, parse, suggest
from bot.ratelimit import SLOW_DOWN, RateLimiter, Verdict
from bot.registry import ButtonAnswer, QuickButtonHandler
from bot.roles import effective_role
from bot.services import Services
from bot.text import Rich, rich
from bot.types import (
    BotAdded,
    BotRemoved,
    ButtonIn,
    ChatKind,
    ChatMoved,
    ChatRef,
    CommandIn,
    Content,
    Event,
    EventResult,
    MemberJoined,
    MemberLeft,
    Outgoing,
    TextIn,
    UserRef,
)
from bot.values import visible
from storage.chats import (
    deactivate_chat,
    find_chat,
    find_person,
    leave_chat,
    move_chat,
    register_chat,
    register_person,
)
from storage.models import Chat, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Known:
    chat_id: int | None = None
    person_id: int | None = None
    messages: list[Outgoing] = field(default_factory=list)


# Chats and people remembered as registered (a few bytes each; the least recent go).
REMEMBERED = 10_000
SORRY = "Sorry, something went wrong on my side. It has been logged; please try again in a minute."
REMOVED = "the bot was removed from the chat"


def _as_registered(chat: Chat, person: Person, event: CommandIn | ButtonIn) -> bool:
    """Whether registering the event's chat and person again would change nothing."""
    ref, user = event.chat, event.user
    return (
        chat.active
        and chat.kind == ref.kind.value
        and (not ref.title or chat.title == ref.title)
        and (not user.display_name or person.display_name == user.display_name)
    )


class Core:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db = services.db
        self.outbox = services.outbox
        self.registry = services.registry
        self.config = services.config
        self.clock = services.clock
        self.limiter = RateLimiter(services.config.rate_limit, services.clock)
        self._registered: OrderedDict[tuple[ChatRef, UserRef], tuple[int, int]] = OrderedDict()

    async def handle(self, event: Event) -> EventResult:
        """Handle one event; safe to call concurrently."""
        self.services.metrics.handled(event.chat.platform)
        if isinstance(event, CommandIn | ButtonIn):
            verdict = self.limiter.check(event.chat, event.user)
            if verdict is Verdict.DROP:
                return EventResult()
            if verdict is Verdict.SLOW_DOWN:
                return await self._refuse(event, rich(SLOW_DOWN))
        if isinstance(event, ButtonIn):
            quick = self.registry.quick_buttons.get(event.data.partition(":")[0])
            if quick is not None:
                return await self._quick(quick, event)
        if isinstance(event, TextIn):
            return await self._text(event)
        identity = (event.chat, event.user) if isinstance(event, CommandIn | ButtonIn) else None
        try:
            ids = self._registered.get(identity) if identity else None
            remembered = ids is not None
            if ids is None:
                # First, on its own, note who and where: a refused command still
                # registers its chat and person (and is answered in that chat).
                async with self.db.session() as session:
                    known = await self._register(session, event)
                    await self._enqueue(session, event, known.messages)
                if known.chat_id is None or known.person_id is None:
                    return EventResult()
                ids = (known.chat_id, known.person_id)
                if identity:
                    self._remember(identity, ids)
            elif identity:
                self._registered.move_to_end(identity)
            async with self.db.session() as session:
                acted = await self._act(session, event, *ids)
                if acted is not None:
                    messages, result = acted
                    await self._enqueue(session, event, messages)
            if acted is None:  # erased, bot removed, renamed…: register afresh
                return await self._register_again(event) if remembered else EventResult()
        except UserError as refusal:
            return await self._refuse(event, refusal.text)
        except ParseError as error:
            return await self._refuse(event, rich(str(error)))
        except Exception:
            log.exception("handling %s failed", type(event).__name__)
            return await self._refuse(event, rich(SORRY))
        return result

    async def _text(self, event: TextIn) -> EventResult:
        """A plain message: the answer someone was asked for here, or nothing. Nobody
        is registered for it: in a busy group most messages are not for the bot."""
        if not self.registry.answers:
            return EventResult(unanswered=True)
        try:
            async with self.db.session() as session:
                chat = await find_chat(session, event.chat.platform, event.chat.chat_id)
                person = await find_person(session, event.user.platform, event.user.user_id)
                if chat is None or person is None or not chat.active:
                    return EventResult(unanswered=True)
                role = await effective_role(session, self.config, person, chat, event.user)
                ctx = Context(session, event, chat, person, role, self.services)
                for hook in self.registry.answers:
                    answered = await hook(ctx)
                    if answered is not None:
                        await self._enqueue(session, event, answered)
                        break
                else:
                    return EventResult(unanswered=True)
        except UserError as refusal:
            return await self._refuse(event, refusal.text)
        except Exception:
            log.exception("handling a plain message failed")
            return await self._refuse(event, rich(SORRY))
        return EventResult()

    def _remember(self, identity: tuple[ChatRef, UserRef], ids: tuple[int, int]) -> None:
        """Remember whom and where a registered command came from. The next command
        from the same person, as named, in the same chat, as named, then needs no
        registering transaction of its own — on a busy bot, one wait less for the
        database before every answer."""
        self._registered[identity] = ids
        if len(self._registered) > REMEMBERED:
            self._registered.popitem(last=False)

    async def _register_again(self, event: Event) -> EventResult:
        """The chat or person remembered changed since (erased, bot removed, or
        renamed by another process): forget them and handle the event afresh."""
        assert isinstance(event, CommandIn | ButtonIn)
        self._registered.pop((event.chat, event.user), None)
        return await self.handle(event)

    async def _quick(self, handler: QuickButtonHandler, event: ButtonIn) -> EventResult:
        try:
            return EventResult(notice=await handler(self.services, event))
        except UserError as refusal:
            return EventResult(notice=str(refusal.text))
        except Exception:
            log.exception("handling a %s press failed", event.data.partition(":")[0])
            return EventResult(notice=SORRY)

    async def _enqueue(self, session: AsyncSession, event: Event, messages: list[Outgoing]) -> None:
        messages = await private_answers.route(session, event, messages, self.clock.now())
        replies = [m for m in messages if m.chat == event.chat]
        others = [m for m in messages if m.chat != event.chat]
        await self.outbox.enqueue(session, replies, REPLY_LANE, hand_over=True)
        await self.outbox.enqueue(session, others, BULK_LANE)

    async def _refuse(self, event: Event, text: Rich) -> EventResult:
        if isinstance(event, ButtonIn):
            return EventResult(notice=str(text))
        if not isinstance(event, CommandIn | TextIn):
            return EventResult()
        reply = Outgoing(event.chat, Content(text, private=True, reply_handle=event.reply_handle))
        try:
            async with self.db.session() as session:
                await self._enqueue(session, event, [reply])
        except Exception:
            log.exception("could not even queue an apology")
        return EventResult()

    async def _register(self, session: AsyncSession, event: Event) -> _Known:
        """Keep chats and people current; fully handle the life-cycle events."""
        now = self.clock.now()
        if isinstance(event, BotRemoved | ChatMoved | MemberLeft):
            chat = await find_chat(session, event.chat.platform, event.chat.chat_id)
            if chat is not None and isinstance(event, BotRemoved):
                private = event.chat.kind is ChatKind.PRIVATE
                reason = "the person blocked the bot" if private else REMOVED
                failed = await deactivate_chat(session, chat.id, reason)
                await self.registry.finished(self.services, session, failed)
            elif chat is not None and isinstance(event, ChatMoved):
                await move_chat(session, chat.id, event.new_chat_id)
            elif chat is not None and isinstance(event, MemberLeft):
                await leave_chat(session, chat.id, event.user)
            return _Known()
        trusted = event.chat.platform in TRUSTED_PLATFORMS or self.config.network.open
        chat = await register_chat(session, event.chat, now, approve_new=trusted)
        if isinstance(event, BotAdded) and event.chat.kind is not ChatKind.GROUP:
            # A person who unblocked the bot knows it; a channel's readers cannot
            # answer a greeting. Registering made the chat active again.
            return _Known()
        if isinstance(event, BotAdded):
            greeting = rich(
                f"Hello! I'm {self.config.bot.name}. I share picket-line alerts, meetings and "
                "polls here. Send /help to see what I can do."
                + ("" if belongs(chat) else " " + HOW_TO_JOIN)
            )
            return _Known(messages=[Outgoing(event.chat, Content(greeting))])
        if isinstance(event, MemberJoined):  # welcomed, not stored: they haven't used the bot
            welcome: list[Outgoing] = []
            for hook in self.registry.joined if belongs(chat) else ():
                welcome += await hook(session, self.services, chat, event.user)
            return _Known(messages=welcome)
        person = await register_person(session, event.user, chat, now)
        return _Known(chat.id, person.id)

    async def _act(
        self, session: AsyncSession, event: Event, chat_id: int, person_id: int
    ) -> tuple[list[Outgoing], EventResult] | None:
        """Run the command or button; ``None`` if the chat and person are not as
        registered (any more)."""
        assert isinstance(event, CommandIn | ButtonIn)
        chat = await session.get(Chat, chat_id)
        person = await session.get(Person, person_id)
        if chat is None or person is None or not _as_registered(chat, person, event):
            return None
        role = await effective_role(session, self.config, person, chat, event.user)
        ctx = Context(session, event, chat, person, role, self.services)
        if isinstance(event, CommandIn):
            return await self._command(ctx, event), EventResult()
        answer = await self._button(ctx, event)
        return answer.messages, EventResult(notice=answer.notice)

    async def _command(self, ctx: Context, event: CommandIn) -> list[Outgoing]:
        name = visible(event.name).lower()
        command = self.registry.get(name)
        if command is None and not event.addressed:
            return []  # another bot's command, most likely
        if command is None:
            hint = suggest(name, [c.name for c in self.registry])
            tip = f" Did you mean /{hint}?" if hint else ""
            raise UserError(f"I don't know /{name}.{tip} Send /help for the list.")
        await admit(ctx, command.name)
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
        refusal = button_refusal(ctx, action)
        if handler is None or refusal:
            return ButtonAnswer(refusal or STALE_BUTTON)
        return await handler(ctx, argument)
