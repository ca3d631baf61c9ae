"""Deliveries as Bot API calls, and PTB's errors as the outbox's failures.

Each function makes its calls once: the outbox owns retrying and pacing, so nothing
here sleeps or tries again (nor is PTB's ``AIORateLimiter`` used, which would pause
every request on one 429).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import replace
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
        return await send(bot, group, delivery.content, thread)
    except tg.TelegramError as error:
        raise delivery_error(error) from error


async def send(
    bot: Bot, chat_id: str, content: Content, thread: int | None = None
) -> tuple[str, ...]:
    """Send the text in parts, the keyboard under the last one, then any file and the
    location, into forum topic ``thread`` if given. A file whose text fits in a
    caption is one message: the document, with the text and keyboard on it. Returns
    every message id, so an edit or delete can find them all."""
    markup = keyboard(content, bot.username)
    attachment = content.attachment
    captioned = caption(content.text) if attachment is not None else None
    if attachment is not None and captioned is not None:
        sent = [await send_document(bot, chat_id, attachment, captioned, markup, thread)]
    else:
        sent = await send_texts(bot, chat_id, parts(content.text), markup, thread)
        if attachment is not None:
            # Unlike the pin below, the file is what was asked for: if it fails, the
            # delivery fails and the outbox sends it all again.
            sent.append(await send_document(bot, chat_id, attachment, None, None, thread))
    if content.location is not None:
        try:
            sent.append(
                await send_location(
                    bot, chat_id, content.location, None if sent else markup, thread
                )
            )
        except tg.TelegramError as error:
            if not sent:
                raise
            # The text is out and carries the map link. Failing the delivery now would
            # make the outbox send the text again (Telegram often says "retry after"
            # to a pin that follows a message at once), so the pin is let go.
            log.warning("chat %s: the pin after the text was not sent: %s", chat_id, error)
    if not sent:
        raise Permanent("nothing to send: the message has no text and no location")
    return tuple(str(message.message_id) for message in sent)


async def send_texts(
    bot: Bot,
    chat_id: str,
    texts: list[Rich],
    markup: InlineKeyboardMarkup | None,
    thread: int | None = None,
) -> list[Message]:
    """Each part as a message, the keyboard under the last."""
    sent = []
    for index, part in enumerate(texts):
        last = index == len(texts) - 1
        sent.append(
            await bot.send_message(
                chat_id,
                to_html(part),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup if last else None,
                message_thread_id=thread,
            )
        )
    return sent


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
    """Replace the text (its first part) and keyboard of the first message: the
    caption, when :func:`send` made that message a captioned document (the file
    itself stays). An unchanged message is already what we want."""
    if not delivery.message_ids:
        raise Permanent("nothing to edit: no message id")
    content = delivery.content
    captioned = caption(content.text) if content.attachment is not None else None
    target: dict[str, Any] = {
        "chat_id": delivery.chat_id,
        "message_id": int(delivery.message_ids[0]),
        "parse_mode": ParseMode.HTML,
        "reply_markup": keyboard(content, bot.username),
    }
    try:
        if captioned is not None:
            await bot.edit_message_caption(caption=to_html(captioned), **target)
        else:
            first = (parts(content.text) or [Rich()])[0]
            await bot.edit_message_text(to_html(first), link_preview_options=NO_PREVIEW, **target)
    except tg.BadRequest as error:
        if "message is not modified" not in str(error).lower():
            raise
    return delivery.message_ids


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
