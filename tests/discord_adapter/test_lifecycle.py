"""The Discord adapter's life-cycle: starting and stopping, the invite link, joining
and leaving servers, new members."""

from __future__ import annotations

import pytest

from adapters.discord import INVITE_PERMISSIONS, DiscordAdapter, DiscordSettings, invite_url
from bot.types import BotAdded, BotRemoved, CommandIn, MemberJoined
from tests.discord_adapter.harness import MEMBER, REGISTRY, Make
from tests.fakes.discord import APP_ID, TOKEN, FakeDiscord, FakeGuild, Gateway, Person, Recorder

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
