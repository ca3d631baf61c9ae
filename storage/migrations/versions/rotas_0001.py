"""rotas: volunteer rotas with slots, sign-ups and waiting lists, skipped dates, sends

Revision ID: rotas_0001
Revises: newcomers_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rotas_0001"
down_revision: str | None = "newcomers_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rotas",
        sa.Column("id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("repeat_text", sa.String(length=200), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("shown", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_rotas_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_rotas_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotas")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("rotas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rotas_chat_id"), ["chat_id"], unique=False)

    op.create_table(
        "rota_sends",
        sa.Column("rota_id", ID, nullable=False),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["rota_id"], ["rotas.id"], name=op.f("fk_rota_sends_rota_id_rotas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rota_id", "occurrence", "kind", name=op.f("pk_rota_sends")),
    )
    op.create_table(
        "rota_skips",
        sa.Column("rota_id", ID, nullable=False),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rota_id"], ["rotas.id"], name=op.f("fk_rota_skips_rota_id_rotas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rota_id", "occurrence", name=op.f("pk_rota_skips")),
    )
    op.create_table(
        "rota_slots",
        sa.Column("id", ID, nullable=False),
        sa.Column("rota_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rota_id"], ["rotas.id"], name=op.f("fk_rota_slots_rota_id_rotas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_slots")),
        sa.UniqueConstraint("rota_id", "position", name=op.f("uq_rota_slots_rota_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("rota_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rota_slots_rota_id"), ["rota_id"], unique=False)

    op.create_table(
        "rota_signups",
        sa.Column("id", ID, nullable=False),
        sa.Column("rota_id", ID, nullable=False),
        sa.Column("slot_id", ID, nullable=False),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=True),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_rota_signups_chat_id_chats"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_rota_signups_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rota_id"],
            ["rotas.id"],
            name=op.f("fk_rota_signups_rota_id_rotas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["rota_slots.id"],
            name=op.f("fk_rota_signups_slot_id_rota_slots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_signups")),
        sa.UniqueConstraint(
            "slot_id", "occurrence", "person_id", name=op.f("uq_rota_signups_slot_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("rota_signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rota_signups_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rota_signups_rota_id"), ["rota_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rota_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rota_signups_rota_id"))
        batch_op.drop_index(batch_op.f("ix_rota_signups_person_id"))

    op.drop_table("rota_signups")
    with op.batch_alter_table("rota_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rota_slots_rota_id"))

    op.drop_table("rota_slots")
    op.drop_table("rota_skips")
    op.drop_table("rota_sends")
    with op.batch_alter_table("rotas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rotas_chat_id"))

    op.drop_table("rotas")
