"""What a command or button handler gets: who asked, where, with which arguments,
and a session whose transaction also carries the replies to the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Config
from bot.registry import Registry, Role
from bot.services import Services
from bot.text import Rich, rich
from bot.types import (
    Attachment,
    Button,
    ButtonIn,
    CommandIn,
    Content,
    Emphasis,
    Location,
    Outgoing,
    TextIn,
)
from storage.models import Chat, Person

# What a press on a button nobody handles any more is answered with, by the core
# and by any feature whose own button outlived what it was for.
STALE_BUTTON = "That button is from an old message and no longer works — try the command again."


class UserError(Exception):
    """Raised by a handler to refuse politely: the transaction is rolled back and
    the message is shown to the person."""

    def __init__(self, message: str | Rich) -> None:
        super().__init__(str(message))
        self.text = message if isinstance(message, Rich) else rich(message)


@dataclass
class Context:
    session: AsyncSession
    event: CommandIn | ButtonIn | TextIn
    chat: Chat
    person: Person
    role: Role
    services: Services
    args: dict[str, Any] = field(default_factory=dict)
    # Personal answers (a command declared private) go only to the asker where possible.
    private: bool = False

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def registry(self) -> Registry:
        return self.services.registry

    def reply(
        self,
        text: Rich | str,
        *,
        buttons: tuple[tuple[Button, ...], ...] = (),
        private: bool | None = None,
        location: Location | None = None,
        attachment: Attachment | None = None,
        emphasis: Emphasis = Emphasis.NORMAL,
    ) -> Outgoing:
        """A message back to the chat the event came from."""
        return Outgoing(
            self.event.chat,
            Content(
                text=text if isinstance(text, Rich) else rich(text),
                buttons=buttons,
                location=location,
                attachment=attachment,
                private=self.private if private is None else private,
                emphasis=emphasis,
                reply_handle=self.event.reply_handle,
            ),
        )

    def require(self, role: Role, doing: str) -> None:
        if self.role < role:
            raise UserError(
                f"Only {role.shown}s can {doing}. "
                "Ask an admin to /grant you the role if you need it."
            )
