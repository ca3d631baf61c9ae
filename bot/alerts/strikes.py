"""/strike dates for a dispute, and /strikes: what is coming up for this chat."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.alerts.broadcast import Action, Subject, announce, change_subject, may_change, target_text
from bot.alerts.dates import HORIZON, at, local, parse_moment
from bot.alerts.disputes import find_dispute, label, may_attach
from bot.alerts.render import strike_content
from bot.alerts.upcoming import upcoming
from bot.context import Context, UserError
from bot.network import seen_from
from bot.registry import Command, Kind, Param, Registry, Role
from bot.targeting import reachable
from bot.text import bold, join, rich
from bot.types import ChatKind, Outgoing
from storage.alerts import Strike
from storage.chats import chat_tags

LISTED = 10  # of each kind in /strikes


def _bounds(ctx: Context) -> tuple[datetime, datetime, bool]:
    """Start and end of the strike; a day without a time is the whole day."""
    zone, now = ctx.config.zone, ctx.clock.now()
    start, start_timed = parse_moment(ctx.args["start"], zone, now)
    end, end_timed = parse_moment(ctx.args["end"], zone, now)
    if not end_timed:  # to the end of that day
        end = at(local(end, zone).date() + timedelta(days=1), time(), zone)
    if end <= start:
        raise UserError("The strike's end is not after its start. Example: /strike add 1 12/3 14/3")
    if end <= now:
        raise UserError("That strike would already be over.")
    return start, end, not (start_timed or end_timed)


async def add(ctx: Context) -> list[Outgoing]:
    dispute = await find_dispute(ctx, ctx.args["dispute"])
    await may_attach(ctx, dispute, "add strikes")
    start, end, all_day = _bounds(ctx)
    target = target_text(ctx.args["to"]) if ctx.args.get("to") else dispute.target
    # Checked even when --quiet: a recorded strike shows in the /strikes of its chats.
    await reachable(ctx, target, "add strikes")
    strike = Strike(
        dispute_id=dispute.id,
        starts_at=start,
        ends_at=end,
        all_day=all_day,
        target=target,
        cancelled=False,
        created_by=ctx.person.id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(strike)
    await ctx.session.flush()
    content = strike_content(strike, dispute, ctx.config.zone, ctx.clock.now())
    if ctx.args.get("quiet"):
        return [
            ctx.reply(join([rich(f"Recorded strike #{strike.id}, not announced:"), content.text]))
        ]
    await announce(ctx, Subject.STRIKE, strike.id, strike.target, content)
    return []


async def cancel(ctx: Context) -> list[Outgoing]:
    strike = await ctx.session.get(Strike, ctx.args["id"])
    if strike is None:
        raise UserError(f"There is no strike #{ctx.args['id']}. /strikes lists them.")
    may_change(ctx, strike.created_by, f"strike #{strike.id}")
    if strike.cancelled:
        return [ctx.reply(f"Strike #{strike.id} was already cancelled.")]
    dispute = await find_dispute(ctx, strike.dispute_id, must_be_open=False)
    strike.cancelled = True
    content = strike_content(strike, dispute, ctx.config.zone, ctx.clock.now())
    reason = ctx.args.get("reason", "")
    chats = await change_subject(ctx, Subject.STRIKE, strike.id, content, Action.CANCEL, reason)
    return [
        ctx.reply(
            f"Strike #{strike.id} ({label(dispute)}) cancelled: marking its copies in {chats:,} "
            "chats CANCELLED."
        )
    ]


async def strikes(ctx: Context) -> list[Outgoing]:
    await seen_from(ctx)  # a stranger's private chat is told how to join
    now = ctx.clock.now()
    found = await upcoming(
        ctx.session, ctx.chat, now, now + HORIZON, ctx.config.zone, meetings=False, limit=LISTED
    )
    private = ctx.chat.kind == ChatKind.PRIVATE.value
    if not found:
        hint = ""
        if not private and not await chat_tags(ctx.session, ctx.chat):
            hint = " This chat has no tags, so only news sent to all chats shows here."
        return [ctx.reply("Nothing coming up: no strikes, open ballots or pickets." + hint)]
    head = rich(bold("Coming up" if private else "Coming up for this chat"))
    return [ctx.reply(join([head, *found.sections()]))]


def register(registry: Registry) -> None:
    number = Param("id", "the strike's number", Kind.INT)
    registry.add(
        Command(
            "strike",
            "Record and announce strike dates for a dispute",
            subcommands=(
                Command(
                    "add",
                    "Add strike dates and announce them",
                    add,
                    (
                        Param("dispute", "the dispute's number (/dispute list)", Kind.INT),
                        Param("start", 'first day, or "day time", e.g. 12/3 or "12/3 07:00"'),
                        Param("end", 'last day, or "day time", e.g. 14/3 or "14/3 19:00"'),
                        Param("to", "announce to these chats instead", option=True),
                        Param("quiet", "record only, announce nothing", option=True, flag=True),
                    ),
                    role=Role.ORGANISER,
                ),
                Command(
                    "cancel",
                    "Call off a strike; every copy of its announcement says so",
                    cancel,
                    (number, Param("reason", "why, for the record", Kind.REST, required=False)),
                    role=Role.ORGANISER,
                ),
            ),
            example="/strike add 1 12/3 14/3",
            role=Role.ORGANISER,
            details="Days without times mean whole days. The dispute's tags pick the chats.",
        )
    )
    registry.add(
        Command("strikes", "Upcoming strikes, open ballots and pickets for this chat", strikes)
    )
