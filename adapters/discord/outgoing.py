"""Deliveries out: one outbox row becomes REST calls, and discord.py's errors become
the outbox's three kinds of failure.

Only the REST layer is used (``PartialMessageable``, partial messages, the
interaction webhook, a person's DM channel), so delivering needs no gateway cache
and works for any channel id the outbox holds, including after a restart.
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
from bot.types import ChatKind, Delivery, Op

log = logging.getLogger(__name__)

# Discord's documented global limit is 50 requests per second per bot
# (https://discord.com/developers/docs/topics/rate-limits#global-rate-limit). Per-channel
# message limits are per-route buckets the API reveals only in headers; about 5 messages
# per 5 s per channel is what bots observe. discord.py waits out each bucket itself.
# At 50/s sends are 20 ms apart, so late timers alone would cost 5% of the rate: the
# schedule catches up (bot.outbox.pacing), and a 429 that slips through discord.py retries.
PACING = Pacing(
    limits=(Limit(50, 1.0, Scope.ALL), Limit(5, 5.0, Scope.CHAT)),
    max_in_flight=32,
    catch_up_seconds=0.1,
)

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
    """What a followup to an interaction needs; travels through the outbox as text.

    ``public_placeholder`` says the interaction was deferred with a "thinking…"
    message everyone sees. Discord turns the first followup into that message, with
    its visibility, so a private answer (an error, say) must clear it first.
    """

    application_id: int
    interaction_id: int
    token: str
    public_placeholder: bool = False

    def encode(self) -> str:
        placeholder = int(self.public_placeholder)
        return f"{self.application_id}:{self.interaction_id}:{placeholder}:{self.token}"

    @classmethod
    def decode(cls, text: str) -> ReplyHandle | None:
        application_id, interaction_id, placeholder, token = (text.split(":", 3) + [""] * 3)[:4]
        numbers = (application_id, interaction_id)
        if not (all(n.isdigit() for n in numbers) and placeholder in {"0", "1"} and token):
            return None
        return cls(int(application_id), int(interaction_id), token, placeholder == "1")

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
        """Send the parts not yet out (an earlier attempt's are in ``message_ids``),
        each after ``delivery.next_part`` lets it go."""
        content = delivery.content
        pieces = render.parts(content)
        handle = self._live_handle(content.reply_handle)
        ids = list(delivery.message_ids)
        resumed = len(ids)
        for index in range(resumed, len(pieces)):
            part = pieces[index]
            if index > resumed:
                await delivery.next_part(tuple(ids))
            try:
                message, handle = await self._send_part(delivery, index, part, handle)
            except discord.Forbidden:
                # Discord refuses a file where the bot lacks *Attach Files* (a server
                # that invited it before it asked for that) with the same 403 as a chat
                # it may not post in. The text alone is tried once before the refusal
                # counts, so the chat is only taken for gone if that is refused too.
                if part.attachment is None:
                    raise
                # Named by its row (the nonce), not its chat: a DM's id is a person's.
                log.warning("message %s: a file refused; sending the text alone", delivery.nonce)
                message, handle = await self._send_part(
                    delivery, index, part.without_file(), handle
                )
            ids.append(str(message.id))
        return tuple(ids)

    async def _send_part(
        self, delivery: Delivery, index: int, part: render.Part, handle: ReplyHandle | None
    ) -> tuple[discord.Message, ReplyHandle | None]:
        """A followup while the interaction's token lasts, else a channel message;
        returns the handle for the next part (``None`` once the token has lapsed)."""
        if handle is not None:
            message = await self._followup(handle, delivery, part)
            if message is not None:
                return message, handle
        return await self._channel_send(delivery, index, part), None

    def _live_handle(self, text: str) -> ReplyHandle | None:
        handle = ReplyHandle.decode(text) if text else None
        return handle if handle is not None and handle.fresh(self._clock.now()) else None

    async def _channel_send(
        self, delivery: Delivery, index: int, part: render.Part
    ) -> discord.Message:
        """A channel message; the nonce with ``enforce_nonce`` (which discord.py adds
        whenever a nonce is given) makes Discord return the first message, not a second
        one, when this send is retried — by discord.py on a 5xx or by the outbox."""
        channel = await self._channel(delivery)
        return await channel.send(
            **part.body(),
            **part.extras(),
            nonce=render.nonce(delivery.nonce, index),
            allowed_mentions=render.NO_MENTIONS,
        )

    async def _followup(
        self, handle: ReplyHandle, delivery: Delivery, part: render.Part
    ) -> discord.WebhookMessage | None:
        """Answer the interaction; ``None`` if its token has lapsed.

        The first followup replaces the "thinking…" placeholder and keeps its
        visibility, fixed when the command was deferred (ephemeral for a private
        command). A private answer to a public command therefore deletes a placeholder
        still thinking, and goes as a new, ephemeral message. Webhooks take no nonce,
        so a retried followup can repeat; the 15-minute window bounds it.
        """
        interaction = self._interaction(handle, delivery.chat_id)
        private = delivery.content.private
        try:
            if private and handle.public_placeholder:
                await _clear_placeholder(interaction)
            return await interaction.followup.send(
                **part.body(),
                **part.extras(),
                ephemeral=private,
                wait=True,
                allowed_mentions=render.NO_MENTIONS,
            )
        except discord.HTTPException as error:
            if error.status not in EXPIRED:
                raise
            log.info("a Discord interaction expired; replying in the channel instead")
            return None

    def _interaction(self, handle: ReplyHandle, chat_id: str) -> discord.Interaction:
        """A stand-in for the interaction being answered, built from its handle.

        Its followup webhook and original response need only the application id and
        the token, so answering works without the live object, even after a restart.
        """
        data: Any = {
            "id": str(handle.interaction_id),
            "application_id": str(handle.application_id),
            "type": discord.InteractionType.application_command.value,
            "token": handle.token,
            "version": 1,
            "attachment_size_limit": 0,
        }
        interaction = discord.Interaction(data=data, state=self._client._connection)
        # original_response() wants a channel to attach the message it fetches to.
        channel = self._client.get_partial_messageable(_snowflake(chat_id))
        interaction.channel = channel  # type: ignore[assignment]
        return interaction

    async def _edit(self, delivery: Delivery) -> None:
        """Edit every part in turn, the buttons on the last. The message keeps its
        number of parts: a longer text is cut to them, with a warning, and a shorter
        one leaves the parts after it as they were."""
        ids = delivery.message_ids
        if not ids:
            raise Permanent("nothing to edit: no message id")
        pieces = render.parts(delivery.content)
        if len(pieces) > len(ids):
            log.warning("message %s: an edit longer than the message was cut", delivery.nonce)
            pieces = pieces[: len(ids)]
        channel = await self._channel(delivery)
        for index in range(delivery.done, len(pieces)):
            if index > delivery.done:
                await delivery.next_part(ids[:index])
            last = index == len(pieces) - 1
            await channel.get_partial_message(_snowflake(ids[index])).edit(
                **pieces[index].body(),
                view=render.view(delivery.content.buttons if last else ()),
                allowed_mentions=render.NO_MENTIONS,
            )

    async def _delete(self, delivery: Delivery) -> None:
        channel = await self._channel(delivery)
        for message_id in delivery.message_ids:
            try:
                await channel.get_partial_message(_snowflake(message_id)).delete()
            except discord.NotFound as error:
                if error.code != UNKNOWN_MESSAGE:  # already deleted is deleted
                    raise

    async def _channel(self, delivery: Delivery) -> discord.PartialMessageable | discord.DMChannel:
        """The channel to post in. A private chat is addressed by the person's own id
        (``storage.chats.direct_chat``): their DM channel is opened once, then reused
        from discord.py's cache. A person who does not take DMs answers 403 on the
        send, which marks their direct chat inactive like any refusing chat."""
        chat_id = _snowflake(delivery.chat_id)
        if delivery.chat_kind is ChatKind.PRIVATE:
            return await self._client.create_dm(discord.Object(id=chat_id))
        return self._client.get_partial_messageable(chat_id)


async def _clear_placeholder(interaction: discord.Interaction) -> None:
    """Delete the public "thinking…" message if no answer has replaced it yet."""
    try:
        original = await interaction.original_response()
        if original.flags.loading:
            await interaction.delete_original_response()
    except discord.NotFound:
        pass  # already gone: the followup is a new message anyway


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
