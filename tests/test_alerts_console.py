"""Disputes, ballots, strikes, pickets and the digest, driven through
the console as organisers and members would, in several tagged chats."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from storage.alerts import Picket, PicketPledge, PicketReminder
from storage.copies import AlertAudit
from storage.db import Database
from storage.meetings import Meeting, MeetingTarget
from storage.models import Chat, Person
from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock

DISPUTE = '/dispute add UNISON "Sandwell Council" "Refuse workers\' pay" region:west-midlands'
PICKET = (
    '/picket add 1 "Lye Depot" 52.4589,-2.1406 tomorrow 06:00-10:00 --entrance "Main gate" '
    '--contact "Sam 07700 900123"'
)


async def branch_with_three_chats(bot: AlertsConsole) -> None:
    """branch and cannock are in the West Midlands, stafford is not; alice (an
    admin from the config) tags them and records dispute #1."""
    await bot.say(
        "/tag region:west-midlands union:unison",
        ":chat cannock",
        "/tag region:west-midlands",
        ":chat stafford",
        "/tag region:staffordshire",
        ":chat branch",
        DISPUTE,
    )


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock) -> AsyncIterator[AlertsConsole]:
    async with AlertsConsole(alerts_config(sqlite_url), clock) as session:
        await branch_with_three_chats(session)
        yield session


def copies(out: str) -> dict[str, str]:
    """Each chat's message in ``out``, by chat name (the console's ``[chat]`` prefix)."""
    found: dict[str, str] = {}
    for block in re.split(r"\n(?=\[)", out.strip()):
        chat = block[1 : block.index("]")]
        found[chat] = found.get(chat, "") + block
    return found


async def test_a_picket_alert_reaches_the_tagged_chats_with_a_map_and_a_live_count(
    database: Database, database_url: str, clock: FakeClock
) -> None:
    async with AlertsConsole(alerts_config(database_url), clock) as bot:
        await branch_with_three_chats(bot)
        out = await bot.say(PICKET)
        chats = copies(out)
        assert set(chats) == {"branch", "cannock"}  # not stafford: other region
        cannock = chats["cannock"]
        assert "Picket line: Lye Depot" in cannock
        assert "UNISON · Sandwell Council — Refuse workers' pay" in cannock
        assert "Tue 3 Mar, 06:00–10:00" in cannock
        assert "Main gate" in cannock and "☎ Sam 07700 900123" in cannock
        assert "Map (https://www.openstreetmap.org/?mlat=52.45890&mlon=-2.14060" in cannock
        assert "📍 Lye Depot: https://www.openstreetmap.org/?mlat=52.45890" in cannock  # venue
        assert "Nobody has said they'll be there yet." in cannock
        assert "✋ I'll be there" in cannock
        # The sender's receipt: one message, edited in place.
        assert "Alert #1 (picket #1) to 2 chats · region:west-midlands" in out
        assert re.search(
            r"\[branch\] \(message #\d+ edited\) Alert #1 .*\n\s+Done\. Delivered 2/2\.", out
        )

        out = await bot.say(":press 1")
        assert "(to alice only) Thank you — you're down for the picket at Lye Depot" in out
        assert "I'll remind you privately that morning" in out
        out = await bot.say(":chat cannock", ":user bob", ":press 2")
        assert "(to bob only) Thank you" in out
        out = await bot.tick(seconds=2)  # one edit of every copy for both presses
        assert out.count("2 people will be there.") == 2
        assert set(copies(out)) == {"branch", "cannock"}

        out = await bot.say(":press 2")  # bob again: withdraws
        assert "(to bob only) You've withdrawn from the picket at Lye Depot" in out
        out = await bot.tick(seconds=2)
        assert out.count("1 person will be there.") == 2
        assert await bot.scalar(select(func.count()).select_from(PicketPledge)) == 1


async def test_corrections_and_cancels_edit_every_copy_and_are_audited(bot: AlertsConsole) -> None:
    await bot.say(PICKET)
    out = await bot.say('/picket correct 1 --hours 7-11 --entrance "Side gate"')
    assert "Picket #1 corrected: updating its copies in 2 chats." in out
    edited = copies(out)
    assert all(
        "07:00–11:00" in edited[chat] and "Side gate" in edited[chat]
        for chat in ("branch", "cannock")
    )
    assert out.count("picket #1 · corrected") == 2
    assert out.count("(message #") == 2

    out = await bot.say("/picket cancel 1 rain")
    assert "Picket #1 cancelled: marking its copies in 2 chats CANCELLED." in out
    assert out.count("CANCELLED — Picket line: Lye Depot") == 2
    assert "I'll be there" not in out.split("cancelled:")[1]  # the buttons are gone
    out = await bot.say(":press 1")
    assert "This picket has been cancelled." in out
    out = await bot.say("/picket correct 1 --hours 8-9")
    assert "Picket #1 is cancelled." in out

    async with bot.app.db.session() as session:
        rows = list(await session.scalars(select(AlertAudit).order_by(AlertAudit.id)))
    assert [(r.action, r.subject, r.chat_count) for r in rows] == [
        ("send", "picket #1", 2),
        ("correct", "picket #1", 2),
        ("cancel", "picket #1", 2),
    ]
    assert rows[1].detail.startswith("changed hours, entrance:")
    assert rows[2].detail == "rain" and rows[0].target == "region:west-midlands"
    assert all(r.actor_id is not None for r in rows)


