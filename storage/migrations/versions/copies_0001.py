"""copies: one table for every message posted to many chats

Announcement copies (``broadcast_copies``), meeting cards (``meeting_posts``) and
poll copies (``poll_posts``) move into ``copies``, found by subject and linked to
their outbox rows by dedupe key. Announcement and poll copies had no key of their
own: it is the key their outbox rows were always queued under
(``broadcast:<id>:<chat>``, ``poll:<id>:<chat>``). A meeting card's kind, offset
and lateness go into ``detail``. The downgrade moves them back, finding each
outbox row again by its key.

Revision ID: copies_0001
Revises: names_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "copies_0001"
down_revision: str | None = "names_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

# What each dialect needs to build and read ``detail`` (the rest is plain SQL).
_SQL = {
    "sqlite": {
        "empty": "'{}'",
        "meeting": "json_object('kind', kind, 'offset', offset_minutes, "
        "'late', json(CASE WHEN late THEN 'true' ELSE 'false' END))",
        "kind": "json_extract(detail, '$.kind')",
        "offset": "json_extract(detail, '$.offset')",
        "late": "json_extract(detail, '$.late')",
    },
    "postgresql": {
        "empty": "CAST('{}' AS JSON)",
        "meeting": "json_build_object('kind', kind, 'offset', offset_minutes, 'late', late)",
        "kind": "detail->>'kind'",
        "offset": "CAST(detail->>'offset' AS INTEGER)",
        "late": "CAST(detail->>'late' AS BOOLEAN)",
    },
}


def _sql() -> dict[str, str]:
    return _SQL[op.get_bind().dialect.name]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "copies",
        sa.Column("id", ID, nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("occurrence", WHEN, nullable=True),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _fk("copies", "chat_id", "chats.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copies")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_copies_dedupe_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_copies_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(
            "ix_copies_subject", ["subject", "subject_id", "occurrence"], unique=False
        )
    sql = _sql()
    columns = "subject, subject_id, occurrence, chat_id, dedupe_key, detail"
    op.execute(
        f"INSERT INTO copies ({columns}) "
        "SELECT 'broadcast', broadcast_id, NULL, chat_id, "
        f"'broadcast:' || broadcast_id || ':' || chat_id, {sql['empty']} "
        "FROM broadcast_copies ORDER BY broadcast_id, chat_id"
    )
    op.execute(
        f"INSERT INTO copies ({columns}) "
        f"SELECT 'meeting', meeting_id, occurrence, chat_id, dedupe_key, {sql['meeting']} "
        "FROM meeting_posts ORDER BY id"
    )
    op.execute(
        f"INSERT INTO copies ({columns}) "
        "SELECT 'poll', poll_id, NULL, chat_id, "
        f"'poll:' || poll_id || ':' || chat_id, {sql['empty']} "
        "FROM poll_posts ORDER BY poll_id, chat_id"
    )
    op.drop_table("broadcast_copies")
    op.drop_table("meeting_posts")
    op.drop_table("poll_posts")


# The outbox row each copy's key names (NULL where it was never queued).
_ROW = "(SELECT outbox.id FROM outbox WHERE outbox.dedupe_key = copies.dedupe_key)"


def downgrade() -> None:
    op.create_table(
        "broadcast_copies",
        sa.Column("broadcast_id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("outbox_id", ID, nullable=True),
        _fk("broadcast_copies", "broadcast_id", "broadcasts.id", "CASCADE"),
        _fk("broadcast_copies", "chat_id", "chats.id", "CASCADE"),
        _fk("broadcast_copies", "outbox_id", "outbox.id", "CASCADE"),
        sa.PrimaryKeyConstraint("broadcast_id", "chat_id", name=op.f("pk_broadcast_copies")),
    )
    with op.batch_alter_table("broadcast_copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_copies_outbox_id"), ["outbox_id"], unique=False
        )
    op.create_table(
        "meeting_posts",
        sa.Column("id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("occurrence", WHEN, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        _fk("meeting_posts", "chat_id", "chats.id", "CASCADE"),
        _fk("meeting_posts", "meeting_id", "meetings.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_posts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_meeting_posts_dedupe_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meeting_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_posts_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(
            "ix_meeting_posts_occurrence", ["meeting_id", "occurrence"], unique=False
        )
    op.create_table(
        "poll_posts",
        sa.Column("poll_id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("outbox_id", ID, nullable=True),
        _fk("poll_posts", "chat_id", "chats.id", "CASCADE"),
        _fk("poll_posts", "outbox_id", "outbox.id", "SET NULL"),
        _fk("poll_posts", "poll_id", "polls.id", "CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "chat_id", name=op.f("pk_poll_posts")),
    )
    with op.batch_alter_table("poll_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_posts_chat_id"), ["chat_id"], unique=False)
    sql = _sql()
    # Only copies whose subject still exists: the old tables had foreign keys.
    op.execute(
        "INSERT INTO broadcast_copies (broadcast_id, chat_id, outbox_id) "
        f"SELECT subject_id, chat_id, {_ROW} FROM copies WHERE subject = 'broadcast' "
        "AND subject_id IN (SELECT id FROM broadcasts) ORDER BY id"
    )
    op.execute(
        "INSERT INTO meeting_posts "
        "(meeting_id, occurrence, chat_id, kind, offset_minutes, late, dedupe_key) "
        f"SELECT subject_id, occurrence, chat_id, {sql['kind']}, {sql['offset']}, "
        f"{sql['late']}, dedupe_key FROM copies WHERE subject = 'meeting' "
        "AND subject_id IN (SELECT id FROM meetings) ORDER BY id"
    )
    op.execute(
        "INSERT INTO poll_posts (poll_id, chat_id, outbox_id) "
        f"SELECT subject_id, chat_id, {_ROW} FROM copies WHERE subject = 'poll' "
        "AND subject_id IN (SELECT id FROM polls) ORDER BY id"
    )
    op.drop_table("copies")
