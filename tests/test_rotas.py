"""Rotas (issue 18, part 3): a community hub staffs its food bank and Saturday stalls
with volunteers signing up in two chats — one rota, one list, every copy showing
the same counts; a full slot's waiting list promoted in order — through the
console, from Friday 4 December 2026, with a clock the test moves."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.commands import build_registry
from bot.config import RolesSettings
from bot.rotas.render import card, slot_picker
from bot.rotas.slots import MAX_SLOTS, SHOWN_DATES
from bot.types import ButtonIn, ChatKind, ChatRef, CommandIn, UserRef
from storage.chats import add_tags, find_person, register_chat
from storage.copies import live
from storage.db import Database
from storage.models import Chat, OutboxRow, Person
from storage.personal import personal_data
from storage.rotas import POSTED, Outcome, Rota, RotaSignup, RotaSlot, drop, sign_up
from tests.conftest import migrated
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.test_newcomers import NewcomersConsole, button, said

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
SAT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)  # 09:30 GMT
STALLS = (
    '/rota add "Saturday stall" "every Saturday 10:00-13:00" "Market St" '
    '--slots "Table:2, Leaflets:2"'
)
FOOD_BANK = (
    '/rota add "Food bank" "every Saturday 09:30-12:30" "Hub, Market St" '
    '--slots "Driver:1, Packing:2" --to area:hub --weeks 2'
)


@pytest.fixture
async def hub(sqlite_url: str) -> AsyncIterator[NewcomersConsole]:
    async with NewcomersConsole(make_config(sqlite_url), FakeClock(FRIDAY)) as session:
        await session.say(":chat hub", "/start", "/tag area:hub", ":chat stall", "/tag area:hub")
        for name in ("sam", "ann", "bob", "cat", "dan", "eve"):
            await session.say(f":user {name}", ":chat @", "/start", ":chat hub", "/start")
        await session.say(":user sam", ":chat stall", "/start")
        for chat in ("hub", "stall"):
            await session.say(":user alice", f":chat {chat}", "/grant sam organiser")
        yield session


def last_card(out: str, chat: str) -> str:
    blocks = [b for b in said(out, chat).split("\n[") if "rota #" in b]
    assert blocks, out
    return blocks[-1]


async def copies_text(app: App, rota_id: int) -> list[str]:
    """What each copy of the rota shows now: its newest text, edits included."""
    async with app.db.session() as session:
        rows = await live(session, POSTED, rota_id)
        shown = []
        for _copy, row_id, _platform in rows:
            row = await session.get(OutboxRow, row_id)
            assert row is not None
            edits = await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.target_id == row_id)
                .order_by(OutboxRow.id.desc())
                .limit(1)
            )
            newest = edits.first() or row
            shown.append(str(newest.payload["text"]))
        return shown


async def test_a_hub_staffs_its_stalls_and_food_bank_across_two_chats(
    hub: NewcomersConsole,
) -> None:
    # The Saturday stalls, six weeks ahead: too many buttons, so a date picker.
    out = await hub.say(":user sam", ":chat hub", STALLS)
    card = last_card(out, "hub")
    assert "Sat 9 Jan · Table 0/2 · Leaflets 0/2" in card and "Press a date to sign up." in card
    out = await hub.say(":user ann", f":press {button(out, 'hub', 'Sat 19 Dec')}")
    out = await hub.say(f":press {button(out, 'hub', 'Table 0/2')}")
    assert "You're on: Table, Saturday stall, Sat 19 Dec, 10:00–13:00" in out
    out = await hub.tick(seconds=2)  # the copies are redrawn shortly after
    assert "Sat 19 Dec · Table 1/2 · Leaflets 0/2" in last_card(out, "hub")

    # The food bank, two weeks ahead, to both chats: a button per date and slot.
    out = await hub.say(":user sam", ":chat hub", FOOD_BANK)
    assert "Rota #2 is posted to 2 chats" in out
    card = last_card(out, "stall")
    assert "Food bank — rota #2" in card and "Sat 5 Dec · Driver 0/1 · Packing 0/2" in card
    assert "every Saturday at 09:30 until 12:30 · Hub, Market St" in card
    driver = button(out, "stall", "Sat 12 Dec · Driver")
    packing = button(out, "hub", "Sat 12 Dec · Packing")

    # Five volunteers, in two chats: ann drives, bob and cat pack, dan and eve wait.
    out = await hub.say(
        ":user ann", ":chat hub", f":press {button(out, 'hub', 'Sat 12 Dec · Driver')}"
    )
    assert "You're on: Driver, Food bank, Sat 12 Dec, 09:30–12:30" in out
    out = await hub.tick(seconds=2)
    assert "Sat 12 Dec · Driver 1/1 ✔ · Packing 0/2" in last_card(out, "stall")
    await hub.say(":user bob", f":press {packing}", ":user cat", ":chat stall", f":press {packing}")
    out = await hub.say(":user dan", f":press {driver}")
    assert "Driver is full" in out
    wait = button(out, "stall", "⏳ Join the waiting list")
    out = await hub.say(f":press {wait}")
    assert "You're number 1 on the waiting list for Driver" in out
    out = await hub.say(":user eve", ":chat hub", f":press {driver}")
    out = await hub.say(f":press {button(out, 'stall', '⏳ Join the waiting list')}")
    assert "number 2 on the waiting list" in out
    out = await hub.say(f":press {driver}")
    assert "already" in out
    await hub.tick(seconds=2)
    # Every copy says the same.
    shown = await copies_text(hub.app, 2)
    assert len(shown) == 2
    assert all("Sat 12 Dec · Driver 1/1 ✔ · Packing 2/2 ✔" in text for text in shown), shown

    # ann drops out: dan, first waiting, gets the place and is told privately.
    out = await hub.say(":user ann", ":chat @", "/rota drop 2 12/12")
    assert "you're off Driver, Food bank" in out
    assert "A place came up — you're on the rota." in said(out, "@dan")
    assert "@eve" not in out
    out = await hub.say(":user dan", "/rota mine")
    assert "Sat 12 Dec, 09:30–12:30 · Food bank · Driver" in out and "my-rota-shifts.ics" in out
    out = await hub.say(":user eve", "/rota mine")
    assert "Driver (waiting list)" in out

    # /rota in a chat: the dates with gaps, full slots left out.
    out = await hub.say(":chat hub", "/rota")
    food_bank = out.split("Food bank — rota #2")[1]
    assert "• Sat 5 Dec · Driver 0/1 · Packing 0/2" in food_bank and "Sat 12 Dec" not in food_bank

    # Two days before a date with gaps, its chats hear (the food bank's 12 Dec is
    # full: no note); the day before, those on it are reminded.
    out = await hub.tick(days=6)  # Thursday 10 Dec, 10:00
    assert "Help wanted: Saturday stall, Sat 12 Dec" in said(out, "hub")
    assert "Help wanted: Food bank" not in out and "Help wanted" not in said(out, "stall")
    # Sat 5 Dec has passed: every copy moved on to the dates still to come.
    moved = last_card(out, "stall")
    assert "Sat 5 Dec" not in moved and "Sat 12 Dec · Driver 1/1 ✔ · Packing 2/2 ✔" in moved
    out = await hub.tick(days=1)  # Friday 11 Dec
    assert "Reminder: Food bank" in said(out, "@dan") and "Reminder" in said(out, "@bob")
    assert "Reminder" not in said(out, "@eve")
    assert "Reminder" not in await hub.tick(hours=1)  # once


async def test_bad_input_gets_a_friendly_reply(hub: NewcomersConsole) -> None:
    await hub.say(":user sam", ":chat hub")
    for typed, expected in (
        ('/rota add "Food bank" "every Saturday 09:30-12:30" --slots "Driver"', "name:places"),
        ('/rota add "Food bank" "every Saturday 09:30-12:30" --slots "Driver:0"', "1 to 100"),
        ('/rota add "Food bank" "every Saturday 09:30-12:30"', "Which slots"),
        ('/rota add "Food bank" "every Blursday 09:30" --slots "A:1"', "couldn't read"),
        ('/rota add "Food bank" "every Saturday 12:30-09:30" --slots "A:1"', "not after"),
        ("/rota drop 9 12/12", "There is no rota #9"),
        ("/rota cancel 9", "There is no rota #9"),
    ):
        out = await hub.say(typed)
        assert expected in out, (typed, out)
        assert "Traceback" not in out
    out = await hub.say('/rota add "Stall" "every Saturday 10:00-13:00" --slots "Table:2"')
    assert "rota #1" in out, out
    out = await hub.say("/rota drop 1 32/13")
    assert "I couldn't read “32/13”" in out and "Traceback" not in out
    out = await hub.say("/rota drop 1 12/12")
    assert "You aren't signed up for rota #1 that day" in out
    out = await hub.say(":user ann", "/rota cancel 1")
    assert "Only organisers can" in out
    out = await hub.say(":user ann", '/rota add "Mine" "every Sunday 10:00" --slots "A:1"')
    assert "Only organisers can" in out
    out = await hub.say(":user sam", "/rota skip 1 12/12")
    assert "Skipped Sat 12 Dec" in out
    out = await hub.say("/rota cancel 1 Hub closed")
    assert "Rota #1 cancelled" in out and "❌ Cancelled." in out


async def test_forged_and_stale_presses_are_refused(hub: NewcomersConsole) -> None:
    await hub.say(
        ":user sam", ":chat hub", '/rota add "Stall" "every Saturday 10:00" --slots "A:1"'
    )
    ann = UserRef("console", "ann", "ann")
    hub_chat = ChatRef("console", "hub", "hub", ChatKind.GROUP)
    for data in ("rota:s:1:209912121000:1", "rota:s:x", "rota:q:1:202612121000:1", "rota:s:1:2026"):
        result = await hub.app.core.handle(ButtonIn(hub_chat, ann, data))
        assert "old message" in result.notice or "passed" in result.notice, (data, result)


async def test_a_welcome_mentions_rota_gaps(hub: NewcomersConsole) -> None:
    await hub.say(":user sam", ":chat hub", FOOD_BANK)
    out = await hub.say(":join fay")
    assert "Help wanted on the rota" in out and "More: /rota" in out


async def test_rota_signups_are_in_mydata_and_go_with_forgetme(hub: NewcomersConsole) -> None:
    out = await hub.say(":user sam", ":chat hub", FOOD_BANK)
    driver = button(out, "hub", "Sat 12 Dec · Driver")
    await hub.say(":user ann", f":press {driver}")
    out = await hub.say(":user bob", f":press {driver}")
    await hub.say(f":press {button(out, 'hub', '⏳ Join the waiting list')}")
    async with hub.app.db.session() as session:
        ann = await find_person(session, "console", "ann")
        assert ann is not None
        (shift,) = (await personal_data(session, ann))["rota_signups"]
        assert shift["rota"] == "Food bank" and shift["slot"] == "Driver"
    out = await hub.say(":user ann", ":chat @", "/forgetme")
    out = await hub.say(f":press {button(out, '@ann', 'Yes, forget me')}")
    # ann's place is not lost with her: bob, waiting, has it and is told.
    assert "A place came up — you're on the rota." in said(out, "@bob")
    async with hub.app.db.session() as session:
        (left,) = await session.scalars(select(RotaSignup))
        assert not left.waiting


# --- concurrency, on both databases ---------------------------------------------------------


async def _rota_with_slot(database: Database, capacity: int) -> tuple[int, list[int], int]:
    async with database.session() as session:
        chat = Chat(
            platform="console",
            platform_chat_id="hub",
            title="hub",
            kind="group",
            approved=True,
            active=True,
            created_at=FRIDAY,
        )
        session.add(chat)
        people = [
            Person(
                platform="console",
                platform_user_id=f"p{n}",
                display_name=f"p{n}",
                created_at=FRIDAY,
            )
            for n in range(30)
        ]
        session.add_all(people)
        rota = Rota(
            chat_id=0,
            title="Stall",
            place="",
            zone="Europe/London",
            starts_at=SAT,
            rule="",
            repeat_text="",
            duration_minutes=0,
            weeks=6,
            status="active",
            revision=0,
            created_at=FRIDAY,
        )
        await session.flush()
        rota.chat_id = chat.id
        session.add(rota)
        await session.flush()
        slot = RotaSlot(rota_id=rota.id, position=0, name="Table", capacity=capacity)
        session.add(slot)
        await session.flush()
        return slot.id, [p.id for p in people], chat.id


async def test_concurrent_presses_never_overfill_a_slot(database: Database) -> None:
    slot_id, people, chat_id = await _rota_with_slot(database, 4)

    async def press(person_id: int) -> Outcome:
        async with database.session() as session:
            signed = await sign_up(session, slot_id, SAT, person_id, chat_id, FRIDAY, wait=True)
            return signed.outcome

    outcomes = await asyncio.gather(
        *(press(p) for p in people[:20]), *(press(p) for p in people[:5])
    )
    assert outcomes.count(Outcome.ON) == 4 and outcomes.count(Outcome.WAITING) == 16
    assert outcomes.count(Outcome.ALREADY) == 5

    async def leave(person_id: int) -> int | None:
        async with database.session() as session:
            return (await drop(session, slot_id, SAT, person_id))[1]

    async with database.session() as session:
        on = list(
            await session.scalars(select(RotaSignup.person_id).where(RotaSignup.waiting.is_(False)))
        )
        queue = list(
            await session.scalars(
                select(RotaSignup.person_id)
                .where(RotaSignup.waiting.is_(True))
                .order_by(RotaSignup.position)
            )
        )
    promoted = await asyncio.gather(*(leave(p) for p in on[:3]))
    assert sorted(p for p in promoted if p) == sorted(queue[:3])
    async with database.session() as session:
        count = await session.scalar(
            select(func.count()).where(RotaSignup.waiting.is_(False), RotaSignup.slot_id == slot_id)
        )
    assert count == 4


async def test_presses_through_the_core_keep_every_copy_exact(database_url: str) -> None:
    """Many volunteers press at once in two chats: nobody over capacity, and both
    copies show the counts the tables hold."""
    await (await migrated(database_url)).close()  # empty, on the shared PostgreSQL
    clock = FakeClock(FRIDAY)
    config = dataclasses.replace(
        make_config(database_url), roles=RolesSettings(admins=["telegram:1"])
    )
    app = App(config, registry=build_registry(), clock=clock)
    await app.start()
    try:
        chats = [ChatRef("telegram", f"-{n}", f"Hub {n}", ChatKind.GROUP) for n in (1, 2)]
        async with app.db.session() as session:
            for ref in chats:
                row = await register_chat(session, ref, FRIDAY, approve_new=True)
                await add_tags(session, row, ["area:hub"])
        organiser = UserRef("telegram", "1", "Sam")
        add = '"Stall" "12/12 10:00-13:00" "Market St" --slots "Table:3" --to area:hub'
        await app.core.handle(CommandIn(chats[0], organiser, "rota", f"add {add}"))
        people = [UserRef("telegram", str(100 + n), f"V{n}") for n in range(12)]
        # Everyone at once, then everyone again (in the other chat): once each.
        for data, shift in (("rota:w:1:202612121000:1", 0), ("rota:s:1:202612121000:1", 1)):
            presses = [ButtonIn(chats[(n + shift) % 2], p, data) for n, p in enumerate(people)]
            await asyncio.gather(*(app.core.handle(press) for press in presses))
        clock.advance(seconds=2)
        await app.timer.run_due()
        async with app.db.session() as session:
            rows = list(await session.scalars(select(RotaSignup).order_by(RotaSignup.position)))
        assert len(rows) == 12 and [not row.waiting for row in rows] == [True] * 3 + [False] * 9
        shown = await copies_text(app, 1)
        assert len(shown) == 2 and all("Sat 12 Dec · Table 3/3 ✔" in text for text in shown)
    finally:
        await app.stop()


async def test_reminders_and_gaps_notes_survive_a_restart(sqlite_url: str) -> None:
    """The timer is only a wake-up: a bot down when the reminder fell due sends it
    at its next start, once."""
    clock = FakeClock(FRIDAY)
    config = make_config(sqlite_url)
    async with NewcomersConsole(config, clock) as bot:
        await bot.say(":user ann", ":chat @", "/start", ":chat hub", "/start")
        out = await bot.say(
            ":user alice", '/rota add "Stall" "12/12 10:00-13:00" --slots "Table:2"'
        )
        await bot.say(":user ann", f":press {button(out, 'hub', 'Sat 12 Dec · Table')}")
    clock.advance(days=7)  # Friday 11 Dec 10:00: the reminder and the gaps note are due
    async with NewcomersConsole(config, clock) as bot:
        out = await bot.say()
        assert "Reminder: Stall, Sat 12 Dec, 10:00–13:00" in said(out, "@ann")
        assert "Help wanted: Stall, Sat 12 Dec, 10:00–13:00: 1 place still free" in said(out, "hub")
    async with NewcomersConsole(config, clock) as bot:
        assert "Reminder" not in await bot.say()


def test_the_buttons_always_fit_discord() -> None:
    """At most 5 rows of 5 buttons (Discord's limit; Telegram's is wider), whatever
    the number of slots and dates."""
    rota = Rota(
        id=1,
        title="Stall",
        place="",
        zone="Europe/London",
        starts_at=SAT,
        rule="",
        repeat_text="",
        duration_minutes=0,
        weeks=6,
        status="active",
    )
    for slots in range(1, MAX_SLOTS + 1):
        rows = [
            RotaSlot(id=n, rota_id=1, position=n, name=f"S{n}", capacity=2) for n in range(slots)
        ]
        for dates in range(1, SHOWN_DATES + 1):
            moments = [SAT + timedelta(weeks=week) for week in range(dates)]
            for buttons in (
                card(rota, rows, moments, {}).buttons,
                slot_picker(rota, rows, SAT, {}).buttons,
            ):
                assert len(buttons) <= 5 and all(len(row) <= 5 for row in buttons)


async def test_more_places_move_the_waiting_up(hub: NewcomersConsole) -> None:
    out = await hub.say(
        ":user sam", ":chat hub", '/rota add "Stall" "12/12 10:00" --slots "Table:1"'
    )
    table = button(out, "hub", "Sat 12 Dec · Table")
    await hub.say(":user ann", f":press {table}")
    out = await hub.say(":user bob", f":press {table}")
    await hub.say(f":press {button(out, 'hub', '⏳ Join the waiting list')}")
    out = await hub.say(":user sam", '/rota edit 1 --slots "Table:2, Cook:1"')
    assert "Rota #1 changed (slots)" in out
    assert "A place came up — you're on the rota. Table, Stall" in said(out, "@bob")
    assert "Sat 12 Dec · Table 2/2 ✔ · Cook 0/1" in last_card(out, "hub")
    out = await hub.say('/rota edit 1 --slots "Table:1"')
    assert "Table has more than 1 signed up on Sat 12 Dec" in out


async def test_a_rota_is_changed_as_a_meeting_is(hub: NewcomersConsole) -> None:
    """From a chat it went to, by whoever added it, an organiser of the chat it was
    added in, or a TULO — not by an organiser of another chat it was posted to."""
    await hub.say(":user ann", ":chat stall", "/start", ":chat lone", "/start")
    await hub.say(":user alice", ":chat stall", "/grant ann organiser")
    await hub.say(":chat lone", "/grant ann organiser")
    await hub.say(":user sam", ":chat hub", FOOD_BANK)
    out = await hub.say(":user ann", ":chat stall", "/rota skip 1")
    assert "Rota #1 was added in another chat: the organiser who added it" in out
    out = await hub.say(":chat lone", "/rota cancel 1")
    assert "There's no rota #1 here" in out
    out = await hub.say(":user sam", ":chat stall", '/rota edit 1 --title "Food bank hub"')
    assert "Rota #1 changed (title)" in out
    out = await hub.say(":user alice", ":chat stall", "/rota skip 1")
    assert "Skipped Sat 5 Dec, 09:30–12:30 of rota #1" in out


async def test_the_weekly_digest_shows_the_weeks_rota_dates_and_gaps(
    hub: NewcomersConsole,
) -> None:
    posted = await hub.say(":user sam", ":chat hub", FOOD_BANK)
    await hub.say(":user ann", f":press {button(posted, 'hub', 'Sat 5 Dec · Driver')}")
    out = await hub.say(":user sam", "/digest preview")
    assert "Rotas" in out
    assert "• Sat 5 Dec, 09:30 — Food bank (rota #1): 2 places free (Packing 0/2)" in out
    assert "Sat 12 Dec" not in out  # next week's
    for name in ("bob", "cat"):
        await hub.say(f":user {name}", f":press {button(posted, 'hub', 'Sat 5 Dec · Packing')}")
    out = await hub.say(":user sam", ":chat stall", "/digest preview")
    assert "• Sat 5 Dec, 09:30 — Food bank (rota #1): full ✔" in out
    out = await hub.say(":chat lone", "/start", "/digest preview")
    assert "Food bank" not in out  # not posted there


async def test_a_guessed_time_is_confirmed_or_fixed_first(hub: NewcomersConsole) -> None:
    """As for a meeting: how the time was read is shown with Confirm and ✏ Fix, and
    nothing is posted until the organiser who added it answers."""
    out = await hub.say(
        ":user sam", ":chat hub", '/rota add "Stall" "every Saturday 9-12" "Market" --slots "A:1"'
    )
    assert "Please check" in out and "I took “9-12” as 09:00-12:00" in out
    assert "rota #1" not in out
    confirm = button(out, "hub", "✔ Confirm")
    assert "Only the organiser who was asked" in await hub.say(":user ann", f":press {confirm}")
    out = await hub.say(":user sam", f":press {confirm}")
    assert "✔ Confirmed" in out
    assert "every Saturday at 09:00 until 12:00 · Market" in last_card(out, "hub")
    out = await hub.say('/rota add "Pantry" "every Sunday" "Hub" --slots "B:2"')
    assert "No time was given, so I assumed 19:00" in out and "rota #2" not in out
    await hub.say(f":press {button(out, 'hub', '✏ Fix')}")
    out = await hub.say("10:30")
    assert "✔ Confirmed" in out and "Sun 6 Dec · B 0/2" in last_card(out, "hub")
    assert "every Sunday at 10:30" in last_card(out, "hub")


async def test_one_date_moves_with_those_signed_up(hub: NewcomersConsole) -> None:
    posted = await hub.say(":user sam", ":chat hub", FOOD_BANK)
    await hub.say(":user ann", f":press {button(posted, 'hub', 'Sat 12 Dec · Driver')}")
    out = await hub.say(":user sam", '/rota move 1 12/12 "Sun 13 Dec 10:00"')
    assert "Moved Sat 12 Dec, 09:30–12:30 of rota #1 to Sun 13 Dec, 10:00–13:00" in out
    assert "told 1 person signed up" in out
    assert "Food bank: Sat 12 Dec, 09:30–12:30 is moved to Sun 13 Dec, 10:00–13:00" in said(
        out, "@ann"
    )
    for chat in ("hub", "stall"):
        shown = last_card(out, chat)
        assert "Sun 13 Dec · Driver 1/1 ✔" in shown and "Sat 12 Dec" not in shown, shown
    assert "Sun 13 Dec, 10:00–13:00 · Food bank · Driver" in await hub.say(
        ":user ann", ":chat @", "/rota mine"
    )
    out = await hub.say(":user sam", ":chat hub", '/rota move 1 13/12 "Sat 5 Dec 09:30"')
    assert "Rota #1 has a date then already" in out
    out = await hub.say('/rota move 1 13/12 "at 9"')
    assert "Please check" in out and "Moved" not in out
    out = await hub.say(f":press {button(out, 'hub', '✔ Confirm')}")
    assert "Sun 13 Dec · Driver 1/1 ✔" in last_card(out, "hub")
    assert "Sun 13 Dec, 09:00–12:00" in said(out, "@ann")
    out = await hub.say(":user ann", ":chat hub", "/rota move 1 13/12 10:00")
    assert "Only organisers can" in out