async def test_a_big_announcement_is_previewed_and_sent_once_on_confirm(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with AlertsConsole(alerts_config(sqlite_url, confirm_above_chats=1), clock) as bot:
        await branch_with_three_chats(bot)
        out = await bot.say("/alert send region:west-midlands Rally at noon, Victoria Square")
        assert "Rally at noon, Victoria Square" in out
        assert (
            "Alert #1 is ready. It goes to 2 chats matching region:west-midlands. Send it?" in out
        )
        assert "[1] Send to 2 chats   [2] Don't send" in out
        assert "[cannock]" not in out  # nothing sent yet

        out = await bot.say(":user bob", ":press 1")
        assert "Only the person who wrote this announcement can send or drop it." in out
        out = await bot.say(":user alice", ":press 2")
        assert "(to alice only) Not sent." in out and "Alert #1: not sent." in out

        out = await bot.say("/alert send region:west-midlands Rally moved to 1pm")
        assert "Alert #2 is ready." in out
        out = await bot.say(":press 3")
        assert "Sending to 2 chats" in out
        assert set(copies(out)) == {"branch", "cannock"}
        assert (
            "(message #" in out and "Done. Delivered 2/2." in out
        )  # the preview became the receipt
        out = await bot.say(":press 3")
        assert "Alert #2 was already sent or dropped." in out
        assert "[cannock]" not in out


async def test_only_organisers_announce_and_only_to_chats_they_organise(bot: AlertsConsole) -> None:
    out = await bot.say(":user sam", PICKET)
    assert "Only organisers can use /picket" in out
    await bot.say(":chat cannock", "/whoami", ":user alice", "/grant sam organiser")
    out = await bot.say(":user sam", PICKET)
    assert "matches 1 chat you don't organise" in out
    out = await bot.say(PICKET + ' --to "region:west-midlands and not union:unison"')
    assert set(copies(out)) == {"cannock"}
    out = await bot.say("/alert status 1")
    assert "Done. Delivered 1/1." in out
    out = await bot.say(":chat branch", ":user ben", "/alert status 1")
    assert "Only organisers can use /alert" in out
    await bot.say(":user alice", "/grant ben organiser")
    out = await bot.say(":user ben", "/picket cancel 1")
    assert "Only whoever made picket #1, a TULO or an admin can change it." in out


BAD_INPUT = [
    ('/picket add 9 Depot "B69 4JE" tomorrow 6-10', "There is no dispute #9."),
    ('/picket add 1 Depot "Nowhere" tomorrow 6-10', "I couldn't read “Nowhere” as a place"),
    ("/picket add 1 Depot 95.1,2 tomorrow 6-10", "is not a place on Earth"),
    ('/picket add 1 Depot "B69 4JE" blursday 6-10', "I couldn't read the date “blursday”"),
    ('/picket add 1 Depot "B69 4JE" tomorrow 10-6', "the end is not after the start"),
    ('/picket add 1 Depot "B69 4JE" tomorrow 6-25', "I couldn't read the time “25”"),
    ('/picket add 1 Depot "B69 4JE" 13/13 6-10', "more than two years away"),
    (f'/picket add 1 "{"x" * 201}" "B69 4JE" tomorrow 6-10', "keep it to 200"),
    (
        '/picket add 1 Depot "B69 4JE" tomorrow 6-10 --to "region:"',
        "I couldn't read the target",
    ),
    ('/picket add 1 Depot "B69 4JE" tomorrow 6-10 --to region:nowhere', "No chat has tags"),
    ("/picket correct 1", "There is no picket #1."),
    ("/picket add one", "dispute should be a whole number"),
    ("/strike add 1 5/3 4/3", "The strike's end is not after its start."),
    ("/ballot add 1 1/3 20/3 0", "a whole number from 1 to 10,000,000"),
    (
        "/ballot add 1 1/1/2016 20/1/2016 100",
        "only know the ballot rules for ballots opening from",
    ),
    ("/ballot result 5 1 1 1", "There is no ballot #5."),
    ("/digest on blursday", "“blursday” is not a day of the week"),
    ("/alert status 42", "There is no alert #42."),
    ("/dispute add GMB Depot Pay region:a or", "I couldn't read the target"),
]


async def test_bad_input_gets_a_specific_friendly_reply(bot: AlertsConsole) -> None:
    for line, expected in BAD_INPUT:
        out = await bot.say(line)
        assert expected in out, f"{line!r} answered {out!r}"
        assert "Traceback" not in out and "went wrong" not in out
    assert await bot.scalar(select(func.count()).select_from(Picket)) == 0


async def test_strikes_lists_what_concerns_this_chat(bot: AlertsConsole) -> None:
    # No ballot yet: the strike is confirmed with "Go ahead anyway" ([3]).
    await bot.say(PICKET, "/strike add 1 12/3 13/3", ":press 3")
    await bot.say("/ballot add 1 2/3 20/3 1200 --quiet")
    out = await bot.say(":chat cannock", "/strikes")
    assert "Coming up for this chat" in out
    assert (
        "Strikes\n" in out
        and "Thu 12 Mar – Fri 13 Mar (all day) — UNISON at Sandwell Council (strike #1)" in out
    )
    assert "UNISON at Sandwell Council: ballot open, closes Fri 20 Mar (ballot #1)" in out
    assert "Tue 3 Mar, 06:00–10:00 — Lye Depot, Main gate · 0 going (picket #1)" in out
    out = await bot.say(":chat stafford", "/strikes")
    assert "Nothing coming up" in out
    out = await bot.say(":chat elsewhere", "/strikes")
    assert "This chat has no tags" in out
    out = await bot.say(":chat branch", "/strike cancel 1")
    assert out.count("CANCELLED — Strike: UNISON at Sandwell Council") == 2
    out = await bot.say(":chat cannock", "/strikes")
    assert "Strikes" not in out and "Pickets" in out


async def test_a_ballot_result_is_judged_by_the_law_on_its_opening_day(bot: AlertsConsole) -> None:
    # Opened 2 February 2026, before the Employment Rights Act 2025 changes: TUA 2016.
    out = await bot.say("/ballot add 1 2/2 16/2 1000 --public-service")
    assert "at least 500 of the 1,000 must vote (50%), at least 400 must vote yes" in out
    assert "Rules: Trade Union Act 2016" in out
    assert "[cannock]" not in out  # a closed ballot is not announced as open
    out = await bot.say("/ballot result 1 600 390 200")
    assert "Not a valid mandate." in out
    assert "39% of all 1,000 entitled to vote: is under the 40% needed" in out
    assert "/ballot result 1" not in out and "already" not in out

    out = await bot.say("/ballot add 1 20/2 27/2 1000 --public-service")
    assert "Rules: Employment Rights Act 2025" in out and "Not yet checked" in out
    out = await bot.say("/ballot result 2 600 390 200")
    assert "A valid mandate for industrial action." in out
    assert "The mandate runs until Fri 26 Feb 2027" in out  # 12 months from the close
    assert "With notice to the employer on Mon 2 Mar, action may start on Thu 12 Mar" in out
    assert "Ballot result: UNISON at Sandwell Council" in copies(out)["cannock"]
    out = await bot.say("/ballot result 2 600 390 200")
    assert "Ballot #2 already has its result;" in out
    out = await bot.say("/ballot add 1 2/3 20/3 1000", "/ballot result 3 600 700 0")
    assert "Ballot #3 closes Fri 20 Mar; record the result once it has closed." in out


async def test_a_pledger_gets_one_reminder_on_the_morning_even_across_restarts(
    database: Database, database_url: str, clock: FakeClock
) -> None:
    config = alerts_config(database_url)
    async with AlertsConsole(config, clock) as bot:
        await branch_with_three_chats(bot)
        await bot.say(
            PICKET.replace("06:00-10:00", "09:00-12:00"), ":press 1", ":user bob", ":press 1"
        )
    # The bot was down over the reminder time (07:00 on the day) and starts at 07:30.
    clock.advance(hours=22, minutes=30)
    async with AlertsConsole(config, clock) as bot:
        out = await bot.say()
        assert "[@alice] Reminder: picket line today" in out and "[@bob] Reminder" in out
        assert "Tue 3 Mar, 09:00–12:00" in out
        # The count edit the last run had only planned is made now.
        assert out.count("2 people will be there.") == 2
    async with AlertsConsole(config, clock) as bot:  # and once more: nothing new
        await bot.app.timer.run_due()
        out = await bot.say()
        assert "Reminder" not in out and "edited" not in out
        assert await bot.scalar(select(func.count()).select_from(PicketReminder)) == 2


async def test_the_weekly_digest_goes_once_a_week(bot: AlertsConsole) -> None:
    await bot.say(
        PICKET,
        "/strike add 1 5/3 5/3",
        "/ballot add 1 2/3 6/3 100 --quiet",
        "/ballot add 1 2/3 30/3 100 --quiet",
    )
    out = await bot.say(":chat cannock", "/digest on")
    assert "Weekly digest on: every Monday at 08:00 (Europe/London); the next on Mon 9 Mar." in out
    out = await bot.tick(days=6, hours=23)  # Monday 9 March, 08:00 London
    digest = copies(out)["cannock"]
    assert "This week, from Mon 9 Mar" in digest
    assert "ballot open, closes Mon 30 Mar (ballot #2)" in digest  # still open: listed
    assert "Strikes" not in digest and "Pickets" not in digest  # all of that was last week
    out = await bot.say("/digest on tue 09:15")  # a second one in the same week? no
    assert "the next on Tue 17 Mar" in out  # and it says so
    assert "This week" not in await bot.tick(days=1, hours=2)
    await bot.say(":chat branch", '/picket add 1 Depot "B69 4JE" 18/3 7-9', ":chat cannock")
    out = await bot.tick(days=7)
    assert "Pickets\n" in out and "Wed 18 Mar, 07:00–09:00 — Depot, B69 4JE" in out
    out = await bot.say("/digest off")
    assert "Weekly digest off for this chat." in out
    assert "This week" not in await bot.tick(days=7)


async def test_forgetme_erases_pledges_and_keeps_the_record_of_announcements(
    bot: AlertsConsole,
) -> None:
    await bot.say(PICKET, ":user bob", ":press 1", ":user alice", ":press 1")
    await bot.say(":user bob", "/forgetme", ":press 3")
    await bot.say(":user alice", "/forgetme", ":press 4")
    assert await bot.scalar(select(func.count()).select_from(PicketPledge)) == 0
    assert await bot.scalar(select(func.count()).select_from(Person)) == 0
    # The announcement's row, and one row per erasure saying only that it happened.
    audit = select(AlertAudit.action, AlertAudit.actor_id).order_by(AlertAudit.id)
    async with bot.app.db.session() as session:
        rows = [tuple(row) for row in await session.execute(audit)]
    assert rows == [("send", None), ("erasure", None), ("erasure", None)]


async def test_help_explains_each_command_with_an_example(bot: AlertsConsole) -> None:
    out = await bot.say("/help picket")
    assert "/picket add <dispute> <site> <where> <day> <hours>" in out
    assert "/picket correct <id>" in out and "/picket cancel <id>" in out
    assert 'Example: /picket add 1 "Lye Depot"' in out
    out = await bot.say(":user sam", "/help")  # a member: /picket going, not /alert
    assert "/strikes" in out and "/picket" in out and "/alert" not in out
    out = await bot.say("/help picket")
    assert "/picket going <id> — How many said" in out


async def test_the_digest_shows_the_chats_meetings(bot: AlertsConsole) -> None:
    """Meetings are the meetings capability's: a row of its, posted to cannock."""
    async with bot.app.db.session() as session:
        cannock = await session.scalar(select(Chat).where(Chat.platform_chat_id == "cannock"))
        assert cannock is not None
        meeting = Meeting(
            chat_id=cannock.id,
            title="Strike committee",
            place="Miners' Welfare",
            zone="Europe/London",
            starts_at=datetime(2026, 3, 11, 19, 30, tzinfo=UTC),
            created_at=bot.clock.now(),
        )
        session.add(meeting)
        await session.flush()
        session.add(MeetingTarget(meeting_id=meeting.id, chat_id=cannock.id))
    await bot.say(":chat cannock", "/digest on")
    out = await bot.tick(days=6, hours=23)
    assert "This week, from Mon 9 Mar" in out and "Strike committee" in out
    out = await bot.say("/strikes")
    assert "Strike committee" not in out  # /strikes is strikes, ballots and pickets


async def test_a_digest_missed_while_down_goes_once_after_a_restart(
    database: Database, database_url: str, clock: FakeClock
) -> None:
    config = alerts_config(database_url)
    async with AlertsConsole(config, clock) as bot:
        await branch_with_three_chats(bot)
        await bot.say(":chat cannock", "/digest on")  # Mondays at 08:00
    clock.advance(days=6, hours=23, minutes=30)  # down until 08:30 on Monday 9 March
    async with AlertsConsole(config, clock) as bot:
        assert (await bot.say()).count("This week, from Mon 9 Mar") == 1
    async with AlertsConsole(config, clock) as bot:
        assert "This week" not in await bot.say()
    clock.advance(days=7)
    async with AlertsConsole(config, clock) as bot:
        assert "This week, from Mon 16 Mar" in await bot.say()
