"""Every word the announcements say, built from the stored rows.

A copy's content is always *re-rendered* from the tables (the picket, its dispute,
its count), never patched, so a correction, a new count and a cancel all produce
exactly what a fresh announcement would show.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.alerts.mandate import Rule, Verdict, percent
from bot.text import Rich, bold, italic, join, link, rich
from bot.types import Button, Content, Emphasis, Location
from storage.alerts import Ballot, Dispute, Picket, Strike

GOING_ACTION = "going"
GOING_LABEL = "✋ I'll be there"
CANCELLED = "CANCELLED"
FIELD_NAMES = {
    "applies_from": "start date",
    "turnout": "turnout threshold",
    "public_service_yes": "40% rule",
    "mandate_months": "mandate length",
    "mandate_months_by_agreement": "mandate by agreement",
    "notice_days": "notice period",
    "notice_days_by_agreement": "notice by agreement",
}


# --- dates -----------------------------------------------------------------------------


def day_label(day: date, today: date) -> str:
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"


def span_label(
    start: datetime, end: datetime, zone: ZoneInfo, today: date, *, all_day: bool = False
) -> str:
    """``Thu 12 Mar, 06:00-10:00``; ``Thu 12 Mar - Sat 14 Mar (all day)``, with dashes."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    if all_day:
        final = (last - timedelta(minutes=1)).date()
        days = day_label(first.date(), today)
        if final != first.date():
            days += f" – {day_label(final, today)}"
        return f"{days} (all day)"
    if first.date() == last.date():
        return f"{day_label(first.date(), today)}, {first:%H:%M}–{last:%H:%M}"
    return (
        f"{day_label(first.date(), today)} {first:%H:%M} – "
        f"{day_label(last.date(), today)} {last:%H:%M}"
    )


def dispute_line(dispute: Dispute) -> str:
    return f"{dispute.union_name} · {dispute.employer} — {dispute.summary}"


def count_line(count: int) -> str:
    if count == 0:
        return "Nobody has said they'll be there yet."
    return f"{count} {'person' if count == 1 else 'people'} will be there."


def headline(text: str, cancelled: bool) -> Rich:
    return rich(bold(f"{CANCELLED} — {text}" if cancelled else text))


# --- pickets -----------------------------------------------------------------------------


def map_url(picket: Picket) -> str:
    """OpenStreetMap: a pin for coordinates, else a search for the postcode (no
    geocoding service is called)."""
    if picket.latitude is not None and picket.longitude is not None:
        return Location(picket.latitude, picket.longitude).map_url
    query = picket.postcode or picket.site
    return f"https://www.openstreetmap.org/search?query={quote(query)}"


def address(picket: Picket) -> str:
    return ", ".join(part for part in (picket.entrance, picket.postcode) if part) or picket.site


def reason_line(reason: str) -> list[Rich]:
    """Why it was called off, when the sender said (``/picket cancel 1 <reason>``)."""
    return [rich(bold("Reason: "), reason)] if reason else []


def picket_content(
    picket: Picket, dispute: Dispute, count: int, zone: ZoneInfo, now: datetime, reason: str = ""
) -> Content:
    """The picket alert as every chat sees it (Telegram adds a venue pin when the
    coordinates are known; other platforms show the map line). A cancelled copy is
    not re-rendered after the cancel, so the ``reason`` given then stays on it."""
    today = now.astimezone(zone).date()
    lines: list[Rich] = [
        headline(f"Picket line: {picket.site}", picket.cancelled),
        *reason_line(reason),
        rich(dispute_line(dispute)),
        rich("🕕 ", bold(span_label(picket.starts_at, picket.ends_at, zone, today))),
        rich("📍 ", address(picket)),
        rich("🗺 ", link("Map", map_url(picket))),
    ]
    if picket.contact:
        lines.append(rich("☎ ", picket.contact))
    if not picket.cancelled:
        lines.append(rich(count_line(count)))
    footer = f"picket #{picket.id}"
    if picket.corrected:
        footer += " · corrected"
    lines.append(rich(italic(footer)))
    open_for_pledges = not picket.cancelled and picket.ends_at > now
    location = None
    if picket.latitude is not None and picket.longitude is not None:
        location = Location(picket.latitude, picket.longitude, picket.site, address(picket))
    return Content(
        text=join(lines),
        buttons=((Button(GOING_LABEL, f"{GOING_ACTION}:{picket.id}"),),)
        if open_for_pledges
        else (),
        location=location,
        emphasis=Emphasis.ANNOUNCEMENT,
    )


def picket_line(picket: Picket, count: int, zone: ZoneInfo, today: date) -> Rich:
    when = span_label(picket.starts_at, picket.ends_at, zone, today)
    return rich(
        f"• {when} — ",
        bold(picket.site),
        f", {address(picket)} · {count} going ",
        italic(f"(picket #{picket.id})"),
    )


def reminder_content(picket: Picket, dispute: Dispute, zone: ZoneInfo, now: datetime) -> Content:
    today = now.astimezone(zone).date()
    return Content(
        join(
            [
                rich(bold("Reminder: picket line today")),
                rich(f"You said you'd be there — thank you. {dispute_line(dispute)}"),
                rich("🕕 ", bold(span_label(picket.starts_at, picket.ends_at, zone, today))),
                rich(
                    "📍 ", picket.site, ", ", address(picket), " — ", link("Map", map_url(picket))
                ),
                *([rich("☎ ", picket.contact)] if picket.contact else []),
            ]
        )
    )


# --- strikes and ballots --------------------------------------------------------------


