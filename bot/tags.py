"""Chat tags (``region:west-midlands``, ``union:unison``) say which chats an
announcement reaches. Organisers tag their own chats; anyone can list them."""

from __future__ import annotations

import re

from bot.context import Context, UserError
from bot.registry import Command, Kind, Param, Registry, Role
from bot.text import bold, code, join, rich
from bot.types import Outgoing
from storage.chats import add_tags, chat_tags, remove_tags

TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}:[a-z0-9][a-z0-9-]{0,80}$")
TAG_EXAMPLE = "region:west-midlands union:unison"
# Enough for a region, a union, a workplace and more; every announcement checks
# every chat's tags, so a chat cannot collect thousands.
MAX_TAGS = 50


def clean_tags(values: list[str]) -> list[str]:
    tags = [value.strip().lower() for value in values]
    bad = [tag for tag in tags if not TAG.match(tag)]
    if bad:
        raise UserError(
            f"“{bad[0]}” is not a tag. A tag is key:value in lower-case letters, digits and "
            f"dashes, e.g. {TAG_EXAMPLE}"
        )
    return tags


async def tag(ctx: Context) -> list[Outgoing]:
    wanted = clean_tags(ctx.args["tags"])
    current = set(await chat_tags(ctx.session, ctx.chat))
    new = current.union(wanted) - current
    if len(current) + len(new) > MAX_TAGS:
        raise UserError(
            f"A chat can have at most {MAX_TAGS} tags; this one has {len(current)}, and that "
            f"would add {len(new)}. Remove some with /untag first."
        )
    added = await add_tags(ctx.session, ctx.chat, wanted)
    if not added:
        return [ctx.reply("This chat already has those tags.")]
    return [ctx.reply(rich("Tagged this chat: ", code(" ".join(added))))]


async def untag(ctx: Context) -> list[Outgoing]:
    removed = await remove_tags(ctx.session, ctx.chat, clean_tags(ctx.args["tags"]))
    return [ctx.reply(f"Removed {removed} tag{'s' if removed != 1 else ''}.")]


async def tags(ctx: Context) -> list[Outgoing]:
    current = await chat_tags(ctx.session, ctx.chat)
    if not current:
        return [
            ctx.reply(
                rich(
                    "This chat has no tags yet. An organiser can add some: ",
                    code(f"/tag {TAG_EXAMPLE}"),
                )
            )
        ]
    return [ctx.reply(join([rich(bold("Tags of this chat")), code(" ".join(current))]))]


def register(registry: Registry) -> None:
    values = Param("tags", "one or more key:value tags", Kind.WORD, repeat=True)
    registry.add(
        Command(
            "tag",
            "Tag this chat so announcements can find it",
            tag,
            (values,),
            example=f"/tag {TAG_EXAMPLE} region:cannock topic:pay",
            role=Role.ORGANISER,
        )
    )
    registry.add(
        Command(
            "untag",
            "Remove tags from this chat",
            untag,
            (values,),
            example="/untag topic:pay",
            role=Role.ORGANISER,
        )
    )
    registry.add(Command("tags", "Show this chat's tags", tags))
