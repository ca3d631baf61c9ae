"""The console adapter: try every command in a terminal, no tokens needed.

Several simulated chats and people share one session. Lines starting with ``/``
are commands; lines starting with ``:`` steer the simulation::

    :chat cannock-branch    switch to (or create) a chat
    :chat @                 talk to the bot privately, as the current person
    :user sam               speak as someone else
    :admin on|off           make the current person a chat admin (or not)
    :join dana              dana joins the current chat
    :press 2                press button [2]
    :help                   this list

Messages leave through the outbox like on any platform, so what you see here is
what the delivery path produced. Output is plain text, stable for scripts. A file
the bot sends (a calendar file) is saved to a folder (:func:`files_folder`) and
shown as a line with its path, so you can open it as a phone would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.config import ConfigError
from bot.delivery import UNPACED, Pacing, Permanent
from bot.platform import EventHandler, PlatformSpec, Setup
from bot.text import Rich, Style
from bot.types import (
    Attachment,
    Button,
    ButtonIn,
    ChatKind,
    ChatRef,
    CommandIn,
    Delivery,
    MemberJoined,
    Op,
    TextIn,
    UserRef,
)

META_HELP = (
    "Console commands: :chat NAME (:chat @ talks privately), :user NAME, :admin on|off, "
    ":join NAME, :press N, :help. "
    "Bot commands start with /, e.g. /help"
)
FILES_FOLDER = "console-files"
PRIVATE = "@"  # the chat name of the current person's private chat with the bot
PLATFORM = "console"


@dataclass(frozen=True)
class ConsoleSettings:
    # "auto": the console runs when no other platform has a token.
    enabled: str = "auto"
    chat: str = "branch"
    user: str = "alice"
    # Where files the bot sends (calendar files) are saved; empty: a "console-files"
    # folder beside the SQLite database (files_folder).
    files: str = ""


def check(settings: ConsoleSettings) -> None:
    if settings.enabled not in {"auto", "yes", "no"}:
        raise ConfigError('console.enabled should be "auto", "yes" or "no"')


def files_folder(settings: ConsoleSettings, database_url: str = "") -> Path:
    """Where the console saves the files the bot sends: ``[console] files`` if set;
    else a ``console-files`` folder beside the SQLite database, where whoever is
    trying the bot finds it; else (PostgreSQL, or no file) the system's temp folder."""
    if settings.files:
        return Path(settings.files)
    database = make_url(database_url).database if database_url.startswith("sqlite") else None
    if database and database != ":memory:":
        return Path(database).parent / FILES_FOLDER
    return Path(tempfile.gettempdir()) / f"organise-bot-{FILES_FOLDER}"


@dataclass(frozen=True)
class _Pressable:
    chat: str
    button: Button


