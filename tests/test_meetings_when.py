"""Reading UK dates and repeats, expanding them in wall time, and calendar files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.context import UserError
from bot.dates.schedule import Schedule
from bot.dates.when import offsets_text, parse_offsets, read_day, understand
from bot.meetings import ics
from storage.meetings import Meeting

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Mon 2 Mar 2026, 09:00 GMT


def local(moment: datetime, zone: ZoneInfo = LONDON) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 7pm", "Tue 03 Mar 2026 19:00 GMT"),
        ("Sat 10am", "Sat 07 Mar 2026 10:00 GMT"),
        ("12/3 19:00", "Thu 12 Mar 2026 19:00 GMT"),  # day first: 12 March
        ("12.3.2026 7pm", "Thu 12 Mar 2026 19:00 GMT"),
        ("2026-04-01 19:30", "Wed 01 Apr 2026 19:30 BST"),
        ("2026-04-01T19:30", "Wed 01 Apr 2026 19:30 BST"),
        ("Monday 9:30", "Mon 02 Mar 2026 09:30 GMT"),  # today still counts
        ("Monday 8am", "Mon 09 Mar 2026 08:00 GMT"),  # today's 8am has gone
        ("Thursday 7.30pm", "Thu 05 Mar 2026 19:30 GMT"),
        ("tomorrow noon", "Tue 03 Mar 2026 12:00 GMT"),
        ("19:30", "Mon 02 Mar 2026 19:30 GMT"),
    ],
)
def test_one_off_dates_are_read_the_uk_way(text: str, expected: str) -> None:
    understood = understand(text, LONDON, MONDAY)
    assert local(understood.schedule.start) == expected
    assert understood.schedule.rule == ""
    assert understood.notes == ()


@pytest.mark.parametrize(
    ("text", "rule", "first", "words"),
    [
        (
            "every Saturday 10:00",
            "FREQ=WEEKLY;BYDAY=SA",
            "Sat 07 Mar 2026 10:00 GMT",
            "every Saturday at 10:00",
        ),
        (
            "first Tuesday of the month 19:30",
            "FREQ=MONTHLY;BYDAY=+1TU",
            "Tue 03 Mar 2026 19:30 GMT",
            "on the first Tuesday of each month at 19:30",
        ),
        (
            "every 2 weeks on Thursday 18:00",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            "Thu 05 Mar 2026 18:00 GMT",
            "every other Thursday at 18:00",
        ),
        (
            "every 3 weeks on Mon and Wed 7pm",
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE",
            "Mon 02 Mar 2026 19:00 GMT",
            "every 3 weeks on Monday and Wednesday at 19:00",
        ),
        (
            "first and third Wednesday of the month 19:00",
            "FREQ=MONTHLY;BYDAY=+1WE,+3WE",
            "Wed 04 Mar 2026 19:00 GMT",
            "on the first and third Wednesday of each month at 19:00",
        ),
        (
            "last day of the month 18:00",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "Tue 31 Mar 2026 18:00 BST",
            "on the last day of each month at 18:00",
        ),
        ("daily 9am", "FREQ=DAILY", "Tue 03 Mar 2026 09:00 GMT", "every day at 09:00"),
        (
            "every weekday 8am",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            "Tue 03 Mar 2026 08:00 GMT",
            "every weekday at 08:00",
        ),
        (
            "every Saturday 10am from 14/3",
            "FREQ=WEEKLY;BYDAY=SA",
            "Sat 14 Mar 2026 10:00 GMT",
            "every Saturday at 10:00",
        ),
    ],
)
def test_repeats_become_rrules(text: str, rule: str, first: str, words: str) -> None:
    understood = understand(text, LONDON, MONDAY)
    assert understood.schedule.rule == rule
    assert local(understood.schedule.start) == first
    assert understood.repeat_text == words
    assert understood.notes == ()


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("every 2 weeks on Thursday", "No time was given, so I assumed 19:00"),
        ("Saturday", "No time was given"),
        ("next Saturday 10am", "“next Saturday” can mean the coming one or the one after"),
        ("tomorrow at 7", "took it as 19:00 in the evening"),
        ("Sat 6:30", "took it as 18:30"),
        ("8am", "That time has passed today, so I took it as tomorrow"),
        ("12/1 19:00", "more than six months away"),
        ("the 31st of every month 19:00", "Months without a 31st are skipped"),
    ],
)
def test_guesses_are_noted_for_the_organiser_to_confirm(text: str, note: str) -> None:
    understood = understand(text, LONDON, MONDAY)
    assert any(note in line for line in understood.notes), understood.notes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("today 8am", "which has already passed"),
        ("1/3/2026 19:00", "which has already passed"),
        ("next blue moon", "I couldn't read"),
        ("31/2 19:00", "I couldn't read “31/2 19:00” as a date"),
        ("4/13 7pm", "Dates are day first"),
        ("25:00 tomorrow", "“25:00” isn't a time of day"),
        ("13pm Friday", "isn't a time of day"),
        ("every blue moon", "I couldn't read the repeat"),
        ("the 32nd of every month 19:00", "There is no 32nd day"),
        ("", "When is it?"),
    ],
)
def test_unreadable_or_past_times_are_refused_kindly(text: str, message: str) -> None:
    with pytest.raises(UserError, match=None) as refused:
        understand(text, LONDON, MONDAY)
    assert message in str(refused.value)


def test_read_day_counts_today_and_reads_day_first() -> None:
    assert read_day("24/12", LONDON, MONDAY) == date(2026, 12, 24)
    assert read_day("Mon", LONDON, MONDAY) == date(2026, 3, 2)
    with pytest.raises(UserError):
        read_day("", LONDON, MONDAY)


# --- wall time through the clock changes -------------------------------------------------


def test_a_weekly_meeting_keeps_its_wall_time_across_both_clock_changes() -> None:
    spring = understand("every Tuesday 19:30", LONDON, datetime(2026, 3, 17, 9, tzinfo=UTC))
    starts = list(islice(spring.schedule.occurrences(datetime(2026, 3, 17, tzinfo=UTC)), 3))
    assert [s.isoformat() for s in starts] == [
        "2026-03-17T19:30:00+00:00",  # GMT
        "2026-03-24T19:30:00+00:00",
        "2026-03-31T18:30:00+00:00",  # BST: still 19:30 on the wall
    ]
    autumn = understand("every Tuesday 19:30", LONDON, datetime(2026, 10, 13, 9, tzinfo=UTC))
    starts = list(islice(autumn.schedule.occurrences(datetime(2026, 10, 13, tzinfo=UTC)), 3))
    assert [local(s) for s in starts] == [
        "Tue 13 Oct 2026 19:30 BST",
        "Tue 20 Oct 2026 19:30 BST",
        "Tue 27 Oct 2026 19:30 GMT",
    ]
    assert starts[2] - starts[1] == timedelta(days=7, hours=1)


def test_reminders_follow_the_wall_time_too() -> None:
    schedule = understand("every Tuesday 19:30", LONDON, datetime(2026, 3, 23, tzinfo=UTC)).schedule
    due = list(islice(schedule.reminders((1440, 60), datetime(2026, 3, 23, tzinfo=UTC)), 4))
    assert [(d.isoformat(), offset) for d, _, offset in due] == [
        ("2026-03-23T19:30:00+00:00", 1440),
        ("2026-03-24T18:30:00+00:00", 60),
        ("2026-03-30T18:30:00+00:00", 1440),  # the day before, in BST
        ("2026-03-31T17:30:00+00:00", 60),
    ]


def test_the_31st_skips_short_months_and_the_last_day_does_not() -> None:
    january = datetime(2026, 1, 5, tzinfo=UTC)
    the_31st = understand("the 31st of every month 19:00", LONDON, january).schedule
    assert [s.date().isoformat() for s in islice(the_31st.occurrences(january), 5)] == [
        "2026-01-31",
        "2026-03-31",  # no 31 February
        "2026-05-31",  # no 31 April
        "2026-07-31",
        "2026-08-31",
    ]
    last = understand("last day of the month 19:00", LONDON, january).schedule
    assert [
        s.astimezone(LONDON).date().isoformat() for s in islice(last.occurrences(january), 4)
    ] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]


def test_skipped_dates_are_left_out() -> None:
    schedule = understand("every Saturday 10:00", LONDON, MONDAY).schedule
    first = schedule.next(MONDAY)
    assert first is not None
    assert schedule.next(MONDAY, {first}) == first + timedelta(days=7)
    assert schedule.is_occurrence(first)
    assert not schedule.is_occurrence(first + timedelta(hours=1))


def test_a_chat_in_another_zone_reads_times_in_its_own_clock() -> None:
    paris = ZoneInfo("Europe/Paris")
    understood = understand("tomorrow 19:30", paris, MONDAY)
    assert understood.schedule.start == datetime(2026, 3, 3, 18, 30, tzinfo=UTC)


# --- reminder offsets ---------------------------------------------------------------------


def test_reminder_offsets() -> None:
    assert parse_offsets("1d,1h") == (1440, 60)
    assert parse_offsets("1 hour, 1 day") == (1440, 60)
    assert parse_offsets("2h 30m") == (120, 30)
    assert parse_offsets("1w") == (10080,)
    assert parse_offsets("none") == ()
    assert offsets_text((1440, 60)) == "1 day and 1 hour before"
    assert offsets_text(()) == "no reminders"
    for bad in ("soon", "1x", "40d", "1d,2d,3d,4d,5d", "0m"):
        with pytest.raises(UserError):
            parse_offsets(bad)


# --- calendar files -----------------------------------------------------------------------


def meeting(rule: str, start: datetime) -> Meeting:
    return Meeting(
        id=7,
        chat_id=1,
        title="GC meeting",
        place="Miners' Welfare, Cannock",
        link="https://meet.example/gc",
        agenda="https://docs.example/agenda",
        zone="Europe/London",
        starts_at=start,
        rule=rule,
        repeat_text="",
        revision=2,
        created_at=MONDAY,
    )


def test_a_calendar_file_has_local_times_the_rule_and_skipped_dates() -> None:
    start = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
    skipped = datetime(2026, 4, 7, 18, 30, tzinfo=UTC)  # 19:30 BST
    file = ics.calendar_file(
        [(meeting("FREQ=MONTHLY;BYDAY=+1TU", start), {skipped})], "Our meetings", MONDAY.date()
    )
    assert (file.file_name, file.mime_type) == ("our-meetings.ics", "text/calendar")
    text = file.data.decode()
    parsed = Calendar.from_ical(file.data)
    event = parsed.walk("VEVENT")[0]
    assert "DTSTART;TZID=Europe/London:20260303T193000\r\n" in text
    assert event.decoded("dtstart") == start
    assert event.get("rrule").to_ical() == b"FREQ=MONTHLY;BYDAY=+1TU"
    assert [d.dt for d in event.get("exdate").dts] == [skipped.astimezone(LONDON)]
    assert event.get("uid") == "meeting-7@organise-bot"
    assert event.get("sequence") == 2
    assert str(event.get("location")) == "Miners' Welfare, Cannock"
    assert "Agenda: https://docs.example/agenda" in str(event.get("description"))
    assert parsed.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
    assert str(parsed["X-WR-CALNAME"]) == "Our meetings"
    assert len(file.data) < 2000  # a few years of time zone, not every change since 1970


def test_google_calendar_link_and_file_name() -> None:
    one_off = meeting("", datetime(2026, 3, 3, 19, 30, tzinfo=UTC))
    address = ics.google_link(one_off, one_off.starts_at)
    assert "dates=20260303T193000Z%2F20260303T210000Z" in address
    assert "recur" not in address
    assert ics.file_name("GC meeting: March!") == "gc-meeting-march.ics"
    assert ics.file_name("!!!") == "meeting.ics"


def test_schedule_of_a_one_off_has_one_occurrence() -> None:
    once = Schedule(datetime(2026, 3, 3, 19, tzinfo=UTC), "", LONDON)
    assert list(once.occurrences(MONDAY)) == [once.start]
    assert list(once.occurrences(once.start)) == []
