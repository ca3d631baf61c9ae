"""Tag expressions choose chats; roles limit who may reach which."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from bot.context import UserError
from bot.targeting import depth, parse_target, stored_target
from storage.alerts import Strike
from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock


@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("all", set(), True),
        ("region:cannock", {"region:cannock"}, True),
        ("region:cannock", {"region:stafford"}, False),
        ("union:unison and region:cannock", {"union:unison", "region:cannock"}, True),
        ("union:unison and region:cannock", {"union:unison"}, False),
        ("region:cannock or region:stafford", {"region:stafford"}, True),
        ("(region:a or region:b) and not union:gmb", {"region:b", "union:gmb"}, False),
        ("(region:a or region:b) and not union:gmb", {"region:b"}, True),
        ("Region:A  OR  region:b", {"region:a"}, True),
        ("region:a or region:b and union:x", {"region:a"}, True),  # and binds tighter
    ],
)
def test_tag_expressions(text: str, tags: set[str], expected: bool) -> None:
    assert parse_target(text).matches(frozenset(tags)) is expected


@pytest.mark.parametrize("text", ["", "region", "region:a and", "(region:a", "region:a xor b:c"])
def test_bad_expressions_get_a_friendly_explanation(text: str) -> None:
    with pytest.raises(UserError, match="I couldn't read the target"):
        parse_target(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" or ".join(f"region:r{n}" for n in range(60)), "keep it to 500"),
        ("not " * 21 + "region:a", "nests 21 deep"),
        ("(" * 21 + "region:a" + ")" * 21, "nests 21 deep"),
        ("not (" * 11 + "region:a" + ")" * 11, "nests 22 deep"),
    ],
)
def test_targets_are_bounded(text: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        parse_target(text)


def test_the_deepest_allowed_target_works() -> None:
    assert parse_target("not " * 20 + "region:a").matches(frozenset({"region:a"}))
    assert parse_target("(" * 20 + "region:a" + ")" * 20).matches(frozenset({"region:a"}))
    assert depth("not (region:a or not (region:b and not region:c))") == 5


def test_an_unreadable_stored_target_matches_nothing_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deep = "not " * 1000 + "region:a"
    for _ in range(3):
        assert not stored_target(deep).matches(frozenset({"region:a"}))
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert stored_target("region:a").matches(frozenset({"region:a"}))


@pytest.fixture
async def alerts(sqlite_url: str, clock: FakeClock) -> AsyncIterator[AlertsConsole]:
    async with AlertsConsole(alerts_config(sqlite_url), clock) as session:
        yield session


async def test_a_stored_thousand_deep_target_breaks_no_listing(
    alerts: AlertsConsole, caplog: pytest.LogCaptureFixture
) -> None:
    """Written before targets were bounded: every tagged chat's /strikes and digest
    failed with RecursionError. Now that one strike concerns no chat, and the rest show."""
    await alerts.say(
        "/tag region:west-midlands",
        '/dispute add UNISON "Sandwell Council" "Pay" region:west-midlands',
    )
    for dates in ("12/3 13/3", "19/3 20/3"):  # no ballot yet: each is confirmed
        asked = await alerts.say(f"/strike add 1 {dates}")
        await alerts.say(":press " + re.findall(r"\[(\d+)\] Go ahead anyway", asked)[0])
    await alerts.say("/digest on")
    async with alerts.app.db.session() as session:
        await session.execute(
            update(Strike).where(Strike.id == 2).values(target="not " * 1000 + "region:a")
        )
    out = await alerts.say("/strikes")
    assert "(strike #1)" in out and "(strike #2)" not in out
    assert "went wrong" not in out
    digest = await alerts.tick(days=6, hours=23)  # Monday 9 March, 08:00 London
    assert "(strike #1)" in digest and "(strike #2)" not in digest
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
