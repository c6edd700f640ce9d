"""PostgreSQL keeps each article's search vector in a stored column with its GIN index, instead
of an index on `to_tsvector(search_text)`: a search for a common word, newest first, then reads
the vector of each row it looks at rather than computing it again (SQLite's FTS5 is unchanged)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_INDEX = "ix_articles_search_text_fts"
COLUMN = "search_vector"
INDEX = "ix_articles_search_vector"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE articles ADD COLUMN {COLUMN} tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
    )
    op.execute(f"CREATE INDEX {INDEX} ON articles USING gin ({COLUMN})")
    op.execute(f"DROP INDEX {OLD_INDEX}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX {OLD_INDEX} ON articles USING gin (to_tsvector('simple', search_text))"
    )
    op.execute(f"DROP INDEX {INDEX}")
    op.execute(f"ALTER TABLE articles DROP COLUMN {COLUMN}")
