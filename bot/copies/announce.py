"""One announcement, many chats: targeting, preview and confirm, sending, corrections.

Every announcement (a picket alert, a strike, a ballot, a plain ``/alert send``)
goes through :func:`announce`. It picks chats with :func:`bot.targeting.resolve`
(organisers reach only chats they organise), and beyond
``[alerts] confirm_above_chats`` shows the sender a preview with the chat count
and a Confirm button first. Each copy is an outbox row with a per-(announcement,
chat) dedupe key, remembered as a copy of the announcement (:mod:`storage.copies`)
so that a correction or a cancel can edit every copy — before or after a restart.
Something that posts its own copies (a poll ``--to`` many chats) uses the same
preview and buttons through :func:`hold`, so every big send is confirmed the same
way. The sender's receipt is :mod:`bot.copies.receipt`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.copies import posting, receipt
from bot.copies.receipt import (
    COPY_KEY,
    Subject,
    arm,
    copy_key,
    delivery,
    edit_receipt,
    receipt_text,
    title,
)
from bot.outbox import BULK_LANE, REPLY_LANE
from bot.registry import ButtonAnswer, Registry
from bot.services import Services
from bot.tags import TAG
from bot.targeting import parse_target, resolve
from bot.text import Rich, bold, counted, join, platforms_text, rich
from bot.types import Button, Content, Outgoing
from bot.values import button_id
from storage.chats import chat_ref
from storage.copies import (
    ANNOUNCED,
    AlertAudit,
    Broadcast,
    BroadcastStatus,
    NewCopy,
    broadcasts_of,
    broadcasts_sending,
    unfinished_receipts,
    unwritten,
)
from storage.models import Chat

log = logging.getLogger(__name__)
SEND_ACTION = "alert-send"
DROP_ACTION = "alert-drop"
STALE = "That button is from an old message and no longer works."
DOING = "send announcements"
# Copies put in the outbox per transaction; an announcement to more chats writes the
# rest in the transactions that follow (see _send).
COPIES_AT_ONCE = 100


class Action(StrEnum):
    SEND = "send"
    CORRECT = "correct"
    CANCEL = "cancel"
    DROP = "drop"


def target_text(raw: str) -> str:
    """The normalised tag expression; several bare tags mean all of them."""
    words = raw.lower().split()
    if len(words) > 1 and all(TAG.match(word) for word in words):
        raw = " and ".join(words)
    return parse_target(raw).text


def audit(ctx: Context, action: Action, broadcast: Broadcast, detail: str, chat_count: int) -> None:
    subject = f"{broadcast.kind} #{broadcast.subject_id}"
    ctx.session.add(
        AlertAudit(
            at=ctx.clock.now(),
            actor_id=ctx.person.id,
            action=action.value,
            broadcast_id=broadcast.id,
            subject=subject,
            detail=detail,
            target=broadcast.target,
            chat_count=chat_count,
        )
    )


# --- sending ---------------------------------------------------------------------------


async def announce(
    ctx: Context, subject: Subject, subject_id: int | None, target: str, content: Content
) -> Broadcast:
    """Announce ``content`` to the chats ``target`` picks, or preview it first."""
    chats = await resolve(ctx, target, DOING)
    broadcast = await _new(ctx, subject, subject_id, target, content, chats)
    if len(chats) <= ctx.config.alerts.confirm_above_chats:
        await _send(ctx, broadcast, chats)
        return broadcast
    await _preview(ctx, broadcast, chats, content)
    return broadcast


async def hold(
    ctx: Context,
    subject: Subject,
    subject_id: int,
    target: str,
    content: Content,
    chats: list[Chat],
) -> None:
    """Show the sender the preview of something that posts itself (a poll) to more
    than ``confirm_above_chats`` chats, with the same Send and Don't send buttons
    as an announcement; Send calls what that subject registered with
    :func:`post_held_with`, Don't send its drop."""
    broadcast = await _new(ctx, subject, subject_id, target, content, chats)
    broadcast.receipt_final = True  # it has no copies of its own to count
    await _preview(ctx, broadcast, chats, content)


