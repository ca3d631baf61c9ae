"""The Discord adapter's buttons: persistent components, presses after a restart,
a friendly apology when one fails."""

from __future__ import annotations

from adapters.discord import ReplyHandle
from bot.types import Button, ButtonIn, EventResult
from tests.discord_adapter.harness import MEMBER, Make, send
from tests.fakes.discord import FakeDiscord, FakeGuild, Recorder

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
