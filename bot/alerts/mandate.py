"""Is a ballot's result a valid mandate for industrial action, until when, and how
soon may action start?

The figures are not here: they live in :mod:`bot.alerts.ballot_rules`, one dated
:class:`Rule` per change in the law, so when Parliament changes a threshold someone
adds a row there and no code changes. This module only picks the rule in force
for a ballot and applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Source:
    """Where a figure comes from: the provision, in words, and where to read it."""

    citation: str
    url: str


@dataclass(frozen=True)
class Rule:
    """The ballot law for ballots *opening* on or after ``applies_from``.

    ``turnout``: the share of those entitled to vote who must vote (``None``: no
    threshold). ``public_service_yes``: in important public services, the share of
    *all* those entitled who must vote yes. The mandate lasts ``mandate_months``
    from the close of the ballot (longer by agreement with the employer, if the law
    allows); action needs ``notice_days`` of notice to the employer (fewer by
    agreement, if the law allows). ``unverified`` names the fields nobody has yet
    checked against the sources: they are shown to people with a warning.
    """

    name: str
    applies_from: date
    turnout: Fraction | None
    public_service_yes: Fraction | None
    mandate_months: int
    mandate_months_by_agreement: int | None
    notice_days: int
    notice_days_by_agreement: int | None
    sources: tuple[Source, ...]
    unverified: tuple[str, ...] = ()
    note: str = ""


class NoRule(Exception):
    """No rule in the table covers the date."""


def rule_for(opens: date, rules: tuple[Rule, ...]) -> Rule:
    """The latest rule that had begun by the day the ballot opened."""
    begun = [rule for rule in rules if rule.applies_from <= opens]
    if not begun:
        raise NoRule(opens)
    return max(begun, key=lambda rule: rule.applies_from)


@dataclass(frozen=True)
class Result:
    eligible: int
    turnout: int  # everyone who voted, spoilt papers included
    yes: int
    no: int

    def problem(self) -> str | None:
        """Why these numbers cannot be a ballot result, or ``None``."""
        if min(self.eligible, self.turnout, self.yes, self.no) < 0:
            return "Numbers of votes can't be negative."
        if self.turnout > self.eligible:
            return (
                f"Turnout ({self.turnout}) can't be more than the members entitled to vote "
                f"({self.eligible})."
            )
        if self.yes + self.no > self.turnout:
            return (
                f"Yes ({self.yes}) and no ({self.no}) add up to more than the turnout "
                f"({self.turnout}). Turnout counts everyone who voted, spoilt papers included."
            )
        return None


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    result: Result
    valid: bool
    reasons: tuple[str, ...]  # each test applied, passed or failed, in words
    mandate_ends: date  # the last day of the mandate
    mandate_ends_by_agreement: date | None
    notice_from: date  # the first day notice can be given (the day after the close)
    earliest_action: date
    earliest_action_by_agreement: date | None


def percent(share: Fraction) -> str:
    value = float(share) * 100
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def mandate_end(closes: date, months: int) -> date:
    """The last day of "the period of N months beginning with the date of the close
    of the ballot" (TULRCA 1992 s.234): the period includes the closing day."""
    end: date = closes + relativedelta(months=months) - timedelta(days=1)
    return end


def assess(rule: Rule, result: Result, closes: date, public_service: bool, today: date) -> Verdict:
    """Apply ``rule`` to a result. Notice is reckoned from the later of today and the
    day after the close (the union must first tell members and the employer the
    result); action may start once ``notice_days`` whole days have passed."""
    reasons: list[str] = []
    valid = result.yes > result.no
    reasons.append(
        f"{'A' if valid else 'No'} majority voted yes ({result.yes:,} yes, {result.no:,} no)."
    )
    if rule.turnout is not None:
        needed = rule.turnout * result.eligible
        share = Fraction(result.turnout, result.eligible)
        met = result.turnout >= needed
        valid = valid and met
        reasons.append(
            f"Turnout {percent(share)} ({result.turnout:,} of {result.eligible:,}): "
            f"{'meets' if met else 'is under'} the {percent(rule.turnout)} needed."
        )
    if public_service and rule.public_service_yes is not None:
        share = Fraction(result.yes, result.eligible)
        met = result.yes >= rule.public_service_yes * result.eligible
        valid = valid and met
        reasons.append(
            f"Yes votes are {percent(share)} of all {result.eligible:,} entitled to vote: "
            f"{'meets' if met else 'is under'} the {percent(rule.public_service_yes)} "
            "needed in important public services."
        )
    notice_from = max(today, closes + timedelta(days=1))
    by_agreement = rule.notice_days_by_agreement
    return Verdict(
        rule=rule,
        result=result,
        valid=valid,
        reasons=tuple(reasons),
        mandate_ends=mandate_end(closes, rule.mandate_months),
        mandate_ends_by_agreement=(
            mandate_end(closes, rule.mandate_months_by_agreement)
            if rule.mandate_months_by_agreement
            else None
        ),
        notice_from=notice_from,
        earliest_action=notice_from + timedelta(days=rule.notice_days),
        earliest_action_by_agreement=(
            notice_from + timedelta(days=by_agreement) if by_agreement else None
        ),
    )