def strike_content(
    strike: Strike, dispute: Dispute, zone: ZoneInfo, now: datetime, reason: str = ""
) -> Content:
    today = now.astimezone(zone).date()
    when = span_label(strike.starts_at, strike.ends_at, zone, today, all_day=strike.all_day)
    return Content(
        join(
            [
                headline(f"Strike: {dispute.union_name} at {dispute.employer}", strike.cancelled),
                *reason_line(reason),
                rich("🗓 ", bold(when)),
                rich(dispute.summary),
                rich(italic(f"strike #{strike.id}")),
            ]
        ),
        emphasis=Emphasis.ANNOUNCEMENT,
    )


def strike_line(strike: Strike, dispute: Dispute, zone: ZoneInfo, today: date) -> Rich:
    when = span_label(strike.starts_at, strike.ends_at, zone, today, all_day=strike.all_day)
    return rich(
        f"• {when} — ",
        bold(f"{dispute.union_name} at {dispute.employer}"),
        " ",
        italic(f"(strike #{strike.id})"),
    )


def ballot_content(ballot: Ballot, dispute: Dispute, today: date) -> Content:
    return Content(
        join(
            [
                rich(bold(f"Ballot: {dispute.union_name} members at {dispute.employer}")),
                rich(
                    f"Voting opens {day_label(ballot.opens, today)} and closes "
                    f"{day_label(ballot.closes, today)}. Every vote counts — the law sets a "
                    "turnout threshold, so please vote and post your paper in good time."
                ),
                rich(dispute.summary),
                rich(italic(f"ballot #{ballot.id}")),
            ]
        ),
        emphasis=Emphasis.ANNOUNCEMENT,
    )


def ballot_line(ballot: Ballot, dispute: Dispute, today: date) -> Rich:
    state = (
        f"opens {day_label(ballot.opens, today)}, closes {day_label(ballot.closes, today)}"
        if ballot.opens > today
        else f"open, closes {day_label(ballot.closes, today)}"
    )
    return rich(
        "• ",
        bold(f"{dispute.union_name} at {dispute.employer}"),
        f": ballot {state} ",
        italic(f"(ballot #{ballot.id})"),
    )


def verdict_lines(verdict: Verdict, today: date) -> list[Rich]:
    rule = verdict.rule
    lines = [
        rich(
            bold(
                "A valid mandate for industrial action."
                if verdict.valid
                else "Not a valid mandate."
            )
        ),
        *(rich("• ", reason) for reason in verdict.reasons),
    ]
    if verdict.valid:
        ends = f"The mandate runs until {day_label(verdict.mandate_ends, today)}"
        if verdict.mandate_ends_by_agreement:
            ends += (
                f" ({day_label(verdict.mandate_ends_by_agreement, today)} if the employer agrees)"
            )
        start = (
            f"With notice to the employer on {day_label(verdict.notice_from, today)}, action may "
            f"start on {day_label(verdict.earliest_action, today)} at the earliest "
            f"({rule.notice_days} days' notice"
        )
        if verdict.earliest_action_by_agreement:
            start += (
                f"; {day_label(verdict.earliest_action_by_agreement, today)} with "
                f"{rule.notice_days_by_agreement} if the employer agrees"
            )
        lines += [rich(ends + "."), rich(start + ").")]
    lines.append(rule_footer(rule))
    return lines


def rule_footer(rule: Rule) -> Rich:
    text = f"Rules: {rule.name}, for ballots opening from {rule.applies_from:%d %B %Y}."
    if rule.unverified:
        names = ", ".join(FIELD_NAMES.get(name, name) for name in rule.unverified)
        text += f" ⚠ Not yet checked against the legislation: {names}. See /ballot rules."
    return rich(italic(text))


def result_content(ballot: Ballot, dispute: Dispute, verdict: Verdict, today: date) -> Content:
    result = verdict.result
    turnout = percent_of(result.turnout, result.eligible)
    yes = percent_of(result.yes, result.yes + result.no)
    summary = (
        f"{yes} voted yes on a {turnout} turnout — a valid mandate for action until "
        f"{day_label(verdict.mandate_ends, today)}."
        if verdict.valid
        else f"{yes} voted yes on a {turnout} turnout — not enough for a mandate under the law."
    )
    return Content(
        join(
            [
                rich(bold(f"Ballot result: {dispute.union_name} at {dispute.employer}")),
                rich(summary),
                rich(italic(f"ballot #{ballot.id}")),
            ]
        ),
        emphasis=Emphasis.ANNOUNCEMENT,
    )


def percent_of(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def rule_lines(rule: Rule) -> list[Rich]:
    def figure(name: str, text: str) -> str:
        return f"{text} ⚠ unchecked" if name in rule.unverified else text

    months = f"{rule.mandate_months} months after the ballot closes"
    if rule.mandate_months_by_agreement:
        months += f" ({rule.mandate_months_by_agreement} if the employer agrees)"
    notice = f"{rule.notice_days} days"
    if rule.notice_days_by_agreement:
        notice += f" ({rule.notice_days_by_agreement} if the employer agrees)"
    turnout = percent(rule.turnout) + " of those entitled to vote" if rule.turnout else "none"
    support = (
        f"{percent(rule.public_service_yes)} of all entitled must vote yes"
        if rule.public_service_yes
        else "no extra threshold"
    )
    lines = [
        rich(bold(rule.name), f" — ballots opening from {rule.applies_from:%d %B %Y}"),
        rich("• Turnout: ", figure("turnout", turnout)),
        rich("• Important public services: ", figure("public_service_yes", support)),
        rich("• Mandate: ", figure("mandate_months", months)),
        rich("• Notice of action: ", figure("notice_days", notice)),
    ]
    if rule.note:
        lines.append(rich(italic(rule.note)))
    lines.append(rich("Sources:"))
    lines += [rich("• ", link(source.citation, source.url)) for source in rule.sources]
    return lines
