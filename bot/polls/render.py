"""Every word a poll says: the posted copy with its text bar chart and buttons, the
final result, the answer to a press, ``/polls`` and ``/poll results``.

Bars are block characters in a code span, so they line up in every client's
monospace font; options are lettered A to J so a press's answer ("Your vote: B") and
the chart refer to them the same way on every platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.polls.deadline import format_time
from bot.polls.tally import Tally, chosen
from bot.text import Rich, bold, code, italic, join, rich
from bot.types import Button, Content
from storage.polls import Poll

LETTERS = "ABCDEFGHIJ"
BAR = 10  # characters in a full bar
ACTION = "vote"
NAMES_SHOWN = 20  # voters named per option in /poll results before "and N more"
NOTICE_OPTION = 60  # characters of an option quoted in a press's answer


def letter(option: int) -> str:
    return LETTERS[option]


def poll_content(poll: Poll, tally: Tally, zone: ZoneInfo) -> Content:
    """A posted copy: live while open (with the buttons), the result once closed."""
    closed = poll.closed_at is not None
    title = f"📊 Poll #{poll.id}" + (" (closed)" if closed else "")
    lines = [rich(bold(title), ": ", bold(poll.question)), *_body(poll, tally, zone)]
    return Content(join(lines), buttons=() if closed else buttons(poll))


def result_text(poll: Poll, tally: Tally, zone: ZoneInfo) -> Rich:
    """The message every chat gets when the poll closes."""
    lines = [rich(bold(f"🏁 Poll #{poll.id} has closed"), ": ", bold(poll.question))]
    return join([*lines, *_body(poll, tally, zone)])


def results_text(
    poll: Poll, tally: Tally, zone: ZoneInfo, names: Sequence[tuple[int, str]]
) -> Rich:
    """``/poll results``: the chart, and who chose what when the poll is not anonymous."""
    state = "closed" if poll.closed_at is not None else "open"
    lines = [rich(bold(f"Poll #{poll.id} ({state})"), ": ", bold(poll.question))]
    lines += _body(poll, tally, zone)
    if names and not hidden(poll):
        lines.append(rich(italic("Who voted")))
        for option, text in enumerate(poll.options):
            voters = [name for choices, name in names if choices >> option & 1]
            if voters:
                shown = ", ".join(voters[:NAMES_SHOWN])
                more = len(voters) - NAMES_SHOWN
                lines.append(rich(f"{letter(option)}. {text}: {shown}", _more(more)))
    return join(lines)


def listing(polls: Sequence[Poll], turnouts: dict[int, int], zone: ZoneInfo) -> Rich:
    """``/polls``: the open polls of a chat."""
    if not polls:
        return rich("No polls are open here. Start one: ", code('/poll "Question?" "A" "B"'))
    lines = [rich(bold("Open polls here"))]
    for poll in polls:
        closes = f" · closes {format_time(poll.closes_at, zone)}" if poll.closes_at else ""
        lines.append(
            rich(f"#{poll.id} {poll.question} — {voted(turnouts.get(poll.id, 0))}{closes}")
        )
    lines.append(rich("See one with ", code("/poll results <id>"), "."))
    return join(lines)


def notice(poll: Poll, choices: int) -> str:
    """The private answer to a press: what the presser's ballot now says."""
    picked = chosen(choices, len(poll.options))
    if poll.multi:
        if not picked:
            return "You have no options chosen now. Press an option to vote."
        return "Your votes: " + ", ".join(letter(option) for option in picked)
    option = picked[0]
    return f"Your vote: {letter(option)} ({_short(poll.options[option], NOTICE_OPTION)})"


def buttons(poll: Poll) -> tuple[tuple[Button, ...], ...]:
    """One button per option: a row each for up to five (room for the text), else two
    a row — Discord shows at most five rows."""
    per_row, width = (1, 40) if len(poll.options) <= 5 else (2, 20)
    row: list[Button] = []
    rows: list[tuple[Button, ...]] = []
    for option, text in enumerate(poll.options):
        row.append(Button(f"{letter(option)}. {_short(text, width)}", vote_data(poll.id, option)))
        if len(row) == per_row:
            rows.append(tuple(row))
            row = []
    if row:
        rows.append(tuple(row))
    return tuple(rows)


def vote_data(poll_id: int, option: int) -> str:
    return f"{ACTION}:{poll_id}:{option}"


def hidden(poll: Poll) -> bool:
    return poll.hide_results and poll.closed_at is None


def voted(turnout: int) -> str:
    return "1 person has voted" if turnout == 1 else f"{turnout} people have voted"


def who_sees(poll: Poll) -> str:
    """The poll's privacy, said on every copy and result so nobody votes unaware."""
    if poll.anonymous:
        return "Votes are anonymous: nobody, admins included, can see who voted."
    if poll.public:
        return "Everyone can see who voted."
    return "Organisers can see who voted."


def _body(poll: Poll, tally: Tally, zone: ZoneInfo) -> list[Rich]:
    lines: list[Rich] = []
    if hidden(poll):
        lines += [rich(f"{letter(i)}. {text}") for i, text in enumerate(poll.options)]
        lines.append(rich(italic("Results are hidden until the poll closes.")))
    else:
        for option, text in enumerate(poll.options):
            filled = round(BAR * tally.share(option))
            lines.append(rich(bold(f"{letter(option)}."), f" {text}"))
            lines.append(
                rich(
                    code("█" * filled + "░" * (BAR - filled)),
                    f" {tally.counts[option]} ({tally.share(option):.0%})",
                )
            )
    lines.append(rich(voted(tally.turnout) + "."))
    lines.append(rich(italic(who_sees(poll))))
    if poll.closed_at is not None:
        lines += _outcome(poll, tally)
    else:
        lines.append(rich(italic(_how(poll, zone))))
    return lines


def _outcome(poll: Poll, tally: Tally) -> list[Rich]:
    winners = tally.winners
    if not winners:
        lines = [rich("No votes were cast.")]
    elif len(winners) == 1:
        option = winners[0]
        count = tally.counts[option]
        lines = [
            rich(
                "Result: ", bold(f"{letter(option)}. {poll.options[option]}"), f" ({_votes(count)})"
            )
        ]
    else:
        tied = " and ".join(f"{letter(o)}. {poll.options[o]}" for o in winners)
        lines = [rich("Tie: ", bold(tied), f" ({_votes(tally.counts[winners[0]])} each)")]
    if poll.quorum is not None:
        met = "met" if tally.quorum_met(poll.quorum) else "not met"
        lines.append(rich(f"Quorum of {poll.quorum}: {met} ({tally.turnout} voted)."))
    return lines


def _how(poll: Poll, zone: ZoneInfo) -> str:
    parts = [
        "Choose any number; press again to take one back"
        if poll.multi
        else "One choice; press another to change it"
    ]
    if poll.quorum is not None:
        parts.append(f"quorum {poll.quorum}")
    if poll.closes_at is not None:
        parts.append(f"closes {format_time(poll.closes_at, zone)}")
    return " · ".join(parts) + "."


def _votes(count: int) -> str:
    return "1 vote" if count == 1 else f"{count} votes"


def _more(count: int) -> str:
    return f" and {count} more" if count > 0 else ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
