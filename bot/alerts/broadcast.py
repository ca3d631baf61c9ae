"""One announcement, many chats: targeting, preview and confirm, copies, receipts, audit.

Every announcement (a picket alert, a strike, a ballot, a plain ``/alert send``)
goes through :func:`announce`. It picks chats with :func:`bot.targeting.resolve`
(organisers reach only chats they organise), and beyond
``[alerts] confirm_above_chats`` shows the sender a preview with the chat count
and a Confirm button first. Each copy is an outbox row with a per-(announcement,
chat) dedupe key, and the row ids are kept (:class:`BroadcastCopy`) so that a
correction or a cancel can edit every copy — before or after a restart. Something
that posts its own copies (a poll ``--to`` many chats) uses the same preview and
buttons through :func:`hold`, so every big send is confirmed the same way.

The sender gets *one* message, edited in place: the preview, then the live receipt
(``Delivered 734/1000 · 3 failed``), then a final summary naming the chats that
failed and why. The receipt follows the outbox through ``Registry.on_delivered``
— the hook runs in the very transaction that records copies as sent or failed —
and is edited at most every ``receipt_edit_seconds`` (the outbox also coalesces
pending edits); a timer catches the last changes of a burst, so the final summary
comes at most that long after the last copy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.render import CANCELLED, receipt_text
from bot.context import Context, UserError
from bot.outbox import BULK_LANE, REPLY_LANE
from bot.registry import ButtonAnswer, Command, Kind, Param, Registry, Role
from bot.services import Services
from bot.tags import TAG
from bot.targeting import parse_target, resolve
from bot.text import Rich, bold, counted, italic, join, platforms_text, rich
from bot.types import Button, Content, Emphasis, Finished, Outgoing
from bot.values import button_id, fit
from storage.alerts import (
    AlertAudit,
    Broadcast,
    BroadcastStatus,
    add_copies,
    broadcasts_of,
    broadcasts_sending,
    live_copy_rows,
    progress,
    set_copy_rows,
    unfinished_receipts,
    unwritten_copies,
)
from storage.chats import chat_ref
from storage.models import Chat, Person

SEND_ACTION = "alert-send"
DROP_ACTION = "alert-drop"
STALE = "That button is from an old message and no longer works."
DOING = "send announcements"
# After the last edit, check again this often in case the final copies finished
# without a delivery hook (a chat that went inactive fails its waiting rows at once).
SWEEP_SECONDS = 30.0
MAX_ALERT = 3000
# Copies put in the outbox per transaction; an announcement to more chats writes the
# rest in the transactions that follow (see _send).
COPIES_AT_ONCE = 100
COPY_KEY = "broadcast:"  # the dedupe keys of announcement copies start so


def copy_key(broadcast_id: int, chat_id: int) -> str:
    """The dedupe key of an announcement's copy in one chat."""
    return f"{COPY_KEY}{broadcast_id}:{chat_id}"


def announcement_of(key: str) -> int:
    """The announcement a copy's dedupe key names."""
    return int(key.removeprefix(COPY_KEY).partition(":")[0])


class Subject(StrEnum):
    ALERT = "alert"
    PICKET = "picket"
    STRIKE = "strike"
    BALLOT = "ballot"
    POLL = "poll"  # a poll --to many chats, held for its preview (see hold)


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


def title(broadcast: Broadcast) -> str:
    if broadcast.kind == Subject.POLL:
        return f"Poll #{broadcast.subject_id}"
    if broadcast.kind == Subject.ALERT:
        return f"Alert #{broadcast.id}"
    return f"Alert #{broadcast.id} ({broadcast.kind} #{broadcast.subject_id})"


def may_change(ctx: Context, owner_id: int | None, what: str) -> None:
    """Only the one who made it, a TULO or an admin changes, closes or cancels a
    dispute, ballot, strike, picket or alert."""
    if ctx.role >= Role.TULO or (owner_id is not None and owner_id == ctx.person.id):
        return
    raise UserError(f"Only whoever made {what}, a TULO or an admin can change it.")


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
    await add_copies(session, broadcast.id, [(chat.id, None) for chat in chats])
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
    done = await progress(session, broadcast.id, failures=True, unwritten=more)
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


