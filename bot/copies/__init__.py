"""Copies: one message posted to many chats and kept in step, for every feature.

An announcement (alerts, pickets, strikes, ballots), a meeting card and a poll are
each posted to many chats and then edited as they change — a correction, a new
count, a cancel. All of them keep their copies in the one ``copies`` table and use
this one API, so a feature that posts copies needs no table of its own:

* :mod:`.posting` — :func:`post` a message to many chats (copy rows and outbox rows
  in one transaction), or :func:`record` copies whose messages the core queues;
  :func:`edit` or :func:`delete` every copy; and in :mod:`storage.copies`, find
  them: ``live`` (with their outbox rows), ``chats_of``, ``posted_in`` a chat,
  ``by_message`` (the platform message a button or a reply came from);
* :mod:`.announce` — announcements with targeting, a preview and Send button above
  ``confirm_above_chats``, big sends written in chunks, corrections and cancels;
  :func:`hold` puts the same preview in front of something that posts itself;
* :mod:`.receipt` — the sender's live delivery receipt.

A copy is found by its subject, ``(subject, subject_id)``, and linked to its outbox
row by the row's dedupe key. A volunteer rota, say, would post each shift to the
chats that staff it with::

    messages = [(chat, Outgoing(chat_ref(chat), card, dedupe_key=f"rota:{shift.id}:{chat.id}"))
                for chat in chats]
    await post(session, services, "rota", shift.id, messages, BULK_LANE,
               occurrence=shift.starts_at)

then, when someone signs up, ``await edit(session, services, "rota", shift.id,
new_card)``; when the shift is called off, ``edit`` to a cancelled card or
``delete``; and a "Sign up" button pressed under a copy finds its shift with
``posted_in`` or ``by_message``. Nothing new in the database, no new migration.
"""

from __future__ import annotations

from bot.copies.announce import (
    Action,
    announce,
    audit,
    change_subject,
    hold,
    post_held_with,
    register,
    restyle,
    target_text,
)
from bot.copies.posting import delete, edit, post, record
from bot.copies.receipt import Subject, delivery, receipt_text, title

__all__ = [
    "Action",
    "Subject",
    "announce",
    "audit",
    "change_subject",
    "delete",
    "delivery",
    "edit",
    "hold",
    "post",
    "post_held_with",
    "receipt_text",
    "record",
    "register",
    "restyle",
    "target_text",
    "title",
]
