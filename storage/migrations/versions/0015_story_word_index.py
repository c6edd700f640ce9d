"""story word index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.stories import story_words

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1_000


def upgrade() -> None:
    story_word = op.create_table(
        "story_words",
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("word", "article_id"),
    )
    articles = sa.table(
        "articles", sa.column("id", sa.Integer), sa.column("title"), sa.column("body")
    )
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.body)
            .where(articles.c.id > after)
            .order_by(articles.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        words = [
            {"word": word, "article_id": article_id}
            for article_id, title, body in rows
            for word in story_words(title, body)
        ]
        if words:
            connection.execute(sa.insert(story_word), words)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("story_words")
