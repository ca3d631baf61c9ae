"""Who may do what: the one table the authorization test runs and README shows.

Each :class:`Row` is a privileged command (or button), as typed, with what every
:class:`Who` gets: allowed (``Y``) or refused, and why. The world the rows act in
(:data:`WORLD`) is built by the admin before each person's turn, so a row that
changes something acts on an object made for it: "someone else's" dispute,
ballot, strike, picket, alert, poll, meeting and rota are the admin's.

``python -m tests.support.who_may`` prints the README section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Who(StrEnum):
    MEMBER = "member"
    ORGANISER = "organiser here"
    ELSEWHERE = "organiser elsewhere"
    OUTSIDER = "admin of an unapproved chat"
    TULO = "TULO"
    ADMIN = "admin"
    STRANGER = "stranger, privately"


class Why(StrEnum):
    """An outcome, and the words of its reply that show it."""

    YES = "✓"  # allowed: the row's own words of success appear
    ROLE = "role"  # needs a higher role
    OUTSIDE = "outside"  # the chat is not part of the organisation
    JOIN = "join"  # a private chat whose person is in no approved chat
    OWNER = "owner"  # someone else's: only its maker, a TULO or an admin
    REACH = "reach"  # reaches chats this organiser doesn't organise
    COUNT = "count"  # answered with a count; the names are for the chat's organisers
    NA = "—"  # not applicable (a button lives in the chat it was sent to)


REFUSALS: dict[Why, re.Pattern[str]] = {
    Why.ROLE: re.compile(r"Only [\w ]+ can"),
    Why.OUTSIDE: re.compile(r"isn't part of .* organisation yet"),
    Why.JOIN: re.compile(r"I don't know you from any of the organisation's chats"),
    Why.OWNER: re.compile(
        r"Only whoever made|Only the person who started|was added in another chat"
    ),
    Why.REACH: re.compile(r"you don't organise"),
    Why.COUNT: re.compile(r"Names are shown only to this chat's organisers"),
}

MEANING = {
    Why.YES: "allowed",
    Why.ROLE: "refused: needs a higher role",
    Why.OUTSIDE: "refused: the chat isn't part of the organisation (how to join is explained)",
    Why.JOIN: "refused: not in any of the organisation's chats (how to join is explained)",
    Why.OWNER: "refused: someone else's — only its maker, a TULO or an admin",
    Why.REACH: "refused: it reaches chats this organiser doesn't organise",
    Why.COUNT: "the count only: names go, privately, to the organisers of the chat pressed in",
    Why.NA: "not applicable",
}

# The admin ("alice", from the config) builds this in each platform's chats
# "branch" (tagged region:a) and "depot" (region:b); "org" organises branch, "orgb"
# organises depot (and speaks in branch), "tulo" is a TULO, "out" is the platform
# admin of a chat nobody approved, "stranger" only ever talks privately.
WORLD = (
    "/alert send region:a Hello branch",  # alert #1
    '/dispute add UNISON Acme "Pay" region:a or region:b',  # dispute #1: to close
    '/dispute add UNISON Acme "Hours" region:a or region:b',  # dispute #2: to attach to
    "/ballot add 2 20/2 27/2 100 --quiet",  # ballot #1: a result to record
    "/ballot add 2 20/2 27/2 100 --quiet",  # ballot #2: a result to correct
    "/ballot result 2 60 40 10 --quiet",
    "/strike add 2 23/3 24/3 --quiet",  # strike #1: after the notice period
    '/picket add 2 Gate "B69 4JE" tomorrow 06:00-10:00 --contact "Sam 07700 900123"',
    '/poll "Strike?" "Yes" "No"',  # poll #1
    '/meeting add "AGM" "12/3 19:00" "Hall"',  # meeting #1
    '/rota add "Food bank" "every Saturday 09:30-12:30" "Hub" --slots "Driver:2"',  # rota #1
)
# organiser "org" records dispute #3, their own, for branch only.
OWN_DISPUTE = '/dispute add UNISON Own "Own" region:a'

Y, R, X, J, W, T, C, N = (
    Why.YES,
    Why.ROLE,
    Why.OUTSIDE,
    Why.JOIN,
    Why.OWNER,
    Why.REACH,
    Why.COUNT,
    Why.NA,
)
ORDER = tuple(Who)
SUBSET_MARK = " \\*"  # Markdown for " *": the row is tried on Telegram and Discord too


@dataclass(frozen=True)
class Row:
    """``line`` typed by each person where they are (``press`` names a button the
    admin's ``line`` shows instead); ``done`` appears in the answer when allowed."""

    shown: str
    line: str
    done: str
    outcomes: tuple[Why, ...]  # in the order of :data:`ORDER`
    press: str = ""
    subset: bool = False  # also run on Telegram and Discord

    def outcome(self, who: Who) -> Why:
        return self.outcomes[ORDER.index(who)]


#            member, organiser here, organiser elsewhere, outsider, TULO, admin, stranger
TABLE = (
    Row("/strikes", "/strikes", "Coming up", (Y, Y, Y, X, Y, Y, J), subset=True),
    Row("/meetings", "/meetings", "AGM", (Y, Y, Y, X, Y, Y, J)),
    Row("/polls", "/polls", "Strike?", (Y, Y, Y, X, Y, Y, J)),
    Row("/tag", "/tag region:c", "Tagged this chat", (R, Y, R, X, Y, Y, J), subset=True),
    Row("/grant … organiser", "/grant Mem organiser", "is now organiser", (R, R, R, X, Y, Y, J)),
    Row("/grant … tulo", "/grant Mem tulo", "is now tulo", (R, R, R, X, R, Y, J)),
    Row("/invite", "/invite", "invite code", (R, R, R, X, Y, Y, J), subset=True),
    Row("/chats", "/chats", "Chats in the organisation", (R, R, R, X, Y, Y, J)),
    Row("/chats pending", "/chats pending", "Chats waiting to join", (R, R, R, X, Y, Y, J)),
    Row(
        "Approve button (/chats pending)",
        "/chats pending",
        "Approved",
        (R, R, R, N, Y, Y, N),
        press="Approve",
    ),
    Row(
        "/dispute add (chats you organise)",
        '/dispute add GMB Acme "Pay" region:a',
        "Added dispute",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/dispute add (every chat)",
        '/dispute add GMB Acme "Pay" all',
        "Added dispute",
        (R, T, R, X, Y, Y, J),
    ),
    Row(
        "/dispute close (someone else's)",
        "/dispute close 1",
        "Closed dispute #1",
        (R, W, R, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/ballot add (someone else's dispute)",
        "/ballot add 2 1/3 20/3 100 --quiet",
        "Recorded ballot",
        (R, T, R, X, Y, Y, J),
    ),
    Row(
        "/ballot result (someone else's ballot)",
        "/ballot result 1 60 40 10 --quiet",
        "Ballot #1 result",
        (R, W, R, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/ballot correct (someone else's result)",
        "/ballot correct 2 60 45 10",
        "result corrected",
        (R, W, R, X, Y, Y, J),
    ),
    Row(
        "/strike add (someone else's dispute)",
        "/strike add 2 25/3 26/3 --quiet",
        "Recorded strike",
        (R, T, R, X, Y, Y, J),
    ),
    Row(
        "/strike add --to all (own dispute)",
        "/strike add 3 12/3 13/3 --to all --quiet",
        # Allowed, and then asked to confirm: dispute #3 has no ballot behind it.
        "Check before recording this strike",
        (R, T, R, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/strike cancel (someone else's)",
        "/strike cancel 1",
        "Strike #1",
        (R, W, R, X, Y, Y, J),
    ),
    Row(
        "/picket add (chats you organise)",
        '/picket add 3 Door "B69 4JE" tomorrow 06:00-10:00',
        "Door",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/picket going (names)",
        "/picket going 1",
        "sent you the names privately",
        (C, Y, C, X, Y, Y, J),
    ),
    Row(
        "/picket cancel (someone else's)",
        "/picket cancel 1",
        "Picket #1 cancelled",
        (R, W, R, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/alert send all",
        "/alert send all Fake strike tomorrow",
        "Fake strike tomorrow",
        (R, T, R, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/alert cancel (someone else's)",
        "/alert cancel 1",
        "Alert #1 cancelled",
        (R, W, R, X, Y, Y, J),
    ),
    Row("/digest on", "/digest on", "Weekly digest on", (R, Y, R, X, Y, Y, J)),
    Row("/welcome set", '/welcome set "Hi {name}!"', "Welcome set", (R, Y, R, X, Y, Y, J)),
    Row("/newcomers on", "/newcomers on", "Newcomer follow-up on", (R, Y, R, X, Y, Y, J)),
    Row("/newcomers (names)", "/newcomers", "waiting to be contacted", (R, Y, R, X, Y, Y, J)),
    Row(
        "/poll --to other chats",
        '/poll "Q?" "A" "B" --to region:b',
        "posted to 1 chat",
        (R, T, R, X, Y, Y, J),
    ),
    Row(
        "/poll close (someone else's)",
        "/poll close 1",
        "Poll #1 has closed",
        (W, Y, W, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/meeting add",
        '/meeting add "Rally" "14/3 11:00" "Square"',
        "Rally",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/meeting going (names)",
        "/meeting going 1",
        "sent you the names privately",
        (C, Y, C, X, Y, Y, J),
    ),
    Row(
        "/meeting cancel (someone else's, added here)",
        "/meeting cancel 1",
        "Cancelled",
        (R, Y, R, X, Y, Y, J),
    ),
    Row("/rota", "/rota", "Food bank", (Y, Y, Y, X, Y, Y, J)),
    Row("/rota mine", "/rota mine", "rota", (Y, Y, Y, X, Y, Y, J)),
    Row("/rota drop", "/rota drop 1 Sat", "signed up for rota #1", (Y, Y, Y, X, Y, Y, J)),
    Row(
        "/rota add",
        '/rota add "Stall" "every Sunday 10:00-12:00" "Square" --slots "Table:2"',
        "Stall",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/rota add --to other chats",
        '/rota add "Stall" "every Sunday 10:00-12:00" "Square" --slots "Table:2" --to region:b',
        "posted to 1 chat",
        (R, T, R, X, Y, Y, J),
        subset=True,
    ),
    Row(
        "/rota edit (someone else's, added here)",
        '/rota edit 1 --title "Food bank hub"',
        "changed (title)",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/rota move (someone else's, added here)",
        "/rota move 1 7/3 10:00",
        "Moved Sat 7 Mar",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/rota skip (someone else's, added here)",
        "/rota skip 1",
        "Skipped",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/rota cancel (someone else's, added here)",
        "/rota cancel 1",
        "Rota #1 cancelled",
        (R, Y, R, X, Y, Y, J),
    ),
    Row(
        "/meetingset timezone",
        "/meetingset timezone Europe/Paris",
        "Times here are now shown",
        (R, Y, R, X, Y, Y, J),
    ),
    Row("/revoke", "/revoke Org organiser", "is no longer organiser", (R, R, R, X, Y, Y, J)),
    Row("/chats remove", "/chats remove 2", "Removed", (R, R, R, X, Y, Y, J)),
    Row("/status", "/status", "Status of", (R, R, R, X, R, Y, J)),
)


def render() -> str:
    """The README's "Who may do what" table."""
    head = "| command | " + " | ".join(who.value for who in ORDER) + " |"
    rule = "|---" * (len(ORDER) + 1) + "|"
    lines = [head, rule]
    for row in TABLE:
        cells = " | ".join(row.outcome(who).value for who in ORDER)
        command, space, note = row.shown.partition(" (")
        name = f"`{command}`" + (f" ({note}" if space else "")
        if not command.startswith("/"):
            name = row.shown
        mark = SUBSET_MARK if row.subset else ""
        lines.append(f"| {name}{mark} | {cells} |")
    key = "; ".join(f"**{why.value}** {MEANING[why]}" for why in Why)
    tried = (
        "Every cell is tried on the console; rows marked \\* also on Telegram and Discord, "
        "through the real adapters (`tests/test_authorization.py`)."
    )
    return "\n".join([*lines, "", key + ".", "", tried])


if __name__ == "__main__":
    print(render())
