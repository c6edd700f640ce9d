"""Full-text candidate search over articles, on each backend's own index: an FTS5 table on
SQLite, a GIN index on `to_tsvector('simple', search_text)` on PostgreSQL. Both index
`articles.search_text`, the article's words as the matcher normalizes them, so a search finds
what matching will confirm; callers still confirm every candidate with the matcher."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import CompoundSelect, Select, bindparam, func, literal, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.text import LETTERS
from storage.models import Article, UTCDateTime

# Objects the migrations create by hand; schema comparisons leave them out. On SQLite the FTS5
# table is kept in sync by triggers on `articles`: a batch migration that recreates `articles`
# drops them, so such a migration must create them again.
FTS_TABLE = "article_search"
PG_INDEX = "ix_articles_search_text_fts"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # `since` for a search over all time
MAX_SEARCHES_PER_STATEMENT = 100  # SQLite allows 500 terms in a compound SELECT

_WORD = re.compile(LETTERS)  # a Devanagari word with its vowel marks is one word

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


def _search_text(dialect: str, query: Query) -> str:
    """The query in the backend's full-text syntax."""
    return tsquery(query) if dialect == "postgresql" else fts5_query(query)


def _newest_matching(statement: _Statement, *, dialect: str, terms: str) -> _Statement:
    """`statement` (a select from articles) narrowed to the newest `:limit` articles containing
    the search in parameter `terms` (see `_search_text`), ingested since `:since`. On SQLite the
    full-text index yields the newest hits itself, so common words cost no more than rare ones
    (ids grow with ingest time, so `since` can apply after the limit). Statements are built
    with parameters, not values, so that one statement serves every search."""
    if dialect == "postgresql":
        statement = statement.where(
            text(f"to_tsvector('simple', articles.search_text) @@ to_tsquery('simple', :{terms})")
        )
    else:
        matching = text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :{terms} "
            "ORDER BY rowid DESC LIMIT :limit"
        )
        statement = statement.where(col(Article.id).in_(matching))
    since = bindparam("since", type_=UTCDateTime())
    return (
        statement.where(col(Article.ingested_at) >= since)
        .order_by(col(Article.id).desc())
        .limit(bindparam("limit"))
    )


@cache
def _article_search(dialect: str) -> SelectOfScalar[Article]:
    return _newest_matching(select(Article), dialect=dialect, terms="terms")


async def search_articles(
    *, session: AsyncSession, query: Query, limit: int, since: datetime | None = None
) -> list[Article]:
    """Articles containing every group of the query (any phrase of each), newest first."""
    if not is_searchable(query):
        return []
    dialect = session.get_bind().dialect.name
    result = await session.exec(
        _article_search(dialect),
        params={
            "terms": _search_text(dialect, query),
            "limit": limit,
            "since": since or EPOCH,
        },
    )
    return list(result.all())


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """What story clustering reads of a stored article."""

    story_id: int  # the story it belongs to
    signature: str
    published: datetime  # or ingested, when the source gave no date


@cache
def _story_search(dialect: str, count: int) -> CompoundSelect[*tuple[Any, ...]]:
    """`count` story searches in one statement, the terms of each in parameter `terms<n>`."""
    searches = [
        _newest_matching(
            sa_select(
                literal(number).label("search"),
                col(Article.id),
                func.coalesce(Article.story_id, Article.id),
                col(Article.story_signature),
                func.coalesce(Article.published_at, Article.ingested_at, type_=UTCDateTime()),
            ),
            dialect=dialect,
            terms=f"terms{number}",
        ).subquery()
        for number in range(count)
    ]
    return union_all(*(sa_select(search) for search in searches))


async def story_candidates(
    *,
    session: AsyncSession,
    queries: Sequence[Query],
    limit: int,
    since: datetime,
    signature_of: Callable[[str, str], str],
) -> list[list[StoryCandidate]]:
    """For each query, what `search_articles` would find, reading only what story clustering
    needs, in a statement for up to `MAX_SEARCHES_PER_STATEMENT` queries (a UNION ALL).
    Articles stored before signatures were get theirs from `signature_of(title, body)`."""
    connection = await session.connection()
    dialect = connection.dialect.name
    searchable = [number for number, query in enumerate(queries) if is_searchable(query)]
    rows: list[tuple[int, int, int, str, datetime]] = []
    for start in range(0, len(searchable), MAX_SEARCHES_PER_STATEMENT):
        part = searchable[start : start + MAX_SEARCHES_PER_STATEMENT]
        terms = {
            f"terms{n}": _search_text(dialect, queries[number]) for n, number in enumerate(part)
        }
        result = await connection.execute(
            _story_search(dialect, len(part)), {**terms, "limit": limit, "since": since}
        )
        rows.extend(
            (part[n], article_id, story_id, signature, published)
            for n, article_id, story_id, signature, published in result.all()
        )
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


async def newest_articles(*, session: AsyncSession, since: datetime, limit: int) -> list[Article]:
    """The newest `limit` articles ingested since `since`, newest first: what a query whose
    words the index cannot search is tried on."""
    result = await session.exec(
        select(Article)
        .where(col(Article.ingested_at) >= since)
        .order_by(col(Article.id).desc())
        .limit(limit)
    )
    return list(result.all())
