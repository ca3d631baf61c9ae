"""``/alert``: a plain announcement to many chats, its receipt, corrections and cancels.

The sending, preview, copies and receipt are the shared machinery's
(:mod:`bot.copies`); this is what is about alerts: the words, and who may change
what the alerts announce.
"""

from __future__ import annotations

from bot.alerts.render import CANCELLED
from bot.context import Context, UserError
from bot.copies import (
    Action,
    Subject,
    announce,
    change_subject,
    delivery,
    receipt_text,
    target_text,
    title,
)
from bot.registry import Command, Kind, Param, Registry, Role
from bot.text import bold, counted, italic, join, rich
from bot.types import Content, Emphasis, Outgoing
from bot.values import fit
from storage.copies import Broadcast, BroadcastStatus
from storage.models import Person

MAX_ALERT = 3000


def may_change(ctx: Context, owner_id: int | None, what: str) -> None:
    """Only the one who made it, a TULO or an admin changes, closes or cancels a
    dispute, ballot, strike, picket or alert."""
    if ctx.role >= Role.TULO or (owner_id is not None and owner_id == ctx.person.id):
        return
    raise UserError(f"Only whoever made {what}, a TULO or an admin can change it.")


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
    done = await delivery(ctx.session, broadcast, failures=True)
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
