"""The aiohttp transport under PTB's Bot: failures become PTB's own errors, and
every wait is bounded. (Calls that succeed, uploads and PTB's mapping of error
statuses are exercised by every other Telegram test.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from adapters.telegram.transport import AiohttpRequest, _client_timeout
from tests.fakes.telegram.api import FakeTelegramAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_a_network_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}/bot"
    request = AiohttpRequest(1, 1.0)
    with pytest.raises(NetworkError) as caught:
        async with Bot("1:x", base_url=url, request=request):
            pass  # starting calls getMe

    assert not isinstance(caught.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in caught.value.message


async def test_a_slow_answer_times_out(api: FakeTelegramAPI) -> None:
    api.delay("sendMessage", 1.0)
    async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(1, 0.2)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(1, "hi")


async def test_waiting_for_a_busy_pool_times_out(api: FakeTelegramAPI) -> None:
    """One connection, held by a slow call: the next call gives up after its
    timeout rather than queueing for ever."""
    api.delay("getChatAdministrators", 1.0)
    async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(1, 0.25)) as bot:
        slow = asyncio.create_task(bot.get_chat_administrators(-1001, read_timeout=5.0))
        await api.wait_for_call("getChatAdministrators")
        with pytest.raises(TimedOut):
            await bot.send_message(1, "hi")
        await slow
    assert not api.calls_to("sendMessage")


async def test_an_uninitialized_transport_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest(1, 1.0).do_request("http://127.0.0.1:1/", "POST")


def test_timeouts_in_aiohttps_terms() -> None:
    assert _client_timeout(5.0, 6.0, 2.0, 1.0) == aiohttp.ClientTimeout(
        total=14.0, connect=3.0, sock_connect=2.0, sock_read=5.0
    )
    # getUpdates may wait without limit; then so may the call as a whole.
    assert _client_timeout(None, 6.0, 2.0, 1.0) == aiohttp.ClientTimeout(
        total=None, connect=3.0, sock_connect=2.0, sock_read=None
    )
    assert _client_timeout(5.0, 6.0, 2.0, None).connect is None
