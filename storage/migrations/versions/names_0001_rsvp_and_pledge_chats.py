"""names: the chat each RSVP and "I'll be there" was pressed in

Revision ID: names_0001
Revises: platform_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "names_0001"
down_revision: str | None = "platform_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Organisers see the names pressed in their own chat only. Rows from before this
# have no chat (NULL) and so are counted but never named.
TABLES = ("meeting_rsvps", "picket_pledges")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("chat_id", ID, nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_chat_id_chats"),
                "chats",
                ["chat_id"],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_chat_id_chats"), type_="foreignkey")
            batch_op.drop_column("chat_id")
