"""Forum topics as chats of their own.

In a forum supergroup each topic is its own conversation ("Pickets",
"Meetings"), so to the core it is a chat of its own, with its own tags,
organisers' announcements, meetings, polls and digests. Its platform id is
``"<chat id>/<topic's message_thread_id>"``; every call that puts a message there
splits it again into Telegram's ``chat_id`` and ``message_thread_id``. A group's
General topic has no thread id: it is the group itself.
"""

from __future__ import annotations

from telegram import Message

SEPARATOR = "/"


def topic_of(message: Message) -> int | None:
    """The forum topic ``message`` was sent in, if it was (not General)."""
    if message.chat.is_forum and message.is_topic_message and message.message_thread_id:
        return message.message_thread_id
    return None


def topic_name(message: Message) -> str:
    """The topic's name where the update tells it: on the topic's creation, which a
    message in a topic quotes as what it replies to unless it replies to another."""
    for candidate in (message, message.reply_to_message):
        created = candidate.forum_topic_created if candidate is not None else None
        if created is not None:
            return created.name
    return ""


def joined(chat_id: int | str, thread: int) -> str:
    return f"{chat_id}{SEPARATOR}{thread}"


def split(chat_id: str) -> tuple[str, int | None]:
    """``(Telegram's chat_id, message_thread_id or None)`` of a platform chat id."""
    group, _, thread = chat_id.partition(SEPARATOR)
    return group, int(thread) if thread else None
