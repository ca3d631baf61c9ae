"""The law on industrial action ballots in Great Britain, as dated data.

This file is data, not code: a change in the law is a new :class:`Rule` below (or
a corrected figure), and nothing else changes. Each rule applies to ballots that
*open* on or after its date. Northern Ireland has its own law and is not covered.

READ BEFORE RELYING ON IT. These figures were written from the author's knowledge
on 2026-11-29 without access to legislation.gov.uk. Every field named in a rule's
``unverified`` is shown to people with a "not yet checked" warning until a person
checks it against the sources and removes it from that tuple. The Trade Union Act
2016 figures are long-standing and well known; the Employment Rights Act 2025
figures and dates are the author's best understanding of the Act and of the
government's implementation roadmap, and must be checked.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from bot.alerts.mandate import Rule, Source

TUA_2016 = "https://www.legislation.gov.uk/ukpga/2016/15/section/"
ERA_2025 = "https://www.legislation.gov.uk/search?title=Employment%20Rights%20Act%202025"

RULES: tuple[Rule, ...] = (
    Rule(
        name="Trade Union Act 2016",
        applies_from=date(2017, 3, 1),
        turnout=Fraction(1, 2),
        public_service_yes=Fraction(2, 5),
        mandate_months=6,
        mandate_months_by_agreement=9,
        notice_days=14,
        notice_days_by_agreement=7,
        sources=(
            Source(
                "Trade Union Act 2016 s.2: at least 50% of those entitled to vote must vote "
                "(TULRCA 1992 s.226(2)(a)(iia))",
                f"{TUA_2016}2",
            ),
            Source(
                "Trade Union Act 2016 s.3: in important public services at least 40% of all "
                "those entitled to vote must vote yes (TULRCA 1992 s.226(2A)–(2F); the "
                "services are listed in the Important Public Services Regulations 2017)",
                f"{TUA_2016}3",
            ),
            Source(
                "Trade Union Act 2016 s.8: 14 days' notice of industrial action to the "
                "employer, or 7 if the employer agrees (TULRCA 1992 s.234A(4))",
                f"{TUA_2016}8",
            ),
            Source(
                "Trade Union Act 2016 s.9: the mandate ends 6 months after the ballot "
                "closes, or up to 9 months if union and employer agree (TULRCA 1992 s.234)",
                f"{TUA_2016}9",
            ),
            Source(
                "In force for ballots opening on or after 1 March 2017: Trade Union Act "
                "2016 (Commencement No. 3 and Transitional) Regulations 2017, SI 2017/139",
                "https://www.legislation.gov.uk/uksi/2017/139/contents/made",
            ),
        ),
        # Long-standing figures, known with confidence; the SI number in the last
        # source is from memory and worth a glance.
        unverified=(),
    ),
    Rule(
        name="Employment Rights Act 2025",
        applies_from=date(2026, 2, 18),
        # The 50% turnout threshold stays until its repeal is commenced, which the
        # government tied to e-balloting: add a rule with turnout=None on that date.
        turnout=Fraction(1, 2),
        public_service_yes=None,
        mandate_months=12,
        mandate_months_by_agreement=None,
        notice_days=10,
        notice_days_by_agreement=None,
        sources=(
            Source(
                "Employment Rights Act 2025 (Royal Assent 18 December 2025), Part 4: repeals "
                "the 40% important-public-services support threshold, extends the mandate "
                "from 6 to 12 months and cuts notice of action from 14 to 10 days, in force "
                "two months after Royal Assent (18 February 2026)",
                ERA_2025,
            ),
            Source(
                "Repeal of the 50% turnout threshold (TULRCA 1992 s.226(2)(a)(iia)): by the "
                "Act, to be commenced later by regulations, alongside e-balloting",
                ERA_2025,
            ),
        ),
        unverified=(
            "applies_from",
            "turnout",
            "public_service_yes",
            "mandate_months",
            "mandate_months_by_agreement",
            "notice_days",
            "notice_days_by_agreement",
        ),
        note=(
            "Which ballots the new rules cover (those opening, or closing, on or after "
            "18 February 2026) depends on transitional provisions not yet checked."
        ),
    ),
)
