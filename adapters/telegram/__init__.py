"""The Telegram adapter: python-telegram-bot 22 on one side, core events and
deliveries on the other.

It only translates. Updates become :mod:`bot.types` events (``incoming``); a
:class:`~bot.types.Delivery` becomes Bot API calls and PTB's errors become the
outbox's kinds of failure (``outgoing``, ``render``). It never retries or paces by
itself — the outbox does both, from :attr:`TelegramAdapter.pacing`. The bot token
is kept out of every log record (``redact``). ``spec`` is the platform as the core
sees it; importing it (or this package) does not load PTB: the adapter is imported
on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.telegram.spec import SPEC, TelegramSettings

if TYPE_CHECKING:
    from adapters.telegram.adapter import TelegramAdapter

__all__ = ["SPEC", "TelegramAdapter", "TelegramSettings"]


def __getattr__(name: str) -> object:
    if name == "TelegramAdapter":
        from adapters.telegram.adapter import TelegramAdapter

        return TelegramAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
