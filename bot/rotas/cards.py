"""A rota's message in every chat it went to: drawn from the tables, posted as
copies (:mod:`bot.copies`), and edited in every copy when a count changes."""

from __future__ import annotations

from collections.abc import Sequence

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
from storage.rotas import POSTED, Rota, fill_of, lock, skips_of, slots_of


async def content(session: AsyncSession, services: Services, rota: Rota) -> Content:
    now = services.clock.now()
    skips = await skips_of(session, rota.id)
    slots = (await slots_of(session, [rota.id]))[rota.id]
    return card(rota, slots, dates_ahead(rota, now, skips), await fill_of(session, rota.id, now))


async def post_rota(ctx: Context, rota: Rota, chats: Sequence[Chat]) -> list[Outgoing]:
    """One copy per chat — this chat's on the reply lane — each remembered, so
    every later count reaches all of them."""
    shown = await content(ctx.session, ctx.services, rota)
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
    """Every copy shows the counts as they now are (the outbox coalesces edits),
    drawn under the rota's lock so a slower transaction never shows older counts."""
    await lock(session, rota.id)
    await edit(session, services, POSTED, rota.id, await content(session, services, rota))
