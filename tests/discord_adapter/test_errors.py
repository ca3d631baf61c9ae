"""The Discord adapter's failures mapped for the outbox: what discord.py retries
itself, what the outbox waits for, and the chats that are gone."""

from __future__ import annotations

import logging

import discord
import pytest

from bot.delivery import Permanent, RetryAfter, Transient
from tests.discord_adapter.harness import Make, send
from tests.fakes.discord import TOKEN, FakeDiscord, quick_retries

# --- errors ----------------------------------------------------------------------------------


async def test_429_is_retried_by_discord_py_alone(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(429, retry_after=0.05)

    ids = await adapter.deliver(send("hi"))

    assert len(ids) == 1
    assert len(fake.messages()) == 2  # the 429, then discord.py's one retry


async def test_429_that_persists_becomes_retry_after(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(429, retry_after=0.01, times=5)

    with pytest.raises(RetryAfter):
        await adapter.deliver(send("hi"))
    assert len(fake.messages()) == 5  # discord.py's five tries, none of ours


async def test_long_429_is_left_to_the_outbox(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(429, retry_after=60.0)

    with pytest.raises(RetryAfter) as raised:
        await adapter.deliver(send("hi"))
    assert raised.value.seconds == 60.0
    assert len(fake.messages()) == 1


@pytest.mark.parametrize(("status", "code"), [(403, 50013), (404, 10003)])
async def test_refusals_mean_the_chat_is_gone(
    make: Make, fake: FakeDiscord, status: int, code: int
) -> None:
    adapter, _ = await make()
    fake.fail(status, code=code)

    with pytest.raises(Permanent) as raised:
        await adapter.deliver(send("hi"))
    assert raised.value.chat_gone
    assert len(fake.messages()) == 1


async def test_bad_request_is_permanent_but_the_chat_stays(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(400)

    with pytest.raises(Permanent) as raised:
        await adapter.deliver(send("hi"))
    assert not raised.value.chat_gone


async def test_server_errors_are_transient_after_discord_py_retries(
    make: Make, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_retries(monkeypatch)
    adapter, _ = await make()
    fake.fail(500, times=5)

    with pytest.raises(Transient):
        await adapter.deliver(send("hi"))
    nonces = {r.body["nonce"] for r in fake.messages()}
    assert len(fake.messages()) == 5 and len(nonces) == 1  # same nonce: no duplicates

    fake.fail(503)  # not among discord.py's retried statuses: fails at once
    with pytest.raises(Transient):
        await adapter.deliver(send("hi"))
    assert len(fake.messages()) == 6


async def test_network_failure_is_transient(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    discord.http.Route.BASE = "http://127.0.0.1:9/api/v10"  # nothing listens on port 9

    with pytest.raises(Transient):
        await adapter.deliver(send("hi"))


async def test_token_is_never_logged(
    make: Make, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter, _ = await make()
    await adapter.deliver(send("hi"))
    assert caplog.text and TOKEN not in caplog.text
