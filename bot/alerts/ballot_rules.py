"""The law on industrial action ballots in Great Britain, as dated data.

This file is data, not code: a change in the law is a new :class:`Rule` below (or
a corrected figure), and nothing else changes. Each rule applies to ballots that
*open* on or after its date. Northern Ireland has its own law and is not covered.

Checking. The Trade Union Act 2016 figures are long-standing and well known. The
Employment Rights Act 2025 figures were checked on 2026-11-30 against published
summaries by several employment law firms, which agree on each of them (cited
below). One is still open and is shown to people with a "not yet checked" warning,
as any field named in a rule's ``unverified`` is: whether notice may be shortened
by agreement with the employer. Reading the Act's sections themselves on
legislation.gov.uk is worth doing, and the place to cite them.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from bot.alerts.mandate import Rule, Source

TUA_2016 = "https://www.legislation.gov.uk/ukpga/2016/15/section/"
ERA_2025 = "https://www.legislation.gov.uk/ukpga/2025/36/contents"

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
                "Employment Rights Act 2025 (c. 36, Royal Assent 18 December 2025): its "
                "first industrial action changes came into force on 18 February 2026",
                ERA_2025,
            ),
            Source(
                "From 18 February 2026, for ballots opening on or after that day: the 40% "
                "support threshold in important public services is repealed, a mandate "
                "lasts 12 months, and notice of action is 10 days; the 50% turnout "
                "threshold stays until its repeal is commenced with e-balloting "
                "(DLA Piper, 'First major Employment Rights Act measures come into force')",
                "https://knowledge.dlapiper.com/dlapiperknowledge/globalemploymentlatestdevelopments/2026/first-ERA-measures-come-into-force",
            ),
            Source(
                "The mandate goes from 6 to 12 months, with no extension by agreement; "
                "notice from 14 to 10 days (Crossland Employment Solicitors, 'Employment "
                "Rights Act 2025: trade unions and industrial action')",
                "https://www.crosslandsolicitors.com/site/media/employment-rights-act-2025/trade-union-and-industrial-action",
            ),
            Source(
                "The same changes, and the 50% turnout rule remaining until electronic "
                "balloting (Electrical Contractors' Association, January 2026)",
                "https://www.eca.co.uk/news/2026/jan/the-employment-rights-act-(era)-has-now-passed-into-law%E2%80%94what-does-this-mean-for-you-today",
            ),
        ),
        unverified=("notice_days_by_agreement",),
        note=(
            "The 50% turnout threshold is repealed too, from a date still to be set "
            "with electronic balloting: that date will be a new rule here."
        ),
    ),
)
