"""Run every benchmark: ``python -m bench`` (or ``make bench``)."""

from __future__ import annotations

import asyncio
import logging

from bench import alerts, discord, flood, foundation, instances, meetings, polls, rotas, telegram


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    await foundation.main()
    await telegram.main()
    await flood.main()
    await meetings.main()
    await discord.main()
    await alerts.main()
    await polls.main()
    await rotas.main()
    await instances.main()


if __name__ == "__main__":
    asyncio.run(main())
