"""polls, their posted copies and ballots

Revision ID: polls_0001
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "polls_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("polls",)
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=True),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("multi", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("hide_results", sa.Boolean(), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret", sa.String(length=64), nullable=True),
        sa.Column("shown", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["people.id"],
            name=op.f("fk_polls_creator_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "poll_posts",
        sa.Column("poll_id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("outbox_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_poll_posts_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_poll_posts_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_posts_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "chat_id", name=op.f("pk_poll_posts")),
    )
    with op.batch_alter_table("poll_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_posts_chat_id"), ["chat_id"], unique=False)

    op.create_table(
        "poll_ballots",
        sa.Column("poll_id", ID, nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("person_id", ID, nullable=True),
        sa.Column("choices", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_poll_ballots_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_ballots_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "voter", name=op.f("pk_poll_ballots")),
    )
    with op.batch_alter_table("poll_ballots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_ballots_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("poll_ballots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_ballots_person_id"))
    op.drop_table("poll_ballots")
    with op.batch_alter_table("poll_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_posts_chat_id"))
    op.drop_table("poll_posts")
    op.drop_table("polls")
