"""Every command is declared once, here-shaped: name, typed arguments, options,
help, example and the role it needs. ``/help``, Telegram's command menu and
Discord's slash commands are all generated from these declarations, so they can
never disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from bot.types import ButtonIn, Finished, Outgoing, UserRef

# The largest id any table can hold (PostgreSQL's ``integer``): a bigger one can
# match no row, and must not reach SQL.
MAX_ID = 2**31 - 1

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Context
    from bot.services import Services
    from storage.models import Chat


class Role(IntEnum):
    """Roles in increasing power; a higher role may do what a lower one may."""

    MEMBER = 0
    ORGANISER = 1
    TULO = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def shown(self) -> str:
        """The role as people write it: "organiser", "TULO"."""
        return "TULO" if self is Role.TULO else self.label


class Kind(StrEnum):
    WORD = "word"  # one token
    TEXT = "text"  # one token, or a "quoted phrase"
    REST = "rest"  # everything left on the line
    INT = "int"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Param:
    """A positional argument (``option=False``) or a ``--option``.

    An option of kind ``Kind.WORD`` etc. takes a value; ``flag=True`` makes it a
    switch that takes none.
    """

    name: str
    description: str
    kind: Kind = Kind.TEXT
    required: bool = True
    choices: tuple[str, ...] = ()
    option: bool = False
    flag: bool = False
    repeat: bool = False  # the last positional may take several values
    # The range of a Kind.INT value (by default, any id a table can hold), and what
    # a refusal calls it (default "The <name>").
    low: int = 1
    high: int = MAX_ID
    what: str = ""

    @property
    def label(self) -> str:
        return self.what or f"The {self.name}"


Handler = Callable[["Context"], Awaitable[list["Outgoing"]]]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    handler: Handler | None = None
    params: tuple[Param, ...] = ()
    example: str = ""
    role: Role = Role.MEMBER
    subcommands: tuple[Command, ...] = ()
    # The subcommand used when the first word names none (``/poll "Q?" A B`` is
    # ``/poll new "Q?" A B``), so a command can have subcommands and a plain form.
    default: str = ""
    # Personal answers (e.g. /whoami) are shown only to the asker where possible.
    private: bool = False
    details: str = ""

    @property
    def positionals(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.option)

    @property
    def options(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.option)

    def usage(self, prefix: str = "/") -> str:
        parts = [f"{prefix}{self.name}"]
        if self.subcommands:
            parts.append("|".join(sub.name for sub in self.subcommands))
        for param in self.positionals:
            shown = f"<{param.name}>" + ("…" if param.repeat else "")
            parts.append(shown if param.required else f"[{shown}]")
        for param in self.options:
            parts.append(f"[--{param.name}" + ("" if param.flag else f" <{param.name}>") + "]")
        return " ".join(parts)

    @property
    def lowest_role(self) -> Role:
        """The least role that may use some form of the command (``/meeting ics`` is
        anyone's, though ``/meeting add`` is an organiser's): the platforms' menus
        show a command to those who can use it."""
        return min((max(self.role, sub.role) for sub in self.subcommands), default=self.role)

    def subcommand(self, name: str) -> Command | None:
        return next((sub for sub in self.subcommands if sub.name == name), None)

    def __post_init__(self) -> None:
        if self.default and self.subcommand(self.default) is None:
            raise ValueError(f"/{self.name}: default {self.default!r} is not a subcommand")


@dataclass
class Registry:
    """The commands, in the order ``/help`` lists them."""

    commands: dict[str, Command] = field(default_factory=dict)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    quick_buttons: dict[str, QuickButtonHandler] = field(default_factory=dict)
    startup: list[StartupHook] = field(default_factory=list)
    delivered: list[tuple[str, DeliveredHook]] = field(default_factory=list)
    joined: list[JoinedHook] = field(default_factory=list)
    answers: list[AnswerHook] = field(default_factory=list)
    digest: list[DigestHook] = field(default_factory=list)
    forget: list[ForgetHook] = field(default_factory=list)

    def add(self, command: Command) -> Command:
        if command.name in self.commands:
            raise ValueError(f"command /{command.name} declared twice")
        self.commands[command.name] = command
        return command

    def button(self, action: str, handler: ButtonHandler) -> None:
        """Route presses on buttons whose data is ``action:…`` to ``handler``."""
        self._check_action(action)
        self.buttons[action] = handler

    def quick_button(self, action: str, handler: QuickButtonHandler) -> None:
        """Route presses on ``action:…`` buttons to ``handler(services, press)`` *before*
        the core's per-event transactions and role lookup, for presses that come by the
        thousand (poll votes): the handler registers what it needs itself, in its own
        (batched) transaction, and returns the notice. Its :class:`UserError` becomes
        the notice; anything else it raises, an apology."""
        self._check_action(action)
        self.quick_buttons[action] = handler

    def _check_action(self, action: str) -> None:
        if action in self.buttons or action in self.quick_buttons or ":" in action:
            raise ValueError(f"bad or duplicate button action {action!r}")

    def on_start(self, hook: StartupHook) -> None:
        """Run ``hook(services)`` at every start, after migrations and before any
        adapter listens: features schedule their future work again from the tables."""
        self.startup.append(hook)

    def on_delivered(self, key_prefix: str, hook: DeliveredHook) -> None:
        """Run ``hook(session, services, rows)`` in the transaction that records
        outbox rows as sent or failed, for the rows whose dedupe key starts with
        ``key_prefix`` (delivery receipts build on it)."""
        self.delivered.append((key_prefix, hook))

    async def finished(
        self, services: Services, session: AsyncSession, rows: list[Finished]
    ) -> None:
        """Tell each delivery hook about the finished rows that are its own."""
        for prefix, hook in self.delivered:
            mine = [row for row in rows if row.key is not None and row.key.startswith(prefix)]
            if mine:
                await hook(session, services, mine)

    def on_member_joined(self, hook: JoinedHook) -> None:
        """Run ``hook(session, services, chat, user)`` when someone joins a chat;
        the messages it returns (a welcome) are sent. The newcomer is not stored:
        only people who use the bot are."""
        self.joined.append(hook)

    def on_digest(self, hook: DigestHook) -> None:
        """Run ``hook(session, services, chat, now)`` when a chat's weekly digest is
        queued; the messages it returns go with it (e.g. a private note to TULOs)."""
        self.digest.append(hook)

    def on_forget(self, hook: ForgetHook) -> None:
        """Run ``hook(ctx)`` when the asker confirms /forgetme, before they are
        erased: a feature hands on what they held (a rota place goes to the first
        person waiting) and returns the messages that tells others."""
        self.forget.append(hook)

    def on_answer(self, hook: AnswerHook) -> None:
        """Offer ``hook(ctx)`` each plain message from someone registered: it returns
        the messages it answers with if it was waiting for that person's answer in
        that chat (e.g. the time after "✏ Fix"), else ``None`` to pass it on."""
        self.answers.append(hook)

    def get(self, name: str) -> Command | None:
        return self.commands.get(name)

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands.values())


@dataclass(frozen=True)
class ButtonAnswer:
    """What a button press gives: a short private ``notice`` for the presser (shown
    at once by the platform), and any messages to send."""

    notice: str = ""
    messages: list[Outgoing] = field(default_factory=list)


ButtonHandler = Callable[["Context", str], Awaitable[ButtonAnswer]]
QuickButtonHandler = Callable[["Services", ButtonIn], Awaitable[str]]
StartupHook = Callable[["Services"], Awaitable[None]]
DeliveredHook = Callable[["AsyncSession", "Services", list[Finished]], Awaitable[None]]
AnswerHook = Callable[["Context"], Awaitable[list[Outgoing] | None]]
ForgetHook = Callable[["Context"], Awaitable[list[Outgoing]]]
JoinedHook = Callable[["AsyncSession", "Services", "Chat", UserRef], Awaitable[list[Outgoing]]]
DigestHook = Callable[["AsyncSession", "Services", "Chat", datetime], Awaitable[list[Outgoing]]]
