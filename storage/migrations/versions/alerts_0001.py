"""disputes, ballots, strikes, pickets, announcements and the weekly digest

Revision ID: alerts_0001
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerts_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("alerts",)
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", ID, nullable=False),
        sa.Column("union_name", sa.String(length=64), nullable=False),
        sa.Column("employer", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        _fk("disputes", "created_by", "people.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "ballots",
        sa.Column("id", ID, nullable=False),
        sa.Column("dispute_id", ID, nullable=False),
        sa.Column("opens", sa.Date(), nullable=False),
        sa.Column("closes", sa.Date(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("public_service", sa.Boolean(), nullable=False),
        sa.Column("turnout", sa.Integer(), nullable=True),
        sa.Column("yes_votes", sa.Integer(), nullable=True),
        sa.Column("no_votes", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("result_at", WHEN, nullable=True),
        _fk("ballots", "dispute_id", "disputes.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sqlite_autoincrement=True,
    )
    _index("ballots", "dispute_id")
    op.create_table(
        "strikes",
        sa.Column("id", ID, nullable=False),
        sa.Column("dispute_id", ID, nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("strikes", "created_by", "people.id", "SET NULL"),
        _fk("strikes", "dispute_id", "disputes.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strikes")),
        sqlite_autoincrement=True,
    )
    _index("strikes", "dispute_id")
    op.create_table(
        "pickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("dispute_id", ID, nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("entrance", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("pickets", "created_by", "people.id", "SET NULL"),
        _fk("pickets", "dispute_id", "disputes.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickets")),
        sqlite_autoincrement=True,
    )
    _index("pickets", "dispute_id")
    for claim in ("picket_pledges", "picket_reminders"):
        op.create_table(
            claim,
            sa.Column("picket_id", ID, nullable=False),
            sa.Column("person_id", ID, nullable=False),
            sa.Column(
                "created_at" if claim == "picket_pledges" else "sent_at", WHEN, nullable=False
            ),
            _fk(claim, "person_id", "people.id", "CASCADE"),
            _fk(claim, "picket_id", "pickets.id", "CASCADE"),
            sa.PrimaryKeyConstraint("picket_id", "person_id", name=op.f(f"pk_{claim}")),
        )
        _index(claim, "person_id")
    op.create_table(
        "broadcasts",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", ID, nullable=True),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("sender_id", ID, nullable=True),
        sa.Column("chat_count", sa.Integer(), nullable=False),
        sa.Column("receipt_row_id", ID, nullable=True),
        sa.Column("receipt_at", WHEN, nullable=True),
        sa.Column("receipt_shown", sa.Text(), nullable=False),
        sa.Column("receipt_final", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        _fk("broadcasts", "receipt_row_id", "outbox.id", "SET NULL"),
        _fk("broadcasts", "sender_id", "people.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_subject", ["kind", "subject_id"], unique=False)
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
    _index("broadcast_copies", "outbox_id")
    op.create_table(
        "alert_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("broadcast_id", ID, nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("chat_count", sa.Integer(), nullable=False),
        _fk("alert_audit", "actor_id", "people.id", "SET NULL"),
        _fk("alert_audit", "broadcast_id", "broadcasts.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_audit")),
        sqlite_autoincrement=True,
    )
    _index("alert_audit", "broadcast_id")
    op.create_table(
        "digest_settings",
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        _fk("digest_settings", "chat_id", "chats.id", "CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_digest_settings")),
    )
    op.create_table(
        "digest_claims",
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("sent_at", WHEN, nullable=False),
        _fk("digest_claims", "chat_id", "chats.id", "CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "week", name=op.f("pk_digest_claims")),
    )


def downgrade() -> None:
    for table in (
        "digest_claims",
        "digest_settings",
        "alert_audit",
        "broadcast_copies",
        "broadcasts",
        "picket_reminders",
        "picket_pledges",
        "pickets",
        "strikes",
        "ballots",
        "disputes",
    ):
        op.drop_table(table)