async def _new(
    ctx: Context,
    subject: Subject,
    subject_id: int | None,
    target: str,
    content: Content,
    chats: list[Chat],
) -> Broadcast:
    """A new announcement, waiting in preview until sent."""
    broadcast = Broadcast(
        kind=subject.value,
        subject_id=subject_id,
        target=target,
        status=BroadcastStatus.PREVIEW,
        cancelled=False,
        payload=content.to_payload(),
        sender_id=ctx.person.id,
        chat_count=len(chats),
        receipt_shown="",
        receipt_final=False,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(broadcast)
    await ctx.session.flush()
    if subject_id is None:
        broadcast.subject_id = broadcast.id
    return broadcast


HeldAction = Callable[[Context, int, list[Chat]], Awaitable[Rich]]
"""``(ctx, subject id, chats)`` → what the preview then says (chats empty on a drop)."""
_HELD: dict[str, tuple[HeldAction, HeldAction]] = {}


def post_held_with(subject: Subject, send: HeldAction, drop: HeldAction) -> None:
    """How Send and Don't send finish a preview :func:`hold` showed for ``subject``."""
    _HELD[subject.value] = (send, drop)


async def _preview(ctx: Context, broadcast: Broadcast, chats: list[Chat], content: Content) -> None:
    target = broadcast.target
    where = platforms_text(chats)
    preview = join(
        [
            content.text,
            rich(""),
            rich(
                bold(f"{title(broadcast)} is ready."),
                f" It goes to {counted(len(chats), 'chat')} matching {target}{where}. Send it?",
            ),
        ]
    )
    buttons = (
        (
            Button(f"Send to {counted(len(chats), 'chat')}", f"{SEND_ACTION}:{broadcast.id}"),
            Button("Don't send", f"{DROP_ACTION}:{broadcast.id}"),
        ),
    )
    [broadcast.receipt_row_id] = await ctx.services.outbox.enqueue(
        ctx.session,
        [Outgoing(ctx.event.chat, Content(preview, buttons, reply_handle=ctx.event.reply_handle))],
        REPLY_LANE,
    )


async def _send(ctx: Context, broadcast: Broadcast, chats: list[Chat]) -> None:
    """Note one copy per chat and put the first ``COPIES_AT_ONCE`` in the outbox, the
    rest just after in transactions of their own (:func:`_write_rest`): on SQLite a
    transaction holds the only connection, and writing thousands of copies in one
    would keep every other command waiting. The receipt goes to the sender's chat."""
    session, services, now = ctx.session, ctx.services, ctx.clock.now()
    await posting.record(
        session,
        [
            NewCopy(ANNOUNCED, broadcast.id, chat.id, copy_key(broadcast.id, chat.id))
            for chat in chats
        ],
    )
    await _write_copies(session, services, broadcast, chats[:COPIES_AT_ONCE])
    more = len(chats) > COPIES_AT_ONCE
    broadcast.status = BroadcastStatus.SENDING if more else BroadcastStatus.SENT
    broadcast.sent_at, broadcast.chat_count = now, len(chats)
    if more:
        key = _writer_key(broadcast.id)
        event.listen(
            session.sync_session,
            "after_commit",
            lambda _session: services.timer.soon(key, _rest_writer(services, broadcast.id)),
            once=True,
        )
    content = Content.from_payload(broadcast.payload)
    done = await delivery(session, broadcast, failures=True)
    text = receipt_text(title(broadcast), broadcast.target, done)
    if broadcast.receipt_row_id is None:
        reply = Content(text, reply_handle=ctx.event.reply_handle)
        [broadcast.receipt_row_id] = await services.outbox.enqueue(
            session, [Outgoing(ctx.event.chat, reply)], REPLY_LANE
        )
    else:
        await services.outbox.enqueue_edit(
            session, broadcast.receipt_row_id, Content(text), REPLY_LANE
        )
    broadcast.receipt_at, broadcast.receipt_shown = now, str(text)
    broadcast.receipt_final = done.finished
    audit(ctx, Action.SEND, broadcast, str(content.text), len(chats))
    log.info(
        "announcement %d goes to %d chats",
        broadcast.id,
        len(chats),
        extra={"announcement_id": broadcast.id, "kind": broadcast.kind},
    )


async def _write_copies(
    session: AsyncSession, services: Services, broadcast: Broadcast, chats: list[Chat]
) -> None:
    """Put these chats' copies in the outbox (a chat gone inactive gets none)."""
    content = Content.from_payload(broadcast.payload)
    await services.outbox.enqueue(
        session,
        [
            Outgoing(chat_ref(chat), content, dedupe_key=copy_key(broadcast.id, chat.id))
            for chat in chats
        ],
        BULK_LANE,
    )


def _writer_key(broadcast_id: int) -> str:
    return f"alert-copies:{broadcast_id}"


def _rest_writer(services: Services, broadcast_id: int) -> Callable[[], Awaitable[None]]:
    async def write() -> None:
        await _write_rest(services, broadcast_id)

    return write


async def _write_rest(services: Services, broadcast_id: int) -> None:
    """Put the remaining copies in the outbox, ``COPIES_AT_ONCE`` per transaction.
    A copy is written once (its outbox row carries the copy's key), so after a
    crash this simply goes on (:func:`resume`); a correction made meanwhile
    reaches both the copies before it and those after."""
    after = 0
    while True:
        async with services.db.session() as session:
            # Locked: a correction changing the content waits for this chunk, or
            # this chunk for it, so no copy is written with the old content unedited.
            broadcast = await session.get(
                Broadcast, broadcast_id, with_for_update=True, populate_existing=True
            )
            if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
                return
            chats = await unwritten(session, ANNOUNCED, broadcast_id, after, COPIES_AT_ONCE)
            await _write_copies(session, services, broadcast, chats)
            if len(chats) < COPIES_AT_ONCE:
                # Copies refused for inactive chats count as failed from now on.
                broadcast.status = BroadcastStatus.SENT
                await receipt.refresh_receipt(session, services, broadcast_id)
                return
            after = chats[-1].id


async def _own_preview(ctx: Context, argument: str) -> Broadcast | str:
    """The announcement a preview button is about, or why it can't be used."""
    number = button_id(argument)
    broadcast = await ctx.session.get(Broadcast, number) if number else None
    if broadcast is None:
        return STALE
    if broadcast.sender_id != ctx.person.id:
        return "Only the person who wrote this announcement can send or drop it."
    return broadcast


async def confirm(ctx: Context, argument: str) -> ButtonAnswer:
    broadcast = await _own_preview(ctx, argument)
    if isinstance(broadcast, str):
        return ButtonAnswer(broadcast)
    # Claim the preview in one statement, so a double press sends once.
    claimed = await ctx.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == BroadcastStatus.PREVIEW)
        .values(status=BroadcastStatus.SENT)
    )
    if not getattr(claimed, "rowcount", 0):
        return ButtonAnswer(f"{title(broadcast)} was already sent or dropped.")
    held = _HELD.get(broadcast.kind)
    chats = await resolve(ctx, broadcast.target, DOING if held is None else "post to chats")
    if held is not None:
        await edit_receipt(
            ctx.session,
            ctx.services,
            broadcast,
            await held[0](ctx, broadcast.subject_id or 0, chats),
        )
        audit(
            ctx,
            Action.SEND,
            broadcast,
            str(Content.from_payload(broadcast.payload).text),
            len(chats),
        )
        return ButtonAnswer(f"Sent to {counted(len(chats), 'chat')}.")
    await _send(ctx, broadcast, chats)
    return ButtonAnswer(
        f"Sending to {counted(len(chats), 'chat')} — the message above keeps count."
    )


