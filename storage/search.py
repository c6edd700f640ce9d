"""Full-text candidate search over articles, on each backend's own index: an FTS5 table on
SQLite, a GIN index on `to_tsvector('simple', search_text)` on PostgreSQL. Both index
`articles.search_text`, the article's words as the matcher normalizes them, so a search finds
what matching will confirm; callers still confirm every candidate with the matcher."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, func, literal, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Article, UTCDateTime

# Objects the migrations create by hand; schema comparisons leave them out. On SQLite the FTS5
# table is kept in sync by triggers on `articles`: a batch migration that recreates `articles`
# drops them, so such a migration must create them again.
FTS_TABLE = "article_search"
PG_INDEX = "ix_articles_search_text_fts"
MAX_SEARCHES_PER_STATEMENT = 100  # SQLite allows 500 terms in a compound SELECT

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


_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


def _newest_matching(
    statement: _Statement, *, dialect: str, query: Query, limit: int, since: datetime | None
) -> _Statement:
    """`statement` (a select from articles) narrowed to the newest `limit` articles containing
    every group of the query. On SQLite the full-text index yields the newest hits itself, so
    common words cost no more than rare ones (ids grow with ingest time, so `since` can apply
    after the limit)."""
    if dialect == "postgresql":
        condition = text("to_tsvector('simple', articles.search_text) @@ to_tsquery('simple', :q)")
        statement = statement.where(condition.bindparams(q=tsquery(query)))
    else:
        matching = text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q "
            "ORDER BY rowid DESC LIMIT :limit"
        ).bindparams(q=fts5_query(query), limit=limit)
        statement = statement.where(col(Article.id).in_(matching))
    if since is not None:
        statement = statement.where(col(Article.ingested_at) >= since)
    return statement.order_by(col(Article.id).desc()).limit(limit)


async def search_articles(
    *, session: AsyncSession, query: Query, limit: int, since: datetime | None = None
) -> list[Article]:
    """Articles containing every group of the query (any phrase of each), newest first."""
    if not is_searchable(query):
        return []
    statement = _newest_matching(
        select(Article),
        dialect=session.get_bind().dialect.name,
        query=query,
        limit=limit,
        since=since,
    )
    result = await session.exec(statement)
    return list(result.all())


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """What story clustering reads of a stored article."""

    story_id: int  # the story it belongs to
    signature: str
    published: datetime  # or ingested, when the source gave no date


async def story_candidates(
    *,
    session: AsyncSession,
    queries: Sequence[Query],
    limit: int,
    since: datetime,
    signature_of: Callable[[str, str], str],
) -> list[list[StoryCandidate]]:
    """For each query, what `search_articles` would find, reading only what story clustering
    needs, all in one statement (a UNION ALL of the searches). Articles stored before
    signatures were get theirs from `signature_of(title, body)`."""
    connection = await session.connection()
    dialect = connection.dialect.name
    searches = [
        _newest_matching(
            sa_select(
                literal(number).label("query"),
                col(Article.id),
                func.coalesce(Article.story_id, Article.id),
                col(Article.story_signature),
                func.coalesce(Article.published_at, Article.ingested_at, type_=UTCDateTime()),
            ),
            dialect=dialect,
            query=query,
            limit=limit,
            since=since,
        ).subquery()
        for number, query in enumerate(queries)
        if is_searchable(query)
    ]
    rows: list[Row[int, int, int, str, datetime]] = []
    for start in range(0, len(searches), MAX_SEARCHES_PER_STATEMENT):
        part = searches[start : start + MAX_SEARCHES_PER_STATEMENT]
        result = await connection.execute(union_all(*(sa_select(search) for search in part)))
        rows.extend(result.all())
    unsigned = {
        article_id for _number, article_id, _story, signature, _when in rows if not signature
    }
    texts = {}
    if unsigned:
        found = await session.exec(
            select(Article.id, Article.title, Article.body).where(col(Article.id).in_(unsigned))
        )
        texts = {article_id: (title, body) for article_id, title, body in found.all()}
    candidates: list[list[StoryCandidate]] = [[] for _ in queries]
    for number, article_id, story_id, signature, published in rows:
        candidates[number].append(
            StoryCandidate(story_id, signature or signature_of(*texts[article_id]), published)
        )
    return candidates
