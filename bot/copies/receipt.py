"""The sender's live receipt: one message, edited as the copies go.

The preview the sender saw becomes ``Delivered 734/1000 · 3 failed``, then a final
summary naming the chats that failed and why. It follows the outbox through
``Registry.on_delivered`` — the hook runs in the very transaction that records
copies as sent or failed — and is edited at most every ``receipt_edit_seconds``
(the outbox also coalesces pending edits); a timer catches the last changes of a
burst, so the final summary comes at most that long after the last copy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import REPLY_LANE
from bot.services import Services
from bot.text import Rich, bold, counted, join, rich
from bot.types import Content, Finished
from storage.copies import ANNOUNCED, Broadcast, BroadcastStatus, Progress, progress
from storage.models import Chat

# After the last edit, check again this often in case the final copies finished
# without a delivery hook (a chat that went inactive fails its waiting rows at once).
SWEEP_SECONDS = 30.0
FAILURES_SHOWN = 15
COPY_KEY = "broadcast:"  # the dedupe keys of announcement copies start so


def copy_key(broadcast_id: int, chat_id: int) -> str:
    """The dedupe key of an announcement's copy in one chat."""
    return f"{COPY_KEY}{broadcast_id}:{chat_id}"


def announcement_of(key: str) -> int:
    """The announcement a copy's dedupe key names."""
    return int(key.removeprefix(COPY_KEY).partition(":")[0])


class Subject(StrEnum):
    """What an announcement announces: its receipt's title says so."""

    ALERT = "alert"
    PICKET = "picket"
    STRIKE = "strike"
    BALLOT = "ballot"
    POLL = "poll"  # a poll --to many chats, held for its preview (see hold)
    ROTA = "rota"  # a rota --to many chats, likewise


def chat_name(chat: Chat) -> str:
    return f"{chat.title or chat.platform_chat_id} ({chat.platform})"


def receipt_text(title: str, target: str, done: Progress, *, cancelled: bool = False) -> Rich:
    """``Delivered 734/1,000 · 3 failed`` while it goes; the failures by name at the end."""
    head = rich(bold(title), f" to {counted(done.total, 'chat')} · {target}")
    if cancelled:
        head = head + " · cancelled"
    tally = f"Delivered {done.sent:,}/{done.total:,}" + (
        f" · {done.failed:,} failed" if done.failed else ""
    )
    if not done.finished:
        return join([head, rich(tally)])
    lines = [head, rich(bold("Done. "), tally + ".")]
    for chat, reason in done.failures[:FAILURES_SHOWN]:
        lines.append(rich(f"• {chat_name(chat)}: {reason}"))
    hidden = len(done.failures) - FAILURES_SHOWN
    if hidden > 0:
        lines.append(rich(f"…and {hidden} more."))
    return join(lines)


def title(broadcast: Broadcast) -> str:
    if broadcast.kind == Subject.POLL:
        return f"Poll #{broadcast.subject_id}"
    if broadcast.kind == Subject.ALERT:
        return f"Alert #{broadcast.id}"
    return f"Alert #{broadcast.id} ({broadcast.kind} #{broadcast.subject_id})"


async def delivery(session: AsyncSession, broadcast: Broadcast, *, failures: bool) -> Progress:
    """How an announcement's copies stand; those not yet written count as to come."""
    unwritten = broadcast.status == BroadcastStatus.SENDING
    return await progress(session, ANNOUNCED, broadcast.id, failures=failures, unwritten=unwritten)


async def edit_receipt(
    session: AsyncSession, services: Services, broadcast: Broadcast, text: Rich
) -> None:
    if broadcast.receipt_row_id is None or str(text) == broadcast.receipt_shown:
        return
    await services.outbox.enqueue_edit(session, broadcast.receipt_row_id, Content(text), REPLY_LANE)
    broadcast.receipt_shown = str(text)


def _timer_key(broadcast_id: int) -> str:
    return f"alert-receipt:{broadcast_id}"


def arm(services: Services, broadcast_id: int, when: datetime, *, no_later: bool) -> None:
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
        arm(services, broadcast.id, later, no_later=True)
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
    done = await delivery(session, broadcast, failures=False)
    if done.finished:
        done = await progress(session, ANNOUNCED, broadcast_id, failures=True)
        broadcast.receipt_final = True
        services.timer.cancel(_timer_key(broadcast_id))
    else:
        arm(services, broadcast_id, now + timedelta(seconds=SWEEP_SECONDS), no_later=False)
    broadcast.receipt_at = now
    text = receipt_text(title(broadcast), broadcast.target, done, cancelled=broadcast.cancelled)
    await edit_receipt(session, services, broadcast, text)


async def on_delivered(session: AsyncSession, services: Services, rows: list[Finished]) -> None:
    """Copies were recorded sent or failed: their receipts are refreshed, unless a
    timer will do it within the throttle anyway — then this costs no more reads.
    Each copy's dedupe key names its announcement."""
    soon = services.clock.now() + timedelta(seconds=services.config.alerts.receipt_edit_seconds)
    for broadcast_id in sorted({announcement_of(row.key or "") for row in rows}):
        when = services.timer.when(_timer_key(broadcast_id))
        if when is None or when > soon:
            await refresh_receipt(session, services, broadcast_id)