async def _write_copies(
    session: AsyncSession, services: Services, broadcast: Broadcast, chats: list[Chat]
) -> None:
    """Put these chats' copies in the outbox (a chat gone inactive gets none)."""
    content = Content.from_payload(broadcast.payload)
    rows = await services.outbox.enqueue(
        session,
        [
            Outgoing(chat_ref(chat), content, dedupe_key=copy_key(broadcast.id, chat.id))
            for chat in chats
        ],
        BULK_LANE,
    )
    await set_copy_rows(
        session, broadcast.id, [(c.id, row) for c, row in zip(chats, rows, strict=True)]
    )


def _writer_key(broadcast_id: int) -> str:
    return f"alert-copies:{broadcast_id}"


def _rest_writer(services: Services, broadcast_id: int) -> Callable[[], Awaitable[None]]:
    async def write() -> None:
        await _write_rest(services, broadcast_id)

    return write


async def _write_rest(services: Services, broadcast_id: int) -> None:
    """Put the remaining copies in the outbox, ``COPIES_AT_ONCE`` per transaction.
    Each copy is written once (its outbox row is noted in the same transaction), so
    after a crash this simply goes on (:func:`resume_receipts`); a correction made
    meanwhile reaches both the copies before it and those after."""
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
            chats = await unwritten_copies(session, broadcast_id, after, COPIES_AT_ONCE)
            await _write_copies(session, services, broadcast, chats)
            if len(chats) < COPIES_AT_ONCE:
                # Copies refused for inactive chats count as failed from now on.
                broadcast.status = BroadcastStatus.SENT
                await refresh_receipt(session, services, broadcast_id)
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
        await _edit_receipt(
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
    await _edit_receipt(ctx.session, ctx.services, broadcast, said)
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
    rows = await live_copy_rows(session, broadcast.id)
    await services.outbox.enqueue_edits(session, [row_id for row_id, _platform in rows], content)
    return len(rows)


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
            await _edit_receipt(ctx.session, ctx.services, broadcast, text)
        edited = await restyle(ctx.session, ctx.services, broadcast, content)
        if action is Action.CANCEL:
            broadcast.cancelled = True
        audit(ctx, action, broadcast, detail, edited)
        chats += edited
    return chats


# --- the live receipt -----------------------------------------------------------------


async def _edit_receipt(
    session: AsyncSession, services: Services, broadcast: Broadcast, text: Rich
) -> None:
    if broadcast.receipt_row_id is None or str(text) == broadcast.receipt_shown:
        return
    await services.outbox.enqueue_edit(session, broadcast.receipt_row_id, Content(text), REPLY_LANE)
    broadcast.receipt_shown = str(text)


def _timer_key(broadcast_id: int) -> str:
    return f"alert-receipt:{broadcast_id}"


def _arm(services: Services, broadcast_id: int, when: datetime, *, no_later: bool) -> None:
    """(Re)arm the receipt timer; with ``no_later`` an earlier pending call stays."""
    key = _timer_key(broadcast_id)
    pending = services.timer.when(key)
    if no_later and pending is not None and pending <= when:
        return

    async def fire() -> None:
        async with services.db.session() as session:
            await refresh_receipt(session, services, broadcast_id)

    services.timer.at(key, when, fire)


def _due(services: Services, broadcast: Broadcast | None) -> bool:
    """Whether the receipt may be edited now; if only later, a timer is armed for then."""
    out = (BroadcastStatus.SENDING, BroadcastStatus.SENT)
    if broadcast is None or broadcast.status not in out or broadcast.receipt_final:
        return False
    last = broadcast.receipt_at
    later = last + timedelta(seconds=services.config.alerts.receipt_edit_seconds) if last else None
    if later is not None and services.clock.now() < later:
        _arm(services, broadcast.id, later, no_later=True)
        return False
    return True


async def refresh_receipt(session: AsyncSession, services: Services, broadcast_id: int) -> None:
    """Bring the sender's receipt up to date, at most every ``receipt_edit_seconds``
    (the final summary too). Within that time a delivery only makes sure a timer
    looks again when it is over, so recording a burst of copies costs one primary-key
    read each, not a count of the whole announcement: these hooks run in the outbox's
    own transactions, which every sender and command wait for on SQLite."""
    if not _due(services, await session.get(Broadcast, broadcast_id)):
        return
    # Locked before counting: two platforms' senders may record the last copies at
    # once, and each must count after the other's commit, or neither would see the end.
    broadcast = await session.get(
        Broadcast, broadcast_id, with_for_update=True, populate_existing=True
    )
    if broadcast is None or not _due(services, broadcast):
        return
    now = services.clock.now()
    unwritten = broadcast.status == BroadcastStatus.SENDING
    done = await progress(session, broadcast_id, failures=False, unwritten=unwritten)
    if done.finished:
        done = await progress(session, broadcast_id, failures=True)
        broadcast.receipt_final = True
        services.timer.cancel(_timer_key(broadcast_id))
    else:
        _arm(services, broadcast_id, now + timedelta(seconds=SWEEP_SECONDS), no_later=False)
    broadcast.receipt_at = now
    text = receipt_text(title(broadcast), broadcast.target, done, cancelled=broadcast.cancelled)
    await _edit_receipt(session, services, broadcast, text)


async def on_delivered(session: AsyncSession, services: Services, rows: list[Finished]) -> None:
    """Copies were recorded sent or failed: their receipts are refreshed, unless a
    timer will do it within the throttle anyway — then this costs no more reads.
    Each copy's dedupe key names its announcement."""
    soon = services.clock.now() + timedelta(seconds=services.config.alerts.receipt_edit_seconds)
    for broadcast_id in sorted({announcement_of(row.key or "") for row in rows}):
        when = services.timer.when(_timer_key(broadcast_id))
        if when is None or when > soon:
            await refresh_receipt(session, services, broadcast_id)


async def resume_receipts(services: Services) -> None:
    """At start: copies the last run had yet to write are written, and unfinished
    receipts are brought up to date."""
    async with services.db.session() as session:
        unfinished = await unfinished_receipts(session)
        sending = await broadcasts_sending(session)
    for broadcast_id in sending:
        services.timer.soon(_writer_key(broadcast_id), _rest_writer(services, broadcast_id))
    for broadcast_id in unfinished:
        _arm(services, broadcast_id, services.clock.now(), no_later=False)


# --- /alert -------------------------------------------------------------------------------


async def _owned(ctx: Context, broadcast_id: int) -> Broadcast:
    broadcast = await ctx.session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.kind == Subject.POLL:
        raise UserError(
            f"There is no alert #{broadcast_id}. The receipt shows each alert's number."
        )
    may_change(ctx, broadcast.sender_id, f"alert #{broadcast_id}")
    return broadcast


def alert_content(text: str, sender: str, *, corrected: bool = False) -> Content:
    """An alert signed by its sender, so members know who is asking; a correction
    says it is one, so nobody wonders which version is right."""
    lines = [rich(text), rich(italic(f"— {sender}" + (" · corrected" if corrected else "")))]
    if corrected:
        lines.insert(0, rich("✏ ", bold("Corrected")))
    return Content(join(lines), emphasis=Emphasis.ANNOUNCEMENT)


async def send_alert(ctx: Context) -> list[Outgoing]:
    text = fit(ctx.args["text"], MAX_ALERT, "The alert")
    content = alert_content(text, ctx.person.display_name)
    await announce(ctx, Subject.ALERT, None, target_text(ctx.args["target"]), content)
    return []


async def status(ctx: Context) -> list[Outgoing]:
    broadcast = await _owned(ctx, ctx.args["id"])
    if broadcast.status == BroadcastStatus.PREVIEW:
        return [ctx.reply(f"{title(broadcast)} is waiting for its Send button.")]
    if broadcast.status == BroadcastStatus.DROPPED:
        return [ctx.reply(f"{title(broadcast)} was not sent.")]
    unwritten = broadcast.status == BroadcastStatus.SENDING
    done = await progress(ctx.session, broadcast.id, failures=True, unwritten=unwritten)
    return [
        ctx.reply(
            receipt_text(title(broadcast), broadcast.target, done, cancelled=broadcast.cancelled)
        )
    ]


async def _plain_alert(ctx: Context) -> Broadcast:
    broadcast = await _owned(ctx, ctx.args["id"])
    if broadcast.kind != Subject.ALERT:
        raise UserError(
            f"Alert #{broadcast.id} announces {broadcast.kind} #{broadcast.subject_id}: use "
            f"/{broadcast.kind} correct or /{broadcast.kind} cancel, so the "
            f"{broadcast.kind} itself changes too."
        )
    if broadcast.cancelled:
        raise UserError(f"Alert #{broadcast.id} is already cancelled.")
    return broadcast


async def correct_alert(ctx: Context) -> list[Outgoing]:
    broadcast = await _plain_alert(ctx)
    text = fit(ctx.args["text"], MAX_ALERT, "The alert")
    sender = await ctx.session.get(Person, broadcast.sender_id) if broadcast.sender_id else None
    name = sender.display_name if sender else ctx.person.display_name
    content = alert_content(text, name, corrected=True)
    chats = await change_subject(ctx, Subject.ALERT, broadcast.id, content, Action.CORRECT, text)
    return [
        ctx.reply(
            f"Alert #{broadcast.id} corrected: updating its copies in {counted(chats, 'chat')}."
        )
    ]


async def cancel_alert(ctx: Context) -> list[Outgoing]:
    broadcast = await _plain_alert(ctx)
    old = Content.from_payload(broadcast.payload)
    content = Content(rich(bold(f"{CANCELLED} — ")) + old.text, emphasis=old.emphasis)
    reason = ctx.args.get("reason", "")
    chats = await change_subject(ctx, Subject.ALERT, broadcast.id, content, Action.CANCEL, reason)
    return [
        ctx.reply(
            f"Alert #{broadcast.id} cancelled: marking its copies in {counted(chats, 'chat')}."
        )
    ]


TARGET_HELP = "which chats: tags joined with and / or / not, or all, e.g. region:west-midlands"


def register(registry: Registry) -> None:
    number = Param("id", "the alert's number, shown on its receipt", Kind.INT)
    registry.add(
        Command(
            "alert",
            "Send an announcement to many chats and follow its delivery",
            subcommands=(
                Command(
                    "send",
                    "Send a message to every chat the target picks",
                    send_alert,
                    (Param("target", TARGET_HELP), Param("text", "the message", Kind.REST)),
                    role=Role.ORGANISER,
                ),
                Command(
                    "status",
                    "Show an alert's delivery receipt",
                    status,
                    (number,),
                    role=Role.ORGANISER,
                ),
                Command(
                    "correct",
                    "Replace an alert's text in every chat",
                    correct_alert,
                    (number, Param("text", "the corrected message", Kind.REST)),
                    role=Role.ORGANISER,
                ),
                Command(
                    "cancel",
                    "Mark an alert CANCELLED in every chat",
                    cancel_alert,
                    (number, Param("reason", "why, for the record", Kind.REST, required=False)),
                    role=Role.ORGANISER,
                ),
            ),
            example='/alert send "region:west-midlands and union:unison" Rally at 12, Victoria Sq',
            role=Role.ORGANISER,
            details=(
                "More than [alerts] confirm_above_chats chats: you see a preview and a Send "
                "button first. Your receipt counts deliveries as they happen."
            ),
        )
    )
    registry.button(SEND_ACTION, confirm)
    registry.button(DROP_ACTION, drop)
    registry.on_delivered(COPY_KEY, on_delivered)
    registry.on_start(resume_receipts)
