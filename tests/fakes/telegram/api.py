"""A fake Telegram Bot API server, for tests and benchmarks.

Real python-telegram-bot reaches it through ``ApplicationBuilder().base_url(...)``
over real HTTP, so PTB's own request encoding, response parsing and error mapping
all run: a scripted 429 comes back as PTB's real ``RetryAfter``. We fake at the
edge and keep the library real.

Usage::

    async with FakeTelegramAPI() as api:
        adapter = TelegramAdapter(api.token, TelegramSettings(base_url=api.base_url))
        api.push(command_update("/help", private_chat(ADA), ADA))
        ...
        assert api.calls_to("sendMessage")[0]["text"] == "..."
        assert api.calls_to("sendDocument")[0]["document"].data == b"..."  # an Upload

The server answers the methods the Telegram adapter uses with realistic JSON,
records every call (a file uploaded with it as an :class:`Upload`), and can be
scripted to fail (``fail``/``fail_*``), to be slow (``delay``) or to enforce
Telegram's flood limits (``enforce_limits=True``). Text and captions over
Telegram's lengths are refused as Telegram refuses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Self

from aiohttp import ClientSession, web

from tests.fakes import WAIT

JSON = dict[str, Any]
Params = dict[str, Any]

# Parameters PTB sends JSON-encoded inside form fields; everything else stays text.
JSON_FIELDS = frozenset(
    {"reply_markup", "link_preview_options", "allowed_updates", "commands", "scope", "entities"}
)
# Methods that put a message in a chat, which is what Telegram's flood limits count.
SENDING_METHODS = frozenset({"sendMessage", "sendLocation", "sendVenue", "sendDocument"})
# Telegram's limits on text, counted in UTF-16 code units after entity parsing.
TEXT_LIMITS = {
    "text": (4096, "message is too long"),
    "caption": (1024, "message caption is too long"),
}
CALLBACK_TEXT = 200  # answerCallbackQuery text: 0-200 characters
UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may upload to the Bot API
# The update types Telegram leaves out unless they are asked for by name in
# allowed_updates (https://core.telegram.org/bots/api#getupdates).
ONLY_IF_ASKED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}


class ApiError(Exception):
    """An error answer from the fake, shaped like the real Bot API's."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart call, as it arrived."""

    file_name: str
    data: bytes
    mime_type: str


@dataclass
class Call:
    """One request; ``status`` is the HTTP status answered (0 while in progress),
    ``at`` when it came (``time.monotonic``)."""

    method: str
    params: Params
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    """A scripted error for ``method`` (and ``chat_id`` when given), ``times`` times
    (``None``: until removed), once ``after`` such calls have gone through."""

    method: str
    error: ApiError
    chat_id: str | None = None
    times: int | None = 1
    after: int = 0

    def matches(self, method: str, params: Params) -> bool:
        if self.method != method:
            return False
        return self.chat_id is None or str(params.get("chat_id")) == self.chat_id


@dataclass
class FloodLimits:
    """Telegram's documented flood limits, as a client would hit them: 30 messages a
    second overall, 20 a minute to one group, 1 a second to one chat."""

    overall: tuple[int, float] = (30, 1.0)
    per_group: tuple[int, float] = (20, 60.0)
    per_chat: tuple[int, float] = (1, 1.0)
    clock: Callable[[], float] = time.monotonic
    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def check(self, chat_id: str) -> None:
        """Record a message to ``chat_id``, or raise a 429 if it would break a limit."""
        now = self.clock()
        windows = [("*", *self.overall), (f"chat:{chat_id}", *self.per_chat)]
        if chat_id.startswith("-"):
            windows.append((f"group:{chat_id}", *self.per_group))
        waits = [self._wait(key, count, period, now) for key, count, period in windows]
        if max(waits) > 0:
            raise retry_after_error(math.ceil(max(waits)))
        for key, _count, _period in windows:
            self._sent.setdefault(key, deque()).append(now)

    def _wait(self, key: str, count: int, period: float, now: float) -> float:
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - period:
            sent.popleft()
        return sent[0] + period - now if len(sent) >= count else 0.0


