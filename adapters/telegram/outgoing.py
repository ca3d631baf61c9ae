"""Deliveries as Bot API calls, and PTB's errors as the outbox's failures.

Each function makes its calls once: the outbox owns retrying and pacing, so nothing
here sleeps or tries again (nor is PTB's ``AIORateLimiter`` used, which would pause
every request on one 429).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram import error as tg
from telegram.constants import ParseMode
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram import topics
from adapters.telegram.render import caption, keyboard, parts, to_html, upload
from bot.delivery import ChatMoved, DeliveryError, Permanent, RetryAfter, Transient
from bot.text import Rich
from bot.types import Attachment, Content, Delivery, Location, Op

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Bad requests that mean the chat itself is unreachable, not just this message.
CHAT_GONE_PHRASES = ("chat not found", "chat was deactivated", "message thread not found")


async def carry_out(bot: Bot, delivery: Delivery) -> tuple[str, ...]:
    """Do one outbox row; return the message ids it concerns. A forum topic's id is
    split (``topics``): edits and deletes need only the group's, as message ids are
    the group's."""
    group, thread = topics.split(delivery.chat_id)
    try:
        if delivery.op is Op.EDIT:
            return await edit(bot, replace(delivery, chat_id=group))
        if delivery.op is Op.DELETE:
            return await delete(bot, replace(delivery, chat_id=group))
        return await send(bot, replace(delivery, chat_id=group), thread)
    except tg.TelegramError as error:
        raise delivery_error(error) from error


# One message of a delivery, sent when called.
Step = Callable[[], Awaitable[Message]]


async def send(bot: Bot, delivery: Delivery, thread: int | None = None) -> tuple[str, ...]:
    """Send the parts (:func:`plan`) not yet out, into forum topic ``thread`` if
    given, each after ``delivery.next_part`` lets it go. Returns every part's
    message id, so an edit or delete can find them all."""
    steps = plan(bot, delivery.chat_id, delivery.content, thread)
    if not steps:
        raise Permanent("nothing to send: the message has no text and no location")
    sent = list(delivery.message_ids)
    resumed = len(sent)
    for index in range(resumed, len(steps)):
        if index > resumed:
            await delivery.next_part(tuple(sent))
        try:
            sent.append(str((await steps[index]()).message_id))
        except tg.TelegramError as error:
            pin = delivery.content.location is not None and index == len(steps) - 1
            if not (pin and sent and isinstance(delivery_error(error), Permanent)):
                raise
            # The text is out and carries the map link: a pin refused for good is let
            # go rather than failing a delivery that got its message across.
            # Named by its row (the nonce), not its chat: a private chat's id is a person's.
            log.warning(
                "message %s: the pin after the text was not sent: %s", delivery.nonce, error
            )
    return tuple(sent)


def plan(bot: Bot, chat_id: str, content: Content, thread: int | None) -> list[Step]:
    """The messages a content becomes, in order: the text in parts, the keyboard
    under the last, then any file and the location. A file whose text fits in a
    caption is one message: the document, with the text and keyboard on it."""
    markup = keyboard(content, bot.username)
    attachment = content.attachment
    captioned = caption(content.text) if attachment is not None else None
    steps: list[Step] = []
    if attachment is not None and captioned is not None:
        steps.append(partial(send_document, bot, chat_id, attachment, captioned, markup, thread))
    else:
        texts = parts(content.text)
        for index, text in enumerate(texts):
            last = index == len(texts) - 1
            steps.append(partial(send_text, bot, chat_id, text, markup if last else None, thread))
        if attachment is not None:
            steps.append(partial(send_document, bot, chat_id, attachment, None, None, thread))
    if content.location is not None:
        pin_markup = None if steps else markup
        steps.append(partial(send_location, bot, chat_id, content.location, pin_markup, thread))
    return steps


async def send_text(
    bot: Bot,
    chat_id: str,
    text: Rich,
    markup: InlineKeyboardMarkup | None,
    thread: int | None = None,
) -> Message:
    return await bot.send_message(
        chat_id,
        to_html(text),
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
        reply_markup=markup,
        message_thread_id=thread,
    )


async def send_document(
    bot: Bot,
    chat_id: str,
    attachment: Attachment,
    text: Rich | None,
    markup: InlineKeyboardMarkup | None,
    thread: int | None = None,
) -> Message:
    """The file as a document a member taps to open, captioned with ``text``."""
    return await bot.send_document(
        chat_id,
        upload(attachment),
        caption=to_html(text) if text else None,
        parse_mode=ParseMode.HTML if text else None,
        reply_markup=markup,
        message_thread_id=thread,
    )


