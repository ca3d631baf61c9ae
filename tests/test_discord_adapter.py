"""The Discord adapter against a fake Discord: real discord.py, fake edge.

Gateway payloads go through discord.py's own parsers and REST calls reach a local
server, so these tests exercise the library's models, retries and error types —
only the network is fake.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord import INVITE_PERMISSIONS, PACING, DiscordAdapter, ReplyHandle, invite_url
from adapters.discord.render import MESSAGE_LIMIT
from bot.clock import UTC
from bot.commands import build_registry
from bot.config import DiscordSettings
from bot.delivery import Permanent, RetryAfter, Transient
from bot.outbox.pacing import IN_FLIGHT_SECONDS, Pacer
from bot.parse import parse
from bot.registry import Command, Kind, Param, Role
from bot.text import Rich, bold, code, italic, link, rich
from bot.types import (
    Attachment,
    BotAdded,
    BotRemoved,
    Button,
    ButtonIn,
    ChatKind,
    CommandIn,
    Content,
    Delivery,
    Emphasis,
    Event,
    EventResult,
    MemberJoined,
    Op,
    UserRef,
)
from tests.fakes_discord import (
    APP_ID,
    TOKEN,
    FakeDiscord,
    FakeGuild,
    Gateway,
    Person,
    Recorder,
    quick_retries,
)
from tests.support.clock import FakeClock

REGISTRY = (
    Command(
        "poll",
        "Ask the branch a question and count the answers. " * 4,
        params=(
            Param("question", "What to ask"),
            Param("answer", "A possible answer", repeat=True),
            Param("multi", "Allow several answers", option=True, flag=True),
            Param("hours", "How long it stays open", kind=Kind.INT, option=True),
        ),
    ),
    Command(
        "meeting",
        "Plan meetings",
        subcommands=(
            Command(
                "add",
                "Add a meeting",
                params=(Param("when", "When"), Param("place", "Where", kind=Kind.REST)),
            ),
            Command("list", "List meetings"),
        ),
    ),
    Command(
        "alert",
        "Send an alert",
        params=(Param("level", "How urgent", kind=Kind.CHOICE, choices=("low", "high")),),
    ),
    Command("whoami", "Who the bot thinks you are", private=True),
    Command("help", "Help", params=(Param("topic", "A command", kind=Kind.WORD, required=False),)),
)

CALENDAR = Attachment(
    "gc-meeting.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "text/calendar"
)

GUILD_ADMIN = Person(700000000000000001, "Ada Organiser", roles=("Organiser", "Admin"))
MEMBER = Person(700000000000000002, "Bob Member")

Make = Callable[..., Awaitable[tuple[DiscordAdapter, Gateway]]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def make(fake: FakeDiscord) -> AsyncIterator[Make]:
    """A logged-in adapter (real login against the fake) with its handlers attached."""
    made: list[DiscordAdapter] = []

    async def build(
        on_event: Recorder | None = None,
        *,
        settings: DiscordSettings | None = None,
        commands: Sequence[Command] = REGISTRY,
        clock: FakeClock | None = None,
    ) -> tuple[DiscordAdapter, Gateway]:
        adapter = DiscordAdapter(settings or DiscordSettings(), commands, clock=clock)
        adapter.attach(on_event or Recorder())
        await adapter.client.login(TOKEN)
        made.append(adapter)
        return adapter, Gateway(adapter.client)

    yield build
    for adapter in made:
        await adapter.client.close()


async def whoami(make: Make, fake: FakeDiscord, **options: Any) -> tuple[DiscordAdapter, CommandIn]:
    """A started adapter and the event of a member's /whoami slash command."""
    recorder = Recorder()
    adapter, gateway = await make(recorder, **options)
    gateway.send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", MEMBER, "whoami"))
    (event,) = await recorder.wait_for(CommandIn)
    return adapter, event


def send(text: Rich | str, chat_id: int = 123, **content: Any) -> Delivery:
    body = rich(text) if isinstance(text, str) else text
    return Delivery(Op.SEND, str(chat_id), Content(body, **content), nonce="outbox-row-17")


# --- life-cycle: start and stop --------------------------------------------------------


