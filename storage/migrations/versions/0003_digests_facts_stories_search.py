"""chat settings, digests, facts, stories, full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:42:25.345548
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from bot.text import search_words

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLE = "article_search"  # storage.search.FTS_TABLE at the time of this migration
PG_INDEX = "ix_articles_search_text_fts"


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("covers_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "local_date", name="uq_digest_chat_day"),
    )
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("fact_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facts_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_facts_fact_key"), ["fact_key"], unique=False)

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_articles_story_id"), ["story_id"], unique=False)

    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "timezone",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="UTC",
            )
        )
        batch_op.add_column(
            sa.Column(
                "digest_time",
                sqlmodel.sql.sqltypes.AutoString(length=5),
                nullable=True,
                server_default="08:00",
            )
        )
        batch_op.add_column(
            sa.Column(
                "mode",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=False,
                server_default="both",
            )
        )
        batch_op.add_column(
            sa.Column("empty_digest_line", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer()),
        sa.column("title", sa.Text()),
        sa.column("body", sa.Text()),
        sa.column("search_text", sa.Text()),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(articles.c.id, articles.c.title, articles.c.body)):
        connection.execute(
            articles.update()
            .where(articles.c.id == row.id)
            .values(search_text=search_words(row.title, row.body))
        )

    if connection.dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {PG_INDEX} ON articles USING gin (to_tsvector('simple', search_text))"
        )
    else:
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
            "search_text, content='articles', content_rowid='id', tokenize='unicode61')"
        )
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        op.execute(
            f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON articles BEGIN "
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(
            f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON articles BEGIN "
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_text ON articles BEGIN "
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {PG_INDEX}")
    else:
        for suffix in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE {FTS_TABLE}")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("empty_digest_line")
        batch_op.drop_column("mode")
        batch_op.drop_column("digest_time")
        batch_op.drop_column("timezone")

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_story_id"))
        batch_op.drop_column("search_text")
        batch_op.drop_column("story_id")

    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facts_fact_key"))
        batch_op.drop_index(batch_op.f("ix_facts_article_id"))

    op.drop_table("facts")
    op.drop_table("digests")
