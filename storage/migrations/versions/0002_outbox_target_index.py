"""index outbox.target_id, which every edit looks up

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_target_id"), "outbox", ["target_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_target_id"), table_name="outbox")
