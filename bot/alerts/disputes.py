"""/dispute: the disputes that ballots, strikes and pickets belong to.

A dispute's tags are a tag expression naming the chats it concerns: its news is
announced there by default, and /strikes and the digest show it there.
"""

from __future__ import annotations

from bot.alerts.alert import may_change
from bot.context import Context, UserError
from bot.copies import target_text
from bot.registry import Command, Kind, Param, Registry, Role
from bot.targeting import reachable, resolve
from bot.text import Rich, bold, italic, join, rich
from bot.types import Outgoing
from bot.values import fit
from storage.alerts import Dispute, open_disputes

TAGS_HELP = (
    "which chats it concerns: tags (all of them must match) or an expression with and / or "
    "/ not, e.g. region:west-midlands union:unison"
)


async def find_dispute(ctx: Context, dispute_id: int, *, must_be_open: bool = True) -> Dispute:
    dispute = await ctx.session.get(Dispute, dispute_id)
    if dispute is None:
        raise UserError(f"There is no dispute #{dispute_id}. /dispute list shows them.")
    if must_be_open and not dispute.is_open:
        raise UserError(f"Dispute #{dispute_id} is closed.")
    return dispute


def label(dispute: Dispute) -> str:
    return f"{dispute.union_name} at {dispute.employer}"


async def may_attach(ctx: Context, dispute: Dispute, what: str) -> None:
    """An organiser adds ballots, strikes and pickets only to a dispute they made,
    or one whose chats they all organise; a TULO or admin to any."""
    if ctx.role >= Role.TULO or (
        dispute.created_by is not None and dispute.created_by == ctx.person.id
    ):
        return
    try:
        await resolve(ctx, dispute.target, what)
    except UserError:
        raise UserError(
            f"Dispute #{dispute.id} reaches chats you don't organise: only whoever made it, "
            f"a TULO or an admin can {what} for it."
        ) from None


async def add(ctx: Context) -> list[Outgoing]:
    target = target_text(ctx.args["tags"])
    _, chats = await reachable(ctx, target, "record disputes")
    dispute = Dispute(
        union_name=fit(ctx.args["union"], 64, "The union"),
        employer=fit(ctx.args["employer"], 200, "The employer or workplace"),
        summary=fit(ctx.args["summary"], 300, "The summary"),
        target=target,
        is_open=True,
        created_by=ctx.person.id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(dispute)
    await ctx.session.flush()
    reached = len(chats)
    return [
        ctx.reply(
            join(
                [
                    rich("Added ", bold(f"dispute #{dispute.id}"), f": {label(dispute)}."),
                    rich(f"Its news goes to chats matching {target} ({reached} now)."),
                    rich(
                        "Next: ",
                        f"/ballot add {dispute.id} …, /strike add {dispute.id} … or "
                        f"/picket add {dispute.id} …",
                    ),
                ]
            )
        )
    ]


async def list_disputes(ctx: Context) -> list[Outgoing]:
    disputes = await open_disputes(ctx.session)
    if not disputes:
        return [ctx.reply("No open disputes. An organiser can add one with /dispute add.")]
    lines: list[Rich] = [rich(bold("Open disputes"))]
    for dispute in disputes:
        lines.append(
            rich(
                f"#{dispute.id} ",
                bold(label(dispute)),
                f" — {dispute.summary} ",
                italic(f"({dispute.target})"),
            )
        )
    return [ctx.reply(join(lines))]


async def close(ctx: Context) -> list[Outgoing]:
    dispute = await find_dispute(ctx, ctx.args["id"], must_be_open=False)
    may_change(ctx, dispute.created_by, f"dispute #{dispute.id}")
    if not dispute.is_open:
        return [ctx.reply(f"Dispute #{dispute.id} was already closed.")]
    dispute.is_open, dispute.closed_at = False, ctx.clock.now()
    return [
        ctx.reply(
            f"Closed dispute #{dispute.id} ({label(dispute)}). Its strikes, ballots and pickets "
            "no longer show in /strikes or the digest."
        )
    ]


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "dispute",
            "Record the disputes that ballots, strikes and pickets belong to",
            subcommands=(
                Command(
                    "add",
                    "Add a dispute",
                    add,
                    (
                        Param("union", "the union, e.g. UNISON"),
                        Param("employer", "employer or workplace, in quotes if several words"),
                        Param("summary", "one line saying what it is about, in quotes"),
                        Param("tags", TAGS_HELP, Kind.REST),
                    ),
                    role=Role.ORGANISER,
                ),
                Command("list", "List open disputes", list_disputes),
                Command(
                    "close",
                    "Close a dispute",
                    close,
                    (Param("id", "the dispute's number", Kind.INT),),
                    role=Role.ORGANISER,
                ),
            ),
            example=(
                '/dispute add UNISON "Sandwell Council" "Refuse workers\' pay" '
                "region:west-midlands union:unison"
            ),
        )
    )
