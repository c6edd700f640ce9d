"""quiet hours, several daily digests and a weekly digest: digests unique per chat, day and slot

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _resize_digest_time(length: int) -> None:
    """A new column in place of `digest_time`, of another length, with the same values. Not
    ALTER COLUMN: SQLite would recreate `chats` for it, and that cascade-deletes everything
    belonging to a chat. ADD, DROP and RENAME COLUMN work in place on both backends."""
    op.add_column(
        "chats",
        sa.Column(
            "digest_time_new", sa.String(length=length), nullable=True, server_default="08:00"
        ),
    )
    op.execute(f"UPDATE chats SET digest_time_new = SUBSTR(digest_time, 1, {length})")
    op.drop_column("chats", "digest_time")
    op.execute("ALTER TABLE chats RENAME COLUMN digest_time_new TO digest_time")


def upgrade() -> None:
    _resize_digest_time(30)
    op.add_column("chats", sa.Column("quiet_hours", sa.String(length=11), nullable=True))
    op.add_column("chats", sa.Column("weekly_digest", sa.String(length=9), nullable=True))
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slot", sa.String(length=10), nullable=True))
    # a digest sent before slots is the one of the chat's digest time
    op.execute(
        "UPDATE digests SET slot = COALESCE("
        "(SELECT chats.digest_time FROM chats WHERE chats.id = digests.chat_id), '08:00')"
    )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.alter_column("slot", existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_constraint("uq_digest_chat_day", type_="unique")
        batch_op.create_unique_constraint(
            "uq_digest_chat_day_slot", ["chat_id", "local_date", "slot"]
        )


def downgrade() -> None:
    # one digest per chat and day again: the day's last one stays (it says what was covered);
    # weekly digests go
    op.execute("DELETE FROM digests WHERE slot = 'weekly'")
    op.execute(
        "DELETE FROM digests WHERE EXISTS (SELECT 1 FROM digests later "
        "WHERE later.chat_id = digests.chat_id AND later.local_date = digests.local_date "
        "AND (later.covers_until > digests.covers_until "
        "OR (later.covers_until = digests.covers_until AND later.id > digests.id)))"
    )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_constraint("uq_digest_chat_day_slot", type_="unique")
        batch_op.create_unique_constraint("uq_digest_chat_day", ["chat_id", "local_date"])
        batch_op.drop_column("slot")
    op.drop_column("chats", "weekly_digest")  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
    op.drop_column("chats", "quiet_hours")
    _resize_digest_time(5)  # the first of several daily times is kept
