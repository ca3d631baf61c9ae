"""A rota's message in every chat it went to: drawn from the tables, posted as
copies (:mod:`bot.copies`), and edited in every copy when a count changes.

A press does not edit the copies itself — a rota in 200 chats would make every
press rewrite 200 edits — but asks for a refresh shortly after
(:data:`REFRESH_DELAY`, one per rota at a time, as polls' live tallies do), which
counts once, under the rota's lock, and edits every copy through the outbox; a
refresh that finds nothing changed (``Rota.shown``) edits nothing. At start every
rota is refreshed so, so a refresh a stopped process still owed is made good.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.copies import edit, post
from bot.outbox import BULK_LANE, REPLY_LANE
from bot.rotas.render import card
from bot.rotas.slots import dates_ahead
from bot.services import Services
from bot.types import Content, Outgoing
from storage.chats import chat_ref
from storage.models import Chat
from storage.rotas import POSTED, Rota, active_rotas, fill_of, lock, skips_of, slots_of

REFRESH_DELAY = timedelta(seconds=2)


async def content(session: AsyncSession, services: Services, rota: Rota) -> Content:
    now = services.clock.now()
    skips = await skips_of(session, rota.id)
    slots = (await slots_of(session, [rota.id]))[rota.id]
    return card(rota, slots, dates_ahead(rota, now, skips), await fill_of(session, rota.id, now))


def _digest(shown: Content) -> str:
    text = json.dumps(shown.to_payload(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def post_rota(ctx: Context, rota: Rota, chats: Sequence[Chat]) -> list[Outgoing]:
    """One copy per chat — this chat's on the reply lane — each remembered, so
    every later count reaches all of them."""
    shown = await content(ctx.session, ctx.services, rota)
    rota.shown = _digest(shown)
    copies = [
        (chat, Outgoing(chat_ref(chat), shown, dedupe_key=f"{POSTED}:{rota.id}:{chat.id}"))
        for chat in chats
    ]
    here = [pair for pair in copies if pair[1].chat.key == ctx.event.chat.key]
    elsewhere = [pair for pair in copies if pair[1].chat.key != ctx.event.chat.key]
    for pairs, lane in ((here, REPLY_LANE), (elsewhere, BULK_LANE)):
        await post(ctx.session, ctx.services, POSTED, rota.id, pairs, lane)
    return [message for _, message in here + elsewhere]


async def refresh(session: AsyncSession, services: Services, rota: Rota) -> None:
    """Every copy shows the rota as it now is, if that changed: drawn under the
    rota's lock, so a slower transaction never shows older counts."""
    current = await lock(session, rota.id)
    shown = await content(session, services, rota)
    digest = _digest(shown)
    if digest != current:
        rota.shown = digest
        await edit(session, services, POSTED, rota.id, shown)


def refresh_key(rota_id: int) -> str:
    return f"rota:{rota_id}:refresh"


def refresh_soon(services: Services, rota_id: int) -> None:
    """Refresh the copies shortly, unless a refresh is already on its way."""
    key = refresh_key(rota_id)
    if services.timer.when(key) is None:
        when = services.clock.now() + REFRESH_DELAY
        services.timer.at(key, when, functools.partial(_refresh_now, services, rota_id))


async def _refresh_now(services: Services, rota_id: int) -> None:
    async with services.db.session() as session:
        rota = await session.get(Rota, rota_id)
        if rota is not None:
            await refresh(session, services, rota)


async def on_start(services: Services) -> None:
    async with services.db.session() as session:
        rotas = await active_rotas(session)
    for rota in rotas:
        refresh_soon(services, rota.id)