class ConsoleAdapter:
    platform = PLATFORM

    def __init__(
        self, settings: ConsoleSettings, out: TextIO | None = None, files: Path | None = None
    ) -> None:
        self.chat = settings.chat
        self.user = settings.user
        self.admins: set[tuple[str, str]] = set()
        self._out = out or sys.stdout
        self.files = files or files_folder(settings)
        self._on_event: EventHandler | None = None
        self._message_ids = itertools.count(1)
        self._buttons: list[_Pressable] = []

    @property
    def pacing(self) -> Pacing:
        return UNPACED

    @property
    def prompt(self) -> str:
        return f"{self.user}@{self.chat}> "

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event

    async def stop(self) -> None:
        self._on_event = None

    # --- input -----------------------------------------------------------------

    async def feed(self, line: str) -> None:
        """Act on one typed line."""
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if line.startswith(":"):
            await self._meta(line[1:])
        elif line.startswith("/"):
            name, _, rest = line[1:].partition(" ")
            await self._emit(CommandIn(self._chat_ref(), self._user_ref(), name, rest.strip()))
        elif await self._emit_text(line):
            self._print("(I only answer commands that start with /. Try /help.)")

    async def _meta(self, line: str) -> None:
        verb, _, argument = line.partition(" ")
        argument = argument.strip()
        actions: dict[str, Callable[[str], object]] = {
            "chat": self._switch_chat,
            "user": self._switch_user,
            "admin": self._set_admin,
        }
        if verb in actions and argument:
            actions[verb](argument)
        elif verb == "join" and argument:
            await self._emit(MemberJoined(self._chat_ref(), self._user_ref(argument)))
            self._print(f"({argument} joined {self.chat})")
        elif verb == "press" and argument.isascii() and argument.isdigit():
            await self._press(int(argument))
        else:
            self._print(META_HELP)

    def _switch_chat(self, name: str) -> None:
        self.chat = name

    def _switch_user(self, name: str) -> None:
        self.user = name

    def _set_admin(self, value: str) -> None:
        key = (self.chat, self.user)
        if value == "on":
            self.admins.add(key)
        else:
            self.admins.discard(key)
        self._print(f"({self.user} is {'now' if value == 'on' else 'not'} an admin of {self.chat})")

    async def _press(self, number: int) -> None:
        if not 1 <= number <= len(self._buttons):
            self._print(f"(there is no button [{number}])")
            return
        pressable = self._buttons[number - 1]
        self.chat = pressable.chat
        result = await self._emit(
            ButtonIn(self._chat_ref(), self._user_ref(), pressable.button.data)
        )
        if result:
            self._print(f"[{self.chat}] (to {self.user} only) {result}")

    async def _emit(self, event: CommandIn | ButtonIn | MemberJoined) -> str:
        if self._on_event is None:
            raise RuntimeError("console adapter not started")
        result = await self._on_event(event)
        return result.notice

    async def _emit_text(self, line: str) -> bool:
        """Hand a plain line to the core; whether nobody was waiting for it."""
        if self._on_event is None:
            raise RuntimeError("console adapter not started")
        result = await self._on_event(TextIn(self._chat_ref(), self._user_ref(), line))
        return result.unanswered

    def _chat_ref(self) -> ChatRef:
        if self.chat == PRIVATE:  # addressed by the person's id, as on every platform
            return ChatRef(self.platform, self.user.lower(), self.user, ChatKind.PRIVATE)
        return ChatRef(self.platform, self.chat, self.chat, ChatKind.GROUP)

    def _user_ref(self, name: str | None = None) -> UserRef:
        name = name or self.user
        is_admin = (self.chat, name) in self.admins
        return UserRef(self.platform, name.lower(), name, is_chat_admin=is_admin)

    # --- output ----------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        if delivery.op is Op.DELETE:
            self._print(f"[{delivery.chat_id}] (message #{','.join(delivery.message_ids)} deleted)")
            return delivery.message_ids
        content = delivery.content
        if not (content.text.spans or content.location or content.attachment):
            raise Permanent("empty message")
        edited = delivery.op is Op.EDIT
        number = delivery.message_ids[0] if edited else str(next(self._message_ids))
        where = (
            f"@{delivery.chat_id}" if delivery.chat_kind is ChatKind.PRIVATE else delivery.chat_id
        )
        head = f"[{where}]"
        if edited:
            head += f" (message #{number} edited)"
        if content.private:
            head += " (only you)"
        lines = render(content.text).split("\n")
        if content.location:
            loc = content.location
            lines.append(f"📍 {loc.title or 'Location'}: {loc.map_url}")
        if content.attachment:
            lines.append(self._save(content.attachment))
        for row in content.buttons:
            labels = []
            for button in row:
                chat = PRIVATE if delivery.chat_kind is ChatKind.PRIVATE else delivery.chat_id
                self._buttons.append(_Pressable(chat, button))
                labels.append(f"[{len(self._buttons)}] {button.label}")
            lines.append("   ".join(labels))
        indent = " " * (len(where) + 3)
        self._print(head + " " + lines[0] + "".join(f"\n{indent}{line}" for line in lines[1:]))
        return (number,)

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _save(self, attachment: Attachment) -> str:
        """Write the file (a newer one of the same name replaces it); say where."""
        name = Path(attachment.file_name).name.lstrip(".") or "file"
        self.files.mkdir(parents=True, exist_ok=True)
        path = (self.files / name).resolve()
        path.write_bytes(attachment.data)
        return f"📎 {name} ({size_text(len(attachment.data))}) saved to {path}"


def size_text(size: int) -> str:
    """``512 bytes``, ``1.2 KB``."""
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB"


def render(text: Rich) -> str:
    """Plain text; a link shows its address unless its text already is the address."""
    out = []
    for span in text.spans:
        if span.style is Style.LINK and span.url and span.url != span.text:
            out.append(f"{span.text} ({span.url})")
        else:
            out.append(span.text)
    return "".join(out)


async def next_line(prompt: str | None) -> str | None:
    """One line of standard input (``None`` at its end), read on a daemon thread so
    the event loop keeps sending meanwhile and Ctrl-C never waits for Enter.
    ``prompt`` is shown for a person at a terminal; scripts pass ``None``."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def read() -> None:
        try:
            line: str | None = input(prompt) if prompt is not None else sys.stdin.readline()
        except EOFError:
            line = None
        if prompt is None and line == "":
            line = None
        with contextlib.suppress(RuntimeError):  # the loop closed while we waited
            loop.call_soon_threadsafe(_settle, future, line)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


def build(setup: Setup[ConsoleSettings]) -> ConsoleAdapter:
    return ConsoleAdapter(
        setup.settings, files=files_folder(setup.settings, setup.config.database.url)
    )


SPEC = PlatformSpec(PLATFORM, ConsoleSettings, build, check=check)
