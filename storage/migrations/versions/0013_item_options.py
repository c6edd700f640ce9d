"""per-item delivery options (silent, link preview, mute) and muted sources per chat

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: existing subscriptions keep sounding, without previews, unmuted.
    op.add_column(
        "subscriptions",
        sa.Column("silent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "subscriptions",
        sa.Column("preview", sa.String(length=10), nullable=False, server_default="off"),
    )
    op.add_column(
        "subscriptions", sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "muted_sources",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "source"),
    )


def downgrade() -> None:
    op.drop_table("muted_sources")
    op.drop_column("subscriptions", "muted_until")
    op.drop_column("subscriptions", "preview")
    op.drop_column("subscriptions", "silent")
