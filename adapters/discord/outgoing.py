"""Deliveries out: one outbox row becomes REST calls, and discord.py's errors become
the outbox's three kinds of failure.

Only the REST layer is used (``PartialMessageable``, partial messages, the
interaction webhook), so delivering needs no gateway cache and works for any
channel id the outbox holds, including after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord

from adapters.discord import render
from bot.clock import Clock
from bot.delivery import DeliveryError, Limit, Pacing, Permanent, RetryAfter, Scope, Transient
from bot.types import Delivery, Op

log = logging.getLogger(__name__)

# Discord's documented global limit is 50 requests per second per bot
# (https://discord.com/developers/docs/topics/rate-limits#global-rate-limit). Per-channel
# message limits are per-route buckets the API reveals only in headers; about 5 messages
# per 5 s per channel is what bots observe. discord.py waits out each bucket itself.
PACING = Pacing(limits=(Limit(50, 1.0, Scope.ALL), Limit(5, 5.0, Scope.CHAT)), max_in_flight=32)

# Interaction tokens last 15 minutes
# (https://discord.com/developers/docs/interactions/receiving-and-responding); the margin
# leaves time for the send itself. Older replies go to the channel as ordinary messages.
FOLLOWUP_WINDOW = timedelta(minutes=14)

# Discord bans an IP for an hour after 10,000 invalid (401, 403 or 429) requests in ten
# minutes. A 403 or 404 therefore says "chat gone", so the outbox stops sending there.
CHAT_GONE = (discord.Forbidden, discord.NotFound)
UNKNOWN_MESSAGE = 10008  # a 404 about the message, not the channel
EXPIRED = {401, 404}  # what an interaction token past its 15 minutes gets


@dataclass(frozen=True, slots=True)
class ReplyHandle:
    """What a followup to an interaction needs; travels through the outbox as text."""

    application_id: int
    interaction_id: int
    token: str

    def encode(self) -> str:
        return f"{self.application_id}:{self.interaction_id}:{self.token}"

    @classmethod
    def decode(cls, text: str) -> ReplyHandle | None:
        application_id, _, rest = text.partition(":")
        interaction_id, _, token = rest.partition(":")
        if not (application_id.isdigit() and interaction_id.isdigit() and token):
            return None
        return cls(int(application_id), int(interaction_id), token)

    def fresh(self, now: datetime) -> bool:
        """The interaction's id says when it was made, so no time is stored."""
        return now - discord.utils.snowflake_time(self.interaction_id) < FOLLOWUP_WINDOW


class Sender:
    """Carries out deliveries with a logged-in client's REST layer."""

    def __init__(self, client: discord.Client, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        """Send, edit or delete; return the message ids of a send (one per part)."""
        try:
            if delivery.op is Op.DELETE:
                await self._delete(delivery)
                return ()
            if delivery.op is Op.EDIT:
                await self._edit(delivery)
                return delivery.message_ids
            return await self._send(delivery)
        except discord.RateLimited as error:
            raise RetryAfter(error.retry_after) from error
        except discord.HTTPException as error:
            raise classify(error) from error
        except (aiohttp.ClientError, OSError) as error:  # OSError covers asyncio.TimeoutError
            raise Transient(f"network: {error!r}") from error

    async def _send(self, delivery: Delivery) -> tuple[str, ...]:
        content = delivery.content
        pieces = render.parts(content)
        handle = self._live_handle(content.reply_handle)
        ids: list[str] = []
        for index, part in enumerate(pieces):
            view = render.view(content.buttons) if index == len(pieces) - 1 else None
            message: discord.Message | None = None
            if handle is not None:
                message = await self._followup(handle, part, view, private=content.private)
                handle = handle if message is not None else None
            if message is None:
                message = await self._channel_send(delivery, index, part, view)
            ids.append(str(message.id))
        return tuple(ids)

    def _live_handle(self, text: str) -> ReplyHandle | None:
        handle = ReplyHandle.decode(text) if text else None
        return handle if handle is not None and handle.fresh(self._clock.now()) else None

    async def _channel_send(
        self, delivery: Delivery, index: int, part: render.Part, view: discord.ui.View | None
    ) -> discord.Message:
        """A channel message; the nonce with ``enforce_nonce`` (which discord.py adds
        whenever a nonce is given) makes Discord return the first message, not a second
        one, when this send is retried — by discord.py on a 5xx or by the outbox."""
        channel = self._channel(delivery.chat_id)
        extra: dict[str, Any] = {} if view is None else {"view": view}
        return await channel.send(
            **part.body(),
            **extra,
            nonce=render.nonce(delivery.nonce, index),
            allowed_mentions=render.NO_MENTIONS,
        )

    async def _followup(
        self, handle: ReplyHandle, part: render.Part, view: discord.ui.View | None, *, private: bool
    ) -> discord.WebhookMessage | None:
        """Answer the interaction; ``None`` if its token has lapsed.

        The first followup replaces the "thinking…" placeholder, whose visibility was
        fixed when the command was deferred (ephemeral for a private command). Webhooks
        take no nonce, so a retried followup can repeat; the 15-minute window bounds it.
        """
        # What Interaction.followup builds: an application webhook (type 3) may send
        # ephemeral messages. It needs no live Interaction, so it works after a restart.
        data: Any = {"id": handle.application_id, "type": 3, "token": handle.token}
        webhook = discord.Webhook.from_state(data=data, state=self._client._connection)
        extra: dict[str, Any] = {} if view is None else {"view": view}
        try:
            return await webhook.send(
                **part.body(),
                **extra,
                ephemeral=private,
                wait=True,
                allowed_mentions=render.NO_MENTIONS,
            )
        except discord.HTTPException as error:
            if error.status not in EXPIRED:
                raise
            log.info("a Discord interaction expired; replying in the channel instead")
            return None

    async def _edit(self, delivery: Delivery) -> None:
        if not delivery.message_ids:
            raise Permanent("nothing to edit: no message id")
        pieces = render.parts(delivery.content)
        if len(pieces) > 1:
            log.warning("an edit longer than one Discord message was cut to its first part")
        channel = self._channel(delivery.chat_id)
        message = channel.get_partial_message(_snowflake(delivery.message_ids[0]))
        await message.edit(
            **pieces[0].body(),
            view=render.view(delivery.content.buttons),
            allowed_mentions=render.NO_MENTIONS,
        )

    async def _delete(self, delivery: Delivery) -> None:
        channel = self._channel(delivery.chat_id)
        for message_id in delivery.message_ids:
            try:
                await channel.get_partial_message(_snowflake(message_id)).delete()
            except discord.NotFound as error:
                if error.code != UNKNOWN_MESSAGE:  # already deleted is deleted
                    raise

    def _channel(self, chat_id: str) -> discord.PartialMessageable:
        return self._client.get_partial_messageable(_snowflake(chat_id))


def _snowflake(text: str) -> int:
    if not text.isdigit():
        raise Permanent(f"not a Discord id: {text!r}")
    return int(text)


def classify(error: discord.HTTPException) -> DeliveryError:
    """One of the outbox's three kinds for a failure discord.py did not retry away."""
    reason = f"{error.status} {error.text or type(error).__name__}"
    if error.status == 429:
        return RetryAfter(_retry_after(error), reason)
    if error.status >= 500:
        return Transient(reason)
    if isinstance(error, CHAT_GONE) and error.code != UNKNOWN_MESSAGE:
        return Permanent(reason, chat_gone=True)
    return Permanent(reason)


def _retry_after(error: discord.HTTPException) -> float:
    try:
        return float(error.response.headers.get("Retry-After", "5"))
    except ValueError:
        return 5.0
