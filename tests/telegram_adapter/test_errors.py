"""The Telegram adapter's failures and safeguards: Bot API errors mapped for the
outbox, the fake's own limits, the admin cache, the token kept secret, the webhook."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback

import pytest
from telegram import Bot, InputFile

from adapters.telegram import TelegramAdapter, TelegramSettings
from adapters.telegram.incoming import AdminCache
from adapters.telegram.redact import TOKEN_MARK
from bot.config import ConfigError
from bot.delivery import ChatMoved as ChatMovedError
from bot.delivery import Limit, Pacing, Permanent, RetryAfter, Scope, Transient
from bot.text import rich
from bot.types import CommandIn, Content, Delivery, Op
from tests.fakes.telegram.api import FakeTelegramAPI, command_update
from tests.telegram_adapter.harness import (
    ADA,
    BOB,
    CALENDAR,
    DEPOT,
    QUIET_RETRY_AFTER,
    Harness,
    started,
)

pytestmark = QUIET_RETRY_AFTER


# --- error mapping -------------------------------------------------------------------


async def test_429_is_retry_after_with_the_exact_seconds(tg: Harness) -> None:
    tg.api.fail_retry_after("sendMessage", 7)

    with pytest.raises(RetryAfter) as caught:
        await tg.send(Content(rich("hi")))

    assert caught.value.seconds == 7.0


async def test_kicked_bot_is_permanent_and_chat_gone(tg: Harness) -> None:
    tg.api.fail_kicked("sendMessage", chat_id=-1001234)

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("hi")))

    assert caught.value.chat_gone
    assert "kicked" in caught.value.reason


async def test_upgraded_group_is_chat_moved(tg: Harness) -> None:
    tg.api.fail_migrated("sendMessage", -1009999)

    with pytest.raises(ChatMovedError) as caught:
        await tg.send(Content(rich("hi")), chat_id="-4321")

    assert caught.value.new_chat_id == "-1009999"


async def test_chat_not_found_is_permanent_and_chat_gone(tg: Harness) -> None:
    tg.api.fail_chat_not_found("sendMessage")

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("hi")))

    assert caught.value.chat_gone


async def test_other_bad_request_is_permanent_not_transient(tg: Harness) -> None:
    tg.api.fail("sendMessage", 400, "Bad Request: can't parse entities")

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("hi")))

    assert not isinstance(caught.value, Transient)
    assert not caught.value.chat_gone


async def test_server_error_is_transient(tg: Harness) -> None:
    tg.api.fail("sendMessage", 502, "Bad Gateway")

    with pytest.raises(Transient):
        await tg.send(Content(rich("hi")))


async def test_timeout_is_transient(api: FakeTelegramAPI) -> None:
    harness = await started(api, request_timeout=0.2)
    api.delay("sendMessage", 0.5)
    try:
        with pytest.raises(Transient):
            await harness.send(Content(rich("hi")))
    finally:
        await harness.adapter.stop()


async def test_delivery_when_not_running_is_transient(api: FakeTelegramAPI) -> None:
    adapter = TelegramAdapter(api.token, TelegramSettings(base_url=api.base_url))

    with pytest.raises(Transient):
        await adapter.deliver(Delivery(Op.SEND, "1", Content(rich("hi")), "n"))


async def test_fake_enforces_flood_limits(api: FakeTelegramAPI) -> None:
    async with FakeTelegramAPI(enforce_limits=True) as strict:
        harness = await started(strict)
        try:
            await harness.send(Content(rich("one")))
            with pytest.raises(RetryAfter) as caught:
                await harness.send(Content(rich("two")))
            await harness.send(Content(rich("elsewhere")), chat_id="101")
            with pytest.raises(RetryAfter):  # a file is a message like any other
                await harness.send(Content(rich("file"), attachment=CALENDAR), chat_id="101")
        finally:
            await harness.adapter.stop()
    assert caught.value.seconds == 1.0


async def test_fake_answers_a_document_as_ptb_expects(api: FakeTelegramAPI) -> None:
    async with Bot(api.token, base_url=api.base_url) as bot:
        message = await bot.send_document(
            -1001234, InputFile(CALENDAR.data, filename="gc-meeting.ics"), caption="GC"
        )

    assert message.document is not None
    assert (message.document.file_name, message.document.file_size) == (
        "gc-meeting.ics",
        len(CALENDAR.data),
    )
    assert message.document.file_id and message.document.file_unique_id
    assert message.caption == "GC"


def test_pacing_follows_telegrams_documented_limits() -> None:
    adapter = TelegramAdapter("1:x", TelegramSettings())

    assert adapter.platform == "telegram"
    assert adapter.pacing == Pacing(
        limits=(Limit(30, 1.0, Scope.ALL), Limit(20, 60.0, Scope.GROUP), Limit(1, 1.0, Scope.CHAT)),
        max_in_flight=16,
        catch_up_seconds=0.1,
    )


# --- admin cache ---------------------------------------------------------------------


async def test_admin_cache_refreshes_after_its_ttl(api: FakeTelegramAPI) -> None:
    now = [0.0]
    api.set_admins(DEPOT["id"], [ADA])
    async with Bot(api.token, base_url=api.base_url) as bot:
        cache = AdminCache(bot, ttl=300.0, clock=lambda: now[0])
        assert await cache.admins(DEPOT["id"]) == {101}
        api.set_admins(DEPOT["id"], [ADA, BOB])
        now[0] = 299.0
        assert await cache.admins(DEPOT["id"]) == {101}
        now[0] = 301.0
        assert await cache.admins(DEPOT["id"]) == {101, 102}
    assert len(api.calls_to("getChatAdministrators")) == 2


# --- secrets -------------------------------------------------------------------------


async def test_token_never_reaches_the_logs(
    api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = await started(api)
    try:
        await harness.send(Content(rich("hi")))
        try:
            raise RuntimeError(f"failed calling {api.base_url}{api.token}/sendMessage")
        except RuntimeError:
            logging.getLogger("aiohttp.client").exception("request failed")
    finally:
        await harness.adapter.stop()

    assert "/bot" + TOKEN_MARK in caplog.text, "the failure should still be logged, redacted"
    assert api.token not in caplog.text
    assert all(api.token not in record.getMessage() for record in caplog.records)


async def test_rejected_token_is_one_clear_sentence_without_the_token(
    api: FakeTelegramAPI,
) -> None:
    wrong = "999999:not-the-real-token"
    adapter = TelegramAdapter(wrong, TelegramSettings(base_url=api.base_url))

    with pytest.raises(ConfigError) as caught:
        await adapter.start(Harness(api, adapter, asyncio.Queue()).on_event)

    assert "rejected" in str(caught.value)
    assert wrong not in "".join(traceback.format_exception(caught.value))
    await adapter.stop()


async def test_stopped_adapter_does_not_deliver(api: FakeTelegramAPI) -> None:
    harness = await started(api)
    await harness.adapter.stop()
    await harness.adapter.stop()

    with pytest.raises(Transient):
        await harness.send(Content(rich("hi")))
    assert api.calls_to("sendMessage") == []


# --- webhook -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_accepts_only_telegrams_secret(api: FakeTelegramAPI) -> None:
    port = free_port()
    settings = TelegramSettings(
        mode="webhook",
        base_url=api.base_url,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_path="hook",
    )
    harness = await started(api, settings)
    try:
        secret = api.webhook["secret_token"]
        assert len(secret) >= 32
        assert api.webhook["allowed_updates"] == [
            "message",
            "callback_query",
            "my_chat_member",
            "chat_member",
            "channel_post",
        ]

        forged = await api.post_webhook(command_update("/forged", DEPOT, BOB), secret="guess")
        genuine = await api.post_webhook(command_update("/help", DEPOT, ADA))

        assert (forged, genuine) == (403, 200)
        event = await harness.next_event()
        assert isinstance(event, CommandIn) and event.name == "help"
        assert harness.events.empty()
        assert api.calls_to("getUpdates") == []
    finally:
        await harness.adapter.stop()
