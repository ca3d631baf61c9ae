"""Property-based tests (hypothesis): whatever anyone types or presses, the bot
answers with a sentence, logs nothing at error level, and a refused command leaves
every table as it was.

The parser is fuzzed alone (fast, most of the examples), then every registered
command — each subcommand, with arguments shaped by its declared parameters plus
hostile values (huge and Unicode numbers, invisible characters, deep targets,
unclosed quotes) — is typed at the console by a member, an organiser, a TULO and
an admin, on SQLite and PostgreSQL, in one chat whose state grows as the examples
run. Button presses with forged data go straight to the core, in among them.

``make test`` runs a few hundred examples; ``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``)
runs the profile's 100,000 (tests/conftest.py), shared out by :func:`budget`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.commands import build_registry
from bot.context import UserError
from bot.core import SORRY
from bot.parse import ParseError, parse
from bot.registry import Command, Kind, Param, Role
from bot.types import ButtonIn
from storage.db import Database
from storage.models import Base, Chat, ChatMember, Person
from tests.support.config import make_config
from tests.support.console import ConsoleSession

REGISTRY = build_registry()
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE") or "quick")


def budget(share: float) -> settings:
    """This test's ``share`` of the loaded profile's examples."""
    return settings(
        PROFILE,
        max_examples=max(1, int(PROFILE.max_examples * share)),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def leaves(command: Command, path: str = "") -> Iterator[tuple[str, Command]]:
    """``("poll close", <Command close>)`` for every command and subcommand."""
    shown = f"{path} {command.name}".strip()
    if not command.subcommands:
        yield shown, command
    for sub in command.subcommands:
        yield from leaves(sub, shown)


COMMANDS = [leaf for command in REGISTRY for leaf in leaves(command)]

# --- what people might type --------------------------------------------------------

INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u200e", "\u202e", "\x00", "\x07", "\x1b"]


def these(*lines: str) -> st.SearchStrategy[str]:
    """One of the ``|``-separated values on the lines."""
    return st.sampled_from([value for line in lines for value in line.split("|")])


NUMBERS = st.one_of(
    st.integers(-3, 12).map(str),
    st.integers().map(str),
    these(
        "#1|99999999999999999999999|²|١٢|2147483647|2147483648|1e3|1_000|0x10|1.5|-0|+2",
        "1\u200b|" + "9" * 5000,
    ),
)
WHEN = these(
    "tomorrow|today|yesterday|12/3|1/3|20/3|31/2|99/99|0/0|Fri 18:00|tomorrow 7pm|Sat 10am",
    "12/3 19:00|25:00|every friday|every 2 weeks on Thursday 18:00|last day of the month",
    "first Tuesday of the month 19:30|every 99999999999 weeks|every 0 weeks on Monday 9:00",
    "the 99999999999th|2h|30m|1h30m|99999999999999999999h|0m|3 weeks|6-10|06:00-10:00|10-6",
    "7-9|1d,1h|none|99999999999d|0h|1d,1d|mon|monday|blursday|09:15|99:99|1/1/99999|1/1/1",
    "2026-13-45|every day at 25:00|every 2 weeks|0 weeks|-1h|1d,-1h",
    f"{'9' * 5000}h|every {'9' * 5000} weeks on Monday 9:00|the {'9' * 5000}th at 19:00",
)
TAGS = st.one_of(
    these("region:west-midlands|union:unison|region:a|all|Region:A"),
    st.from_regex(r"[a-z0-9-]{1,6}:[a-z0-9-]{1,6}", fullmatch=True),
)
TARGETS = st.one_of(
    TAGS,
    these(
        "region:west-midlands and not union:gmb|(region:a or region:west-midlands)",
        "not " * 25 + "region:a|" + "(" * 25 + "region:a" + ")" * 25 + "|" + "not (" * 9 + "all",
        " or ".join(["region:west-midlands"] * 40) + "|region:a and|)(|not",
    ),
)
WORDS = these(
    "B69 4JE|52.4862,-1.8904|91,0|-0,-0|https://meet.jit.si/x|http://x|javascript:alert(1)",
    "Europe/London|Mars/Olympus|../../etc/passwd|UTC|organiser|tulo|admin|member|boss|mem",
    "org|tula|alice|console:org|console:nobody|telegram:1|--|-|\"|“|'|#|@|public-service",
    "quiet|yes|no|on|off|timezone|reminders",
)
TEXT = st.text(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from([*INVISIBLE, " ", "\n", '"'])),
    max_size=40,
)
ANYTHING = st.one_of(NUMBERS, WHEN, TARGETS, WORDS, TEXT)


def quoted(value: str) -> str:
    return f'"{value}"' if " " in value or not value else value


def value_for(param: Param) -> st.SearchStrategy[str]:
    """Mostly what ``param`` expects, often something it doesn't."""
    if param.kind is Kind.INT:
        expected: st.SearchStrategy[str] = NUMBERS
    elif param.kind is Kind.CHOICE:
        expected = st.sampled_from(param.choices)
    else:
        expected = st.one_of(WHEN, TARGETS, WORDS, TEXT)
    return st.one_of(expected, expected, ANYTHING).map(quoted)


