"""/ballot: industrial action ballots, their results, and whether they give a mandate
under the law in force on the ballot's date (:mod:`bot.alerts.ballot_rules`)."""

from __future__ import annotations

from datetime import date

from bot.alerts.alert import may_change
from bot.alerts.ballot_rules import RULES
from bot.alerts.disputes import find_dispute, label, may_attach
from bot.alerts.mandate import NoRule, Result, Rule, Verdict, assess, percent, rule_for
from bot.alerts.render import (
    ballot_content,
    day_label,
    result_content,
    rule_footer,
    rule_lines,
    verdict_lines,
)
from bot.context import Context, UserError
from bot.copies import Action, Subject, announce, restyle
from bot.dates.days import local, parse_day
from bot.registry import Command, Kind, Param, Registry, Role
from bot.text import Rich, bold, join, rich
from bot.types import Outgoing
from storage.alerts import Ballot
from storage.copies import AlertAudit, Broadcast, broadcasts_of

# More members than any union has: a bigger count is a typing slip.
MAX_MEMBERS = 10_000_000
EARLIEST = RULES[0].applies_from if RULES else date.max


def _today(ctx: Context) -> date:
    return local(ctx.clock.now(), ctx.config.zone).date()


def _day(ctx: Context, name: str) -> date:
    return parse_day(ctx.args[name], ctx.config.zone, ctx.clock.now(), prefer="current_period")


def _rule(opens: date) -> Rule:
    try:
        return rule_for(opens, RULES)
    except NoRule:
        raise UserError(
            f"I only know the ballot rules for ballots opening from {EARLIEST:%d %B %Y}."
        ) from None


