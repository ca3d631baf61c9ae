"""The Discord adapter's deliveries: DMs, escaping, embeds, parts, files, edits and deletes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.discord.render import MESSAGE_LIMIT
from bot.delivery import Permanent, RetryAfter
from bot.text import bold, code, italic, link, rich
from bot.types import Button, ChatKind, Content, Delivery, Emphasis, Op
from tests.discord_adapter.harness import CALENDAR, MEMBER, Make, send, whoami
from tests.fakes.discord import TOKEN, FakeDiscord, quick_retries

# --- deliveries -----------------------------------------------------------------------------


async def test_direct_message_opens_the_dm_channel_once(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    person = MEMBER.user_id
    reminder = Delivery(
        Op.SEND, str(person), Content(rich("Meeting at 7")), "n1", chat_kind=ChatKind.PRIVATE
    )

    first = await adapter.deliver(reminder)
    second = await adapter.deliver(reminder)

    (opened,) = fake.calls("POST", r"/users/@me/channels")
    assert opened.body == {"recipient_id": person}
    dm = fake.dm_channels[person]
    assert [r.path for r in fake.messages()] == [f"/channels/{dm}/messages"] * 2
    assert first == second  # the same nonce: a retry returns the first message

    edit = Delivery(
        Op.EDIT, str(person), Content(rich("Moved")), "n", first, chat_kind=ChatKind.PRIVATE
    )
    await adapter.deliver(edit)
    assert len(fake.calls("PATCH", rf"/channels/{dm}/messages/{first[0]}")) == 1


async def test_person_who_takes_no_dms_is_a_chat_gone(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(403, code=50007)  # "Cannot send messages to this user"
    reminder = Delivery(
        Op.SEND, str(MEMBER.user_id), Content(rich("Hi")), "n", chat_kind=ChatKind.PRIVATE
    )

    with pytest.raises(Permanent) as raised:
        await adapter.deliver(reminder)
    assert raised.value.chat_gone


async def test_user_text_is_escaped_and_can_ping_no_one(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    text = rich(
        "Picket at ",
        bold("**Smith & Sons** @everyone"),
        " ",
        italic("<@&123456789012345678>"),
        "\n# not a heading [click](https://evil.example)\n",
        code("a`b"),
        " ",
        link("map", "https://osm.org/?q=(1)"),
    )

    ids = await adapter.deliver(send(text))

    (message,) = fake.messages()
    assert message.body["content"] == (
        "Picket at **\\*\\*Smith & Sons\\*\\* @\u200beveryone** *<@\u200b&123456789012345678>*\n"
        "\\# not a heading \\[click](https://evil.example)\n"
        "`aˋb` [map](https://osm.org/?q=%281%29)"
    )
    assert message.body["allowed_mentions"] == {"parse": []}
    assert message.authorization == f"Bot {TOKEN}"
    assert len(ids) == 1 and ids[0].isdigit()


async def test_nonce_makes_a_retried_send_return_the_first_message(
    make: Make, fake: FakeDiscord
) -> None:
    adapter, _ = await make()
    first = await adapter.deliver(send("Meeting at 7"))
    again = await adapter.deliver(send("Meeting at 7"))

    bodies = [r.body for r in fake.messages()]
    assert first == again
    assert bodies[0]["nonce"] == bodies[1]["nonce"]
    assert len(bodies[0]["nonce"]) <= 25
    assert bodies[0]["enforce_nonce"] is True


async def test_announcement_is_an_embed(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    await adapter.deliver(send(rich(bold("Strike!"), " _all_ out"), emphasis=Emphasis.ANNOUNCEMENT))

    (message,) = fake.messages()
    assert message.body["content"] is None
    (embed,) = message.body["embeds"]
    assert embed["description"] == "**Strike!** \\_all\\_ out"


async def test_long_text_is_split_at_2000_with_buttons_on_the_last_part(
    make: Make, fake: FakeDiscord
) -> None:
    adapter, _ = await make()
    line = "Member_name_" * 10  # every "_" is escaped, so 120 typed characters are 130 sent
    text = "\n".join([line] * 40)

    ids = await adapter.deliver(send(text, buttons=((Button("OK", "ok"),),)))

    bodies = [r.body for r in fake.messages()]
    assert len(ids) == len(bodies) == 3
    assert all(len(body["content"]) <= MESSAGE_LIMIT for body in bodies)
    assert [bool(body.get("components")) for body in bodies] == [False, False, True]
    assert len({body["nonce"] for body in bodies}) == 3
    assert "".join(b["content"] for b in bodies).count("Member\\_name\\_") == 400


async def test_a_file_is_attached_to_the_last_part(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    text = "\n".join(["Member_name_" * 10] * 20)  # 2,619 characters sent: two parts

    ids = await adapter.deliver(send(text, attachment=CALENDAR))

    first, last = fake.messages()
    assert first.uploads == ()
    (upload,) = last.uploads
    assert (upload.field, upload.file_name, upload.data) == (
        "files[0]",
        "gc-meeting.ics",
        CALENDAR.data,
    )
    assert last.body["content"].startswith("Member\\_name")
    assert last.body["nonce"] and last.body["allowed_mentions"] == {"parse": []}
    (attached,) = fake.created[1]["attachments"]
    assert (attached["filename"], attached["size"]) == ("gc-meeting.ics", len(CALENDAR.data))
    assert attached["content_type"] == "text/calendar"
    assert ids == (fake.created[0]["id"], fake.created[1]["id"])


async def test_a_file_in_a_private_answer_to_an_interaction(make: Make, fake: FakeDiscord) -> None:
    adapter, event = await whoami(make, fake)

    await adapter.deliver(
        send("Your calendar", private=True, reply_handle=event.reply_handle, attachment=CALENDAR)
    )

    (answer,) = fake.answers
    assert (answer.text, answer.ephemeral) == ("Your calendar", True)
    assert answer.message["attachments"][0]["filename"] == "gc-meeting.ics"
    assert [u.data for u in fake.followups()[0].uploads] == [CALENDAR.data]
    assert fake.messages() == []


async def test_a_file_survives_every_kind_of_retry(
    make: Make, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_retries(monkeypatch)
    adapter, event = await whoami(make, fake)
    fake.fail(404, path=r"/webhooks/\d+/[^/]+", code=10015)  # the token has lapsed
    fake.fail(500)  # and the channel's first answer is an error, retried by discord.py

    await adapter.deliver(send("Calendar", reply_handle=event.reply_handle, attachment=CALENDAR))

    sent = [r.uploads[0].data for r in [*fake.followups(), *fake.messages()]]
    assert sent == [CALENDAR.data] * 3  # each try uploads the whole file
    assert len(fake.created) == 1


async def test_a_channel_that_refuses_files_gets_the_text(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(403, code=50013)  # the bot may post here, but not attach files

    ids = await adapter.deliver(send("📅 GC meeting", attachment=CALENDAR))

    refused, sent = fake.messages()
    assert len(refused.uploads) == 1 and sent.uploads == ()
    assert sent.body["content"] == (
        "📅 GC meeting\n(I couldn't attach gc-meeting.ics: I'm not allowed to attach files here.)"
    )
    assert ids == (fake.created[0]["id"],)


async def test_a_channel_that_refuses_the_text_too_is_gone(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(403, code=50013, times=2)

    with pytest.raises(Permanent) as raised:
        await adapter.deliver(send("📅 GC meeting", attachment=CALENDAR))

    assert raised.value.chat_gone
    assert [len(r.uploads) for r in fake.messages()] == [1, 0]


async def test_location_degrades_to_a_map_link(make: Make, fake: FakeDiscord) -> None:
    from bot.types import Location

    adapter, _ = await make()
    await adapter.deliver(send("Picket", location=Location(53.4808, -2.2426, "Depot", "Gate 3")))

    content = fake.messages()[0].body["content"]
    assert content.startswith("Picket\n📍 **Depot — Gate 3** [map](https://www.openstreetmap.org/")


async def test_edit_and_delete(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    edit = Delivery(Op.EDIT, "5", Content(rich("Closed")), nonce="n", message_ids=("11", "12"))
    delete = Delivery(Op.DELETE, "5", Content(rich()), nonce="n", message_ids=("11", "12"))

    assert await adapter.deliver(edit) == ("11", "12")
    fake.fail(404, method="DELETE", path=r"/channels/5/messages/12", code=10008)
    assert await adapter.deliver(delete) == ()

    (patch,) = fake.calls("PATCH", r"/channels/5/messages/11")
    assert patch.body["content"] == "Closed"
    assert patch.body["components"] == [] and patch.body["embeds"] == []
    assert len(fake.calls("DELETE", r"/channels/5/messages/1[12]")) == 2


async def test_edit_of_a_long_message_edits_every_part(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    line = "Member_name_" * 10
    content = Content(rich("\n".join([line] * 40)), buttons=((Button("OK", "ok"),),))

    await adapter.deliver(
        Delivery(Op.EDIT, "5", content, nonce="n", message_ids=("11", "12", "13"))
    )

    patches = [fake.calls("PATCH", f"/channels/5/messages/{id}") for id in ("11", "12", "13")]
    bodies = [patch.body for (patch,) in patches]
    assert "".join(body["content"] for body in bodies).count("Member\\_name\\_") == 400
    assert [bool(body["components"]) for body in bodies] == [False, False, True]


async def test_a_429_on_part_two_resumes_at_part_two(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    text = "\n".join(["Member_name_" * 10] * 40)  # three parts
    progress: list[tuple[str, ...]] = []

    async def fail_the_next(sent: tuple[str, ...]) -> None:
        progress.append(sent)
        fake.fail(429, retry_after=60.0)  # too long for discord.py to wait out

    with pytest.raises(RetryAfter):
        await adapter.deliver(replace(send(text), next_part=fail_the_next))
    ids = await adapter.deliver(replace(send(text), message_ids=progress[-1]))

    assert progress == [(fake.created[0]["id"],)]
    assert ids == tuple(message["id"] for message in fake.created)
    assert len(ids) == 3  # part 1 once, then parts 2 and 3
    first, refused, *resumed = fake.messages()
    assert refused.body["nonce"] == resumed[0].body["nonce"] != first.body["nonce"]
    assert "".join(r.body["content"] for r in [first, *resumed]).count("Member") == 400