def retry_after_error(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


# Telegram's HTML parse mode: these tags only, and only these named entities
# (https://core.telegram.org/bots/api#html-style).
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"tg-emoji", "code", "pre", "blockquote"}
)
HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise _parse_error(f'Unmatched end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in HTML_ENTITIES:
            raise _parse_error(f'Unsupported HTML entity "&{name};"')
        self.text.append(HTML_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))


def _parse_error(problem: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {problem}")


def visible_text(html: str) -> str:
    """What a member sees of a message sent in HTML parse mode: tags dropped,
    entities decoded. Raises :class:`ApiError` (400 "can't parse entities") for
    markup Telegram would refuse, e.g. an unescaped ``<Depot>``."""
    parser = _TelegramHTML()
    parser.feed(html)
    parser.close()
    if parser.open:
        raise _parse_error(f'Unclosed start tag "{parser.open[-1]}"')
    return "".join(parser.text)


class FakeTelegramAPI:
    """An aiohttp server on 127.0.0.1 (a free port) speaking enough Bot API for the
    adapter. An async context manager: the server runs inside ``async with``."""

    def __init__(
        self,
        token: str = "123456789:AAH-fake-token_for-tests",
        *,
        bot_username: str = "OrganiseBot",
        enforce_limits: bool = False,
        max_long_poll: float = 2.0,
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Organise",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.delays: dict[str, float] = {}
        self.admins: dict[str, list[JSON]] = {}
        self.limits = FloodLimits() if enforce_limits else None
        self.webhook: Params = {}
        self.allowed_updates: list[str] = []
        self.topics: dict[str, set[int]] = {}  # forum chat id → its topics' thread ids
        self.max_long_poll = max_long_poll
        self._updates: list[JSON] = []
        self._polls = 0  # getUpdates requests so far: the latest is the one answered
        self.conflicts = 0  # getUpdates ended by a newer one
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1001)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life-cycle ------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_get("/bot_fake/stats", self._stats)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._notify()  # wake pending long polls so the server can close at once
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- scripting ---------------------------------------------------------------------

    def push(self, *updates: JSON) -> list[int]:
        """Queue updates for getUpdates, numbering them; returns their update ids."""
        ids = []
        for update in updates:
            numbered = {"update_id": next(self._update_ids), **update}
            self._updates.append(numbered)
            ids.append(numbered["update_id"])
        self._notify()
        return ids

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        parameters: JSON | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``) with an error,
        after letting ``after`` of them through."""
        error = ApiError(status, description, parameters)
        chat = None if chat_id is None else str(chat_id)
        self.failures.append(Failure(method, error, chat, times, after))

    def fail_retry_after(self, method: str, seconds: int, **where: Any) -> None:
        self.fail(
            method,
            429,
            f"Too Many Requests: retry after {seconds}",
            parameters={"retry_after": seconds},
            **where,
        )

    def fail_kicked(self, method: str, **where: Any) -> None:
        self.fail(method, 403, "Forbidden: bot was kicked from the group chat", **where)

    def fail_migrated(self, method: str, new_chat_id: int, **where: Any) -> None:
        self.fail(
            method,
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": new_chat_id},
            **where,
        )

    def fail_chat_not_found(self, method: str, **where: Any) -> None:
        self.fail(method, 400, "Bad Request: chat not found", **where)

    def open_topic(self, chat: JSON, thread: int, name: str) -> JSON:
        """Create forum topic ``thread`` in ``chat`` (an ``is_forum`` supergroup);
        returns the service message that created it, which messages in the topic
        reply to."""
        self.topics.setdefault(str(chat["id"]), set()).add(thread)
        return message(
            chat,
            user(1, "Someone"),
            message_id=thread,
            message_thread_id=thread,
            is_topic_message=True,
            forum_topic_created={"name": name, "icon_color": 7322096},
        )

    def delay(self, method: str, seconds: float) -> None:
        """Make every ``method`` call take ``seconds`` before answering (for timeouts)."""
        self.delays[method] = seconds

    def set_admins(
        self, chat_id: int | str, users: Iterable[JSON], owner: JSON | None = None
    ) -> None:
        members = [{"status": "administrator", "user": user, **ADMIN_RIGHTS} for user in users]
        if owner is not None:
            members.insert(0, {"status": "creator", "user": owner, "is_anonymous": False})
        self.admins[str(chat_id)] = members

    # --- assertions --------------------------------------------------------------------

    def calls_to(self, method: str, after: int = 0) -> list[Params]:
        """The params of each call of ``method``, oldest first, from ``calls[after:]``."""
        return [call.params for call in self.calls[after:] if call.method == method]

    def mark(self) -> int:
        """A position in :attr:`calls`: pass it as ``after`` to look only at later calls."""
        return len(self.calls)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Params], bool] = lambda _params: True,
        *,
        after: int = 0,
        within: float = WAIT,
    ) -> Params:
        """Wait (at most ``within`` seconds) until ``method`` has been called with
        matching params (since the ``after`` mark); return the first such call."""

        def found() -> Params | None:
            return next((p for p in self.calls_to(method, after) if predicate(p)), None)

        await self.wait_until(lambda: found() is not None, within)
        params = found()
        assert params is not None
        return params

    async def wait_until(self, condition: Callable[[], bool], within: float = WAIT) -> None:
        """Wait (at most ``within`` seconds) until ``condition()`` holds; it is
        checked again whenever a call arrives or is answered."""
        async with asyncio.timeout(within):
            await self._until(condition)

    async def post_webhook(self, update: JSON, secret: str | None = None) -> int:
        """POST ``update`` to the webhook registered with setWebhook, as Telegram does,
        with the registered secret unless ``secret`` overrides it; return the status."""
        numbered = {"update_id": next(self._update_ids), **update}
        token = self.webhook.get("secret_token", "") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token}
        async with (
            ClientSession() as session,
            session.post(self.webhook["url"], json=numbered, headers=headers) as response,
        ):
            return response.status

    # --- the server --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await _read_params(request)
        call = Call(method, params)
        self.calls.append(call)
        self._notify()
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        try:
            self._scripted_failure(method, params)
            if self.limits is not None and method in SENDING_METHODS:
                self.limits.check(str(params["chat_id"]))
            result = await self._answer(method, params)
        except ApiError as error:
            self._answered(call, error.status)
            return web.json_response(error.body(), status=error.status)
        self._answered(call, 200)
        return web.json_response({"ok": True, "result": result})

    async def _stats(self, _request: web.Request) -> web.Response:
        """What a benchmark in another process asks the fake: the 429s it gave."""
        return web.json_response({"refused": sum(1 for c in self.calls if c.status == 429)})

    def _answered(self, call: Call, status: int) -> None:
        call.status = status
        self._notify()

    def _scripted_failure(self, method: str, params: Params) -> None:
        for failure in self.failures:
            if failure.matches(method, params):
                if failure.after:
                    failure.after -= 1
                    continue
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                raise failure.error

    async def _answer(self, method: str, params: Params) -> Any:
        handlers: dict[str, Callable[[Params], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "sendLocation": self._send_location,
            "sendVenue": self._send_venue,
            "getChatAdministrators": self._get_chat_administrators,
            "setWebhook": self._set_webhook,
        }
        if method in handlers:
            return await handlers[method](params)
        if method == "answerCallbackQuery" and len(str(params.get("text", ""))) > CALLBACK_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")  # as the real one answers
        if method in {"answerCallbackQuery", "setMyCommands", "deleteMessage", "deleteWebhook"}:
            return True
        raise ApiError(404, "Not Found: method not found")

    def _notify(self) -> None:
        """Wake everyone waiting in ``_until`` to re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds, re-checking whenever something changes."""
        while not condition():
            await self._changed.wait()

    async def _get_me(self, _params: Params) -> JSON:
        return self.bot_user

    async def _get_updates(self, params: Params) -> list[JSON]:
        """At most ``limit`` updates (1 to 100, default 100), as Telegram documents.
        As Telegram does with two bot instances polling one token, a new request
        ends one still waiting, which is answered 409 Conflict (``conflicts``)."""
        self._polls += 1
        mine = self._polls
        self._notify()  # the one waiting, if any, sees it is superseded
        offset = int(params.get("offset", 0))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        if "allowed_updates" in params:  # remembered until changed, as Telegram does
            self.allowed_updates = list(params["allowed_updates"])
        self._updates = [u for u in self._updates if u["update_id"] >= offset and self._wanted(u)]
        wait = min(float(params.get("timeout", 0)), self.max_long_poll)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._until(
                    lambda: bool(self._updates) or self._closing or self._polls != mine
                )
        if self._polls != mine:
            self.conflicts += 1
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._updates[:limit]

    def _wanted(self, update: JSON) -> bool:
        """Whether Telegram would deliver ``update`` at all, given allowed_updates."""
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in ONLY_IF_ASKED

    async def _send_message(self, params: Params) -> JSON:
        return self._message(params, text=_text(params, "text"))

    async def _send_document(self, params: Params) -> JSON:
        """A document uploaded with the call (PTB posts it as a multipart part)."""
        upload = params.get("document")
        if not isinstance(upload, Upload):
            raise ApiError(400, "Bad Request: there is no document in the request")
        number = next(self._file_ids)
        document = {
            "file_id": f"BQACAgQAAxkDAAI{number:06d}",
            "file_unique_id": f"AgAD{number:06d}",
            "file_name": upload.file_name,
            "mime_type": upload.mime_type,
            "file_size": len(upload.data),
        }
        return self._message(params, document=document, **_caption(params))

    async def _edit_message_text(self, params: Params) -> JSON:
        return self._edited(params, text=_text(params, "text"))

    async def _edit_message_caption(self, params: Params) -> JSON:
        return self._edited(params, **_caption(params))

    def _edited(self, params: Params, **content: Any) -> JSON:
        message = self._message(params, **content)
        message["message_id"] = int(params["message_id"])
        message["edit_date"] = int(time.time())
        return message

    async def _send_location(self, params: Params) -> JSON:
        return self._message(params, location=_location(params))

    async def _send_venue(self, params: Params) -> JSON:
        location = _location(params)
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._message(params, location=location, venue=venue)

    async def _get_chat_administrators(self, params: Params) -> list[JSON]:
        chat_id = str(params["chat_id"])
        if not chat_id.startswith("-"):
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return self.admins.get(chat_id, [])

    async def _set_webhook(self, params: Params) -> bool:
        self.webhook = params
        return True

    def _message(self, params: Params, **content: Any) -> JSON:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat_for_id(params["chat_id"]),
            "from": self.bot_user,
            **content,
        }
        if "message_thread_id" in params:  # into a forum topic, which must exist
            thread = int(params["message_thread_id"])
            if thread not in self.topics.get(str(params["chat_id"]), set()):
                raise ApiError(400, "Bad Request: message thread not found")
            message.update(message_thread_id=thread, is_topic_message=True)
            message["chat"]["is_forum"] = True
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message


async def _read_params(request: web.Request) -> Params:
    """Read a Bot API call's parameters the ways Telegram accepts them: query string,
    form (what PTB sends, with JSON-encoded objects; multipart when it uploads a
    file, which becomes an :class:`Upload`) or a JSON body."""
    params: Params = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[key] = Upload(value.filename, value.file.read(), value.content_type)
        elif key in JSON_FIELDS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


def _text(params: Params, key: str) -> str:
    """A message's text or caption as Telegram stores it, after parsing any markup;
    refused, as Telegram does, when that is over its limit."""
    text = str(params[key])
    shown = visible_text(text) if params.get("parse_mode") == "HTML" else text
    limit, problem = TEXT_LIMITS[key]
    if len(shown.encode("utf-16-le")) // 2 > limit:
        raise ApiError(400, f"Bad Request: {problem}")
    return shown


def _caption(params: Params) -> JSON:
    """The caption a message keeps, if one was given."""
    return {"caption": _text(params, "caption")} if params.get("caption") else {}


def _location(params: Params) -> JSON:
    return {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}


# --- update builders -----------------------------------------------------------------

_message_ids = itertools.count(1)


def user(user_id: int, first_name: str, last_name: str = "", username: str = "") -> JSON:
    data: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        data["last_name"] = last_name
    if username:
        data["username"] = username
    return data


def private_chat(person: JSON) -> JSON:
    chat = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    if "last_name" in person:
        chat["last_name"] = person["last_name"]
    return chat


def group_chat(chat_id: int, title: str, kind: str = "supergroup") -> JSON:
    return {"id": chat_id, "type": kind, "title": title}


def channel_chat(chat_id: int, title: str) -> JSON:
    return {"id": chat_id, "type": "channel", "title": title}


def channel_post_update(text: str, channel: JSON) -> JSON:
    """A post in a channel, as its admins post: as the channel, from nobody. A
    leading command gets its entity, as in any message."""
    update = command_update(text, channel, channel)
    post = update.pop("message")
    del post["from"]
    if not text.startswith("/"):
        del post["entities"]
    return {"channel_post": {**post, "sender_chat": channel}}


def forum_chat(chat_id: int, title: str) -> JSON:
    """A supergroup with topics switched on."""
    return {**group_chat(chat_id, title), "is_forum": True}


def in_topic(update: JSON, created: JSON) -> JSON:
    """``update``'s message sent in the topic that ``created`` opened (see
    :meth:`FakeTelegramAPI.open_topic`), as Telegram sends it: quoting the topic's
    creation as what it replies to."""
    thread = created["message_thread_id"]
    update["message"].update(
        message_thread_id=thread, is_topic_message=True, reply_to_message=created
    )
    return update


def chat_for_id(chat_id: int | str) -> JSON:
    """The chat object the fake answers with when it only knows a chat's id."""
    number = int(chat_id)
    if number > 0:
        return {"id": number, "type": "private", "first_name": "Someone"}
    kind = "supergroup" if str(number).startswith("-100") else "group"
    return group_chat(number, f"Chat {number}", kind)


