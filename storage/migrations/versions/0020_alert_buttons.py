"""alerts remember what their message shows under it since "less like this" was pressed (its
choices, or the undo of an applied one), so a story edit of the message shows it again

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 21:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("buttons", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("alerts", "buttons")  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
