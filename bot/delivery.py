"""The contract between the outbox and the adapters that carry messages out.

An adapter *delivers* one :class:`~bot.types.Delivery` at a time and either
returns the platform's message ids or raises one of three kinds of failure — the
only platform knowledge the outbox needs:

* :class:`RetryAfter` — the platform said "not before N seconds" (HTTP 429);
* :class:`Transient` — worth trying again later (timeouts, 5xx, network);
* :class:`Permanent` — will never work (bad request, no permission, bot removed);
  ``chat_gone`` means nothing more should be sent to that chat at all;
* :class:`ChatMoved` — the chat has a new id; the outbox re-addresses and retries.

Each adapter also states its platform's :class:`Pacing`, so a single sender can
keep under the documented rate limits instead of bouncing off them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.types import Delivery


class DeliveryError(Exception):
    """Base of the failures an adapter may raise from ``deliver``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryAfter(DeliveryError):
    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.seconds = seconds


class Transient(DeliveryError):
    pass


class Permanent(DeliveryError):
    def __init__(self, reason: str, *, chat_gone: bool = False) -> None:
        super().__init__(reason)
        self.chat_gone = chat_gone


class ChatMoved(DeliveryError):
    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Scope(StrEnum):
    ALL = "all"  # every message on the platform
    CHAT = "chat"  # messages to one chat
    GROUP = "group"  # messages to one group chat (not private chats)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` messages per ``per_seconds`` within ``scope``."""

    count: int
    per_seconds: float
    scope: Scope


@dataclass(frozen=True, slots=True)
class Pacing:
    limits: tuple[Limit, ...] = ()
    max_in_flight: int = 8
    # How far behind its schedule the all-chats spacing may catch up (bot.outbox.pacing);
    # 0 keeps at least the spacing between any two sends.
    catch_up_seconds: float = 0.0


UNPACED = Pacing()


class Transport(Protocol):
    """What the outbox needs from an adapter."""

    @property
    def platform(self) -> str: ...

    @property
    def pacing(self) -> Pacing: ...

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        """Carry out the delivery; return the platform's message id(s) for a send."""
        ...