async def send_location(
    bot: Bot,
    chat_id: str,
    location: Location,
    markup: InlineKeyboardMarkup | None,
    thread: int | None = None,
) -> Message:
    """A venue (a pin with a name and address) when we know both, else a bare pin."""
    if location.title and location.address:
        return await bot.send_venue(
            chat_id,
            location.latitude,
            location.longitude,
            location.title,
            location.address,
            reply_markup=markup,
            message_thread_id=thread,
        )
    return await bot.send_location(
        chat_id,
        location.latitude,
        location.longitude,
        reply_markup=markup,
        message_thread_id=thread,
    )


async def edit(bot: Bot, delivery: Delivery) -> tuple[str, ...]:
    """Replace the text and keyboard of every part :func:`send` made: the caption,
    when that was a captioned document (the file itself stays), else each text part
    in turn, the keyboard under the last; the file and pin after them stay. A part
    left unchanged is already what we want. The message keeps its number of text
    parts: a longer text is cut to them, with a warning, and a shorter one leaves
    the parts after it as they were."""
    if not delivery.message_ids:
        raise Permanent("nothing to edit: no message id")
    content = delivery.content
    markup = keyboard(content, bot.username)
    captioned = caption(content.text) if content.attachment is not None else None
    if captioned is not None:
        first = delivery.message_ids[0]
        await unless_unchanged(
            bot.edit_message_caption(
                caption=to_html(captioned), **target(delivery.chat_id, first, markup)
            )
        )
        return delivery.message_ids
    after_text = (content.attachment is not None) + (content.location is not None)
    count = max(1, len(delivery.message_ids) - after_text)
    texts = parts(content.text) or [Rich()]
    if len(texts) > count:
        log.warning("message %s: an edit longer than the message was cut", delivery.nonce)
        texts = texts[:count]
    for index in range(delivery.done, min(len(texts), len(delivery.message_ids))):
        if index > delivery.done:
            await delivery.next_part(delivery.message_ids[:index])
        last = index == len(texts) - 1
        where = target(delivery.chat_id, delivery.message_ids[index], markup if last else None)
        text = texts[index]
        await unless_unchanged(
            bot.edit_message_text(to_html(text), link_preview_options=NO_PREVIEW, **where)
        )
    return delivery.message_ids


def target(chat_id: str, message_id: str, markup: InlineKeyboardMarkup | None) -> dict[str, Any]:
    """The message an edit changes, and the keyboard it gets."""
    return {
        "chat_id": chat_id,
        "message_id": int(message_id),
        "parse_mode": ParseMode.HTML,
        "reply_markup": markup,
    }


async def unless_unchanged(editing: Awaitable[object]) -> None:
    """Make the edit; one that changes nothing is what we wanted anyway."""
    try:
        await editing
    except tg.BadRequest as error:
        if "message is not modified" not in str(error).lower():
            raise


async def delete(bot: Bot, delivery: Delivery) -> tuple[str, ...]:
    """Delete every part; one already gone is what we wanted anyway."""
    for message_id in delivery.message_ids:
        try:
            await bot.delete_message(delivery.chat_id, int(message_id))
        except tg.BadRequest as error:
            if "message to delete not found" not in str(error).lower():
                raise
    return delivery.message_ids


def delivery_error(error: tg.TelegramError) -> DeliveryError:
    """PTB's error as the outbox's kind of failure. Permanent kinds are checked
    before NetworkError because PTB's BadRequest subclasses NetworkError."""
    reason = str(error)
    if isinstance(error, tg.RetryAfter):
        return RetryAfter(retry_seconds(error), reason)
    if isinstance(error, tg.ChatMigrated):
        return ChatMoved(str(error.new_chat_id))
    if isinstance(error, tg.Forbidden):
        return Permanent(reason, chat_gone=True)
    if isinstance(error, tg.BadRequest):
        gone = any(phrase in reason.lower() for phrase in CHAT_GONE_PHRASES)
        return Permanent(reason, chat_gone=gone)
    # TimedOut, NetworkError (5xx, connection), and anything unforeseen: try later.
    return Transient(reason)


def retry_seconds(error: tg.RetryAfter) -> float:
    """``retry_after`` in seconds. PTB 22 warns that the attribute will become a
    timedelta; accept either without the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
