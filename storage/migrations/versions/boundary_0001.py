"""the organisation's boundary: approved chats, invite codes, who made a ballot

Every chat already known is approved: it was trusted before approval existed.
This revision also joins the capabilities' branches into one head.

Revision ID: boundary_0001
Revises: 0002, alerts_0001, meetings_0001, polls_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "boundary_0001"
down_revision: str | Sequence[str] | None = ("0002", "alerts_0001", "meetings_0001", "polls_0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "chats", sa.Column("approved", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(sa.text("UPDATE chats SET approved = :yes").bindparams(yes=True))
    op.create_table(
        "invites",
        sa.Column("id", ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("used_chat_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_invites_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["used_chat_id"],
            ["chats.id"],
            name=op.f("fk_invites_used_chat_id_chats"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invites_code_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table(
        "ballots", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        for column in ("created_by", "result_by"):
            batch_op.add_column(sa.Column(column, ID, nullable=True))
            batch_op.create_foreign_key(
                op.f(f"fk_ballots_{column}_people"),
                "people",
                [column],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    with op.batch_alter_table(
        "ballots", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        for column in ("result_by", "created_by"):
            batch_op.drop_constraint(op.f(f"fk_ballots_{column}_people"), type_="foreignkey")
            batch_op.drop_column(column)
    op.drop_table("invites")
    op.drop_column("chats", "approved")
