"""levels per watch item; why an alert came

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs. Existing subscriptions take the default level; existing alerts count as
    # main stories of relevance 0 (they were all pushed as such).
    op.add_column(
        "subscriptions",
        sa.Column("level", sa.String(length=10), nullable=False, server_default="split"),
    )
    op.add_column("alerts", sa.Column("mentions", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("alerts", sa.Column("relevance", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("alerts", "relevance")
    op.drop_column("alerts", "mentions")
    op.drop_column("subscriptions", "level")
