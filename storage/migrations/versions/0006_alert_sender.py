"""which dispatcher sends alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty until a sender takes over: the leases of a sender from before this revision run out
    # on their own (alerts.claimed_until).
    op.create_table(
        "alert_sender",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("alert_sender")
