"""A fake Discord for tests: REST served locally, gateway payloads fed to discord.py."""

from .api import (
    APP_ID,
    TOKEN,
    Answer,
    FakeDiscord,
    FakeGuild,
    Gateway,
    Person,
    Recorder,
    Upload,
    quick_ready,
    quick_retries,
)

__all__ = [
    "APP_ID",
    "TOKEN",
    "Answer",
    "FakeDiscord",
    "FakeGuild",
    "Gateway",
    "Person",
    "Recorder",
    "Upload",
    "quick_ready",
    "quick_retries",
]
