"""The platform-neutral vocabulary shared by the core and every adapter.

Adapters turn platform updates into the *events* below and hand them to the core;
the core answers with :class:`Outgoing` messages, which travel through the outbox
and come back to an adapter as a :class:`Delivery`. Nothing here knows Telegram
or Discord exists.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.text import Rich


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat as a platform names it: ``platform`` + its own id for the chat."""

    platform: str
    chat_id: str
    title: str = ""
    kind: ChatKind = ChatKind.GROUP

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person as a platform names them. ``is_chat_admin`` is the platform's own
    view (Telegram chat administrator, Discord *Manage Server*), which may make
    them an organiser of that chat."""

    platform: str
    user_id: str
    display_name: str
    is_chat_admin: bool = False
    platform_roles: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


# --- incoming events -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandIn:
    """``/name args`` typed (or a slash command picked) in a chat.

    ``reply_handle`` is opaque to the core: an adapter that must answer through
    something other than the chat (a Discord interaction) puts it here and gets it
    back on the reply's :class:`Delivery`. ``addressed`` is false for a bare
    ``/cmd`` in a Telegram group, which may be meant for another bot there: one the
    core does not know is then left unanswered rather than called a mistake.
    ``shared`` says every answer posted here is read by the whole chat (a Telegram
    group has no answer only the asker sees): the core then sends answers meant for
    the asker alone to their private chat instead (:mod:`bot.private_answers`).
    ``opens_private`` says the bot may open that private chat itself (a Discord DM)
    rather than wait for the asker to start one (a Telegram bot may not write first).
    """

    chat: ChatRef
    user: UserRef
    name: str
    text: str = ""
    reply_handle: str = ""
    addressed: bool = True
    shared: bool = False
    opens_private: bool = False


@dataclass(frozen=True, slots=True)
class ButtonIn:
    """A press on a button the bot sent; ``data`` is the button's compact data."""

    chat: ChatRef
    user: UserRef
    data: str
    reply_handle: str = ""


@dataclass(frozen=True, slots=True)
class TextIn:
    """A plain message, not a command: the core acts on it only when it asked this
    person for an answer here (the time, after "✏ Fix"), and ignores it otherwise.
    ``shared`` and ``opens_private`` as for :class:`CommandIn`."""

    chat: ChatRef
    user: UserRef
    text: str
    reply_handle: str = ""
    shared: bool = False
    opens_private: bool = False


@dataclass(frozen=True, slots=True)
class MemberJoined:
    chat: ChatRef
    user: UserRef


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """Someone left the chat or was removed from it."""

    chat: ChatRef
    user: UserRef


@dataclass(frozen=True, slots=True)
class BotAdded:
    """The bot joined a group, or — for a private chat — the person unblocked it."""

    chat: ChatRef
    user: UserRef | None = None


@dataclass(frozen=True, slots=True)
class BotRemoved:
    """The bot left or was removed from a group, or the person blocked it."""

    chat: ChatRef


@dataclass(frozen=True, slots=True)
class ChatMoved:
    """The platform gave the chat a new id (Telegram group → supergroup)."""

    chat: ChatRef
    new_chat_id: str


Event = (
    CommandIn | ButtonIn | TextIn | MemberJoined | MemberLeft | BotAdded | BotRemoved | ChatMoved
)


@dataclass(frozen=True, slots=True)
class EventResult:
    """What an adapter must do *now*, outside the outbox.

    ``notice`` answers a button press (Telegram's answerCallbackQuery, Discord's
    ephemeral interaction response): it is an acknowledgement the platform expects
    within seconds and cannot be queued, so it bypasses the outbox. Messages the
    event caused are already in the outbox when this is returned.
    """

    notice: str = ""
    # A plain message (TextIn) nobody was asked for: an adapter may say how to talk
    # to the bot where that is not noise (the console).
    unanswered: bool = False


# --- outgoing messages -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a message. ``data`` is compact and never user text: it must
    fit Telegram's 64-byte ``callback_data`` and Discord's 100-char ``custom_id``.

    A ``start_link`` button is no press but a link that opens the person's private
    chat with the bot and starts it with ``data`` as the payload (Telegram's
    ``t.me/<bot>?start=<data>``, which the adapter builds from its own username).
    """

    label: str
    data: str
    start_link: bool = False

    def __post_init__(self) -> None:
        if len(self.data.encode()) > 64:
            raise ValueError(f"button data over 64 bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    title: str = ""
    address: str = ""

    @property
    def map_url(self) -> str:
        return (
            "https://www.openstreetmap.org/?mlat="
            f"{self.latitude:.5f}&mlon={self.longitude:.5f}#map=17/"
            f"{self.latitude:.5f}/{self.longitude:.5f}"
        )


MAX_ATTACHMENT_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message, which phones open with one tap (a calendar file).

    It travels whole inside the message: the outbox persists it with the text, so a
    restart still delivers it, and a retry sends the same bytes. That is why files
    are kept small — calendar files are a few KB; the cap, far below every
    platform's upload limit, stops anything big from being queued by mistake.
    """

    file_name: str
    data: bytes
    mime_type: str

    def __post_init__(self) -> None:
        if len(self.data) > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"attachment {self.file_name!r} is over {MAX_ATTACHMENT_BYTES} bytes")

    def to_payload(self) -> list[str]:
        """JSON can't hold bytes, so the data goes base64-encoded."""
        return [self.file_name, base64.b64encode(self.data).decode("ascii"), self.mime_type]

    @classmethod
    def from_payload(cls, data: list[str]) -> Attachment:
        file_name, encoded, mime_type = data
        return cls(file_name, base64.b64decode(encoded), mime_type)


