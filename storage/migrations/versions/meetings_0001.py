"""meetings: targets, RSVPs, posted copies, reminder claims, chat settings, confirmations

Revision ID: meetings_0001
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "meetings_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("meetings",)
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meeting_settings",
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("reminders", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_meeting_settings_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_meeting_settings")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("agenda", sa.String(length=500), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("repeat_text", sa.String(length=200), nullable=False),
        sa.Column("reminders", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_meetings_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_meetings_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meetings_next_reminder_at"), ["next_reminder_at"], unique=False
        )

    op.create_table(
        "meeting_posts",
        sa.Column("id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("occurrence", WHEN, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_meeting_posts_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_posts_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_posts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_meeting_posts_dedupe_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meeting_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_posts_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(
            "ix_meeting_posts_occurrence", ["meeting_id", "occurrence"], unique=False
        )

    op.create_table(
        "meeting_proposals",
        sa.Column("id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_meeting_proposals_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_proposals_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_meeting_proposals_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_proposals")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meeting_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_proposals_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "meeting_reminder_sends",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("occurrence", WHEN, nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_reminder_sends_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "occurrence", "offset_minutes", name=op.f("pk_meeting_reminder_sends")
        ),
    )
    op.create_table(
        "meeting_rsvps",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("occurrence", WHEN, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("answer", sa.String(length=1), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_rsvps_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_meeting_rsvps_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "occurrence", "person_id", name=op.f("pk_meeting_rsvps")
        ),
    )
    with op.batch_alter_table("meeting_rsvps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_rsvps_person_id"), ["person_id"], unique=False)

    op.create_table(
        "meeting_skips",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("occurrence", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_skips_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "occurrence", name=op.f("pk_meeting_skips")),
    )
    op.create_table(
        "meeting_targets",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("chat_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_meeting_targets_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_targets_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "chat_id", name=op.f("pk_meeting_targets")),
    )
    with op.batch_alter_table("meeting_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_targets_chat_id"), ["chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_targets_chat_id"))

    op.drop_table("meeting_targets")
    op.drop_table("meeting_skips")
    with op.batch_alter_table("meeting_rsvps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_rsvps_person_id"))

    op.drop_table("meeting_rsvps")
    op.drop_table("meeting_reminder_sends")
    with op.batch_alter_table("meeting_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_proposals_person_id"))

    op.drop_table("meeting_proposals")
    with op.batch_alter_table("meeting_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_posts_occurrence")
        batch_op.drop_index(batch_op.f("ix_meeting_posts_chat_id"))

    op.drop_table("meeting_posts")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_next_reminder_at"))
        batch_op.drop_index(batch_op.f("ix_meetings_chat_id"))

    op.drop_table("meetings")
    op.drop_table("meeting_settings")
