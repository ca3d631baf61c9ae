"""The parity script itself, on the console: every line gets exactly one answer."""

from __future__ import annotations

from tests.support.parity import SCRIPT, console_answers


async def test_every_script_line_gets_one_plain_answer(sqlite_url: str) -> None:
    answers = await console_answers(sqlite_url)
    assert len(answers) == len(SCRIPT)
    assert answers[0].startswith("Hello Alice!")
    assert answers[3] == "I don't know /hepl. Did you mean /help? Send /help for the list."
    assert answers[5] == "Tagged this chat: region:cannock union:unison"
    assert all("[" not in answer.split("\n")[0][:1] for answer in answers)