def message(chat: JSON, sender: JSON, **content: Any) -> JSON:
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        **content,
    }


def text_update(text: str, chat: JSON, sender: JSON) -> JSON:
    return {"message": message(chat, sender, text=text)}


def command_update(text: str, chat: JSON, sender: JSON) -> JSON:
    """A message starting with a bot command, with the entity Telegram attaches to it."""
    command = text.split(maxsplit=1)[0]
    entity = {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
    return {"message": message(chat, sender, text=text, entities=[entity])}


def callback_update(data: str, chat: JSON, sender: JSON, query_id: str = "") -> JSON:
    """A press on an inline button under a message the bot sent."""
    return {
        "callback_query": {
            "id": query_id or f"cq{next(_message_ids)}",
            "from": sender,
            "chat_instance": f"ci{chat['id']}",
            "data": data,
            "message": message(chat, {"id": 1, "is_bot": True, "first_name": "Bot"}, text="…"),
        }
    }


def my_chat_member_update(
    chat: JSON, by: JSON, bot: JSON, old_status: str, new_status: str
) -> JSON:
    """The bot's own membership of ``chat`` changing, done by ``by``."""
    return {"my_chat_member": _membership(chat, by, bot, old_status, new_status)}


def chat_member_update(
    chat: JSON, by: JSON, person: JSON, old_status: str, new_status: str
) -> JSON:
    """Someone else's membership of ``chat`` changing (sent only if asked for, and
    only where the bot is an administrator)."""
    return {"chat_member": _membership(chat, by, person, old_status, new_status)}


def _membership(chat: JSON, by: JSON, person: JSON, old_status: str, new_status: str) -> JSON:
    return {
        "chat": chat,
        "from": by,
        "date": int(time.time()),
        "old_chat_member": _member(person, old_status),
        "new_chat_member": _member(person, new_status),
    }


def bot_added_update(chat: JSON, by: JSON, bot: JSON) -> JSON:
    return my_chat_member_update(chat, by, bot, "left", "member")


def bot_kicked_update(chat: JSON, by: JSON, bot: JSON) -> JSON:
    return my_chat_member_update(chat, by, bot, "member", "kicked")


def migrate_update(chat: JSON, sender: JSON, new_chat_id: int) -> JSON:
    """The service message left in a group when it becomes a supergroup."""
    return {"message": message(chat, sender, migrate_to_chat_id=new_chat_id)}


def new_members_update(chat: JSON, sender: JSON, members: list[JSON]) -> JSON:
    return {"message": message(chat, sender, new_chat_members=members)}


def left_member_update(chat: JSON, sender: JSON, member: JSON) -> JSON:
    """The service message left when ``member`` leaves (or ``sender`` removes them)."""
    return {"message": message(chat, sender, left_chat_member=member)}


def _member(person: JSON, status: str) -> JSON:
    member: JSON = {"user": person, "status": status}
    if status == "administrator":
        member.update(ADMIN_RIGHTS)
    if status == "kicked":
        member["until_date"] = 0
    return member