async def test_start_listens_and_publishes_once_logged_in(fake: FakeDiscord) -> None:
    adapter = DiscordAdapter(DiscordSettings(guilds=[42]), REGISTRY)
    with pytest.raises(RuntimeError, match="not logged in"):
        await adapter.start(Recorder())

    await adapter.client.login(TOKEN)
    recorder = Recorder()
    await adapter.start(recorder)
    try:
        assert len(fake.calls("PUT", rf"/applications/{APP_ID}/guilds/42/commands")) == 1
        gateway = Gateway(adapter.client)
        gateway.send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", MEMBER, "whoami"))
        await recorder.wait_for(CommandIn)

        await adapter.stop()  # stops listening; the client's owner closes the client
        assert not adapter.client.is_closed()
        gateway.send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", MEMBER, "whoami"))
        await fake.wait_for(lambda: len(fake.followups()) == 1)
        assert fake.answers[-1].text == "Sorry, something went wrong — try again."
        assert len(recorder.events) == 1
    finally:
        await adapter.client.close()


def test_invite_link_asks_for_exactly_what_the_bot_uses() -> None:
    client = DiscordAdapter(DiscordSettings()).client
    client._connection.application_id = APP_ID
    url = invite_url(client)
    assert url == (
        f"https://discord.com/oauth2/authorize?client_id={APP_ID}&scope=bot+applications.commands"
        "&permissions=283467893760"
    )
    assert INVITE_PERMISSIONS.value == 283467893760


# --- slash commands ---------------------------------------------------------------------


