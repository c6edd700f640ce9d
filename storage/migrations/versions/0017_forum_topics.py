"""forum topics: a watch item's topic, the digest's topic, /topics auto; alerts unique per
destination (chat and topic) and article

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN works in place on both backends (recreating `chats` or `subscriptions` in
    # batch mode would cascade-delete what belongs to them); `alerts` is nobody's parent.
    op.add_column(
        "chats",
        sa.Column("topics_auto", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("chats", sa.Column("digest_thread_id", sa.Integer(), nullable=True))
    op.add_column("subscriptions", sa.Column("thread_id", sa.Integer(), nullable=True))
    op.add_column("subscriptions", sa.Column("thread_name", sa.String(length=128), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thread_id", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_constraint("uq_alert_chat_article", type_="unique")
        batch_op.create_unique_constraint(
            "uq_alert_destination_article", ["chat_id", "thread_id", "article_id"]
        )


def downgrade() -> None:
    # One alert per chat and article again: of an article's alerts to several topics of a
    # chat the first one stays (a sent one before any other), now to the chat itself.
    op.execute(
        "DELETE FROM alerts WHERE EXISTS (SELECT 1 FROM alerts other "
        "WHERE other.chat_id = alerts.chat_id AND other.article_id = alerts.article_id "
        "AND ((other.status = 'sent') > (alerts.status = 'sent') "
        "OR ((other.status = 'sent') = (alerts.status = 'sent') AND other.id < alerts.id)))"
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alert_destination_article", type_="unique")
        batch_op.create_unique_constraint("uq_alert_chat_article", ["chat_id", "article_id"])
        batch_op.drop_column("thread_id")
    op.drop_column("subscriptions", "thread_name")  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
    op.drop_column("subscriptions", "thread_id")
    op.drop_column("chats", "digest_thread_id")
    op.drop_column("chats", "topics_auto")
