"""``/poll``, ``/yesno``, ``/polls``: start, close and read polls.

A poll may go to many chats on every platform at once (``--to``, organisers and
up); each copy is its own outbox row, remembered so the live tally can edit it.
Beyond ``[alerts] confirm_above_chats`` chats the sender first sees the announcements'
preview (:func:`bot.copies.hold`) and the poll is posted on Send.
Everything is checked before anything is written, and a refusal says what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.context import Context, UserError
from bot.copies import Subject, hold, post, post_held_with, target_text
from bot.names import names_privately
from bot.network import seen_from
from bot.outbox import BULK_LANE, REPLY_LANE
from bot.parse import quoted
from bot.polls.closing import close_poll, restore, schedule_closing
from bot.polls.deadline import parse_closing
from bot.polls.render import ACTION, hidden, listing, poll_content, results_text
from bot.polls.tally import Tally, load_tally
from bot.polls.votes import VoteRecorder
from bot.registry import Command, Kind, Param, Registry, Role
from bot.targeting import resolve
from bot.text import Rich, code, counted, join, platforms_text, rich
from bot.types import CommandIn, Outgoing
from bot.values import fit, visible
from storage.chats import chat_ref
from storage.copies import posted_in
from storage.models import Chat
from storage.polls import (
    POSTED,
    Poll,
    create_poll,
    open_polls,
    turnouts,
    voter_names,
)

MIN_OPTIONS, MAX_OPTIONS = 2, 10
# Telegram's own limits for poll questions and options; Discord's are wider.
MAX_QUESTION, MAX_OPTION = 300, 100
YES_NO = ("Yes", "No")
# More votes than any branch or party could cast: a bigger quorum is a typing slip.
MAX_QUORUM = 100_000
EXAMPLE = '/poll "Strike on Friday?" "Yes" "No" --closes "Thursday 18:00"'


async def new_poll(ctx: Context) -> list[Outgoing]:
    words = [ctx.args["question"], *ctx.args["options"]]
    options = words[1:]
    typed = ctx.event.text if isinstance(ctx.event, CommandIn) else ""
    if not quoted(typed.partition(" --")[0]):  # one word each: split it as meant
        ctx.args["question"], options = _unquoted(words)
    return await _start(ctx, options, multi=bool(ctx.args.get("multi")))


_QUESTION_END = re.compile(r"[?:…]+")
_OPTION_BREAK = re.compile(r"\s*(?:,|;|/|\bor\b)\s*")


def _unquoted(words: list[str]) -> tuple[str, list[str]]:
    """``/poll Which stall dates? Sat 12th, Sat 19th`` typed without quotes: the
    question ends at its question mark (or colon), and the options are split at
    commas or "or" — at spaces only if there is neither ("Yes No")."""
    text = " ".join(words)
    end = _QUESTION_END.search(text)
    if end is None:
        raise UserError(
            rich(
                "End the question with a question mark and separate the options with commas, e.g. ",
                code("/poll Which stall dates? Sat 12th, Sat 19th"),
                " — or put each in double quotes: ",
                code(EXAMPLE),
            )
        )
    question, rest = text[: end.end()], text[end.end() :].strip()
    parts = _OPTION_BREAK.split(rest) if _OPTION_BREAK.search(rest) else rest.split()
    return question, [part for part in parts if part]


async def yes_no(ctx: Context) -> list[Outgoing]:
    return await _start(ctx, list(YES_NO), multi=False)


async def _start(ctx: Context, given: Sequence[str], *, multi: bool) -> list[Outgoing]:
    question = _question(ctx.args["question"])
    options = _options(given)
    if ctx.args.get("anonymous") and ctx.args.get("public"):
        raise UserError(
            "A poll can't be both --anonymous and --public: choose whether names are kept "
            "or shown to everyone."
        )
    quorum: int | None = ctx.args.get("quorum")
    now = ctx.clock.now()
    closes = ctx.args.get("closes")
    closing = parse_closing(closes, now, ctx.config.zone) if closes is not None else None
    target = ctx.args.get("to")
    chats = [ctx.chat] if target is None else await resolve(ctx, target, "post polls to chats")
    poll = await create_poll(
        ctx.session,
        creator_id=ctx.person.id,
        question=question,
        options=options,
        multi=multi,
        anonymous=bool(ctx.args.get("anonymous")),
        public=bool(ctx.args.get("public")),
        hide_results=bool(ctx.args.get("hide-results")),
        quorum=quorum,
        closes_at=closing.at if closing else None,
        now=now,
    )
    notes = closing.notes if closing else ()
    if target is not None and len(chats) > ctx.config.alerts.confirm_above_chats:
        # As an announcement to that many chats: the sender sees it and confirms.
        content = poll_content(poll, Tally.empty(len(poll.options)), ctx.config.zone)
        await hold(ctx, Subject.POLL, poll.id, target_text(target), content, chats)
        return [ctx.reply(join(notes), private=True)] if notes else []
    copies = await _post(ctx, poll, chats)
    schedule_closing(ctx.services, poll)
    lines: list[str] = []
    here = ctx.event.chat.key
    if any(copy.chat.key != here for copy in copies):
        spread = platforms_text(copy.chat for copy in copies)
        lines.append(f"Poll #{poll.id} is posted to {counted(len(copies), 'chat')}{spread}.")
    elif ctx.event.reply_handle or notes:
        # The platform waits for an answer to the command itself, or there is a note.
        lines.append(f"Poll #{poll.id} is posted.")
    lines += notes
    # (The copies are queued already: their row ids are needed for live edits.)
    return [ctx.reply(join(lines), private=True)] if lines else []


async def _post(ctx: Context, poll: Poll, chats: Sequence[Chat]) -> list[Outgoing]:
    """Queue one copy per chat (this chat's on the reply lane) and remember each."""
    tally = Tally.empty(len(poll.options))
    poll.shown = tally.summary(hidden(poll))
    content = poll_content(poll, tally, ctx.config.zone)
    copies = [
        (chat, Outgoing(chat_ref(chat), content, dedupe_key=f"poll:{poll.id}:{chat.id}"))
        for chat in chats
    ]
    here = [pair for pair in copies if pair[1].chat.key == ctx.event.chat.key]
    elsewhere = [pair for pair in copies if pair[1].chat.key != ctx.event.chat.key]
    for pairs, lane in ((here, REPLY_LANE), (elsewhere, BULK_LANE)):
        await post(ctx.session, ctx.services, POSTED, poll.id, pairs, lane)
    return [message for _, message in here + elsewhere]


async def _send_held(ctx: Context, poll_id: int, chats: list[Chat]) -> Rich:
    """Send pressed under the preview of a poll to many chats: post it now."""
    poll = await ctx.session.get(Poll, poll_id)
    if poll is None or poll.closed_at is not None:
        raise UserError(f"Poll #{poll_id} is gone; start it again.")
    copies = await _post(ctx, poll, chats)
    schedule_closing(ctx.services, poll)
    spread = platforms_text(copy.chat for copy in copies)
    return rich(f"Poll #{poll.id} is posted to {counted(len(copies), 'chat')}{spread}.")


async def _drop_held(ctx: Context, poll_id: int, _chats: list[Chat]) -> Rich:
    """Don't send pressed: the poll was never posted anywhere, so it goes."""
    poll = await ctx.session.get(Poll, poll_id)
    if poll is not None:
        await ctx.session.delete(poll)
    return rich(f"Poll #{poll_id}: not sent.")


async def close(ctx: Context) -> list[Outgoing]:
    poll = await _find(ctx)
    if poll.closed_at is None and not await _may_close(ctx, poll):
        raise UserError(
            f"Only the person who started poll #{poll.id} or an organiser can close it."
        )
    closed = await close_poll(ctx.session, ctx.services, poll.id)
    if closed is None:
        raise UserError(f"Poll #{poll.id} has already closed. See /poll results {poll.id}.")
    result, announcements = closed
    here = ctx.event.chat.key
    return [m for m in announcements if m.chat.key != here] + [ctx.reply(result)]


async def results(ctx: Context) -> list[Outgoing]:
    poll = await _find(ctx)
    if not await _may_see(ctx, poll):
        raise UserError(f"Poll #{poll.id} wasn't posted in this chat.")
    tally = await load_tally(ctx.session, poll)
    chart = results_text(poll, tally, ctx.config.zone, [])
    if hidden(poll) or poll.anonymous or not (poll.public or ctx.role >= Role.ORGANISER):
        return [ctx.reply(chart)]
    # Only the voters who pressed in this chat are named here.
    names = await voter_names(ctx.session, poll, ctx.chat.id)
    named = results_text(poll, tally, ctx.config.zone, names)
    if poll.public:
        return [ctx.reply(named)]
    # Organisers only: the chart here, the names to the organiser alone.
    return await names_privately(ctx, chart, named)


async def list_polls(ctx: Context) -> list[Outgoing]:
    polls = await open_polls(ctx.session, await seen_from(ctx))
    counts = await turnouts(ctx.session, [poll.id for poll in polls])
    return [ctx.reply(listing(polls, counts, ctx.config.zone))]


# --- checks --------------------------------------------------------------------------


def _question(text: str) -> str:
    if not visible(text):
        raise UserError(rich("The question is empty. Example: ", code(EXAMPLE)))
    return fit(text, MAX_QUESTION, "The question")


def _options(given: Sequence[str]) -> list[str]:
    options = [visible(option) for option in given]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise UserError(
            rich(
                f"A poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options; you gave {len(options)}. "
                "Put each one in double quotes: ",
                code(EXAMPLE),
            )
        )
    seen: set[str] = set()
    for number, option in enumerate(options, 1):
        if not option:
            raise UserError(f"Option {number} is empty.")
        if len(option) > MAX_OPTION:
            raise UserError(
                f"Option {number} is {len(option)} characters long; keep each option to "
                f"{MAX_OPTION} so it fits every platform."
            )
        if option.casefold() in seen:
            raise UserError(f"“{option}” is there twice: each option must be different.")
        seen.add(option.casefold())
    return options


async def _find(ctx: Context) -> Poll:
    number = ctx.args["id"]
    poll = await ctx.session.get(Poll, number)
    if poll is None:
        raise UserError(f"There is no poll #{number}.")
    return poll


async def _may_close(ctx: Context, poll: Poll) -> bool:
    """Its creator; an organiser of a chat it was posted to; a TULO or admin."""
    if poll.creator_id == ctx.person.id or ctx.role >= Role.TULO:
        return True
    return ctx.role >= Role.ORGANISER and await posted_in(ctx.session, POSTED, poll.id, ctx.chat.id)


async def _may_see(ctx: Context, poll: Poll) -> bool:
    if poll.creator_id == ctx.person.id or ctx.role >= Role.TULO:
        return True
    return await posted_in(ctx.session, POSTED, poll.id, ctx.chat.id)


# --- declarations --------------------------------------------------------------------

QUESTION = Param("question", "the question, in double quotes")
OPTIONS = Param("options", "2 to 10 answers, each in double quotes", repeat=True)
POLL_ID = Param(
    "id", "the poll's number, as shown on it (see /polls)", Kind.INT, what="The poll number"
)
SETTINGS = (
    Param("anonymous", "nobody, admins included, can see who voted", option=True, flag=True),
    Param(
        "public",
        "everyone can see who voted (without it, only organisers can)",
        option=True,
        flag=True,
    ),
    Param(
        "closes",
        "when voting ends: 30m, 2h, 3d, Friday 18:00 or 12/3 19:00",
        option=True,
        required=False,
    ),
    Param("hide-results", "show only the turnout until it closes", option=True, flag=True),
    Param(
        "quorum",
        "votes needed for the result to count",
        Kind.INT,
        option=True,
        required=False,
        high=MAX_QUORUM,
    ),
    Param(
        "to",
        "tags of the chats to post to, e.g. region:cannock (organisers and up)",
        option=True,
        required=False,
    ),
)
MULTI = Param("multi", "voters may choose several options", option=True, flag=True)


def register(registry: Registry) -> None:
    start = Command(
        "new",
        "Start a poll (you may leave out the word new)",
        new_poll,
        (QUESTION, OPTIONS, MULTI, *SETTINGS),
        example=EXAMPLE,
    )
    registry.add(
        Command(
            "poll",
            "Ask a question; members vote with buttons",
            subcommands=(
                start,
                Command("close", "Close a poll now", close, (POLL_ID,), example="/poll close 1"),
                Command(
                    "results",
                    "Show a poll's result",
                    results,
                    (POLL_ID,),
                    example="/poll results 1",
                ),
            ),
            default=start.name,
            example=EXAMPLE,
            details=(
                "One vote per person, however many of the poll's chats they are in; change it "
                "until the poll closes. --to posts to many chats on every platform with one "
                "combined tally. The creator or an organiser can close a poll early."
            ),
        )
    )
    registry.add(
        Command(
            "yesno",
            "Ask a yes/no question",
            yes_no,
            (QUESTION, *SETTINGS),
            example='/yesno "Join the picket on Friday?" --closes 2d',
        )
    )
    registry.add(Command("polls", "List the polls open in this chat", list_polls))
    registry.quick_button(ACTION, VoteRecorder().press)
    post_held_with(Subject.POLL, _send_held, _drop_held)
    registry.on_start(restore)
