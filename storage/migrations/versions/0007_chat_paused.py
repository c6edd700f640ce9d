"""chats paused with /stop

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "chats", sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): recreating `chats` in batch mode would
    # cascade-delete its subscriptions.
    op.drop_column("chats", "paused")
