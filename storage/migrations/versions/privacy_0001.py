"""privacy: who may see a poll's voters, where each named vote was cast, scrubs owed

Revision ID: privacy_0001
Revises: polls_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "privacy_0001"
down_revision: str | None = "boundary_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# PostgreSQL's ANALYZE (autovacuum runs it) copies sample values of each column into
# pg_statistic, a catalog no VACUUM of ours rewrites: an open poll's secret and
# voter keys, people's names and ids could be kept there. These columns are looked
# up through unique indexes, so the planner loses nothing without their samples.
UNSAMPLED = {
    "polls": ("secret",),
    "poll_ballots": ("voter",),
    "people": ("platform_user_id", "display_name"),
    "chats": ("platform_chat_id", "title"),
    "outbox": ("dedupe_key", "error"),
}


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
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in UNSAMPLED.items():
            for column in columns:
                op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS 0')


def downgrade() -> None:
    op.drop_table("scrubs_owed")
    with op.batch_alter_table("poll_ballots", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_poll_ballots_chat_id_chats"), type_="foreignkey")
        batch_op.drop_column("chat_id")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("public")
