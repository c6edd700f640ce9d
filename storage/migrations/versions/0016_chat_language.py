"""each chat's interface language: chosen with /language, or Telegram's language_code

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chats", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column("chats", sa.Column("language_code", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): recreating `chats` in batch mode would
    # cascade-delete its subscriptions.
    op.drop_column("chats", "language_code")
    op.drop_column("chats", "language")
