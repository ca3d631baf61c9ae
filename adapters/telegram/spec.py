"""Telegram as the core sees it: its ``[telegram]`` table, its token's variable and
how to build its adapter. Light on purpose: python-telegram-bot is imported only
when the adapter is built, so a run without a Telegram token never loads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import ConfigError, bounded, is_address, needs_extra
from bot.platform import PlatformSpec, Setup

if TYPE_CHECKING:
    from adapters.telegram.adapter import TelegramAdapter

PLATFORM = "telegram"


@dataclass(frozen=True)
class TelegramSettings:
    mode: str = "polling"  # or "webhook"
    base_url: str = ""  # a self-hosted Bot API server, e.g. "http://127.0.0.1:8081/bot"
    base_file_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = bounded(8443, 1, 65535)
    webhook_url: str = ""  # the public https URL Telegram posts updates to
    webhook_path: str = "telegram"


def check(settings: TelegramSettings) -> None:
    """What types and bounds cannot say: a mode we know, the addresses valid, and
    webhook mode's extra installed."""
    if settings.mode not in {"polling", "webhook"}:
        raise ConfigError('telegram.mode should be "polling" or "webhook"')
    if settings.mode == "webhook" and not is_address(settings.webhook_url, {"https"}):
        raise ConfigError(
            'telegram.webhook_url should be the public "https://…" address in webhook mode'
        )
    for key in ("base_url", "base_file_url"):
        value = getattr(settings, key)
        if value and not is_address(value, {"http", "https"}):
            raise ConfigError(
                f'telegram.{key} should be empty or an address like "http://127.0.0.1:8081/bot", '
                f"not {value!r}"
            )
    if settings.mode == "webhook":
        needs_extra("tornado", "webhook", 'telegram.mode = "webhook"')


def build(setup: Setup[TelegramSettings]) -> TelegramAdapter:
    """The adapter, with the configured Telegram admins' own command menu."""
    from adapters.telegram.adapter import TelegramAdapter

    admins = [
        int(ident)
        for platform, _, ident in (admin.partition(":") for admin in setup.config.roles.admins)
        if platform == PLATFORM and ident.isdigit()
    ]
    return TelegramAdapter(setup.token, setup.settings, setup.commands, admins=admins)


async def identify(settings: TelegramSettings, token: str) -> str:
    from adapters.telegram.adapter import TelegramAdapter

    username = await TelegramAdapter(token, settings).identify()
    return f"the Bot API accepts the token of {username}"


SPEC = PlatformSpec(
    PLATFORM,
    TelegramSettings,
    build,
    token_env="TELEGRAM_BOT_TOKEN",
    check=check,
    identify=identify,
    # Telegram answers a second getUpdates on one token with 409 Conflict; webhook
    # updates come to any process behind the load balancer.
    listens_alone=lambda settings: settings.mode != "webhook",
)
