"""newcomers: each chat's welcome, and the follow-up list of people who joined

Revision ID: newcomers_0001
Revises: names_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "newcomers_0001"
down_revision: str | None = "copies_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Names and ids, never sampled into pg_statistic (as privacy_0001 does for people).
UNSAMPLED = ("platform_user_id", "display_name")


def upgrade() -> None:
    op.create_table(
        "newcomer_settings",
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("welcome_text", sa.String(length=1000), nullable=False),
        sa.Column("welcome_on", sa.Boolean(), nullable=False),
        sa.Column("follow_up", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_newcomer_settings_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_newcomer_settings")),
    )
    op.create_table(
        "newcomers",
        sa.Column("id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", ID, nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_newcomers_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["people.id"],
            name=op.f("fk_newcomers_claimed_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_newcomers")),
        sa.UniqueConstraint(
            "chat_id", "platform", "platform_user_id", name=op.f("uq_newcomers_chat_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("newcomers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_newcomers_chat_id"), ["chat_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for column in UNSAMPLED:
            op.execute(f'ALTER TABLE "newcomers" ALTER COLUMN "{column}" SET STATISTICS 0')


def downgrade() -> None:
    with op.batch_alter_table("newcomers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_newcomers_chat_id"))
    op.drop_table("newcomers")
    op.drop_table("newcomer_settings")
