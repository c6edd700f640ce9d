"""The full-text candidate search over stored articles, on the test's database (SQLite, or
PostgreSQL under `make test-postgres`, where it searches the newest ids in growing windows)."""

from datetime import timedelta

from sqlalchemy import text

from bot.text import content_hash, search_words
from storage.db import SessionFactory
from storage.models import Article, utcnow
from storage.search import fts5_query, search_articles, search_each, tsquery

RARE = {5, 150, 290}  # the articles naming zinc, of 300


async def store_articles(db: SessionFactory) -> None:
    start = utcnow() - timedelta(days=300)
    async with db() as session:
        for number in range(1, 301):
            title = f"Trade report {number}"
            body = "Zinc output rose." if number in RARE else "Tariffs on steel were unchanged."
            session.add(
                Article(
                    title=title,
                    body=body,
                    content_hash=content_hash(title, body),
                    ingested_at=start + timedelta(days=number),
                    search_text=search_words(title, body),
                )
            )
        await session.commit()


async def test_a_search_finds_the_newest_hits_however_far_apart_they_are(
    db: SessionFactory,
) -> None:
    await store_articles(db)
    start = utcnow() - timedelta(days=300)

    async def numbers(word: str, limit: int, since_day: int | None = None) -> list[int]:
        since = None if since_day is None else start + timedelta(days=since_day)
        async with db() as session:
            found = await search_articles(
                session=session, query=[[[word]]], limit=limit, since=since
            )
        return [int(article.title.split()[-1]) for article in found]

    assert await numbers("zinc", 2) == [290, 150]
    assert await numbers("zinc", 10) == [290, 150, 5]
    assert await numbers("zinc", 10, since_day=100) == [290, 150]
    assert await numbers("trade", 3) == [300, 299, 298]
    assert await numbers("steel", 4) == [300, 299, 298, 297]
    assert await numbers("copper", 5) == []


def test_a_phrase_holding_another_of_its_group_is_left_out_of_the_index_query() -> None:
    query = [
        [["Republic", "of", "Chile"], ["Chile"], ["chilean"]],
        [["rare earth magnet"], ["rare", "earth"], ["earth rare"]],
    ]
    assert tsquery(query) == "((chile) | (chilean)) & ((rare <-> earth) | (earth <-> rare))"
    assert fts5_query(query) == '("chile" OR "chilean") AND ("rare earth" OR "earth rare")'


async def test_searches_together_find_for_each_what_it_finds_alone(db: SessionFactory) -> None:
    await store_articles(db)
    # zinc needs the widest window, trade the first; copper and a word-less query find nothing
    queries = [[[["zinc"]]], [[["trade"]]], [[["copper"]]], [[["!"]]], [[["steel"]]]]
    async with db() as session:
        together = await search_each(session=session, queries=queries, limit=3)
    async with db() as session:
        alone = [await search_articles(session=session, query=query, limit=3) for query in queries]
    numbers = [[int(article.title.split()[-1]) for article in found] for found in together]
    assert numbers == [[290, 150, 5], [300, 299, 298], [], [], [300, 299, 298]]
    assert [[a.id for a in found] for found in together] == [
        [a.id for a in found] for found in alone
    ]


async def test_a_search_leaves_the_planner_settings_as_they_were(
    db: SessionFactory, postgres_url: str
) -> None:
    await store_articles(db)
    settings = text(
        "SELECT current_setting('enable_indexscan'), current_setting('plan_cache_mode')"
    )
    async with db() as session:
        connection = await session.connection()
        before = (await connection.execute(settings)).one()
        await search_articles(session=session, query=[[["zinc"]]], limit=2)
        assert (await connection.execute(settings)).one() == before == ("on", "auto")
