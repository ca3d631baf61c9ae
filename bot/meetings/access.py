"""Which meetings a command may see and change, from the chat it is typed in.

A meeting belongs to the chat it was added in and the chats it was posted to; it
is seen from any of them. It is changed by the organiser who added it, an
organiser of the chat it was added in, or a TULO — an organiser of one target
chat cannot cancel a meeting a TULO posted to fifty.
"""

from __future__ import annotations

from bot.context import Context, UserError
from bot.registry import Role
from storage.meetings import Meeting, MeetingStatus, is_target


async def visible(ctx: Context, ident: int) -> Meeting:
    """A meeting of this chat (posted here or added here), still on."""
    meeting = await ctx.session.get(Meeting, ident)
    if meeting is None or (
        meeting.chat_id != ctx.chat.id and not await is_target(ctx.session, ident, ctx.chat.id)
    ):
        raise UserError(
            f"There's no meeting #{ident} here. /meetings lists the ones coming up in this chat."
        )
    if meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(f"Meeting #{ident} was cancelled.")
    return meeting


async def manageable(ctx: Context, ident: int) -> Meeting:
    meeting = await visible(ctx, ident)
    if (
        meeting.created_by != ctx.person.id
        and meeting.chat_id != ctx.chat.id
        and ctx.role < Role.TULO
    ):
        raise UserError(
            f"Meeting #{ident} was added in another chat: the organiser who added it, an "
            "organiser of that chat or a TULO can change it."
        )
    return meeting
