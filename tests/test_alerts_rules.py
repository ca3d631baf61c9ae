"""The ballot law as dated data, the mandate arithmetic, and how dates are read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.ballot_rules import RULES
from bot.alerts.mandate import NoRule, Result, Rule, assess, mandate_end, rule_for
from bot.context import UserError
from bot.dates.days import parse_day, parse_hours, parse_moment, parse_time

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


# --- which rule is in force ------------------------------------------------------------


@pytest.mark.parametrize(
    ("opens", "name"),
    [
        (date(2017, 3, 1), "Trade Union Act 2016"),
        (date(2025, 12, 18), "Trade Union Act 2016"),  # Royal Assent: not yet in force
        (date(2026, 2, 17), "Trade Union Act 2016"),
        (date(2026, 2, 18), "Employment Rights Act 2025"),
        (date(2027, 6, 1), "Employment Rights Act 2025"),
    ],
)
def test_the_rule_in_force_is_the_latest_begun_by_the_opening_day(opens: date, name: str) -> None:
    assert rule_for(opens, RULES).name == name


def test_ballots_before_the_table_begins_have_no_rule() -> None:
    with pytest.raises(NoRule):
        rule_for(date(2017, 2, 28), RULES)


def test_every_rule_cites_its_sources_and_names_only_real_fields() -> None:
    fields = set(Rule.__dataclass_fields__)
    for rule in RULES:
        assert rule.sources and all(
            s.citation and s.url.startswith("https://") for s in rule.sources
        )
        assert set(rule.unverified) <= fields
    assert [r.applies_from for r in RULES] == sorted(r.applies_from for r in RULES)


def test_a_change_in_the_law_is_a_change_of_data() -> None:
    """A new row is all it takes: here, turnout thresholds repealed from 2027."""
    repeal = Rule(
        "Turnout threshold repealed",
        date(2027, 1, 1),
        turnout=None,
        public_service_yes=None,
        mandate_months=12,
        mandate_months_by_agreement=None,
        notice_days=10,
        notice_days_by_agreement=None,
        sources=(),
    )
    rules = (*RULES, repeal)
    low_turnout = Result(eligible=1000, turnout=200, yes=150, no=50)
    closes = date(2027, 2, 1)
    assert not assess(rule_for(date(2026, 6, 1), rules), low_turnout, closes, False, closes).valid
    assert assess(rule_for(date(2027, 1, 10), rules), low_turnout, closes, False, closes).valid


# --- the thresholds, before and after 18 February 2026 -----------------------------------


TUA = rule_for(date(2026, 2, 1), RULES)
ERA = rule_for(date(2026, 3, 1), RULES)


@pytest.mark.parametrize(
    ("rule", "result", "public_service", "valid"),
    [
        (TUA, Result(1000, 500, 251, 249), False, True),  # exactly 50% turnout
        (TUA, Result(1000, 499, 400, 99), False, False),  # one short
        (TUA, Result(1000, 500, 250, 250), False, False),  # a tie is no majority
        (TUA, Result(1000, 600, 400, 200), True, True),  # 40% of all entitled said yes
        (TUA, Result(1000, 600, 399, 200), True, False),  # 39.9%
        (ERA, Result(1000, 600, 399, 200), True, True),  # the 40% rule is gone
        (ERA, Result(1000, 499, 400, 99), False, False),  # the 50% turnout stays (for now)
        (TUA, Result(3, 2, 2, 0), False, True),  # 66.7% turnout of a tiny electorate
    ],
)
def test_thresholds(rule: Rule, result: Result, public_service: bool, valid: bool) -> None:
    verdict = assess(rule, result, date(2026, 3, 20), public_service, date(2026, 3, 21))
    assert verdict.valid is valid


def test_mandate_and_notice_before_the_change() -> None:
    verdict = assess(TUA, Result(1000, 600, 400, 200), date(2026, 2, 16), False, date(2026, 3, 2))
    assert verdict.mandate_ends == date(2026, 8, 15)  # 6 months beginning with the close
    assert verdict.mandate_ends_by_agreement == date(2026, 11, 15)  # 9 by agreement
    assert verdict.notice_from == date(2026, 3, 2)  # today, the close being past
    assert verdict.earliest_action == date(2026, 3, 16)  # 14 days' notice
    assert verdict.earliest_action_by_agreement == date(2026, 3, 9)  # 7 if agreed


def test_mandate_and_notice_after_the_change() -> None:
    verdict = assess(ERA, Result(1000, 600, 400, 200), date(2026, 3, 20), False, date(2026, 3, 2))
    assert verdict.mandate_ends == date(2027, 3, 19)  # 12 months
    assert verdict.mandate_ends_by_agreement is None
    assert verdict.notice_from == date(2026, 3, 21)  # the day after the close
    assert verdict.earliest_action == date(2026, 3, 31)  # 10 days' notice
    assert verdict.earliest_action_by_agreement is None
    assert "Turnout 60% (600 of 1,000): meets the 50% needed." in verdict.reasons


def test_month_ends_are_counted_from_the_closing_day() -> None:
    assert mandate_end(date(2026, 8, 31), 6) == date(2027, 2, 27)
    assert mandate_end(date(2026, 3, 1), 6) == date(2026, 8, 31)


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        (Result(100, 101, 50, 50), "can't be more than the members entitled"),
        (Result(100, 60, 50, 20), "add up to more than the turnout"),
        (Result(100, 60, -1, 20), "can't be negative"),
    ],
)
def test_impossible_results_are_explained(result: Result, problem: str) -> None:
    assert problem in (result.problem() or "")


def test_only_the_2025_acts_notice_by_agreement_is_still_unchecked() -> None:
    assert TUA.unverified == ()
    assert ERA.unverified == ("notice_days_by_agreement",)
    assert (TUA.turnout, TUA.public_service_yes) == (Fraction(1, 2), Fraction(2, 5))
    assert (ERA.turnout, ERA.public_service_yes) == (Fraction(1, 2), None)
    assert (ERA.mandate_months, ERA.mandate_months_by_agreement, ERA.notice_days) == (12, None, 10)


# --- dates as people type them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/3", date(2026, 3, 12)),  # day first
        ("Thu", date(2026, 3, 5)),
        ("tomorrow", date(2026, 3, 3)),
        ("12 March 2026", date(2026, 3, 12)),
        ("1/2/2027", date(2027, 2, 1)),
    ],
)
def test_days(text: str, expected: date) -> None:
    assert parse_day(text, LONDON, NOW) == expected


def test_past_days_for_ballots_and_times_in_london() -> None:
    assert parse_day("1/3", LONDON, NOW, prefer="current_period") == date(2026, 3, 1)
    moment, has_time = parse_moment("30/3 07:00", LONDON, NOW)  # British Summer Time
    assert has_time and moment == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("06:00-10:00", time(6), time(10)),
        ("6-10", time(6), time(10)),
        ("0630–1000", time(6, 30), time(10)),
        ("7am to 1pm", time(7), time(13)),
        ("18.30-20.00", time(18, 30), time(20)),
    ],
)
def test_hours(text: str, start: time, end: time) -> None:
    assert parse_hours(text) == (start, end)


@pytest.mark.parametrize("text", ["25", "6:75", "noon-ish", "630"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="couldn't read the time"):
        parse_time(text)