@st.composite
def arguments(draw: st.DrawFn, command: Command) -> str:
    """The text after ``/name``: the positionals in order, some options, some noise."""
    words = [draw(value_for(p)) for p in command.positionals if draw(st.integers(0, 5))]
    for param in command.options:
        if draw(st.booleans()):
            words.insert(
                draw(st.integers(0, len(words))),
                f"--{param.name}" if param.flag else f"--{param.name} {draw(value_for(param))}",
            )
    for _ in range(draw(st.integers(0, 2))):
        words.insert(draw(st.integers(0, len(words))), draw(ANYTHING.map(quoted)))
    return " ".join(words)


@st.composite
def command_lines(draw: st.DrawFn) -> str:
    path, command = draw(st.sampled_from(COMMANDS))
    return f"/{path} {draw(arguments(command))}".rstrip()


# --- the parser alone ----------------------------------------------------------------


@budget(0.8)
@given(st.sampled_from(COMMANDS).flatmap(lambda leaf: st.tuples(st.just(leaf), st.data())))
def test_the_parser_refuses_only_with_a_sentence(
    case: tuple[tuple[str, Command], st.DataObject],
) -> None:
    (path, command), data = case
    top = REGISTRY.get(path.split()[0])
    assert top is not None
    rest = path.partition(" ")[2]
    text = data.draw(st.one_of(arguments(command), TEXT))
    try:
        parsed = parse(top, f"{rest} {text}".strip())
    except (ParseError, UserError) as refusal:
        assert str(refusal).strip()
        return
    assert parsed.command is command or parsed.command in top.subcommands


# --- every command and button, as every role, through the console ------------------------

PERSONAS = {Role.MEMBER: "mem", Role.ORGANISER: "org", Role.TULO: "tula", Role.ADMIN: "alice"}
SETUP = [
    *(f":user {name}\n/start" for name in PERSONAS.values()),
    ":user alice",
    "/grant org organiser",
    "/grant tula tulo",
    "/tag region:west-midlands union:unison",
    ":chat cannock\n/tag region:west-midlands\n:chat branch",
    '/dispute add UNISON "Sandwell Council" "Pay" region:west-midlands',
    "/ballot add 1 2/3 20/3 1200 --quiet",
    "/strike add 1 12/3 13/3",
    '/picket add 1 "Lye Depot" "B69 4JE" tomorrow 06:00-10:00',
    '/poll "Strike?" "Yes" "No"',
    '/meeting add "Branch meeting" "12/3 19:00" "Hall"',
    "/alert send region:west-midlands Picket at six",
    "/digest on",
]