def _needs(rule: Rule, eligible: int, public_service: bool) -> Rich:
    parts = []
    if rule.turnout is not None:
        votes = -(-rule.turnout.numerator * eligible // rule.turnout.denominator)
        parts.append(f"at least {votes:,} of the {eligible:,} must vote ({percent(rule.turnout)})")
    if public_service and rule.public_service_yes is not None:
        share = rule.public_service_yes
        yes = -(-share.numerator * eligible // share.denominator)
        parts.append(f"at least {yes:,} must vote yes ({percent(share)} of all entitled)")
    parts.append("and more must vote yes than no")
    return rich("For a mandate: " + ", ".join(parts) + ".")


async def add(ctx: Context) -> list[Outgoing]:
    dispute = await find_dispute(ctx, ctx.args["dispute"])
    await may_attach(ctx, dispute, "add ballots")
    opens, closes = _day(ctx, "opens"), _day(ctx, "closes")
    if closes < opens:
        raise UserError("The ballot closes before it opens. Example: /ballot add 1 1/3 20/3 1200")
    eligible = ctx.args["eligible"]
    rule = _rule(opens)
    public_service = bool(ctx.args.get("public-service"))
    ballot = Ballot(
        dispute_id=dispute.id,
        opens=opens,
        closes=closes,
        eligible=eligible,
        public_service=public_service,
        created_by=ctx.person.id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(ballot)
    await ctx.session.flush()
    today = _today(ctx)
    reply = ctx.reply(
        join(
            [
                rich(
                    "Recorded ",
                    bold(f"ballot #{ballot.id}"),
                    f" for {label(dispute)}: opens {day_label(opens, today)}, closes "
                    f"{day_label(closes, today)}, {eligible:,} entitled to vote.",
                ),
                _needs(rule, eligible, public_service),
                rule_footer(rule),
                rich(f"When it closes: /ballot result {ballot.id} <turnout> <yes> <no>"),
            ]
        )
    )
    if not ctx.args.get("quiet") and closes >= today:  # a closed ballot is history, not news
        content = ballot_content(ballot, dispute, today)
        await announce(ctx, Subject.BALLOT, ballot.id, dispute.target, content)
    return [reply]


async def _ballot(ctx: Context) -> Ballot:
    ballot = await ctx.session.get(Ballot, ctx.args["id"])
    if ballot is None:
        raise UserError(f"There is no ballot #{ctx.args['id']}. /strikes lists open ballots.")
    return ballot


def _count(ctx: Context, ballot: Ballot, today: date) -> tuple[Result, Verdict]:
    """The votes typed, checked, and what they mean under the ballot's law."""
    outcome = Result(ballot.eligible, ctx.args["turnout"], ctx.args["yes"], ctx.args["no"])
    problem = outcome.problem()
    if problem:
        raise UserError(problem)
    verdict = assess(_rule(ballot.opens), outcome, ballot.closes, ballot.public_service, today)
    ballot.turnout, ballot.yes_votes, ballot.no_votes = outcome.turnout, outcome.yes, outcome.no
    return outcome, verdict


async def result(ctx: Context) -> list[Outgoing]:
    ballot = await _ballot(ctx)
    may_change(ctx, ballot.created_by, f"ballot #{ballot.id}")
    if ballot.result_at is not None:
        raise UserError(
            f"Ballot #{ballot.id} already has its result; whoever recorded it, a TULO or an "
            f"admin can fix it with /ballot correct {ballot.id} <turnout> <yes> <no>."
        )
    today = _today(ctx)
    if today < ballot.closes:
        raise UserError(
            f"Ballot #{ballot.id} closes {day_label(ballot.closes, today)}; "
            "record the result once it has closed."
        )
    dispute = await find_dispute(ctx, ballot.dispute_id)
    _, verdict = _count(ctx, ballot, today)
    ballot.result_at, ballot.result_by = ctx.clock.now(), ctx.person.id
    head = rich(bold(f"Ballot #{ballot.id} result"), f" — {label(dispute)}")
    reply = ctx.reply(join([head, *verdict_lines(verdict, today)]))
    if not ctx.args.get("quiet"):
        content = result_content(ballot, dispute, verdict, today)
        await announce(ctx, Subject.BALLOT, ballot.id, dispute.target, content)
    return [reply]


async def correct(ctx: Context) -> list[Outgoing]:
    """Fix a recorded result: the reply shows the new verdict, and the audit keeps
    what it was and who changed it."""
    ballot = await _ballot(ctx)
    if ballot.result_at is None:
        raise UserError(f"Ballot #{ballot.id} has no result yet: use /ballot result.")
    may_change(ctx, ballot.result_by, f"ballot #{ballot.id}'s result")
    dispute = await find_dispute(ctx, ballot.dispute_id, must_be_open=False)
    was = f"turnout {ballot.turnout}, yes {ballot.yes_votes}, no {ballot.no_votes}"
    today = _today(ctx)
    outcome, verdict = _count(ctx, ballot, today)
    now = f"turnout {outcome.turnout}, yes {outcome.yes}, no {outcome.no}"
    announced = await _result_announcement(ctx, ballot)
    edited = 0
    if announced is not None:
        content = result_content(ballot, dispute, verdict, today)
        edited = await restyle(ctx.session, ctx.services, announced, content)
    ctx.session.add(
        AlertAudit(
            at=ctx.clock.now(),
            actor_id=ctx.person.id,
            action=Action.CORRECT.value,
            broadcast_id=announced.id if announced else None,
            subject=f"ballot #{ballot.id}",
            detail=f"result was {was}; now {now}",
            target=dispute.target,
            chat_count=edited,
        )
    )
    head = rich(bold(f"Ballot #{ballot.id} result corrected"), f" — {label(dispute)} (was {was})")
    lines = [head, *verdict_lines(verdict, today)]
    if edited:
        lines.append(rich(f"Updating its announcement in {edited:,} chats."))
    return [ctx.reply(join(lines))]


async def _result_announcement(ctx: Context, ballot: Ballot) -> Broadcast | None:
    """The announcement of the ballot's result, if there was one: the ballot's
    newest, made as the result was recorded (the first may announce its opening)."""
    found = await broadcasts_of(ctx.session, Subject.BALLOT.value, ballot.id)
    if not found or ballot.result_at is None or found[-1].created_at < ballot.result_at:
        return None
    return found[-1]


async def rules(ctx: Context) -> list[Outgoing]:
    day = _day(ctx, "date") if ctx.args.get("date") else _today(ctx)
    rule = _rule(day)
    head = rich(bold(f"Ballot law for ballots opening on {day:%d %B %Y}"))
    return [ctx.reply(join([head, *rule_lines(rule)]))]


def _members(name: str, description: str, what: str = "", *, low: int = 0) -> Param:
    """A number of members or votes: no union ballots more than ``MAX_MEMBERS``."""
    return Param(name, description, Kind.INT, low=low, high=MAX_MEMBERS, what=what)


def register(registry: Registry) -> None:
    number = Param("id", "the ballot's number", Kind.INT)
    votes = "a whole number of votes"
    counted = (
        number,
        _members("turnout", "everyone who voted, spoilt papers included"),
        _members("yes", votes, "The yes votes"),
        _members("no", votes, "The no votes"),
    )
    quiet = Param("quiet", "record only, announce nothing", option=True, flag=True)
    registry.add(
        Command(
            "ballot",
            "Industrial action ballots: dates, results, and whether they give a mandate",
            subcommands=(
                Command(
                    "add",
                    "Record a ballot and announce it",
                    add,
                    (
                        Param("dispute", "the dispute's number (/dispute list)", Kind.INT),
                        Param("opens", "the day voting opens, e.g. 1/3"),
                        Param("closes", "the day voting closes, e.g. 20/3"),
                        _members(
                            "eligible",
                            "how many members are entitled to vote",
                            "The number entitled to vote",
                            low=1,
                        ),
                        Param(
                            "public-service",
                            "members work in important public services (health, education, "
                            "fire, transport, border security, nuclear decommissioning)",
                            option=True,
                            flag=True,
                        ),
                        quiet,
                    ),
                    example="/ballot add 1 2/2 16/2 1000",
                    role=Role.ORGANISER,
                ),
                Command(
                    "result",
                    "Record a ballot's result: is it a valid mandate, until when?",
                    result,
                    (*counted, quiet),
                    example="/ballot result 1 800 620 170",
                    role=Role.ORGANISER,
                ),
                Command(
                    "correct",
                    "Fix a recorded result (whoever recorded it, a TULO or an admin)",
                    correct,
                    counted,
                    example="/ballot correct 1 800 610 180",
                    role=Role.ORGANISER,
                ),
                Command(
                    "rules",
                    "The ballot law in force on a date, with its sources",
                    rules,
                    (Param("date", "a ballot's opening day (default today)", required=False),),
                ),
            ),
            example="/ballot add 1 2/2 16/2 1000",
            details="Great Britain's law; Northern Ireland's differs and is not covered.",
        )
    )
