"""Full-text candidate search over articles, on each backend's own index: an FTS5 table on
SQLite, a GIN index on a stored column `to_tsvector('simple', search_text)` on PostgreSQL.
Both index `articles.search_text`, the article's words as the matcher normalizes them, so a
search finds what matching will confirm; callers still confirm every candidate with the matcher.

Story clustering has its own index, the same on both backends: `story_words`, an article's
story words (title and lead) keyed by (word, article id), searched newest first per word."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import CompoundSelect, Select, bindparam, func, literal_column, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.text import LETTERS
from storage.db import insert_many
from storage.models import Article, StoryWord, UTCDateTime

# Objects the migrations create by hand; schema comparisons leave them out. On SQLite the FTS5
# table is kept in sync by triggers on `articles`: a batch migration that recreates `articles`
# drops them, so such a migration must create them again.
FTS_TABLE = "article_search"
PG_VECTOR = "search_vector"  # PostgreSQL: a stored to_tsvector('simple', search_text)
PG_INDEX = "ix_articles_search_vector"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # `since` for a search over all time
MAX_SEARCHES_PER_STATEMENT = 100  # SQLite allows 500 terms in a compound SELECT
MAX_IDS_PER_STATEMENT = 5_000  # well within any backend's limit on parameters
# PostgreSQL searches the newest `limit * FIRST_WINDOW` ids first, then windows WIDER times as
# wide until `limit` articles are found or the window holds every article.
FIRST_WINDOW = 8
WIDER = 32

_WORD = re.compile(LETTERS)  # a Devanagari word with its vowel marks is one word

Phrase = Sequence[str]  # normalized words in order
AnyOf = Sequence[Phrase]  # at least one of these phrases
Query = Sequence[AnyOf]  # every group must be present


def _words(phrase: Phrase) -> list[str]:
    return [w for word in phrase for w in _WORD.findall(word.lower())]


def _alternatives(any_of: AnyOf) -> list[tuple[str, ...]]:
    """A group's phrases as words, without those holding another of them: a text with *republic
    of Chile* has *Chile*, so the search finds the same articles without reading where `of`
    is (every article)."""
    phrases = [p for p in dict.fromkeys(tuple(_words(p)) for p in any_of) if p]
    return [p for p in phrases if not any(_holds(p, other) for other in phrases)]


def _holds(phrase: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """Whether `part`, shorter, is a run of `phrase`'s words."""
    size = len(part)
    return size < len(phrase) and any(
        phrase[start : start + size] == part for start in range(len(phrase) - size + 1)
    )


def fts5_query(query: Query) -> str:
    groups = []
    for any_of in query:
        phrases = [" ".join(p) for p in _alternatives(any_of)]
        groups.append("(" + " OR ".join(f'"{p}"' for p in phrases) + ")")
    return " AND ".join(groups)


def tsquery(query: Query) -> str:
    groups = []
    for any_of in query:
        phrases = [" <-> ".join(p) for p in _alternatives(any_of)]
        groups.append("(" + " | ".join(f"({p})" for p in phrases) + ")")
    return " & ".join(groups)


def is_searchable(query: Query) -> bool:
    return bool(query) and all(any(_words(p) for p in any_of) for any_of in query)


_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


def _newest_matching(statement: _Statement, *, dialect: str, terms: str, since: bool) -> _Statement:
    """`statement` (a select from articles) narrowed to the newest `:limit` articles containing
    the search in parameter `terms` (`tsquery` or `fts5_query`), ingested since `:since` (unless
    `since` is false). On SQLite the full-text index yields the newest hits itself, so common
    words cost no more than rare ones (ids grow with ingest time, so `since` can apply after
    the limit). On PostgreSQL the GIN index yields every hit, so the search is kept to the
    ids above `:floor` (see `search_each`). Statements are built with parameters, not
    values, so that one statement serves every search."""
    if dialect == "postgresql":
        statement = statement.where(
            text(f"articles.{PG_VECTOR} @@ to_tsquery('simple', :{terms})"),
            col(Article.id) > bindparam("floor"),
        )
    else:
        matching = text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :{terms} "
            "ORDER BY rowid DESC LIMIT :limit"
        )
        statement = statement.where(col(Article.id).in_(matching))
    if since:
        statement = statement.where(
            col(Article.ingested_at) >= bindparam("since", type_=UTCDateTime())
        )
    # On PostgreSQL the order is not the primary key's: a plan walking the key backwards and
    # reading each article's vector until enough match reads the whole window for a rare
    # word; sorting the window's GIN hits costs what the window holds of them.
    newest_first = (col(Article.id) + 0 if dialect == "postgresql" else col(Article.id)).desc()
    return statement.order_by(newest_first).limit(bindparam("limit"))


