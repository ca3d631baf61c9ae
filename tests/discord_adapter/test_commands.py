"""The Discord adapter's commands: the slash tree made from the registry, its sync,
interactions answered and followed up, and prefix text commands."""

from __future__ import annotations

from datetime import datetime, timedelta

import discord
import pytest

from adapters.discord import DiscordAdapter, DiscordSettings, ReplyHandle
from bot.clock import UTC
from bot.commands import build_registry
from bot.parse import parse
from bot.registry import Role
from bot.types import ChatKind, CommandIn, Event, UserRef
from tests.discord_adapter.harness import GUILD_ADMIN, MEMBER, REGISTRY, Make, send, whoami
from tests.fakes.discord import APP_ID, FakeDiscord, FakeGuild, Person, Recorder
from tests.support.clock import FakeClock

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
