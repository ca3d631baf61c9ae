"""The core's message vocabulary as the outbox stores it: JSON and back, unchanged."""

from __future__ import annotations

import json

import pytest

from bot.text import bold, link, rich
from bot.types import MAX_ATTACHMENT_BYTES, Attachment, Button, Content, Emphasis, Location

CALENDAR = Attachment(
    "gc-meeting.ics",
    b"BEGIN:VCALENDAR\r\n\x00\xff\xe2\x9c\x8a\r\nEND:VCALENDAR\r\n",
    "text/calendar",
)


def round_trip(content: Content) -> Content:
    """Through JSON text, as the outbox's JSON column keeps it."""
    return Content.from_payload(json.loads(json.dumps(content.to_payload())))


def test_a_file_survives_the_outbox_byte_for_byte() -> None:
    content = Content(
        rich("📅 ", bold("GC meeting"), " ", link("add", "https://calendar.google.com/")),
        buttons=((Button("Going", "rsvp:1:going"), Button("Start", "private", start_link=True)),),
        location=Location(52.69, -2.03, "Miners' Welfare", "Cannock"),
        attachment=CALENDAR,
        private=True,
        emphasis=Emphasis.ANNOUNCEMENT,
        reply_handle="1:2:0:token",
    )

    assert round_trip(content) == content
    (name, encoded, mime) = content.to_payload()["attachment"]
    assert (name, mime) == ("gc-meeting.ics", "text/calendar")
    assert encoded.isascii()  # base64: bytes that are not UTF-8 still fit in JSON


def test_a_message_without_a_file_stores_no_file() -> None:
    content = Content(rich("Hello"))

    assert "attachment" not in content.to_payload()
    assert round_trip(content).attachment is None


def test_files_are_kept_small() -> None:
    Attachment("big.ics", bytes(MAX_ATTACHMENT_BYTES), "text/calendar")
    with pytest.raises(ValueError, match="over"):
        Attachment("huge.ics", bytes(MAX_ATTACHMENT_BYTES + 1), "text/calendar")
