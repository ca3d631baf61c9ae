"""/strike dates for a dispute, and /strikes: what is coming up for this chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete

from bot.alerts.alert import may_change
from bot.alerts.disputes import find_dispute, label, may_attach
from bot.alerts.pickets import tell_pledgers
from bot.alerts.render import span_label, strike_content
from bot.alerts.strike_check import mandate_problem
from bot.alerts.upcoming import upcoming
from bot.context import Context, UserError
from bot.copies import Action, Subject, announce, change_subject, target_text
from bot.dates.days import HORIZON, at, local, parse_moment
from bot.network import seen_from
from bot.registry import ButtonAnswer, Command, Kind, Param, Registry, Role
from bot.targeting import reachable
from bot.text import bold, counted, join, rich
from bot.types import Button, ChatKind, Content, Outgoing
from storage.alerts import Dispute, Strike, StrikeProposal, ballots_of, pickets_during
from storage.chats import chat_tags, outbox_row_id

LISTED = 10  # of each kind in /strikes
ASK_ACTION = "strike-ask"
ASK_EXPIRES = timedelta(days=1)
DATES = ("starts_at", "ends_at", "all_day", "target")  # what a question keeps of a strike


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
    quiet = bool(ctx.args.get("quiet"))
    dates = {"starts_at": start, "ends_at": end, "all_day": all_day, "target": target}
    problem = await _mandate_problem(ctx, dispute.id, start, end)
    if problem is None:
        return await _record(ctx, dispute, dates, quiet)
    now = ctx.clock.now()
    await ctx.session.execute(
        delete(StrikeProposal).where(StrikeProposal.created_at < now - ASK_EXPIRES)
    )
    proposal = StrikeProposal(
        person_id=ctx.person.id, dispute_id=dispute.id, quiet=quiet, created_at=now, **dates
    )
    ctx.session.add(proposal)
    await ctx.session.flush()
    when = span_label(start, end, ctx.config.zone, _today(ctx), all_day=all_day)
    question = join(
        [
            rich("⚠ ", bold(f"Check before {'recording' if quiet else 'announcing'} this strike")),
            rich(f"{label(dispute)}: {when}"),
            rich(problem),
            rich("Go ahead anyway?"),
        ]
    )
    buttons = (
        (
            Button("Go ahead anyway", f"{ASK_ACTION}:ok:{proposal.id}"),
            Button("Don't", f"{ASK_ACTION}:no:{proposal.id}"),
        ),
    )
    return [replace(ctx.reply(question, buttons=buttons), dedupe_key=_ask_key(proposal.id))]


def _today(ctx: Context) -> date:
    return local(ctx.clock.now(), ctx.config.zone).date()


async def _mandate_problem(
    ctx: Context, dispute_id: int, start: datetime, end: datetime
) -> str | None:
    """Why the dispute's ballots do not plainly cover these dates (see strike_check)."""
    zone = ctx.config.zone
    ballots = [
        (ballot, local(ballot.result_at, zone).date() if ballot.result_at else None)
        for ballot in await ballots_of(ctx.session, dispute_id)
    ]
    last = local(end - timedelta(microseconds=1), zone).date()
    return mandate_problem(dispute_id, ballots, local(start, zone).date(), last, _today(ctx))


async def _record(
    ctx: Context, dispute: Dispute, dates: dict[str, Any], quiet: bool
) -> list[Outgoing]:
    """Record the strike on ``dates`` (its times, whole days or not, and target) and
    announce it — or, quietly, only tell the sender."""
    strike = Strike(
        dispute_id=dispute.id,
        cancelled=False,
        created_by=ctx.person.id,
        created_at=ctx.clock.now(),
        **dates,
    )
    ctx.session.add(strike)
    await ctx.session.flush()
    content = strike_content(strike, dispute, ctx.config.zone, ctx.clock.now())
    if quiet:
        return [
            ctx.reply(join([rich(f"Recorded strike #{strike.id}, not announced:"), content.text]))
        ]
    await announce(ctx, Subject.STRIKE, strike.id, strike.target, content)
    return []


def _ask_key(proposal_id: int) -> str:
    return f"strike-ask:{proposal_id}"


async def answer(ctx: Context, argument: str) -> ButtonAnswer:
    """ "Go ahead anyway" or "Don't", pressed under the question :func:`add` asked."""
    verb, _, ident = argument.partition(":")
    proposal = await ctx.session.get(StrikeProposal, int(ident)) if ident.isdigit() else None
    if proposal is None or verb not in {"ok", "no"}:
        return ButtonAnswer("That question was answered already, or has expired.")
    if proposal.person_id != ctx.person.id:
        return ButtonAnswer("Only the organiser who was asked can answer this.")
    await ctx.session.delete(proposal)
    question = await outbox_row_id(ctx.session, _ask_key(proposal.id))
    now = ctx.clock.now()
    messages: list[Outgoing] = []
    if verb == "no":
        outcome = "Not done: no strike was recorded."
    elif proposal.created_at < now - ASK_EXPIRES or proposal.ends_at <= now:
        outcome = "Not done: the question expired. Send /strike add again."
    else:
        ctx.require(Role.ORGANISER, "add strikes")
        dispute = await find_dispute(ctx, proposal.dispute_id)
        dates = {name: getattr(proposal, name) for name in DATES}
        messages = await _record(ctx, dispute, dates, proposal.quiet)
        outcome = "Done: the strike is recorded" + ("." if proposal.quiet else " and announced.")
    if question is not None:
        await ctx.services.outbox.enqueue_edit(ctx.session, question, Content(rich(outcome)))
    return ButtonAnswer(outcome, messages)


async def cancel(ctx: Context) -> list[Outgoing]:
    strike = await ctx.session.get(Strike, ctx.args["id"])
    if strike is None:
        raise UserError(f"There is no strike #{ctx.args['id']}. /strikes lists them.")
    may_change(ctx, strike.created_by, f"strike #{strike.id}")
    if strike.cancelled:
        return [ctx.reply(f"Strike #{strike.id} was already cancelled.")]
    dispute = await find_dispute(ctx, strike.dispute_id, must_be_open=False)
    strike.cancelled = True
    reason = ctx.args.get("reason", "")
    content = strike_content(strike, dispute, ctx.config.zone, ctx.clock.now(), reason)
    chats = await change_subject(ctx, Subject.STRIKE, strike.id, content, Action.CANCEL, reason)
    # Those going to its pickets should hear it from us, not find an empty gate.
    pickets = await pickets_during(ctx.session, dispute.id, strike.starts_at, strike.ends_at)
    head = rich(
        "❌ ",
        bold("Strike called off."),
        " You said you'd be at a picket during it — check with your organiser whether "
        "the picket still goes ahead:",
    )
    told = await tell_pledgers(ctx, [picket.id for picket in pickets], head, content)
    also = f" and telling {len(told):,} picket volunteers privately" if told else ""
    return [
        ctx.reply(
            f"Strike #{strike.id} ({label(dispute)}) cancelled: marking its copies in "
            f"{counted(chats, 'chat')} CANCELLED{also}."
        ),
        *told,
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
            example="/strike add 1 17/3 18/3",
            role=Role.ORGANISER,
            details=(
                "Days without times mean whole days. The dispute's tags pick the chats. Dates "
                "a ballot's mandate does not cover (no valid result yet, before the notice "
                "period is over, after the mandate ends) are shown to you to confirm first."
            ),
        )
    )
    registry.button(ASK_ACTION, answer)
    registry.add(
        Command("strikes", "Upcoming strikes, open ballots and pickets for this chat", strikes)
    )
