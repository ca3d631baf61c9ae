"""The Telegram adapter's deliveries: text, parts, pins, files, edits and deletes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from icalendar import Calendar

from bot.delivery import Permanent, RetryAfter
from bot.text import bold, code, italic, link, rich
from bot.types import Button, Content, Delivery, Location, Op
from tests.telegram_adapter.harness import CALENDAR, QUIET_RETRY_AFTER, Harness

pytestmark = QUIET_RETRY_AFTER


# --- sending -------------------------------------------------------------------------


async def test_send_escapes_user_text_and_renders_styles(tg: Harness) -> None:
    text = rich(
        "Picket at ",
        bold("Smith & Sons <Depot>"),
        " ",
        italic("6am"),
        " ",
        code("a<b"),
        " ",
        link("map & info", 'https://example.org/?a=1&b="2"'),
    )

    ids = await tg.send(Content(text))

    (call,) = tg.api.calls_to("sendMessage")
    assert call["text"] == (
        "Picket at <b>Smith &amp; Sons &lt;Depot&gt;</b> <i>6am</i> <code>a&lt;b</code> "
        '<a href="https://example.org/?a=1&amp;b=&quot;2&quot;">map &amp; info</a>'
    )
    assert call["parse_mode"] == "HTML"
    assert call["link_preview_options"] == {"is_disabled": True}
    assert call["chat_id"] == "-1001234"
    assert ids == (str(1001),)


async def test_long_message_is_split_with_buttons_on_the_last_part(tg: Harness) -> None:
    lines = [f"{n:04} " + "x" * 995 for n in range(9)]  # 9 lines of 1,000 characters
    buttons = ((Button("Going", "rsvp:1:yes"), Button("Not going", "rsvp:1:no")),)

    ids = await tg.send(Content(rich("\n".join(lines)), buttons=buttons))

    calls = tg.api.calls_to("sendMessage")
    assert len(ids) == len(calls) == 3
    assert all(len(call["text"]) <= 4096 for call in calls)
    assert "\n".join(call["text"] for call in calls) == "\n".join(lines)
    assert [("reply_markup" in call) for call in calls] == [False, False, True]
    assert calls[-1]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Going", "callback_data": "rsvp:1:yes"},
                {"text": "Not going", "callback_data": "rsvp:1:no"},
            ]
        ]
    }


async def test_split_counts_what_telegram_counts(tg: Harness) -> None:
    # An emoji is two UTF-16 units, which is how Telegram measures text.
    ids = await tg.send(Content(rich("✊🏽" * 1500)))

    assert len(ids) == 2


async def test_location_with_title_and_address_is_a_venue(tg: Harness) -> None:
    place = Location(51.5072, -0.1276, "Smith & Sons <Depot>", "1 High St")

    ids = await tg.send(Content(rich("Meet here"), location=place))

    (venue,) = tg.api.calls_to("sendVenue")
    assert (venue["title"], venue["address"]) == ("Smith & Sons <Depot>", "1 High St")
    assert (float(venue["latitude"]), float(venue["longitude"])) == (51.5072, -0.1276)
    assert len(ids) == 2


async def test_a_refused_pin_after_sent_text_does_not_fail_the_delivery(tg: Harness) -> None:
    # The text carries the map link; failing would leave the message half-delivered.
    tg.api.fail("sendVenue", 400, "Bad Request: wrong latitude")
    place = Location(51.5072, -0.1276, "Depot", "1 High St")

    ids = await tg.send(Content(rich("Meet here"), location=place))

    assert len(ids) == 1
    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_a_pin_told_to_wait_is_sent_by_the_retry_alone(tg: Harness) -> None:
    tg.api.fail_retry_after("sendVenue", 3)
    place = Location(51.5072, -0.1276, "Depot", "1 High St")
    content = Content(rich("Meet here"), location=place)
    progress: list[tuple[str, ...]] = []

    with pytest.raises(RetryAfter):
        await tg.adapter.deliver(
            Delivery(Op.SEND, "-1001234", content, "n", next_part=_keep(progress))
        )
    ids = await tg.adapter.deliver(Delivery(Op.SEND, "-1001234", content, "n", progress[-1]))

    assert len(tg.api.calls_to("sendMessage")) == 1
    assert len(tg.api.calls_to("sendVenue")) == 2
    assert ids[0] == progress[-1][0] and len(ids) == 2


async def test_a_429_on_part_two_resumes_at_part_two(tg: Harness) -> None:
    lines = [f"{n:04} " + "x" * 995 for n in range(9)]
    content = Content(rich("\n".join(lines)))
    progress: list[tuple[str, ...]] = []

    async def fail_the_next(sent: tuple[str, ...]) -> None:
        progress.append(sent)
        tg.api.fail_retry_after("sendMessage", 3)

    with pytest.raises(RetryAfter):
        await tg.adapter.deliver(
            Delivery(Op.SEND, "-1001234", content, "n", next_part=fail_the_next)
        )
    mark = tg.api.mark()
    ids = await tg.adapter.deliver(Delivery(Op.SEND, "-1001234", content, "n", progress[-1]))

    first, *_ = tg.api.calls_to("sendMessage")
    again = tg.api.calls_to("sendMessage", after=mark)
    assert len(progress[-1]) == 1 and len(again) == 2  # parts 2 and 3, not part 1 again
    assert "\n".join(call["text"] for call in [first, *again]) == "\n".join(lines)
    assert ids[0] == progress[-1][0] and len(ids) == 3


def _keep(progress: list[tuple[str, ...]]) -> Callable[[tuple[str, ...]], Awaitable[None]]:
    """A ``next_part`` that keeps what the sender would: the parts out so far."""

    async def next_part(sent: tuple[str, ...]) -> None:
        progress.append(sent)

    return next_part


async def test_bare_location_is_a_pin_carrying_the_buttons(tg: Harness) -> None:
    buttons = ((Button("Directions", "dir:1"),),)

    ids = await tg.send(Content(rich(), buttons=buttons, location=Location(51.5, -0.12)))

    (pin,) = tg.api.calls_to("sendLocation")
    assert pin["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "dir:1"
    assert tg.api.calls_to("sendMessage") == []
    assert len(ids) == 1


async def test_a_file_is_a_document_captioned_with_the_text(tg: Harness) -> None:
    text = rich("📅 ", bold("Smith & Sons <Depot>"), "\nTap the file")
    buttons = ((Button("Going", "rsvp:1:yes"),),)

    ids = await tg.send(Content(text, buttons=buttons, attachment=CALENDAR))

    (call,) = tg.api.calls_to("sendDocument")
    upload = call["document"]
    assert (upload.file_name, upload.data, upload.mime_type) == (
        "gc-meeting.ics",
        CALENDAR.data,
        "text/calendar",
    )
    assert Calendar.from_ical(upload.data).walk("VEVENT")[0]["SUMMARY"] == "GC"
    assert call["caption"] == "📅 <b>Smith &amp; Sons &lt;Depot&gt;</b>\nTap the file"
    assert call["parse_mode"] == "HTML"
    assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rsvp:1:yes"
    assert tg.api.calls_to("sendMessage") == []
    assert ids == ("1001",)


async def test_text_too_long_for_a_caption_goes_first_then_the_file(tg: Harness) -> None:
    lines = [f"{n:04} " + "&" * 495 for n in range(10)]  # 5,009 characters: two messages
    buttons = ((Button("Going", "rsvp:1:yes"),),)

    ids = await tg.send(Content(rich("\n".join(lines)), buttons=buttons, attachment=CALENDAR))

    texts = tg.api.calls_to("sendMessage")
    (document,) = tg.api.calls_to("sendDocument")
    assert len(ids) == 3 and len(texts) == 2
    assert tg.api.calls[-1].method == "sendDocument"  # after the text
    assert "\n".join(call["text"] for call in texts) == "\n".join(lines).replace("&", "&amp;")
    assert "reply_markup" in texts[-1] and "reply_markup" not in document
    assert "caption" not in document
    assert document["document"].data == CALENDAR.data


async def test_a_caption_of_exactly_1024_characters_fits(tg: Harness) -> None:
    await tg.send(Content(rich("✊" * 1024), attachment=CALENDAR))
    await tg.send(Content(rich("✊" * 1025), attachment=CALENDAR))

    captions = [call.get("caption") for call in tg.api.calls_to("sendDocument")]
    assert captions == ["✊" * 1024, None]
    assert [call["text"] for call in tg.api.calls_to("sendMessage")] == ["✊" * 1025]


async def test_a_refused_file_after_sent_text_fails_the_delivery(tg: Harness) -> None:
    # The file is what was asked for: the outbox tries the whole message again.
    tg.api.fail_retry_after("sendDocument", 3)

    with pytest.raises(RetryAfter):
        await tg.send(Content(rich("x" * 2000), attachment=CALENDAR))

    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_a_file_to_a_kicked_bot_is_a_chat_gone(tg: Harness) -> None:
    tg.api.fail_kicked("sendDocument")

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("Calendar"), attachment=CALENDAR))

    assert caught.value.chat_gone


async def test_empty_message_is_permanent(tg: Harness) -> None:
    with pytest.raises(Permanent):
        await tg.send(Content(rich("  \n ")))


async def test_edit_replaces_text_and_keyboard(tg: Harness) -> None:
    content = Content(rich("Poll ", bold("closed")), buttons=((Button("Results", "poll:7:r"),),))

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", content, "n", ("55", "56")))

    (call,) = tg.api.calls_to("editMessageText")
    assert (call["message_id"], call["text"]) == ("55", "Poll <b>closed</b>")
    assert call["reply_markup"]["inline_keyboard"][0][0]["text"] == "Results"
    assert ids == ("55", "56")


async def test_edit_of_a_long_message_edits_every_part(tg: Harness) -> None:
    lines = [f"{n:04} " + "y" * 995 for n in range(9)]
    content = Content(rich("\n".join(lines)), buttons=((Button("Results", "poll:7:r"),),))

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", content, "n", ("5", "6", "7")))

    calls = tg.api.calls_to("editMessageText")
    assert [call["message_id"] for call in calls] == ["5", "6", "7"]
    assert "\n".join(call["text"] for call in calls) == "\n".join(lines)
    assert [("reply_markup" in call) for call in calls] == [False, False, True]
    assert ids == ("5", "6", "7")


async def test_edit_of_a_captioned_file_edits_its_caption(tg: Harness) -> None:
    content = Content(rich("Moved to ", bold("Thu")), attachment=CALENDAR)

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", content, "n", ("55",)))

    (call,) = tg.api.calls_to("editMessageCaption")
    assert (call["message_id"], call["caption"]) == ("55", "Moved to <b>Thu</b>")
    assert tg.api.calls_to("editMessageText") == []
    assert ids == ("55",)


async def test_edit_to_the_same_text_is_success(tg: Harness) -> None:
    tg.api.fail(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", Content(rich("x")), "n", ("9",)))

    assert ids == ("9",)


async def test_delete_every_part_and_tolerate_gone_ones(tg: Harness) -> None:
    tg.api.fail("deleteMessage", 400, "Bad Request: message to delete not found")

    await tg.adapter.deliver(Delivery(Op.DELETE, "-1001234", Content(rich()), "n", ("7", "8")))

    assert [call["message_id"] for call in tg.api.calls_to("deleteMessage")] == ["7", "8"]
