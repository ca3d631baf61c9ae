"""A fake Discord: the edge is fake, discord.py is real.

:class:`FakeDiscord` serves Discord's REST API on ``127.0.0.1`` (port 0) and points
discord.py at it by patching ``discord.http.Route.BASE``, the prefix every REST and
webhook route is built on. It records each request, answers with realistic JSON
(messages, DM channels, interaction callbacks and followups, command syncs,
scheduled events) and can
be scripted to fail with a 429, 403, 404 or 5xx, so discord.py's own retry and error
code runs as in production. With ``enforce_limits=True`` it answers 429 as Discord
does past 50 requests a second, or 5 messages per 5 s to one channel (benchmarks).

Files arrive as discord.py sends them, a multipart form of a ``payload_json`` field
and ``files[n]`` parts: each request keeps its files (:class:`Upload`), and the message
returned lists them under ``attachments`` as Discord does.

Interaction answers are kept as a person would see them (:attr:`FakeDiscord.answers`):
the first followup after a "thinking…" deferral *replaces* that placeholder and
takes its visibility, whatever the followup asked for — Discord's rule.

Gateway events do not need a websocket: :class:`Gateway` hands payloads built here
to the client's own ``ConnectionState`` parsers, which turn them into real models
and dispatch the real events.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from bot.types import Event, EventResult
from tests.fakes import WAIT

TOKEN = "fake-bot-token"
APP_ID = 900000000000000001  # a bot user's id is its application's id
API_PREFIX = "/api/v10"
EPHEMERAL = 1 << 6  # message flags
LOADING = 1 << 7

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
CHAT = discord.Permissions(view_channel=True, send_messages=True, read_message_history=True).value

ERRORS: dict[int, tuple[int, str]] = {
    400: (50035, "Invalid Form Body"),
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),  # 50007 for a person who takes no DMs
    404: (10003, "Unknown Channel"),
    500: (0, "500: Internal Server Error"),
    503: (0, "upstream connect error or disconnect/reset before headers"),
}

_ids = itertools.count(1)


def snowflake(when: datetime | None = None) -> int:
    """A unique Discord id; its top bits are its creation time, as on Discord."""
    base = discord.utils.time_snowflake(when or datetime.now(UTC))
    return base + next(_ids) % 4096


def aim_discord_py(port: int) -> None:
    """Point discord.py's REST routes and gateway at a fake listening on ``port``."""
    discord.http.Route.BASE = f"http://127.0.0.1:{port}{API_PREFIX}"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{port}/gateway")


def timestamp() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name.lower().replace(" ", "_"),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT_USER = user_payload(APP_ID, "Organise Bot", bot=True)


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    roles: tuple[str, ...] = ()
    bot: bool = False

    @property
    def user(self) -> dict[str, Any]:
        return user_payload(self.user_id, self.name, bot=self.bot)


