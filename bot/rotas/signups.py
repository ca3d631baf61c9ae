"""Signing up and dropping out: the buttons under a rota, and ``/rota drop``.

Each press is one transaction that locks the slot before counting
(:func:`storage.rotas.sign_up`), so a slot never holds more people than it has
places, whichever chat, platform or process the presses come from. A person who
drops out frees their place for the first person waiting, who is told privately;
every copy of the rota is then edited with the new counts.
"""

from __future__ import annotations

from datetime import datetime

from bot.context import Context, UserError
from bot.registry import ButtonAnswer
from bot.rotas.cards import refresh_soon
from bot.rotas.render import (
    Verb,
    parse_code,
    promoted,
    signed_notice,
    slot_picker,
    waiting_notice,
    waiting_offer,
)
from bot.rotas.slots import dates_ahead
from bot.types import Content, Outgoing
from bot.values import button_id
from storage.chats import direct_chat
from storage.models import Person
from storage.rotas import (
    Outcome,
    Rota,
    RotaSlot,
    RotaStatus,
    drop,
    fill_of,
    sign_up,
    signups_after,
    skips_of,
    slots_of,
)

STALE = "That button is from an old message — send /rota for the rota as it is now."


async def press(ctx: Context, argument: str) -> ButtonAnswer:
    """``d`` shows a date's slots; ``s`` signs up (offering the waiting list when
    the slot is full); ``w`` joins the waiting list."""
    verb, _, rest = argument.partition(":")
    parts = rest.split(":")
    rota_id = button_id(parts[0]) if parts else None
    moment = parse_code(parts[1]) if len(parts) > 1 else None
    rota = await ctx.session.get(Rota, rota_id) if rota_id else None
    if rota is None or moment is None or verb not in {Verb.DATE, Verb.SIGN, Verb.WAIT}:
        return ButtonAnswer(STALE)
    problem = await _closed(ctx, rota, moment)
    if problem:
        return ButtonAnswer(problem)
    slots = (await slots_of(ctx.session, [rota.id]))[rota.id]
    if verb == Verb.DATE:
        fill = await fill_of(ctx.session, rota.id, ctx.clock.now())
        return ButtonAnswer(
            "Choose a slot.", [_to_presser(ctx, slot_picker(rota, slots, moment, fill))]
        )
    slot_id = button_id(parts[2]) if len(parts) > 2 else None
    slot = next((slot for slot in slots if slot.id == slot_id), None)
    if slot is None:
        return ButtonAnswer(STALE)
    return await _sign(ctx, rota, slot, moment, wait=verb == Verb.WAIT)


async def _closed(ctx: Context, rota: Rota, moment: datetime) -> str:
    """Why the date can't be signed up for any more, or ``""``."""
    if rota.status == RotaStatus.CANCELLED.value:
        return "That rota was cancelled."
    now = ctx.clock.now()
    if moment <= now:
        return "That date has passed."
    skips = await skips_of(ctx.session, rota.id)
    if moment in skips:
        return "That date was called off."
    if moment not in dates_ahead(rota, now, skips):
        return STALE
    return ""


async def _sign(
    ctx: Context, rota: Rota, slot: RotaSlot, moment: datetime, *, wait: bool
) -> ButtonAnswer:
    now = ctx.clock.now()
    signed = await sign_up(ctx.session, slot.id, moment, ctx.person.id, ctx.chat.id, now, wait=wait)
    if signed.outcome is Outcome.FULL:
        return ButtonAnswer(
            f"{slot.name} is full.", [_to_presser(ctx, waiting_offer(rota, slot, moment))]
        )
    if signed.outcome is Outcome.ALREADY:
        where = f"number {signed.position} waiting for" if signed.position else "on"
        return ButtonAnswer(f"You're {where} {slot.name} that day already.")
    refresh_soon(ctx.services, rota.id)
    if signed.outcome is Outcome.WAITING:
        return ButtonAnswer(waiting_notice(rota, slot, moment, signed.position))
    return ButtonAnswer(signed_notice(rota, slot, moment))


def _to_presser(ctx: Context, content: Content) -> Outgoing:
    """A picker or an offer, for the presser: where the platform can, only they see it."""
    return ctx.reply(content.text, buttons=content.buttons, private=True)


async def drop_out(
    ctx: Context, rota: Rota, moment: datetime, slot: RotaSlot | None
) -> tuple[list[str], list[Outgoing]]:
    """Take the asker off the date (one slot, or every slot they are in): the slots
    they left, and the private notes to those promoted from the waiting lists."""
    slots = (await slots_of(ctx.session, [rota.id]))[rota.id]
    left: list[str] = []
    told: list[Outgoing] = []
    for each in slots if slot is None else [slot]:
        was_in, promoted_id = await drop(ctx.session, each.id, moment, ctx.person.id)
        if was_in:
            left.append(each.name)
        if promoted_id is not None:
            told.append(await tell_promoted(ctx, rota, each, moment, promoted_id))
    if not left:
        raise UserError(
            f"You aren't signed up for rota #{rota.id} that day"
            + (f" as {slot.name}." if slot else ".")
            + " /rota mine shows your shifts."
        )
    refresh_soon(ctx.services, rota.id)
    return left, told


async def give_up_all(ctx: Context) -> list[Outgoing]:
    """Before /forgetme: the asker's places on dates to come go to those waiting
    (who are told), rather than vanishing with the asker's rows."""
    told: list[Outgoing] = []
    rotas: set[int] = set()
    for signup, rota, slot in await signups_after(ctx.session, ctx.person.id, ctx.clock.now()):
        _was_in, promoted_id = await drop(ctx.session, slot.id, signup.occurrence, ctx.person.id)
        rotas.add(rota.id)
        if promoted_id is not None:
            told.append(await tell_promoted(ctx, rota, slot, signup.occurrence, promoted_id))
    for rota_id in rotas:
        refresh_soon(ctx.services, rota_id)
    return told


async def tell_promoted(
    ctx: Context, rota: Rota, slot: RotaSlot, moment: datetime, person_id: int
) -> Outgoing:
    """Privately, through the outbox: a place came up and it is theirs."""
    person = await ctx.session.get(Person, person_id)
    assert person is not None  # a sign-up's person is deleted with it
    chat = await direct_chat(ctx.session, person, ctx.clock.now())
    return Outgoing(chat, Content(promoted(rota, slot, moment)))