@cache
def _fts5_article_search(since: bool) -> SelectOfScalar[Article]:
    return _newest_matching(select(Article), dialect="sqlite", terms="terms", since=since)


async def _fts5_search(
    session: AsyncSession, query: Query, limit: int, since: datetime | None
) -> list[Article]:
    """SQLite: what `search_articles` finds, in one statement."""
    if not is_searchable(query):
        return []
    params: dict[str, object] = {"terms": fts5_query(query), "limit": limit}
    if since is not None:
        params["since"] = since
    return list((await session.exec(_fts5_article_search(since is not None), params=params)).all())


@cache
def _newest_ids(count: int, since: bool) -> CompoundSelect[*tuple[Any, ...]]:
    """PostgreSQL: for `count` searches (parameters `terms<n>`), the ids of the newest `:limit`
    articles above `:floor` having each, with the search's number: one statement for them
    all, planned for each search's own words."""
    searches = [
        _newest_matching(
            sa_select(literal_column(str(number)).label("search"), col(Article.id)),
            dialect="postgresql",
            terms=f"terms{number}",
            since=since,
        ).subquery()
        for number in range(count)
    ]
    return union_all(*(sa_select(search) for search in searches))


async def search_articles(
    *, session: AsyncSession, query: Query, limit: int, since: datetime | None = None
) -> list[Article]:
    """Articles containing every group of the query (any phrase of each), newest first."""
    return (await search_each(session=session, queries=[query], limit=limit, since=since))[0]


async def search_each(
    *,
    session: AsyncSession,
    queries: Sequence[Query],
    limit: int,
    since: datetime | None = None,
) -> list[list[Article]]:
    """For each query, what `search_articles` finds for it.

    On PostgreSQL a search reads every hit its GIN index yields before taking the newest, so
    a common word would read most of the table: the searches look at the newest ids first, in
    windows growing until each has found `limit` articles or the window holds every article,
    all searches of a window in one statement. The newest `limit` hits of a window holding
    `limit` of them are the newest of all (ids grow with ingest time), so the answer is the
    same as one search over everything. Articles are read once, after their ids are found."""
    if session.get_bind().dialect.name != "postgresql":
        return [await _fts5_search(session, query, limit, since) for query in queries]
    ids: list[list[int]] = []
    for start in range(0, len(queries), MAX_SEARCHES_PER_STATEMENT):
        part = queries[start : start + MAX_SEARCHES_PER_STATEMENT]
        ids += await _newest_ids_each(session, part, limit, since)
    wanted = sorted({article_id for some in ids for article_id in some})
    articles: dict[int | None, Article] = {}
    for start in range(0, len(wanted), MAX_IDS_PER_STATEMENT):
        chunk = wanted[start : start + MAX_IDS_PER_STATEMENT]
        rows = await session.exec(select(Article).where(col(Article.id).in_(chunk)))
        articles.update((article.id, article) for article in rows.all())
    return [[articles[i] for i in some if i in articles] for some in ids]


async def _newest_ids_each(
    session: AsyncSession, queries: Sequence[Query], limit: int, since: datetime | None
) -> list[list[int]]:
    """PostgreSQL: for each query, the ids of the newest `limit` articles it finds, newest
    first (see `search_each`), with the planner set for these statements only (`_planned`)."""
    found: list[list[int]] = [[] for _ in queries]
    pending = [number for number, query in enumerate(queries) if is_searchable(query)]
    if not pending:
        return found
    nested = await session.begin_nested()
    try:
        connection = await session.connection()
        newest = (await connection.execute(_planned())).scalar_one() or 0
        window = limit * FIRST_WINDOW
        while pending:
            floor = max(newest - window, 0)
            params: dict[str, object] = {"floor": floor, "limit": limit}
            params.update((f"terms{n}", tsquery(queries[i])) for n, i in enumerate(pending))
            if since is not None:
                params["since"] = since
            statement = _newest_ids(len(pending), since is not None)
            hits: list[list[int]] = [[] for _ in pending]
            for n, article_id in (await connection.execute(statement, params)).all():
                hits[n].append(article_id)
            for number, ids in zip(pending, hits, strict=True):
                found[number] = ids
            pending = [
                i for i, ids in zip(pending, hits, strict=True) if len(ids) < limit and floor > 0
            ]
            window *= WIDER
    finally:
        await nested.rollback()  # the planner's settings as they were
    return found


