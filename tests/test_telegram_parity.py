"""The parity script on Telegram gives the console's answers, word for word."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.telegram.api import FakeTelegramAPI, group_chat, user
from tests.support.parity import NAME, SCRIPT, marked_console_answers, parity_config
from tests.support.telegram import TelegramSession, addressed

ALICE = user(1001, NAME)
BRANCH = group_chat(-1002002, "Branch")


def plain(text: str) -> str:
    """What a member reads, compared the way :func:`tests.support.parity.plain`
    compares the console's lines: each line without its indentation."""
    return "\n".join(line.strip() for line in text.split("\n"))


async def test_the_script_on_telegram_gives_the_consoles_answers(tmp_path: Path) -> None:
    marked = await marked_console_answers(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    config = parity_config(
        f"sqlite+aiosqlite:///{tmp_path / 'telegram.db'}", f"telegram:{ALICE['id']}"
    )

    async with FakeTelegramAPI() as api, TelegramSession(api, config) as telegram:
        await telegram.start_privately(ALICE)
        # An answer the console shows "(only you)" reaches Alice's private chat.
        answers = [
            plain(
                await (telegram.privately if alone else telegram.ask)(
                    addressed(line), BRANCH, ALICE
                )
            )
            for line, (_, alone) in zip(SCRIPT, marked, strict=True)
        ]

    assert answers == [answer for answer, _ in marked]