async def drop(ctx: Context, argument: str) -> ButtonAnswer:
    broadcast = await _own_preview(ctx, argument)
    if isinstance(broadcast, str):
        return ButtonAnswer(broadcast)
    if broadcast.status != BroadcastStatus.PREVIEW:
        return ButtonAnswer(f"{title(broadcast)} was already sent or dropped.")
    broadcast.status = BroadcastStatus.DROPPED
    held = _HELD.get(broadcast.kind)
    said = rich(f"{title(broadcast)}: not sent.")
    if held is not None:
        said = await held[1](ctx, broadcast.subject_id or 0, [])
    await edit_receipt(ctx.session, ctx.services, broadcast, said)
    audit(ctx, Action.DROP, broadcast, "not sent after the preview", 0)
    return ButtonAnswer("Not sent.")


# --- corrections and cancels -----------------------------------------------------------


async def restyle(
    session: AsyncSession, services: Services, broadcast: Broadcast, content: Content
) -> int:
    """Show ``content`` on every live copy (and in the sender's preview, if still
    waiting); returns how many copies are being edited. Unchanged content costs
    nothing, so a timer may call this freely."""
    payload = content.to_payload()
    if payload == broadcast.payload:
        return 0
    broadcast.payload = payload
    if broadcast.status not in (BroadcastStatus.SENDING, BroadcastStatus.SENT):
        return 0
    return await posting.edit(session, services, ANNOUNCED, broadcast.id, content)


async def change_subject(
    ctx: Context, subject: Subject, subject_id: int, content: Content, action: Action, detail: str
) -> int:
    """Correct or cancel every announcement of a picket, strike or alert: every copy
    is edited to ``content``; a preview not yet sent is dropped on a cancel.
    Returns the number of chats whose copies are being edited."""
    chats = 0
    for broadcast in await broadcasts_of(ctx.session, subject.value, subject_id):
        if broadcast.status == BroadcastStatus.DROPPED:
            continue
        if broadcast.status == BroadcastStatus.PREVIEW and action is Action.CANCEL:
            broadcast.status = BroadcastStatus.DROPPED
            text = rich(f"{title(broadcast)}: not sent — cancelled.")
            await edit_receipt(ctx.session, ctx.services, broadcast, text)
        edited = await restyle(ctx.session, ctx.services, broadcast, content)
        if action is Action.CANCEL:
            broadcast.cancelled = True
        audit(ctx, action, broadcast, detail, edited)
        chats += edited
    return chats


async def resume(services: Services) -> None:
    """At start: copies the last run had yet to write are written, and unfinished
    receipts are brought up to date."""
    async with services.db.session() as session:
        unfinished = await unfinished_receipts(session)
        sending = await broadcasts_sending(session)
    for broadcast_id in sending:
        services.timer.soon(_writer_key(broadcast_id), _rest_writer(services, broadcast_id))
    for broadcast_id in unfinished:
        arm(services, broadcast_id, services.clock.now(), no_later=False)


def register(registry: Registry) -> None:
    """The preview's buttons, the receipt's delivery hook, and the start-up resume."""
    registry.button(SEND_ACTION, confirm)
    registry.button(DROP_ACTION, drop)
    registry.on_delivered(COPY_KEY, receipt.on_delivered)
    registry.on_start(resume)
