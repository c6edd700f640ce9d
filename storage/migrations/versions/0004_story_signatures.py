"""story signatures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:44:05.772009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: recreating `articles` (batch mode) would drop SQLite's FTS triggers.
    # Existing articles keep an empty signature; clustering computes theirs when needed.
    op.add_column(
        "articles", sa.Column("story_signature", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    op.drop_column("articles", "story_signature")