async def test_slash_tree_is_generated_from_the_registry(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    tree = adapter.client.tree
    payloads = {command.name: command.to_dict(tree) for command in tree.get_commands()}

    poll = payloads["poll"]
    assert len(poll["description"]) == 100
    options = {option["name"]: option for option in poll["options"]}
    assert options["question"] == {
        "type": 3,
        "name": "question",
        "description": "What to ask",
        "required": True,
    }
    assert options["answer1"]["required"] and not options["answer2"]["required"]
    assert "answer10" in options
    assert (options["multi"]["type"], options["multi"]["required"]) == (5, False)
    assert (options["hours"]["type"], options["hours"]["required"]) == (4, False)
    assert [o["name"] for o in poll["options"]][:2] == ["question", "answer1"]  # required first

    level = payloads["alert"]["options"][0]
    assert level["choices"] == [{"name": "low", "value": "low"}, {"name": "high", "value": "high"}]

    meeting = payloads["meeting"]
    subs = {sub["name"]: sub for sub in meeting["options"]}
    assert {sub["type"] for sub in subs.values()} == {1}  # subcommands of a group
    assert [o["name"] for o in subs["add"]["options"]] == ["when", "place"]


def test_every_registered_command_makes_a_valid_slash_command() -> None:
    registry = list(build_registry())
    adapter = DiscordAdapter(DiscordSettings(), registry)
    tree = adapter.client.tree

    payloads = [command.to_dict(tree) for command in tree.get_commands()]

    assert [p["name"] for p in payloads] == [command.name for command in registry]
    for payload in payloads:
        options = payload.get("options", [])
        assert 1 <= len(payload["description"]) <= 100 and len(options) <= 25
        assert all(1 <= len(option["description"]) <= 100 for option in options)


def test_organisers_commands_are_shown_to_manage_server_at_first() -> None:
    registry = list(build_registry())
    tree = DiscordAdapter(DiscordSettings(), registry).client.tree
    shown_to = {
        command.name: command.to_dict(tree)["default_member_permissions"]
        for command in tree.get_commands()
    }
    manage_server = discord.Permissions(manage_guild=True).value

    for command in registry:
        expected = None if command.lowest_role is Role.MEMBER else manage_server
        assert shown_to[command.name] == expected, command.name
    assert shown_to["alert"] == shown_to["grant"] == shown_to["tag"] == manage_server
    assert shown_to["meeting"] is None  # /meeting ics is anyone's


async def test_sync_publishes_globally_or_to_configured_guilds(
    make: Make, fake: FakeDiscord
) -> None:
    adapter, _ = await make()
    await adapter.sync_commands()
    (sync,) = fake.calls("PUT", rf"/applications/{APP_ID}/commands")
    assert sorted(command["name"] for command in sync.body) == [
        "alert",
        "help",
        "meeting",
        "poll",
        "whoami",
    ]

    guild_adapter, _ = await make(settings=DiscordSettings(guilds=[42, 43]))
    await guild_adapter.sync_commands()
    assert len(fake.calls("PUT", rf"/applications/{APP_ID}/guilds/4[23]/commands")) == 2


async def test_sync_failure_is_logged_not_raised(
    make: Make, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    adapter, _ = await make()
    fake.fail(403, method="PUT", path=r"/applications/\d+/commands")
    await adapter.sync_commands()
    assert "could not publish Discord slash commands" in caplog.text


async def test_slash_command_is_acknowledged_then_becomes_typed_text(
    make: Make, fake: FakeDiscord
) -> None:
    acknowledged: list[int] = []

    def count_acks(event: Event) -> None:
        if isinstance(event, CommandIn):
            acknowledged.append(len(fake.callbacks()))

    recorder = Recorder(before=count_acks)
    _, gateway = await make(recorder)
    guild = FakeGuild()
    gateway.guild_create(guild)  # cached, as the gateway would: it holds the role names
    options = {
        "question": "Strike ballot?",
        "answer1": "Yes",
        "answer2": 'No "way"',
        "multi": True,
        "hours": 24,
    }

    payload = fake.slash(guild, "general", GUILD_ADMIN, "poll", options)
    gateway.send("INTERACTION_CREATE", payload)

    (event,) = await recorder.wait_for(CommandIn)
    assert acknowledged == [1]  # deferred before the core saw it
    assert fake.callbacks()[0].body == {"type": 5}  # "thinking", visible to all
    assert event.name == "poll"
    assert event.text == '"Strike ballot?" Yes "No \'way\'" --multi --hours 24'
    assert event.chat.key == f"discord:{guild.channel_ids['general']}"
    assert (event.chat.title, event.chat.kind) == ("#general (Branch 42)", ChatKind.GROUP)
    roles = tuple(f"{guild.id}:{guild.role_ids[name]}" for name in ("Organiser", "Admin"))
    assert event.user == UserRef("discord", str(GUILD_ADMIN.user_id), "Ada Organiser", True, roles)
    handle = ReplyHandle.decode(event.reply_handle)
    assert handle == ReplyHandle(APP_ID, int(payload["id"]), payload["token"], True)
    parsed = parse(REGISTRY[0], event.text)  # the core reads it back as typed
    assert parsed.args == {
        "question": "Strike ballot?",
        "answer": ["Yes", "No 'way'"],
        "multi": True,
        "hours": 24,
    }


async def test_subcommand_and_rest_text(make: Make, fake: FakeDiscord) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    guild = FakeGuild()
    options = {"when": "Sat 10am", "place": "Miners' Welfare, Hall 2"}
    gateway.send(
        "INTERACTION_CREATE", fake.slash(guild, "general", MEMBER, "meeting", options, sub="add")
    )

    (event,) = await recorder.wait_for(CommandIn)
    assert (event.name, event.text) == ("meeting", 'add "Sat 10am" Miners\' Welfare, Hall 2')
    assert not event.user.is_chat_admin
    parsed = parse(REGISTRY[1], event.text)
    assert parsed.args == {"when": "Sat 10am", "place": "Miners' Welfare, Hall 2"}


@pytest.mark.parametrize(
    "name",
    [
        "whoami",  # a private answer
        "hepl",  # a slash command Discord still shows but we no longer have: the core explains
    ],
)
async def test_private_or_unknown_command_defers_ephemerally(
    make: Make, fake: FakeDiscord, name: str
) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    gateway.send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", MEMBER, name))

    (event,) = await recorder.wait_for(CommandIn)
    assert (event.name, event.text) == (name, "")
    assert fake.callbacks()[0].body == {"type": 5, "data": {"flags": 64}}


async def test_reply_goes_as_interaction_followup_while_fresh(
    make: Make, fake: FakeDiscord
) -> None:
    recorder = Recorder()
    adapter, gateway = await make(recorder)
    guild = FakeGuild()
    payload = fake.slash(guild, "general", MEMBER, "whoami")
    gateway.send("INTERACTION_CREATE", payload)
    (event,) = await recorder.wait_for(CommandIn)

    reply = send(
        "You are Bob", int(event.chat.chat_id), private=True, reply_handle=event.reply_handle
    )
    ids = await adapter.deliver(reply)

    (followup,) = fake.followups()
    assert followup.path == f"/webhooks/{APP_ID}/{payload['token']}"
    assert followup.query["wait"] == "1"  # the message comes back, with its id
    assert followup.body["flags"] == 64
    assert followup.body["content"] == "You are Bob"
    assert followup.body["allowed_mentions"] == {"parse": []}
    assert fake.messages() == []
    assert len(ids) == 1


async def test_stale_reply_handle_falls_back_to_the_channel(make: Make, fake: FakeDiscord) -> None:
    later = FakeClock(datetime.now(UTC) + timedelta(minutes=15))
    adapter, event = await whoami(make, fake, clock=later)

    await adapter.deliver(send("You are Bob", reply_handle=event.reply_handle))

    assert fake.followups() == []
    assert [r.body["content"] for r in fake.messages()] == ["You are Bob"]


async def test_expired_interaction_token_falls_back_to_the_channel(
    make: Make, fake: FakeDiscord
) -> None:
    adapter, event = await whoami(make, fake)
    fake.fail(404, path=r"/webhooks/\d+/[^/]+", code=10015)

    await adapter.deliver(send("You are Bob", reply_handle=event.reply_handle))

    assert len(fake.followups()) == 1
    assert [r.body["content"] for r in fake.messages()] == ["You are Bob"]


async def test_private_answer_to_a_public_command_clears_the_placeholder(
    make: Make, fake: FakeDiscord
) -> None:
    recorder = Recorder()
    adapter, gateway = await make(recorder)
    guild = FakeGuild()
    gateway.send("INTERACTION_CREATE", fake.slash(guild, "general", MEMBER, "help"))
    (event,) = await recorder.wait_for(CommandIn)
    assert fake.callbacks()[0].body == {"type": 5}  # a "thinking…" everyone sees

    error = send("No such command", private=True, reply_handle=event.reply_handle)
    await adapter.deliver(error)

    original = rf"/webhooks/{APP_ID}/[^/]+/messages/@original"
    assert len(fake.calls("GET", original)) == len(fake.calls("DELETE", original)) == 1
    (answer,) = fake.answers
    assert (answer.text, answer.ephemeral, answer.replaced_placeholder) == (
        "No such command",
        True,
        False,
    )


async def test_private_answer_after_a_public_one_keeps_the_public_one(
    make: Make, fake: FakeDiscord
) -> None:
    recorder = Recorder()
    adapter, gateway = await make(recorder)
    gateway.send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", MEMBER, "help"))
    (event,) = await recorder.wait_for(CommandIn)

    await adapter.deliver(send("For everyone", reply_handle=event.reply_handle))
    await adapter.deliver(send("Just for you", private=True, reply_handle=event.reply_handle))

    assert fake.calls("DELETE", rf"/webhooks/{APP_ID}/[^/]+/messages/@original") == []
    shown = [(a.text, a.ephemeral, a.replaced_placeholder) for a in fake.answers]
    assert shown == [("For everyone", False, True), ("Just for you", True, False)]


async def test_private_command_answer_replaces_its_private_placeholder(
    make: Make, fake: FakeDiscord
) -> None:
    adapter, event = await whoami(make, fake)

    await adapter.deliver(send("You are Bob", private=True, reply_handle=event.reply_handle))

    assert fake.calls("GET", rf"/webhooks/{APP_ID}/[^/]+/messages/@original") == []
    (answer,) = fake.answers
    assert (answer.ephemeral, answer.replaced_placeholder) == (True, True)


async def test_slash_command_in_dms_is_the_persons_direct_chat(
    make: Make, fake: FakeDiscord
) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    gateway.send("INTERACTION_CREATE", fake.slash_in_dm(MEMBER, "whoami"))

    (event,) = await recorder.wait_for(CommandIn)
    assert event.chat.chat_id == event.user.user_id == str(MEMBER.user_id)
    assert event.chat.kind is ChatKind.PRIVATE


# --- text commands ---------------------------------------------------------------------


async def test_prefix_text_command_is_the_same_command(make: Make, fake: FakeDiscord) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    guild = FakeGuild()
    gateway.guild_create(guild)

    gateway.message(guild, "general", Person(1, "Another Bot", bot=True), "!help")
    gateway.message(guild, "general", MEMBER, "just chatting about !help")
    gateway.message(guild, "general", MEMBER, "!Help poll")

    (event,) = await recorder.wait_for(CommandIn)
    assert (event.name, event.text, event.reply_handle) == ("help", "poll", "")
    assert event.chat.title == "#general (Branch 42)"
    assert event.user.display_name == "Bob Member"


async def test_text_commands_off_means_no_message_intents(make: Make) -> None:
    adapter, _ = await make(settings=DiscordSettings(text_commands=False))
    intents = adapter.client.intents
    assert (intents.guilds, intents.members) == (True, True)
    assert not (intents.message_content or intents.guild_messages or intents.presences)


# --- buttons ----------------------------------------------------------------------------


async def test_button_press_after_restart(make: Make, fake: FakeDiscord) -> None:
    guild = FakeGuild()
    before, _ = await make()
    rows = ((Button("Yes", "vote:7:0"), Button("No", "vote:7:1")),)
    await before.deliver(send("Strike?", guild.channel_ids["general"], buttons=rows))
    (old_message,) = fake.created
    await before.client.close()

    acknowledged: list[int] = []
    recorder = Recorder(
        EventResult(notice="Vote counted: **No**"),
        before=lambda event: acknowledged.append(len(fake.callbacks())),
    )
    _, gateway = await make(recorder)  # a new client: nothing remembered from before
    press = fake.press(guild, "general", MEMBER, old_message, "vote:7:1")
    gateway.send("INTERACTION_CREATE", press)

    (event,) = await recorder.wait_for(ButtonIn)
    assert event.data == "vote:7:1"
    assert event.user.user_id == str(MEMBER.user_id)
    assert ReplyHandle.decode(event.reply_handle) is not None
    assert acknowledged == [1]
    assert fake.callbacks()[0].body == {"type": 6}  # deferred update: the message stays
    await fake.wait_for(lambda: len(fake.followups()) == 1)
    notice = fake.followups()[0].body
    assert notice["flags"] == 64
    assert notice["content"] == "Vote counted: \\*\\*No\\*\\*"


async def test_failing_button_gets_a_friendly_apology(make: Make, fake: FakeDiscord) -> None:
    def fail(event: object) -> None:
        raise LookupError("no such poll")

    adapter, gateway = await make(Recorder(before=fail))
    guild = FakeGuild()
    await adapter.deliver(
        send("Poll", guild.channel_ids["general"], buttons=((Button("A", "vote:1:0"),),))
    )
    gateway.send(
        "INTERACTION_CREATE", fake.press(guild, "general", MEMBER, fake.created[0], "vote:1:0")
    )

    await fake.wait_for(lambda: len(fake.followups()) == 1)
    body = fake.followups()[0].body
    assert (body["content"], body["flags"]) == ("Sorry, that button didn't work — try again.", 64)


async def test_buttons_become_persistent_components(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    rows = tuple(tuple(Button(f"B{r}{c}", f"b:{r}:{c}") for c in range(6)) for r in range(6))

    await adapter.deliver(send("Pick", buttons=rows))

    components = fake.messages()[0].body["components"]
    assert len(components) == 5 and all(len(row["components"]) == 5 for row in components)
    assert components[0]["components"][0] == {
        "type": 2,
        "style": 2,
        "label": "B00",
        "custom_id": "b:0:0",
        "disabled": False,
    }
    assert adapter.client.persistent_views == []  # nothing kept in memory per message


# --- life-cycle ----------------------------------------------------------------------------


async def test_joining_a_server_and_new_members(make: Make) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    guild = FakeGuild(system_channel=None, channels=("rules", "general"))

    gateway.guild_create(guild)
    gateway.member_add(guild, Person(1, "Some Bot", bot=True))
    gateway.member_add(guild, MEMBER)

    (added,) = await recorder.wait_for(BotAdded)
    (joined,) = await recorder.wait_for(MemberJoined)
    assert added.chat.chat_id == str(guild.channel_ids["rules"])
    assert joined.chat == added.chat
    assert joined.user.display_name == "Bob Member"


async def test_member_join_greets_in_the_system_channel(make: Make) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    guild = FakeGuild(system_channel="picket-line")
    gateway.guild_create(guild)
    gateway.member_add(guild, MEMBER)

    (joined,) = await recorder.wait_for(MemberJoined)
    assert joined.chat.title == "#picket-line (Branch 42)"


async def test_removal_from_a_server_removes_each_channel(make: Make) -> None:
    recorder = Recorder()
    _, gateway = await make(recorder)
    guild = FakeGuild()
    gateway.guild_create(guild)

    gateway.guild_delete(guild)

    removed = await recorder.wait_for(BotRemoved, count=2)
    assert {event.chat.chat_id for event in removed} == {str(i) for i in guild.channel_ids.values()}


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


# --- errors ----------------------------------------------------------------------------------


async def test_429_is_retried_by_discord_py_alone(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(429, retry_after=0.05)

    ids = await adapter.deliver(send("hi"))

    assert len(ids) == 1
    assert len(fake.messages()) == 2  # the 429, then discord.py's one retry


async def test_429_that_persists_becomes_retry_after(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(429, retry_after=0.01, times=5)

    with pytest.raises(RetryAfter):
        await adapter.deliver(send("hi"))
    assert len(fake.messages()) == 5  # discord.py's five tries, none of ours


async def test_long_429_is_left_to_the_outbox(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(429, retry_after=60.0)

    with pytest.raises(RetryAfter) as raised:
        await adapter.deliver(send("hi"))
    assert raised.value.seconds == 60.0
    assert len(fake.messages()) == 1


@pytest.mark.parametrize(("status", "code"), [(403, 50013), (404, 10003)])
async def test_refusals_mean_the_chat_is_gone(
    make: Make, fake: FakeDiscord, status: int, code: int
) -> None:
    adapter, _ = await make()
    fake.fail(status, code=code)

    with pytest.raises(Permanent) as raised:
        await adapter.deliver(send("hi"))
    assert raised.value.chat_gone
    assert len(fake.messages()) == 1


async def test_bad_request_is_permanent_but_the_chat_stays(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    fake.fail(400)

    with pytest.raises(Permanent) as raised:
        await adapter.deliver(send("hi"))
    assert not raised.value.chat_gone


async def test_server_errors_are_transient_after_discord_py_retries(
    make: Make, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_retries(monkeypatch)
    adapter, _ = await make()
    fake.fail(500, times=5)

    with pytest.raises(Transient):
        await adapter.deliver(send("hi"))
    nonces = {r.body["nonce"] for r in fake.messages()}
    assert len(fake.messages()) == 5 and len(nonces) == 1  # same nonce: no duplicates

    fake.fail(503)  # not among discord.py's retried statuses: fails at once
    with pytest.raises(Transient):
        await adapter.deliver(send("hi"))
    assert len(fake.messages()) == 6


async def test_network_failure_is_transient(make: Make, fake: FakeDiscord) -> None:
    adapter, _ = await make()
    discord.http.Route.BASE = "http://127.0.0.1:9/api/v10"  # nothing listens on port 9

    with pytest.raises(Transient):
        await adapter.deliver(send("hi"))


async def test_token_is_never_logged(
    make: Make, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter, _ = await make()
    await adapter.deliver(send("hi"))
    assert caplog.text and TOKEN not in caplog.text


# --- pacing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PacedSend:
    start: float
    answered: float  # when its answer came back: the platform counted it in between
    chat: str


def paced_sends(
    late: list[float], chats: int, round_trips: list[float] | None = None
) -> list[PacedSend]:
    """When a sender following Discord's pacing sends, if each wake-up is late by
    ``late[n]`` (a busy loop, a slow database write), writing to ``chats`` channels,
    each send answered ``round_trips[n]`` seconds after it starts (with one send in
    flight at a time, as a worst case for the windows: every stamp is its answer)."""
    now = 0.0
    pacer = Pacer(PACING, monotonic=lambda: now)
    sent = []
    for n, lateness in enumerate(late):
        chat = str(n % chats)
        now += pacer.wait_for(chat, True) + lateness
        while (wait := pacer.wait_for(chat, True)) > 0:  # the sender asks again on waking
            now += wait
        start = now
        stamp = pacer.record(chat, True)
        if round_trips is not None:
            now += round_trips[n % len(round_trips)]
            pacer.done(stamp)
        sent.append(PacedSend(start, now if round_trips else start, chat))
    return sent


def counted_apart(sends: list[PacedSend], count: int) -> list[float]:
    """For each send and the one ``count`` sends later, the least time the platform
    can have seen between them (the first counted as late as it may have been: at
    its answer, or the in-flight allowance after its start, whichever came first)."""
    return [
        last.start - min(first.answered, first.start + IN_FLIGHT_SECONDS)
        for first, last in zip(sends, sends[count:], strict=False)
    ]


@settings(max_examples=60, deadline=None)
@given(
    late=st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.002, 0.01, 0.05, 0.3]), max_size=300),
    chats=st.integers(1, 40),
    round_trips=st.none() | st.lists(st.sampled_from([0.0, 0.003, 0.02, 0.2]), min_size=1),
)
def test_pacing_never_passes_discords_limits(
    late: list[float], chats: int, round_trips: list[float] | None
) -> None:
    sent = paced_sends(late, chats, round_trips)

    assert all(apart > 1.0 for apart in counted_apart(sent, 50))
    for chat in {send.chat for send in sent}:
        mine = [send for send in sent if send.chat == chat]
        assert all(apart > 5.0 for apart in counted_apart(mine, 5))


def test_pacing_makes_up_for_late_wake_ups() -> None:
    sent = paced_sends([0.002] * 1000, chats=1000)  # every wake-up 2 ms late

    assert len(sent) / sent[-1].start >= 0.95 * 50  # messages per second
