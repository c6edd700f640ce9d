"""the language of each article

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07 13:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: recreating `articles` (batch mode) would drop SQLite's FTS triggers.
    # Articles stored before are left without a language: an alert then names none.
    op.add_column("articles", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "language")