@cache
def _planned() -> Select[int | None, str, str]:
    """The newest article's id, and the planner set until the savepoint is rolled back:
    - custom plans: a plan made for one search's words and window is wrong for another's (the
      GIN hits of a rare word, the window's articles for a common one); PostgreSQL's generic
      plan, after five runs of a prepared statement, read all 23,000 hits of a common phrase;
    - no plain index scans: the planner does not count reading an article's (TOASTed) vector,
      so it walked a window's every article by the primary key, checking each vector, rather
      than AND the window with the GIN hits as bitmaps: 20 ms instead of 0.5 for a window of
      1,920 articles, 117 instead of 2 for 15,000. (The id is read before the setting holds.)"""
    return sa_select(
        func.max(Article.id),
        func.set_config("plan_cache_mode", "force_custom_plan", True),
        func.set_config("enable_indexscan", "off", True),
    )


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """What story clustering reads of a stored article."""

    story_id: int  # the story it belongs to
    signature: str
    published: datetime  # or ingested, when the source gave no date


class StoryWords(NamedTuple):
    """The words a stored article's story is found by (`bot.stories.story_words`)."""

    article_id: int
    words: Sequence[str]


async def add_story_words(*, session: AsyncSession, articles: Sequence[StoryWords]) -> None:
    """Index stored articles by their story words."""
    await insert_many(
        session=session,
        table=StoryWord.__table__,  # type: ignore[attr-defined]
        columns=("word", "article_id"),
        rows=[(word, article.article_id) for article in articles for word in article.words],
    )


@cache
def _newest_having(count: int) -> CompoundSelect[*tuple[Any, ...]]:
    """For `count` words (parameters `word<n>`), the newest `:limit` articles having each: one
    backward range scan of the (word, article_id) key per word."""
    searches = [
        sa_select(col(StoryWord.word), col(StoryWord.article_id))
        .where(col(StoryWord.word) == bindparam(f"word{number}"))
        .order_by(col(StoryWord.article_id).desc())
        .limit(bindparam("limit"))
        .subquery()
        for number in range(count)
    ]
    return union_all(*(sa_select(search) for search in searches))


async def story_candidates(
    *,
    session: AsyncSession,
    words: Sequence[Sequence[str]],
    limit: int,
    since: datetime,
    signature_of: Callable[[str, str], str],
) -> list[list[StoryCandidate]]:
    """For each list of words, the newest `limit` articles ingested since `since` having one of
    them as a story word, newest first, reading only what story clustering needs. The newest
    `limit` having any of the words are among the newest `limit` having each, so each word
    costs an index range scan of at most `limit` rows, however many articles share it (ids grow
    with ingest time, so `since` applies after the limit). Articles stored before signatures
    were get theirs from `signature_of(title, body)`."""
    connection = await session.connection()
    distinct = list(dict.fromkeys(word for some in words for word in some))
    having: dict[str, list[int]] = {}
    for start in range(0, len(distinct), MAX_SEARCHES_PER_STATEMENT):
        part = distinct[start : start + MAX_SEARCHES_PER_STATEMENT]
        # Padded to a power of two with a word no article has: a statement of each size is
        # compiled once, not once per batch (compiling 100 searches costs more than running
        # them).
        size = min(1 << (len(part) - 1).bit_length(), MAX_SEARCHES_PER_STATEMENT)
        part += [""] * (size - len(part))
        result = await connection.execute(
            _newest_having(len(part)),
            {**{f"word{n}": word for n, word in enumerate(part)}, "limit": limit},
        )
        for word, article_id in result.all():
            having.setdefault(word, []).append(article_id)
    newest = [
        sorted({i for word in some for i in having.get(word, ())}, reverse=True)[:limit]
        for some in words
    ]
    found: dict[int, tuple[int, str, datetime]] = {}
    wanted = sorted({article_id for ids in newest for article_id in ids})
    for start in range(0, len(wanted), MAX_IDS_PER_STATEMENT):
        result = await connection.execute(
            _candidate_rows(),
            {"ids": wanted[start : start + MAX_IDS_PER_STATEMENT], "since": since},
        )
        found.update(
            (article_id, (story_id, signature, published))
            for article_id, story_id, signature, published in result.all()
        )
    unsigned = [article_id for article_id, (_, signature, _) in found.items() if not signature]
    if unsigned:
        texts = await session.exec(
            select(Article.id, Article.title, Article.body).where(col(Article.id).in_(unsigned))
        )
        for article_id, title, body in texts.all():
            assert article_id is not None
            story_id, _, published = found[article_id]
            found[article_id] = (story_id, signature_of(title, body), published)
    return [[StoryCandidate(*found[i]) for i in ids if i in found] for ids in newest]


@cache
def _candidate_rows() -> Select[int | None, int, str, datetime]:
    """What clustering reads of the articles `:ids` ingested since `:since`."""
    return (
        sa_select(
            col(Article.id),
            func.coalesce(Article.story_id, Article.id),
            col(Article.story_signature),
            func.coalesce(Article.published_at, Article.ingested_at, type_=UTCDateTime()),
        )
        .where(col(Article.id).in_(bindparam("ids", expanding=True)))
        .where(col(Article.ingested_at) >= bindparam("since", type_=UTCDateTime()))
    )


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
