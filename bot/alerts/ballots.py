"""/ballot: industrial action ballots, their results, and whether they give a mandate
under the law in force on the ballot's date (:mod:`bot.alerts.ballot_rules`)."""

from __future__ import annotations

from datetime import date

from bot.alerts.ballot_rules import RULES
from bot.alerts.broadcast import Subject, announce
from bot.alerts.dates import local, parse_day
from bot.alerts.disputes import find_dispute, label
from bot.alerts.mandate import NoRule, Result, Rule, assess, percent, rule_for
from bot.alerts.render import (
    ballot_content,
    day_label,
    result_content,
    rule_footer,
    rule_lines,
    verdict_lines,
)
from bot.context import Context, UserError
from bot.registry import Command, Kind, Param, Registry, Role
from bot.text import Rich, bold, join, rich
from bot.types import Outgoing
from storage.alerts import Ballot

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
    opens, closes = _day(ctx, "opens"), _day(ctx, "closes")
    if closes < opens:
        raise UserError("The ballot closes before it opens. Example: /ballot add 1 1/3 20/3 1200")
    eligible = ctx.args["eligible"]
    if eligible < 1:
        raise UserError("The number of members entitled to vote should be at least 1.")
    rule = _rule(opens)
    public_service = bool(ctx.args.get("public-service"))
    ballot = Ballot(
        dispute_id=dispute.id,
        opens=opens,
        closes=closes,
        eligible=eligible,
        public_service=public_service,
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


async def result(ctx: Context) -> list[Outgoing]:
    ballot = await ctx.session.get(Ballot, ctx.args["id"])
    if ballot is None:
        raise UserError(f"There is no ballot #{ctx.args['id']}. /strikes lists open ballots.")
    if ballot.result_at is not None:
        raise UserError(f"Ballot #{ballot.id} already has its result.")
    today = _today(ctx)
    if today < ballot.closes:
        raise UserError(
            f"Ballot #{ballot.id} closes {day_label(ballot.closes, today)}; "
            "record the result once it has closed."
        )
    dispute = await find_dispute(ctx, ballot.dispute_id)
    outcome = Result(ballot.eligible, ctx.args["turnout"], ctx.args["yes"], ctx.args["no"])
    problem = outcome.problem()
    if problem:
        raise UserError(problem)
    verdict = assess(_rule(ballot.opens), outcome, ballot.closes, ballot.public_service, today)
    ballot.turnout, ballot.yes_votes, ballot.no_votes = outcome.turnout, outcome.yes, outcome.no
    ballot.result_at = ctx.clock.now()
    head = rich(bold(f"Ballot #{ballot.id} result"), f" — {label(dispute)}")
    reply = ctx.reply(join([head, *verdict_lines(verdict, today)]))
    if not ctx.args.get("quiet"):
        content = result_content(ballot, dispute, verdict, today)
        await announce(ctx, Subject.BALLOT, ballot.id, dispute.target, content)
    return [reply]


async def rules(ctx: Context) -> list[Outgoing]:
    day = _day(ctx, "date") if ctx.args.get("date") else _today(ctx)
    rule = _rule(day)
    head = rich(bold(f"Ballot law for ballots opening on {day:%d %B %Y}"))
    return [ctx.reply(join([head, *rule_lines(rule)]))]


def register(registry: Registry) -> None:
    number = Param("id", "the ballot's number", Kind.INT)
    votes = "a whole number of votes"
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
                        Param("eligible", "how many members are entitled to vote", Kind.INT),
                        Param(
                            "public-service",
                            "members work in important public services (health, education, "
                            "fire, transport, border security, nuclear decommissioning)",
                            option=True,
                            flag=True,
                        ),
                        Param("quiet", "record only, announce nothing", option=True, flag=True),
                    ),
                    example="/ballot add 1 2/2 16/2 1000",
                    role=Role.ORGANISER,
                ),
                Command(
                    "result",
                    "Record a ballot's result: is it a valid mandate, until when?",
                    result,
                    (
                        number,
                        Param("turnout", "everyone who voted, spoilt papers included", Kind.INT),
                        Param("yes", votes, Kind.INT),
                        Param("no", votes, Kind.INT),
                        Param("quiet", "record only, announce nothing", option=True, flag=True),
                    ),
                    example="/ballot result 1 800 620 170",
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
