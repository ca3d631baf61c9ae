"""Tag expressions choose chats; roles limit who may reach which."""

from __future__ import annotations

import pytest

from bot.context import UserError
from bot.targeting import parse_target


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
