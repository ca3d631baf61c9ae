"""rotas: single dates moved (/rota move)

Revision ID: rotas_0002
Revises: rotas_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rotas_0002"
down_revision: str | None = "rotas_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rotas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moves", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rotas", schema=None) as batch_op:
        batch_op.drop_column("moves")
