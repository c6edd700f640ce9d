"""Full-text candidate search over articles, on each backend's own index: an FTS5 table on
SQLite, a GIN index on `to_tsvector('simple', search_text)` on PostgreSQL. Both index
`articles.search_text`, the article's words as the matcher normalizes them, so a search finds
what matching will confirm; callers still confirm every candidate with the matcher."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Article

# Objects the migrations create by hand; schema comparisons leave them out. On SQLite the FTS5
# table is kept in sync by triggers on `articles`: a batch migration that recreates `articles`
# drops them, so such a migration must create them again.
FTS_TABLE = "article_search"
PG_INDEX = "ix_articles_search_text_fts"

_WORD = re.compile(r"[^\W_]+")

Phrase = Sequence[str]  # normalized words in order
AnyOf = Sequence[Phrase]  # at least one of these phrases
Query = Sequence[AnyOf]  # every group must be present


def _words(phrase: Phrase) -> list[str]:
    return [w for word in phrase for w in _WORD.findall(word.lower())]


def fts5_query(query: Query) -> str:
    groups = []
    for any_of in query:
        phrases = [" ".join(_words(p)) for p in any_of]
        groups.append("(" + " OR ".join(f'"{p}"' for p in phrases if p) + ")")
    return " AND ".join(groups)


def tsquery(query: Query) -> str:
    groups = []
    for any_of in query:
        phrases = [" <-> ".join(_words(p)) for p in any_of]
        groups.append("(" + " | ".join(f"({p})" for p in phrases if p) + ")")
    return " & ".join(groups)


def is_searchable(query: Query) -> bool:
    return bool(query) and all(any(_words(p) for p in any_of) for any_of in query)


async def search_articles(
    *, session: AsyncSession, query: Query, limit: int, since: datetime | None = None
) -> list[Article]:
    """Articles containing every group of the query (any phrase of each), newest first."""
    if not is_searchable(query):
        return []
    if session.get_bind().dialect.name == "postgresql":
        condition = text("to_tsvector('simple', articles.search_text) @@ to_tsquery('simple', :q)")
        statement = select(Article).where(condition.bindparams(q=tsquery(query)))
    else:
        matching = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q").bindparams(
            q=fts5_query(query)
        )
        statement = select(Article).where(col(Article.id).in_(matching))
    if since is not None:
        statement = statement.where(col(Article.ingested_at) >= since)
    result = await session.exec(statement.order_by(col(Article.id).desc()).limit(limit))
    return list(result.all())
