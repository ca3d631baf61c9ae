"""privacy: who may see a poll's voters, where each named vote was cast, scrubs owed

Revision ID: privacy_0001
Revises: polls_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "privacy_0001"
down_revision: str | None = "polls_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Polls made before this showed every voter's name to everyone, without saying
    # so; from now on they show names only to organisers, the new default.
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("poll_ballots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_poll_ballots_chat_id_chats"),
            "chats",
            ["chat_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "scrubs_owed",
        sa.Column("id", ID, nullable=False),
        sa.Column("tables", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scrubs_owed")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("scrubs_owed")
    with op.batch_alter_table("poll_ballots", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_poll_ballots_chat_id_chats"), type_="foreignkey")
        batch_op.drop_column("chat_id")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("public")
