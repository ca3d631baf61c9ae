"""Core messages as Discord sees them: escaped Markdown, embeds, button rows, files.

Every span's text is user text as far as Discord is concerned, so each one is
escaped (Markdown first, then mentions) before the span's own markers go round
it. A picket site called ``**Depot** @everyone`` therefore shows as typed and can
ping no one — and ``AllowedMentions.none()`` on every send is the second lock.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from typing import Any

import discord

from bot.text import Rich, Span, Style, bold, link, rich, split
from bot.types import Attachment, Button, Content, Emphasis

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000  # characters in a message's content
EMBED_LIMIT = 4096  # characters in an embed's description
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5
LABEL_LIMIT = 80

NO_MENTIONS = discord.AllowedMentions.none()

# Backticks cannot be escaped inside inline code; a look-alike keeps the text readable.
_CODE_SAFE = str.maketrans({"`": "ˋ"})
# Characters that would end a Markdown link target early.
_URL_SAFE = str.maketrans({"(": "%28", ")": "%29", " ": "%20", "<": "%3C", ">": "%3E"})


def escape(text: str) -> str:
    """Make user text inert: no formatting, no masked links, no pings."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def render(message: Rich) -> str:
    return "".join(_render_span(span) for span in message.spans)


def measure(message: Rich) -> int:
    """What Discord counts: the Markdown sent, escapes included. Counting UTF-16
    units is never less than counting code points, so a part can never be over."""
    return len(render(message).encode("utf-16-le")) // 2


def _render_span(span: Span) -> str:
    if span.style is Style.CODE:
        code = span.text.translate(_CODE_SAFE)
        return f"`{code}`" if code.strip() else code
    if span.style is Style.LINK and span.url.startswith(("https://", "http://")):
        label = escape(span.text).replace("[", "\\[").replace("]", "\\]")
        return f"[{label}]({span.url.translate(_URL_SAFE)})"
    marker = {Style.BOLD: "**", Style.ITALIC: "*"}.get(span.style, "")
    return _wrap(escape(span.text), marker)


def _wrap(text: str, marker: str) -> str:
    """Put Markdown markers inside surrounding whitespace, where Discord honours them."""
    core = text.strip()
    if not marker or not core:
        return text
    start = text.index(core)
    return f"{text[:start]}{marker}{core}{marker}{text[start + len(core) :]}"


def with_location(content: Content) -> Rich:
    """Discord has no native location, so a location degrades to a line of text."""
    place = content.location
    if place is None:
        return content.text
    label = " — ".join(part for part in (place.title, place.address) if part)
    where = rich("📍 ", bold(label), " ") if label else rich("📍 ")
    return content.text + "\n" + where + link("map", place.map_url)


@dataclass(frozen=True, slots=True)
class Part:
    """One Discord message of a possibly split core message; the last part carries
    the message's buttons and file, so they come after all of its text."""

    text: str
    announcement: bool
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None

    def body(self) -> dict[str, Any]:
        """Keyword arguments for send/edit; ``None`` clears the other form on an edit."""
        if self.announcement:
            return {"content": None, "embed": discord.Embed(description=self.text)}
        return {"content": self.text, "embed": None}

    def extras(self) -> dict[str, Any]:
        """The buttons and file, as keyword arguments for one send. The file is new
        each time: discord.py reads it to the end, and rewinds it only for its own
        retries, so a file used once would go empty on the next send."""
        extra: dict[str, Any] = {}
        buttons = view(self.buttons)
        if buttons is not None:
            extra["view"] = buttons
        if self.attachment is not None:
            extra["file"] = file(self.attachment)
        return extra

    def without_file(self) -> Part:
        """This part with a note in place of its file, for a channel that refuses files
        (the bot lacks *Attach Files* there). The note is left off if it would not fit."""
        if self.attachment is None:
            return self
        name = escape(self.attachment.file_name)
        note = f"\n(I couldn't attach {name}: I'm not allowed to attach files here.)"
        limit = EMBED_LIMIT if self.announcement else MESSAGE_LIMIT
        fits = len((self.text + note).encode("utf-16-le")) // 2 <= limit
        return Part(self.text + note if fits else self.text, self.announcement, self.buttons)


def parts(content: Content) -> list[Part]:
    """Split on line boundaries so that each part fits where it is shown."""
    announcement = content.emphasis is Emphasis.ANNOUNCEMENT
    limit = EMBED_LIMIT if announcement else MESSAGE_LIMIT
    pieces = split(with_location(content), limit, measure=measure)
    last = len(pieces) - 1
    return [
        Part(render(piece), announcement)
        if index < last
        else Part(render(piece), announcement, content.buttons, content.attachment)
        for index, piece in enumerate(pieces)
    ]


def file(attachment: Attachment) -> discord.File:
    """An upload, sent as the ``files[0]`` part of a multipart request. Discord takes
    the type from the file name, so ``mime_type`` has no part here."""
    return discord.File(io.BytesIO(attachment.data), filename=attachment.file_name)


def view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """Buttons as a view that is sent but never tracked.

    Presses are handled by the adapter's one ``on_interaction`` listener, keyed by
    ``custom_id`` alone, so they work on messages sent before a restart. The view is
    stopped before it is sent: discord.py then keeps no copy in its view store, which
    would otherwise grow by one view per message for as long as the bot runs.
    """
    if not rows:
        return None
    if len(rows) > ROWS_PER_MESSAGE or any(len(row) > BUTTONS_PER_ROW for row in rows):
        log.warning("Discord shows at most 5 rows of 5 buttons; the others were left off")
    out = discord.ui.View(timeout=None)
    for index, row in enumerate(rows[:ROWS_PER_MESSAGE]):
        for button in row[:BUTTONS_PER_ROW]:
            label = button.label[:LABEL_LIMIT]
            out.add_item(discord.ui.Button(label=label, custom_id=button.data, row=index))
    out.stop()
    return out


def nonce(delivery_nonce: str, part: int) -> str:
    """A nonce per message part, stable across retries of the same outbox row.

    Discord allows 25 characters; a 12-byte digest of the row's nonce and the part
    number is 24 hex characters, whatever the outbox's nonce looks like.
    """
    return hashlib.blake2b(f"{delivery_nonce}/{part}".encode(), digest_size=12).hexdigest()