class Watched(ConsoleSession):
    """A console session that notes each refusal the core makes."""

    refusals = 0

    async def __aenter__(self) -> Watched:
        await super().__aenter__()
        refuse = self.app.core._refuse

        async def counting(*args: object) -> object:
            self.refusals += 1
            return await refuse(*args)  # type: ignore[arg-type]

        self.app.core._refuse = counting  # type: ignore[method-assign]
        for step in SETUP:
            await self.say(*step.split("\n"))
        return self

    async def say(self, *lines: str) -> str:
        """:meth:`ConsoleSession.say`, keeping only unread output: thousands of
        examples in one session must not re-read everything printed before."""
        new = await super().say(*lines)
        self.output.seek(0)
        self.output.truncate()
        self._read = 0
        return new

    async def counts(self) -> dict[str, int]:
        """Rows in every table but the outbox (where a refusal's answer goes)."""
        async with self.app.db.session() as session:
            tables = [t for t in Base.metadata.sorted_tables if t.name != "outbox"]
            row = (
                await session.execute(
                    select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
                )
            ).one()
            return dict(zip((t.name for t in tables), row, strict=True))

    async def registered(self) -> bool:
        """Whether the current person is known in the current chat (after /forgetme
        they are not, and any command registers them again, refused or not: that
        registering is its own transaction, on purpose)."""
        async with self.app.db.session() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(ChatMember)
                .join(Person, Person.id == ChatMember.person_id)
                .join(Chat, Chat.id == ChatMember.chat_id)
                .where(
                    Person.platform_user_id == self.console.user,
                    Chat.platform_chat_id == self.console.chat,
                )
            )
            return bool(found)

    async def check(self, caplog: pytest.LogCaptureFixture, act: object) -> str:
        """Run ``act`` (a line to type, or a press) and check the three promises."""
        if not await self.registered():
            await self.say("/start")
        before, seen, refusals = await self.counts(), len(caplog.records), self.refusals
        if isinstance(act, ButtonIn):
            await self.app.core.handle(act)
            out = await self.say()
        else:
            out = await self.say(str(act))
        assert SORRY not in out, f"{act!r} answered {out!r}"
        errors = [r for r in caplog.records[seen:] if r.levelno >= logging.ERROR]
        assert not errors, f"{act!r} logged {errors[0].getMessage()}"
        if self.refusals > refusals:
            assert await self.counts() == before, f"{act!r} was refused but wrote rows"
        return out


@pytest.fixture
async def console(database_url: str, database: Database) -> AsyncIterator[Watched]:
    """A console on an empty database (``database`` empties PostgreSQL's)."""
    # One process: the sender is woken by each commit, and needs no quick polling.
    async with Watched(make_config(database_url, poll_seconds=5.0)) as session:
        yield session


# --- forged button presses ------------------------------------------------------------

ACTIONS = sorted([*REGISTRY.buttons, *REGISTRY.quick_buttons, "stale", ""])


@dataclass(frozen=True)
class ButtonData:
    data: str


presses = st.one_of(
    st.tuples(st.sampled_from(ACTIONS), st.lists(st.one_of(NUMBERS, TEXT, WHEN), max_size=4)).map(
        lambda parts: ButtonData(":".join([parts[0], *parts[1]]))
    ),
    TEXT.map(ButtonData),
)


@budget(0.1)
@given(role=st.sampled_from(list(PERSONAS)), act=st.one_of(command_lines(), presses))
async def test_nothing_typed_or_pressed_breaks_anything(
    console: Watched, caplog: pytest.LogCaptureFixture, role: Role, act: str | ButtonData
) -> None:
    await console.say(f":user {PERSONAS[role]}")
    if isinstance(act, ButtonData):
        chat, user = console.console._chat_ref(), console.console._user_ref()
        await console.check(caplog, ButtonIn(chat, user, act.data))
    else:
        await console.check(caplog, act)