@dataclass(frozen=True, slots=True)
class EventMirror:
    """A message about something happening at a time (a meeting), which a platform
    with a calendar of its own (Discord's scheduled events) also shows there.

    ``key`` names the happening across messages and edits, so every copy and every
    edit keeps one calendar entry current: moved when ``starts_at`` changes, removed
    when ``cancelled``. ``refused_note`` is added to the message, once per place,
    where the platform refuses the bot its calendar. Platforms without a calendar
    ignore it.
    """

    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    description: str = ""
    cancelled: bool = False
    refused_note: Rich = field(default_factory=Rich)

    def to_payload(self) -> list[Any]:
        return [
            self.key,
            self.title,
            self.starts_at.isoformat(),
            self.ends_at.isoformat(),
            self.place,
            self.description,
            self.cancelled,
            self.refused_note.to_json(),
        ]

    @classmethod
    def from_payload(cls, data: list[Any]) -> EventMirror:
        key, title, starts_at, ends_at, place, description, cancelled, note = data
        return cls(
            key,
            title,
            datetime.fromisoformat(starts_at),
            datetime.fromisoformat(ends_at),
            place,
            description,
            bool(cancelled),
            Rich.from_json(note),
        )


class Emphasis(StrEnum):
    """How prominently an adapter may show a message (Discord renders ANNOUNCEMENT
    as an embed; Telegram and the console ignore it)."""

    NORMAL = "normal"
    ANNOUNCEMENT = "announcement"


@dataclass(frozen=True, slots=True)
class Content:
    """What a message shows, and how: the part of a message the outbox stores.

    ``private`` asks for an answer only the asker sees where the platform can
    (Discord ephemeral replies); elsewhere it is an ordinary message. An
    ``attachment`` is a file shown with the text, which is its caption where the
    platform has captions.
    """

    text: Rich
    buttons: tuple[tuple[Button, ...], ...] = ()
    location: Location | None = None
    attachment: Attachment | None = None
    private: bool = False
    emphasis: Emphasis = Emphasis.NORMAL
    reply_handle: str = ""
    event: EventMirror | None = None

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text.to_json()}
        if self.buttons:
            data["buttons"] = [
                [[b.label, b.data, *(["start"] if b.start_link else [])] for b in row]
                for row in self.buttons
            ]
        if self.location:
            loc = self.location
            data["location"] = [loc.latitude, loc.longitude, loc.title, loc.address]
        if self.attachment:
            data["attachment"] = self.attachment.to_payload()
        if self.private:
            data["private"] = True
        if self.emphasis is not Emphasis.NORMAL:
            data["emphasis"] = self.emphasis.value
        if self.reply_handle:
            data["reply_handle"] = self.reply_handle
        if self.event:
            data["event"] = self.event.to_payload()
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Content:
        location = data.get("location")
        attachment = data.get("attachment")
        event = data.get("event")
        return cls(
            text=Rich.from_json(data.get("text", [])),
            buttons=tuple(
                tuple(Button(label, value, "start" in rest) for label, value, *rest in row)
                for row in data.get("buttons", [])
            ),
            location=Location(*location) if location else None,
            attachment=Attachment.from_payload(attachment) if attachment else None,
            private=bool(data.get("private", False)),
            emphasis=Emphasis(data.get("emphasis", Emphasis.NORMAL.value)),
            reply_handle=str(data.get("reply_handle", "")),
            event=EventMirror.from_payload(event) if event else None,
        )


@dataclass(frozen=True, slots=True)
class Finished:
    """An outbox row that is done — sent, or failed for good — and its dedupe key.

    Delivery hooks pick out their own rows by key prefix (``broadcast:…``), so the
    many rows that are nobody's concern cost them no query.
    """

    row_id: int
    key: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the core wants in one chat.

    ``dedupe_key`` makes enqueueing idempotent: a second message with the same key
    is dropped by the outbox (a reminder occurrence, a broadcast copy per chat).
    """

    chat: ChatRef
    content: Content
    dedupe_key: str | None = None


class Op(StrEnum):
    SEND = "send"
    EDIT = "edit"
    DELETE = "delete"


async def _at_once(_sent: tuple[str, ...]) -> None:
    """An unpaced delivery's parts go one after another, without waiting."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row handed to an adapter to carry out.

    ``message_ids`` holds the platform ids of the message (or of each of its parts,
    when it was split) for an edit or a delete. For a send it holds the parts an
    earlier attempt already sent: the adapter sends from the first part not yet
    out, so a retry never repeats one; an edit likewise starts at part ``done``.
    Before each part after the first it sends or edits, the adapter awaits
    ``next_part(ids of the parts done so far)``: the sender keeps those ids should
    the row fail or stop, and its pacer counts every part as a message of its own
    (the first was counted when the row was dispatched). Where the chat's limits
    hold the next part back, ``next_part`` raises, and the row goes back to the
    table to resume there when the chat's wait is over.
    ``nonce`` is stable across retries of the same row, for platforms that can
    de-duplicate with it (Discord). ``chat_kind`` PRIVATE means ``chat_id`` is a
    person's id: the adapter opens its direct-message channel if it needs one.
    """

    op: Op
    chat_id: str
    content: Content
    nonce: str
    message_ids: tuple[str, ...] = field(default=())
    attempt: int = 0
    chat_kind: ChatKind = ChatKind.GROUP
    done: int = 0
    next_part: Callable[[tuple[str, ...]], Awaitable[None]] = field(
        default=_at_once, compare=False, repr=False
    )
