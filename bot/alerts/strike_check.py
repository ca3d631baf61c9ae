"""Do a dispute's ballots give a mandate for these strike dates?

Lawful action needs a ballot with a valid result, notice to the employer (action
starts once the notice period has passed), and must happen before the mandate
ends. Each ballot is judged again by :func:`bot.alerts.mandate.assess` under the
rule of its opening day, reckoning notice from the day its result was recorded,
so the answer is the one ``/ballot result`` gave. A problem is not a refusal —
the union may know more (notice given later, an agreed extension) — so the
sender is asked to confirm, with the reason shown.
"""

from __future__ import annotations

from datetime import date

from bot.alerts.ballot_rules import RULES
from bot.alerts.mandate import NoRule, Result, Verdict, assess, rule_for
from bot.alerts.render import day_label
from storage.alerts import Ballot


def _verdict(ballot: Ballot, result_day: date) -> Verdict | None:
    if ballot.turnout is None or ballot.yes_votes is None or ballot.no_votes is None:
        return None
    try:
        rule = rule_for(ballot.opens, RULES)
    except NoRule:
        return None
    outcome = Result(ballot.eligible, ballot.turnout, ballot.yes_votes, ballot.no_votes)
    return assess(rule, outcome, ballot.closes, ballot.public_service, result_day)


def mandate_problem(
    dispute_id: int,
    ballots: list[tuple[Ballot, date | None]],
    first: date,
    last: date,
    today: date,
) -> str | None:
    """Why strike days ``first`` to ``last`` are not plainly covered by a mandate from
    one of ``ballots`` (each with the local day its result was recorded), or ``None``.
    """
    if not ballots:
        return (
            f"No ballot is recorded for dispute #{dispute_id}: strike action needs a valid "
            "mandate from a ballot (/ballot add, then /ballot result)."
        )
    judged = [
        (ballot, verdict)
        for ballot, result_day in ballots
        if result_day is not None and (verdict := _verdict(ballot, result_day)) is not None
    ]
    if not judged:
        ballot = ballots[-1][0]
        return (
            f"Ballot #{ballot.id} has no result yet (it closes {day_label(ballot.closes, today)}): "
            "strike action needs its result, and then notice to the employer."
        )
    valid = [(ballot, verdict) for ballot, verdict in judged if verdict.valid]
    if not valid:
        ballot = judged[-1][0]
        return f"Ballot #{ballot.id}'s result was not a valid mandate for industrial action."
    for _ballot, verdict in valid:
        if verdict.earliest_action <= first and last <= verdict.mandate_ends:
            return None
    ballot, verdict = valid[-1]
    if first < verdict.earliest_action:
        return (
            f"Action may start on {day_label(verdict.earliest_action, today)} at the earliest: "
            f"{verdict.rule.notice_days} days' notice to the employer after ballot "
            f"#{ballot.id}'s result ({verdict.rule.name}). These dates start on "
            f"{day_label(first, today)}."
        )
    return (
        f"Ballot #{ballot.id}'s mandate runs until {day_label(verdict.mandate_ends, today)}; "
        f"these dates end on {day_label(last, today)}. A new ballot is needed for action "
        "after that."
    )
