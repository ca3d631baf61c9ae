"""Core messages in Telegram's terms: spans to HTML, long text to parts, buttons
to an inline keyboard, a file to an upload with its caption."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import MessageLimit

from bot.text import Rich, Span, Style, split
from bot.types import Attachment, Button, Content

TAGS = {Style.BOLD: "b", Style.ITALIC: "i", Style.CODE: "code"}


def to_html(text: Rich) -> str:
    """Telegram HTML for spans. Every span's text is escaped, so user text such as
    ``Smith & Sons <Depot>`` is always text, never markup."""
    return "".join(span_html(span) for span in text.spans)


def span_html(span: Span) -> str:
    body = html.escape(span.text)
    if not body:
        return ""
    if span.style is Style.LINK and span.url:
        return f'<a href="{html.escape(span.url)}">{body}</a>'
    tag = TAGS.get(span.style)
    return f"<{tag}>{body}</{tag}>" if tag else body


def visible_length(text: Rich) -> int:
    """What Telegram counts against the 4,096 limit: the text after entity parsing,
    in UTF-16 code units (the unit of its entity offsets). Counting UTF-16 is never
    less than counting code points, so a part that fits here fits there."""
    return len(str(text).encode("utf-16-le")) // 2


def parts(text: Rich) -> list[Rich]:
    """The message cut into sendable parts on line boundaries; blank parts are
    dropped because Telegram rejects empty messages."""
    return [
        part
        for part in split(text, MessageLimit.MAX_TEXT_LENGTH, visible_length)
        if str(part).strip()
    ]


def keyboard(content: Content, bot_username: str) -> InlineKeyboardMarkup | None:
    if not content.buttons:
        return None
    return InlineKeyboardMarkup(
        [[key(button, bot_username) for button in row] for row in content.buttons]
    )


def key(button: Button, bot_username: str) -> InlineKeyboardButton:
    """A press, or — for a start link — a deep link that opens the private chat
    with the bot and sends it ``/start <data>``."""
    if button.start_link:
        return InlineKeyboardButton(
            button.label, url=f"https://t.me/{bot_username}?start={button.data}"
        )
    return InlineKeyboardButton(button.label, callback_data=button.data)


def caption(text: Rich) -> Rich | None:
    """The text as a file's caption, or ``None`` when it is over Telegram's 1,024
    characters (counted like message text) and must go as messages of its own."""
    return text if visible_length(text) <= MessageLimit.CAPTION_LENGTH else None


def upload(attachment: Attachment) -> InputFile:
    """The file as PTB uploads it: a multipart part with its name and our MIME type
    (PTB would guess one from the name, which depends on the machine's tables)."""
    file = InputFile(attachment.data, filename=attachment.file_name)
    file.mimetype = attachment.mime_type
    return file
