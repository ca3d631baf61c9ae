"""The Telegram adapter: python-telegram-bot 22 on one side, core events and
deliveries on the other.

It only translates. Updates become :mod:`bot.types` events (``incoming``); a
:class:`~bot.types.Delivery` becomes Bot API calls and PTB's errors become the
outbox's kinds of failure (``outgoing``, ``render``). It never retries or paces by
itself — the outbox does both, from :attr:`TelegramAdapter.pacing`. The bot token
is kept out of every log record (``redact``).
"""

from adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