@dataclass
class FakeGuild:
    """A server with named text channels and roles; builds its gateway payloads."""

    name: str = "Branch 42"
    channels: tuple[str, ...] = ("general", "picket-line")
    roles: dict[str, int] = field(
        default_factory=lambda: {"Organiser": 0, "TULO": 0, "Admin": MANAGE_GUILD}
    )
    system_channel: str | None = "general"
    id: int = field(default_factory=snowflake)
    channel_ids: dict[str, int] = field(init=False)
    role_ids: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.channel_ids = {name: snowflake() for name in self.channels}
        self.role_ids = {name: snowflake() for name in self.roles}

    def member(self, person: Person, *, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user": person.user,
            "roles": [str(self.role_ids[name]) for name in person.roles],
            "joined_at": timestamp(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
        }
        if permissions is not None:  # interactions carry the member's resolved permissions
            data["permissions"] = str(permissions)
        return data

    def channel(self, name: str) -> dict[str, Any]:
        return {
            "id": str(self.channel_ids[name]),
            "type": 0,
            "guild_id": str(self.id),
            "name": name,
            "position": self.channels.index(name),
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def create(self) -> dict[str, Any]:
        """GUILD_CREATE for a server the bot has just joined; no ``unavailable`` key,
        which on Discord marks a known server coming back after an outage."""
        everyone = {"id": str(self.id), "name": "@everyone", "permissions": str(CHAT)}
        roles: list[dict[str, Any]] = [everyone] + [
            {"id": str(self.role_ids[name]), "name": name, "permissions": str(value | CHAT)}
            for name, value in self.roles.items()
        ]
        for position, role in enumerate(roles):
            role.update(position=position, color=0, hoist=False, managed=False, mentionable=False)
            role["flags"] = 0
        system = self.channel_ids.get(self.system_channel or "")
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(snowflake()),
            "roles": roles,
            "channels": [self.channel(name) for name in self.channels],
            "threads": [],
            "members": [self.member(Person(APP_ID, "Organise Bot", bot=True))],
            "member_count": 2,
            "system_channel_id": str(system) if system else None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "premium_tier": 0,
            "preferred_locale": "en-GB",
            "joined_at": timestamp(),
        }

    def permissions(self, person: Person) -> int:
        value = CHAT
        for name in person.roles:
            value |= self.roles[name]
        return value


def message_payload(channel_id: int, body: dict[str, Any], message_id: int) -> dict[str, Any]:
    """A message as Discord returns it, echoing what was sent."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": 0,
        "author": BOT_USER,
        "content": body.get("content") or "",
        "timestamp": timestamp(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [attachment(channel_id, file) for file in body.get("attachments") or []],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "flags": body.get("flags", 0),
        "nonce": body.get("nonce"),
    }


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as it arrived."""

    field: str  # "files[0]"
    file_name: str
    data: bytes


def attachment(channel_id: int, file: dict[str, Any]) -> dict[str, Any]:
    """An attachment as Discord shows it in a message, from what :func:`_attached` made."""
    url = f"https://cdn.discordapp.com/attachments/{channel_id}/{file['id']}/{file['filename']}"
    return {
        **file,
        "url": url,
        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
    }


@dataclass
class Answer:
    """A message answering an interaction, as the person who acted sees it."""

    token: str
    body: dict[str, Any]
    ephemeral: bool
    replaced_placeholder: bool
    message: dict[str, Any]  # as Discord returned it (a button press carries it back)

    @property
    def text(self) -> str:
        embeds = self.body.get("embeds") or []
        return self.body.get("content") or (embeds[0]["description"] if embeds else "")


class Limits:
    """Discord's limits as a client meets them: 50 requests a second in all
    (interaction answers are exempt) and about 5 messages per 5 s to one channel;
    sliding windows, so the fake is never more lenient than Discord."""

    def __init__(
        self, overall: tuple[int, float] = (50, 1.0), per_channel: tuple[int, float] = (5, 5.0)
    ) -> None:
        self.overall = overall
        self.per_channel = per_channel
        self.refused = 0  # 429s given
        self._sent: dict[str, deque[float]] = {}

    def check(self, method: str, path: str) -> tuple[float, bool] | None:
        """Record a request, or return (seconds to wait, global?) for a 429."""
        if path.startswith(("/interactions/", "/webhooks/", "/_fake/")):
            return None
        now = time.monotonic()
        windows = [("*", *self.overall)]
        channel = re.fullmatch(r"/channels/(\d+)/messages", path)
        if method == "POST" and channel:
            windows.append((channel[1], *self.per_channel))
        for key, count, period in windows:
            sent = self._sent.setdefault(key, deque())
            while sent and sent[0] <= now - period:
                sent.popleft()
            if len(sent) >= count:
                self.refused += 1
                return sent[0] + period - now, key == "*"
        for key, _count, _period in windows:
            self._sent[key].append(now)
        return None


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # after /api/v10
    query: dict[str, str]
    body: Any  # the JSON sent, or a multipart form's ``payload_json``
    authorization: str
    uploads: tuple[Upload, ...] = ()


@dataclass
class _Failure:
    status: int
    method: str
    path: re.Pattern[str]
    times: int
    retry_after: float
    code: int | None


Handler = Callable[[re.Match[str], Any], Awaitable[web.Response]]


class FakeDiscord:
    """The REST half of Discord; use as ``async with FakeDiscord() as fake``."""

    def __init__(self, *, enforce_limits: bool = False) -> None:
        self.requests: list[Request] = []
        self.created: list[dict[str, Any]] = []  # channel messages, as Discord returned them
        self.answers: list[Answer] = []  # interaction answers, as people see them
        self.dm_channels: dict[int, int] = {}  # person's id → their DM channel's id
        self.events: dict[int, dict[str, Any]] = {}  # scheduled events by id, as Discord has them
        self.limits = Limits() if enforce_limits else None
        self._placeholders: dict[str, dict[str, Any]] = {}  # token → the original response
        self._failures: list[_Failure] = []
        self._by_nonce: dict[tuple[str, str], dict[str, Any]] = {}
        self._interaction_channels: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._old_base = discord.http.Route.BASE
        self._old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        self.port = 0
        self.identify: dict[str, Any] | None = None  # what the client identified with
        self.refuse_with: int | None = None  # a gateway close code, e.g. 4014
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/users/@me"), self._me),
            ("GET", re.compile(r"/oauth2/applications/@me"), self._application),
            ("POST", re.compile(r"/users/@me/channels"), self._open_dm),
            ("POST", re.compile(r"/channels/(\d+)/messages"), self._create),
            ("PATCH", re.compile(r"/channels/(\d+)/messages/(\d+)"), self._edit),
            ("DELETE", re.compile(r"/channels/(\d+)/messages/(\d+)"), self._no_content),
            ("POST", re.compile(r"/interactions/(\d+)/([^/]+)/callback"), self._callback),
            ("POST", re.compile(r"/webhooks/(\d+)/([^/]+)"), self._followup),
            ("GET", re.compile(r"/webhooks/(\d+)/([^/]+)/messages/@original"), self._original),
            ("DELETE", re.compile(r"/webhooks/\d+/([^/]+)/messages/@original"), self._unthink),
            ("PUT", re.compile(r"/applications/\d+(?:/guilds/\d+)?/commands"), self._sync),
            ("POST", re.compile(r"/guilds/(\d+)/scheduled-events"), self._create_event),
            ("GET", re.compile(r"/guilds/(\d+)/scheduled-events/(\d+)"), self._get_event),
            ("PATCH", re.compile(r"/guilds/(\d+)/scheduled-events/(\d+)"), self._edit_event),
            ("DELETE", re.compile(r"/guilds/(\d+)/scheduled-events/(\d+)"), self._delete_event),
            ("GET", re.compile(r"/_fake/stats"), self._stats),
        ]

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        aim_discord_py(self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        discord.http.Route.BASE = self._old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._old_gateway
        if self._runner is not None:
            await self._runner.cleanup()

    # --- scripting and inspection -------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        method: str = "POST",
        path: str = r"/channels/\d+/messages",
        times: int = 1,
        retry_after: float = 0.05,
        code: int | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        pattern = re.compile(path)
        self._failures.append(_Failure(status, method, pattern, times, retry_after, code))

    def calls(self, method: str, path: str) -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    def messages(self) -> list[Request]:
        return self.calls("POST", r"/channels/\d+/messages")

    def followups(self) -> list[Request]:
        return self.calls("POST", r"/webhooks/\d+/[^/]+")

    def callbacks(self) -> list[Request]:
        return self.calls("POST", r"/interactions/\d+/[^/]+/callback")

    def texts(self) -> list[str]:
        """The text of each channel message, in order."""
        return [m["content"] or m["embeds"][0]["description"] for m in self.created]

    def uploads(self) -> list[Upload]:
        """Every file sent, to a channel or in an interaction answer, in order."""
        return [upload for request in self.requests for upload in request.uploads]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Until background work (discord.py dispatches events as tasks) made a request."""
        async with asyncio.timeout(WAIT), self._changed:
            await self._changed.wait_for(predicate)

    # --- the server ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix(API_PREFIX)
        body, uploads = await _read_body(request)
        auth = request.headers.get("Authorization", "")
        self.requests.append(
            Request(request.method, path, dict(request.query), body, auth, uploads)
        )
        async with self._changed:
            self._changed.notify_all()
        if path == "/users/@me" and auth != f"Bot {TOKEN}":  # logging in with a wrong token
            code, message = ERRORS[401]
            return _json({"message": message, "code": code}, 401)
        failure = self._scripted(request.method, path)
        if failure is not None:
            return _error(failure)
        refused = self.limits.check(request.method, path) if self.limits else None
        if refused is not None:
            return _rate_limited(*refused)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                return await handler(match, _attached(body, uploads))
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """Just enough gateway to connect: HELLO, then READY (or a refusal) on IDENTIFY.
        Frames go uncompressed, which discord.py accepts alongside zlib-stream."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for frame in socket:
            payload = json.loads(frame.data)
            if payload["op"] == 1:  # heartbeat
                await socket.send_json({"op": 11})
            elif payload["op"] == 2 and self.refuse_with is not None:
                self.identify = payload["d"]
                await socket.close(code=self.refuse_with)
            elif payload["op"] == 2:
                self.identify = payload["d"]
                await socket.send_json({"op": 0, "t": "READY", "s": 1, "d": _ready(request)})
        return socket

    def _scripted(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.path.fullmatch(path):
                failure.times -= 1
                return failure
        return None

    async def _me(self, match: re.Match[str], body: Any) -> web.Response:
        return _json(BOT_USER)

    async def _application(self, match: re.Match[str], body: Any) -> web.Response:
        return _json(
            {
                "id": str(APP_ID),
                "name": "Organise Bot",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user_payload(snowflake(), "Branch Secretary"),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "summary": "",
                "interactions_endpoint_url": None,
            }
        )

    async def _stats(self, match: re.Match[str], body: Any) -> web.Response:
        """Counts for a benchmark talking to this fake in another process."""
        refused = self.limits.refused if self.limits else 0
        return _json({"refused": refused, "created": len(self.created)})

    async def _open_dm(self, match: re.Match[str], body: Any) -> web.Response:
        """A person's DM channel: the same one every time, as on Discord."""
        person = int(body["recipient_id"])
        channel = self.dm_channels.setdefault(person, snowflake())
        recipient = user_payload(person, f"Person {person}")
        return _json(
            {"id": str(channel), "type": 1, "last_message_id": None, "recipients": [recipient]}
        )

    async def _create(self, match: re.Match[str], body: Any) -> web.Response:
        """Honour ``enforce_nonce`` as Discord does: a repeat returns the first message."""
        channel = match[1]
        key = (channel, str(body.get("nonce")))
        if body.get("enforce_nonce") and key in self._by_nonce:
            return _json(self._by_nonce[key])
        message = message_payload(int(channel), body, snowflake())
        self.created.append(message)
        if body.get("nonce"):
            self._by_nonce[key] = message
        return _json(message)

    async def _edit(self, match: re.Match[str], body: Any) -> web.Response:
        return _json(message_payload(int(match[1]), body, int(match[2])))

    async def _no_content(self, match: re.Match[str], body: Any) -> web.Response:
        return web.Response(status=204, headers={"Via": "1.1 google"})

    async def _callback(self, match: re.Match[str], body: Any) -> web.Response:
        flags = (body.get("data") or {}).get("flags", 0)
        if body["type"] == 5:  # "thinking…", shown until the first followup replaces it
            channel = self._interaction_channels.get(match[2], 0)
            placeholder = message_payload(channel, {"flags": LOADING | flags}, snowflake())
            self._placeholders[match[2]] = placeholder
        interaction = {
            "id": match[1],
            "type": body["type"],
            "response_message_loading": body["type"] == 5,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
        }
        return _json({"interaction": interaction})

    async def _followup(self, match: re.Match[str], body: Any) -> web.Response:
        token = match[2]
        channel = self._interaction_channels.get(token, 0)
        placeholder = self._placeholders.get(token)
        replaces = placeholder is not None and bool(placeholder["flags"] & LOADING)
        if replaces:
            assert placeholder is not None
            ephemeral = bool(placeholder["flags"] & EPHEMERAL)
            message = message_payload(channel, body, int(placeholder["id"]))
            message["flags"] = EPHEMERAL if ephemeral else 0
            self._placeholders[token] = message
        else:
            ephemeral = bool(body.get("flags", 0) & EPHEMERAL)
            message = message_payload(channel, body, snowflake())
        message["webhook_id"] = match[1]
        self.answers.append(Answer(token, body, ephemeral, replaces, message))
        return _json(message)

    async def _original(self, match: re.Match[str], body: Any) -> web.Response:
        original = self._placeholders.get(match[2])
        if original is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json({**original, "webhook_id": match[1]})

    # --- scheduled events: Discord's rules for an External one --------------------------

    async def _create_event(self, match: re.Match[str], body: Any) -> web.Response:
        event = {
            "id": str(snowflake()),
            "guild_id": match[1],
            "channel_id": None,
            "creator_id": str(APP_ID),
            "description": None,
            "image": None,
            "entity_id": None,
            "status": 1,  # scheduled
            "user_count": 0,
            **body,
        }
        problem = _event_problem(event)
        if problem:
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": problem}, 400)
        self.events[int(event["id"])] = event
        return _json(event)

    def _event_at(self, match: re.Match[str]) -> dict[str, Any] | None:
        event = self.events.get(int(match[2]))
        return event if event is not None and event["guild_id"] == match[1] else None

    async def _get_event(self, match: re.Match[str], body: Any) -> web.Response:
        event = self._event_at(match)
        return _json(event) if event is not None else _unknown_event()

    async def _edit_event(self, match: re.Match[str], body: Any) -> web.Response:
        event = self._event_at(match)
        if event is None:
            return _unknown_event()
        edited = {**event, **body}
        final = event["status"] in (3, 4)  # completed or cancelled
        problem = "a finished event cannot change" if final else _event_problem(edited)
        if problem:
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": problem}, 400)
        self.events[int(match[2])] = edited
        return _json(edited)

    async def _delete_event(self, match: re.Match[str], body: Any) -> web.Response:
        if self._event_at(match) is None:
            return _unknown_event()
        del self.events[int(match[2])]
        return web.Response(status=204, headers={"Via": "1.1 google"})

    async def _unthink(self, match: re.Match[str], body: Any) -> web.Response:
        if self._placeholders.pop(match[1], None) is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return web.Response(status=204, headers={"Via": "1.1 google"})

    async def _sync(self, match: re.Match[str], body: Any) -> web.Response:
        synced = [
            {**command, "id": str(snowflake()), "application_id": str(APP_ID), "version": "1"}
            for command in body
        ]
        return _json(synced)

    # --- interaction payloads ---------------------------------------------------------

    def slash(
        self,
        guild: FakeGuild,
        channel: str,
        person: Person,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        sub: str | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE for ``/name [sub] option:value…``."""
        given = [_option(key, value) for key, value in (options or {}).items()]
        if sub is not None:
            given = [{"type": 1, "name": sub, "options": given}]
        data = {"id": str(snowflake()), "name": name, "type": 1, "options": given}
        return self._interaction(2, guild, channel, person, data)

    def slash_in_dm(self, person: Person, name: str) -> dict[str, Any]:
        """An INTERACTION_CREATE for ``/name`` typed in the person's DMs with the bot."""
        channel = self.dm_channels.setdefault(person.user_id, snowflake())
        token = f"interaction-token-{snowflake()}"
        self._interaction_channels[token] = channel
        data = {"id": str(snowflake()), "name": name, "type": 1, "options": []}
        return {
            "id": str(snowflake()),
            "application_id": str(APP_ID),
            "type": 2,
            "token": token,
            "version": 1,
            "channel_id": str(channel),
            "channel": {"id": str(channel), "type": 1, "recipients": [person.user]},
            "user": person.user,
            "data": data,
            "locale": "en-GB",
            "app_permissions": str(CHAT),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(APP_ID)},
            "context": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
        }

    def press(
        self,
        guild: FakeGuild,
        channel: str,
        person: Person,
        message: dict[str, Any],
        custom_id: str,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE for a press on a button of ``message``."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(3, guild, channel, person, data)
        payload["message"] = message
        return payload

    def _interaction(
        self, kind: int, guild: FakeGuild, channel: str, person: Person, data: dict[str, Any]
    ) -> dict[str, Any]:
        token = f"interaction-token-{snowflake()}"
        self._interaction_channels[token] = guild.channel_ids[channel]
        return {
            "id": str(snowflake()),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-GB", "features": []},
            "channel_id": str(guild.channel_ids[channel]),
            "channel": guild.channel(channel),
            "member": guild.member(person, permissions=guild.permissions(person)),
            "data": data,
            "locale": "en-GB",
            "guild_locale": "en-GB",
            "app_permissions": str(CHAT),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }


async def _read_body(request: web.Request) -> tuple[Any, tuple[Upload, ...]]:
    """A JSON body, or the multipart form discord.py sends with files: the JSON in a
    ``payload_json`` field, each file in a ``files[n]`` part."""
    if request.content_type != "multipart/form-data":
        raw = await request.text()
        return (json.loads(raw) if raw else None), ()
    body: Any = None
    uploads = []
    async for part in await request.multipart():
        assert isinstance(part, aiohttp.BodyPartReader)
        if part.name == "payload_json":
            body = await part.json()
        else:
            uploads.append(Upload(part.name or "", part.filename or "", bytes(await part.read())))
    return body, tuple(uploads)


def _attached(body: Any, uploads: tuple[Upload, ...]) -> Any:
    """The body with its ``attachments`` (discord.py's ``{"id": n, "filename"}`` for
    ``files[n]``) as Discord keeps them: with an id, size and type of their own."""
    if not uploads:
        return body
    files = {upload.field: upload for upload in uploads}
    attached = []
    for entry in body.get("attachments", []):
        upload = files[f"files[{entry['id']}]"]
        kind = mimetypes.guess_type(entry["filename"])[0] or "application/octet-stream"
        attached.append(
            {
                "id": str(snowflake()),
                "filename": entry["filename"],
                "size": len(upload.data),
                "content_type": kind,
            }
        )
    return {**body, "attachments": attached}


def _ready(request: web.Request) -> dict[str, Any]:
    return {
        "v": 10,
        "user": BOT_USER,
        "guilds": [],
        "session_id": "fake-session",
        "resume_gateway_url": f"ws://{request.host}/gateway",
        "application": {"id": str(APP_ID), "flags": 0},
    }


def _option(name: str, value: Any) -> dict[str, Any]:
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
    return {"name": name, "type": kind, "value": value}


def _unknown_event() -> web.Response:
    return _json({"message": "Unknown Guild Scheduled Event", "code": 10070}, 404)


def _event_problem(event: dict[str, Any]) -> str:
    """Why Discord would refuse this scheduled event, or ""."""
    if not 1 <= len(event.get("name") or "") <= 100:
        return "name: 1 to 100 characters"
    if event.get("entity_type") == 3:  # external
        location = (event.get("entity_metadata") or {}).get("location") or ""
        if not 1 <= len(location) <= 100 or not event.get("scheduled_end_time"):
            return "an external event needs a location (1 to 100) and an end time"
    if len(event.get("description") or "") > 1000:
        return "description: at most 1000 characters"
    end = event.get("scheduled_end_time")
    if end and datetime.fromisoformat(end) <= datetime.fromisoformat(event["scheduled_start_time"]):
        return "the end must come after the start"
    return ""


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON as Discord sends it: discord.py parses a body only if its content type is
    exactly ``application/json`` (aiohttp's helper would add a charset)."""
    base = {"Content-Type": "application/json", "Via": "1.1 google"}
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers=base | (headers or {})
    )


def _rate_limited(retry_after: float, is_global: bool = False) -> web.Response:
    body = {"message": "You are being rate limited.", "retry_after": retry_after}
    headers = {"Retry-After": str(math.ceil(retry_after))}
    if is_global:
        headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
    else:
        headers["X-RateLimit-Scope"] = "user"
    return _json({**body, "global": is_global}, 429, headers)


def _error(failure: _Failure) -> web.Response:
    if failure.status == 429:
        return _rate_limited(failure.retry_after)
    code, message = ERRORS[failure.status]
    return _json({"message": message, "code": failure.code or code}, failure.status)


class Gateway:
    """Feeds gateway events to a logged-in client's own parsers, as its websocket would."""

    def __init__(self, client: discord.Client) -> None:
        self._parsers = client._connection.parsers

    def send(self, event: str, data: dict[str, Any]) -> None:
        self._parsers[event](data)

    def guild_create(self, guild: FakeGuild) -> None:
        self.send("GUILD_CREATE", guild.create())

    def guild_delete(self, guild: FakeGuild) -> None:
        self.send("GUILD_DELETE", {"id": str(guild.id), "unavailable": False})

    def member_add(self, guild: FakeGuild, person: Person) -> None:
        self.send("GUILD_MEMBER_ADD", {**guild.member(person), "guild_id": str(guild.id)})

    def message(self, guild: FakeGuild, channel: str, person: Person, content: str) -> None:
        body = {"content": content}
        data = message_payload(guild.channel_ids[channel], body, snowflake())
        member = guild.member(person)
        del member["user"]
        data.update(author=person.user, member=member, guild_id=str(guild.id))
        self.send("MESSAGE_CREATE", data)


class Recorder:
    """An ``on_event`` that records each event and answers with ``result``.

    ``before`` runs first on every event, to observe what had happened by then (was
    the interaction already acknowledged?) or to raise like a failing core.
    """

    def __init__(
        self,
        result: EventResult | None = None,
        before: Callable[[Event], None] | None = None,
    ) -> None:
        self.events: list[Event] = []
        self._result = result or EventResult()
        self._before = before
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> EventResult:
        self.events.append(event)
        async with self._changed:
            self._changed.notify_all()
        if self._before is not None:
            self._before(event)
        return self._result

    def of(self, kind: type[Any]) -> Iterator[Any]:
        return (event for event in self.events if isinstance(event, kind))

    async def wait_for(self, kind: type[Any], count: int = 1) -> list[Any]:
        async with asyncio.timeout(WAIT), self._changed:
            await self._changed.wait_for(lambda: len(list(self.of(kind))) >= count)
        return list(self.of(kind))


class _QuickSleep:
    """``asyncio`` as discord.py's HTTP client sees it, with waits capped at a tick."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(min(delay, 0.01), result)


def quick_retries(monkeypatch: Any) -> None:
    """discord.py sleeps 1, 3, 5, 7 and 9 s between its five tries on a 500; keep its
    retry loop but not the 25 s (use with pytest's ``monkeypatch``)."""
    monkeypatch.setattr(discord.http, "asyncio", _QuickSleep())


def quick_ready(client: discord.Client) -> None:
    """After READY, discord.py waits ``guild_ready_timeout`` (2 s) for more servers;
    the fake gateway sends none, so there is nothing to wait for."""
    client._connection.guild_ready_timeout = 0
