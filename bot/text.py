"""Platform-neutral formatted text.

The core never writes HTML or Markdown. It builds a message from *spans* — plain,
bold, italic, code or link — and each adapter renders them in its own syntax,
escaping the span text as it goes. That is why a picket site called
``Smith & Sons <Depot>`` can never break a Telegram HTML message or ping
``@everyone`` on Discord: user text is always a span's text, never markup.

Spans survive a trip through the outbox as plain JSON (``to_json``/``from_json``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Style(StrEnum):
    PLAIN = "plain"
    BOLD = "bold"
    ITALIC = "italic"
    CODE = "code"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    style: Style = Style.PLAIN
    url: str = ""


@dataclass(frozen=True, slots=True)
class Rich:
    """An immutable sequence of spans; ``str(rich)`` is its plain-text form."""

    spans: tuple[Span, ...] = ()

    def __str__(self) -> str:
        return "".join(span.text for span in self.spans)

    def __add__(self, other: Rich | Span | str) -> Rich:
        return Rich(self.spans + _as_rich(other).spans)

    def __len__(self) -> int:
        return sum(len(span.text) for span in self.spans)

    def to_json(self) -> list[list[str]]:
        return [
            [s.style.value, s.text, s.url] if s.url else [s.style.value, s.text] for s in self.spans
        ]

    @classmethod
    def from_json(cls, data: Sequence[Sequence[Any]]) -> Rich:
        return cls(
            tuple(Span(item[1], Style(item[0]), item[2] if len(item) > 2 else "") for item in data)
        )

    def lines(self) -> list[Rich]:
        """Split on newlines, keeping styles; used to break long messages on line boundaries."""
        out: list[list[Span]] = [[]]
        for span in self.spans:
            parts = span.text.split("\n")
            for index, part in enumerate(parts):
                if index:
                    out.append([])
                if part:
                    out[-1].append(Span(part, span.style, span.url))
        return [Rich(tuple(line)) for line in out]


def _as_rich(part: Rich | Span | str) -> Rich:
    if isinstance(part, Rich):
        return part
    if isinstance(part, Span):
        return Rich((part,))
    return Rich((Span(part),)) if part else Rich()


def rich(*parts: Rich | Span | str) -> Rich:
    """Concatenate parts; bare strings become plain spans."""
    out: tuple[Span, ...] = ()
    for part in parts:
        out += _as_rich(part).spans
    return Rich(out)


def join(parts: Iterable[Rich | Span | str], separator: str = "\n") -> Rich:
    out = Rich()
    for index, part in enumerate(parts):
        out = out + (separator if index else "") + part
    return out


def counted(number: int, noun: str, plural: str = "") -> str:
    """``1 chat``, ``2 chats``, ``1,000 people``: never "1 chats" or "chat(s)"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


class _OnPlatform(Protocol):
    @property
    def platform(self) -> str: ...


def platforms_text(chats: Iterable[_OnPlatform]) -> str:
    """`` (3 on Telegram, 1 on Discord)`` — nothing when they are all on one."""
    found = Counter(chat.platform for chat in chats)
    if len(found) < 2:
        return ""
    return " (" + ", ".join(f"{n:,} on {p.title()}" for p, n in sorted(found.items())) + ")"


def bold(text: str) -> Span:
    return Span(text, Style.BOLD)


def italic(text: str) -> Span:
    return Span(text, Style.ITALIC)


def code(text: str) -> Span:
    return Span(text, Style.CODE)


def link(text: str, url: str) -> Span:
    return Span(text, Style.LINK, url)


def split(message: Rich, limit: int, measure: Callable[[Rich], int] = len) -> list[Rich]:
    """Break a message into parts no longer than ``limit``, on line boundaries.

    ``measure`` lets an adapter count what its platform counts (Telegram counts the
    visible text; Discord counts the Markdown it is sent, escapes included). A single
    line longer than the limit is cut by characters as a last resort. Most messages
    fit whole: they are measured once, not once a line (a broadcast measures each of
    its thousand copies).
    """
    if measure(message) <= limit:
        return [message]
    parts: list[Rich] = []
    current: Rich | None = None
    for line in message.lines():
        candidate = line if current is None else current + "\n" + line
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            parts.append(current)
        current = line
        while measure(current) > limit:
            head, current = _cut(current, limit, measure)
            parts.append(head)
    if current is not None:
        parts.append(current)
    return parts


def _cut(line: Rich, limit: int, measure: Callable[[Rich], int]) -> tuple[Rich, Rich]:
    """Cut the longest head of ``line`` that fits within ``limit``."""
    plain = str(line)
    low, high = 1, len(plain)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(_slice(line, 0, middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return _slice(line, 0, low), _slice(line, low, len(plain))


def _slice(line: Rich, start: int, stop: int) -> Rich:
    out: list[Span] = []
    position = 0
    for span in line.spans:
        begin, end = position, position + len(span.text)
        position = end
        piece = span.text[max(start, begin) - begin : max(0, min(stop, end) - begin)]
        if piece:
            out.append(Span(piece, span.style, span.url))
    return Rich(tuple(out))
