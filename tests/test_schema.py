"""Migrations: the migrated schema is the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select

from bot.articles import ArticleIn
from bot.cli import main
from bot.ingest import Ingestor
from bot.lexicon import default_lexicon
from bot.matching import evidence_sentence
from bot.stories import story_words as bot_story_words
from storage import queries
from storage.db import create_engine, session_factory
from storage.models import Alert, Article, Chat
from storage.schema import (
    MIGRATIONS,
    alembic_config,
    include_name,
    newest_revision,
    schema_revision,
    upgrade_schema,
)


async def migrate(engine: AsyncEngine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command (upgrade, downgrade) to `revision`."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: step(alembic_config(sync), revision))


async def test_the_migrated_schema_equals_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_schema(engine)

        def differences(connection: Connection) -> list[object]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            return list(compare_metadata(context, SQLModel.metadata))

        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
        current, head = await schema_revision(engine)
        assert current == head is not None
    finally:
        await engine.dispose()


def test_the_newest_revision_read_from_file_names_is_alembics_head() -> None:
    assert newest_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_db_upgrade_reports_what_it_did(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from empty to" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


async def test_alert_evidence_survives_the_migration_to_positions_and_back(
    database_url: str,
) -> None:
    title = "Copper talks resume"
    body = "Talks resumed on Monday.  India and   Chile agreed on copper quotas. Prices rose."
    sentence = "India and Chile agreed on copper quotas."
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await upgrade_schema(engine)
        async with sessions() as session:
            session.add(Chat(id=7))
            article = Article(title=title, body=body, content_hash="h")
            session.add(article)
            await session.flush()
            evidence_at = body.index("agreed") + len(title) + 1
            session.add(
                Alert(chat_id=7, article_id=article.id, topics="[]", evidence_at=evidence_at)
            )
            await session.commit()

        await migrate(engine, command.downgrade, "0004")
        async with engine.connect() as connection:
            stored = await connection.scalar(text("SELECT evidence FROM alerts"))
        assert stored == sentence

        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            alert = (await session.exec(select(Alert))).one()
        assert alert.evidence_at == len(title) + 1 + body.index("India")
        assert evidence_sentence(title, body, alert.evidence_at) == sentence
    finally:
        await engine.dispose()


async def test_the_alert_sender_table_comes_and_goes_with_its_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def tables() -> list[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())

    try:
        await upgrade_schema(engine)
        async with sessions() as session:
            assert await queries.take_over_sending(session=session, worker="first") is None
            await session.commit()
        await migrate(engine, command.downgrade, "0005")
        assert "alert_sender" not in await tables()
        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            assert await queries.take_over_sending(session=session, worker="second") is None
            assert await queries.take_over_sending(session=session, worker="third") == "second"
    finally:
        await engine.dispose()


async def test_pausing_comes_and_goes_with_its_migration_and_keeps_the_watch_lists(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def chat_columns() -> list[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: [column["name"] for column in inspect(sync).get_columns("chats")]
            )

    try:
        await upgrade_schema(engine)
        async with sessions() as session:
            await queries.ensure_chat(session=session, chat_id=7)
            await queries.add_subscription(session=session, chat_id=7, topic="copper")
            await session.commit()
        await migrate(engine, command.downgrade, "0006")
        assert "paused" not in await chat_columns()
        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            assert (await session.get(Chat, 7)).paused is False  # type: ignore[union-attr]
            assert [
                s.topic for s in await queries.list_subscriptions(session=session, chat_id=7)
            ] == ["copper"]
    finally:
        await engine.dispose()


async def test_subscriptions_and_alerts_from_before_levels_get_the_defaults(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0007"))
            await connection.execute(
                text(
                    "INSERT INTO chats (id, kind, active, timezone, "
                    "digest_time, mode, empty_digest_line, created_at) VALUES "
                    "(7, 'private', true, 'UTC', '08:00', 'both', false, CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO subscriptions (chat_id, topic, created_at) "
                    "VALUES (7, 'copper', CURRENT_TIMESTAMP)"
                )
            )
        await migrate(engine, command.upgrade, "head")
        async with engine.connect() as connection:
            levels = (await connection.execute(text("SELECT level FROM subscriptions"))).all()
        assert [level for (level,) in levels] == ["split"]
        await migrate(engine, command.downgrade, "0007")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("alerts")]
            )
        assert "mentions" not in columns and "relevance" not in columns
    finally:
        await engine.dispose()


async def test_chat_languages_come_and_go_with_their_migration_and_keep_the_chats(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def chat_columns() -> list[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: [column["name"] for column in inspect(sync).get_columns("chats")]
            )

    try:
        await upgrade_schema(engine)
        async with sessions() as session:
            chat = await queries.ensure_chat(session=session, chat_id=7)
            chat.language, chat.language_code = "hi", "es-MX"
            await queries.add_subscription(session=session, chat_id=7, topic="copper")
            await session.commit()
        await migrate(engine, command.downgrade, "0015")
        assert not {"language", "language_code"} & set(await chat_columns())
        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            chat = await session.get(Chat, 7)
            assert chat is not None and (chat.language, chat.language_code) == (None, None)
            assert [
                s.topic for s in await queries.list_subscriptions(session=session, chat_id=7)
            ] == ["copper"]
    finally:
        await engine.dispose()


async def test_queued_alerts_move_to_the_fan_out_at_delivery_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def alert_rows() -> list[tuple[int, int, str, str]]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT chat_id, article_id, status, topics FROM alerts ORDER BY id")
            )
            return [tuple(row) for row in rows.all()]  # type: ignore[misc]

    try:
        await migrate(engine, command.upgrade, "0008")
        await migrate(engine, command.downgrade, "0008")  # a cloned PostgreSQL one is at head
        async with engine.begin() as connection:
            for chat_id, mode in ((7, "both"), (8, "digest")):
                await connection.execute(
                    text(
                        "INSERT INTO chats (id, kind, active, paused, timezone, digest_time, "
                        "mode, empty_digest_line, created_at) VALUES (:id, 'private', true, "
                        "false, 'UTC', '08:00', :mode, false, CURRENT_TIMESTAMP)"
                    ),
                    {"id": chat_id, "mode": mode},
                )
            for chat_id, topic in ((7, "copper"), (7, "zinc"), (8, "copper")):
                await connection.execute(
                    text(
                        "INSERT INTO subscriptions (chat_id, topic, level, created_at) "
                        "VALUES (:chat, :topic, 'split', CURRENT_TIMESTAMP)"
                    ),
                    {"chat": chat_id, "topic": topic},
                )
            await connection.execute(
                text(
                    "INSERT INTO articles (content_hash, title, body, ingested_at, "
                    "search_text, story_signature) VALUES ('h1', "
                    "'Copper rises', 'Copper rose; zinc too.', CURRENT_TIMESTAMP, '', '')"
                )
            )
            first = (await connection.execute(text("SELECT id FROM articles"))).scalar_one()
            for chat_id, topics, mentions, status in (
                (7, '["copper", "zinc"]', '["zinc"]', "pending"),
                (8, '["copper"]', "[]", "held"),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO alerts (chat_id, article_id, topics, evidence_at, "
                        "mentions, relevance, status, attempts, created_at) VALUES (:chat, "
                        ":article, :topics, 12, :mentions, 0.8, :status, 0, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "chat": chat_id,
                        "article": first,
                        "topics": topics,
                        "mentions": mentions,
                        "status": status,
                    },
                )
        queued = [
            (7, first, "pending", '["copper", "zinc"]'),
            (8, first, "held", '["copper"]'),
        ]

        await migrate(engine, command.upgrade, "head")
        assert await alert_rows() == queued
        async with sessions() as session:
            matches = await queries.matches_of(session=session, article_ids=[first])
        assert matches == {
            first: [
                queries.StoredMatch("copper", True, 0.8, 12),
                queries.StoredMatch("zinc", False, 0.8, 12),
            ]
        }
        ingestor = Ingestor(sessions, default_lexicon())
        await ingestor.refresh()
        report = await ingestor.ingest(
            [ArticleIn(title="Copper climbs again", body="Copper rose 4% in London.")]
        )
        assert report.matched == 1  # its fan-out is still open: no alert row yet
        assert await alert_rows() == queued
        async with sessions() as session:
            [(second, _, _, _)] = await queries.open_fanouts(session=session, limit=10)

        await migrate(engine, command.downgrade, "0008")
        assert await alert_rows() == [
            *queued,
            (7, second, "pending", '["copper"]'),
            (8, second, "held", '["copper"]'),
        ]

        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            matches = await queries.matches_of(session=session, article_ids=[second])
            assert [m.topic for m in matches[second]] == ["copper"]
            assert await queries.open_fanouts(session=session, limit=10) == []
    finally:
        await engine.dispose()


async def test_the_article_language_column_comes_and_goes_with_its_migration(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    async def article_columns() -> list[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("articles")]
            )

    try:
        await migrate(engine, command.upgrade, "head")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO articles (content_hash, title, body, ingested_at, search_text, "
                    "story_signature, language) "
                    "VALUES ('h', 'El cobre', '', CURRENT_TIMESTAMP, 'el cobre', '', 'es')"
                )
            )
        await migrate(engine, command.downgrade, "0010")
        assert "language" not in await article_columns()
        await migrate(engine, command.upgrade, "head")
        assert "language" in await article_columns()
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT title, language FROM articles"))).all()
        assert [tuple(row) for row in rows] == [("El cobre", None)]  # kept, language unknown
    finally:
        await engine.dispose()


async def test_digests_move_to_slots_and_back_and_chats_keep_everything(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    async def rows(sql: str) -> list[tuple[object, ...]]:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql))).all()]

    async def run(sql: str) -> None:
        async with engine.begin() as connection:
            await connection.execute(text(sql))

    digests = "SELECT chat_id, local_date, covers_until FROM digests ORDER BY chat_id, local_date"
    try:
        await upgrade_schema(engine)
        await migrate(engine, command.downgrade, "0010")  # a cloned PostgreSQL one is at head
        for chat_id, at in ((7, "'07:30'"), (8, "NULL")):
            await run(
                "INSERT INTO chats (id, kind, active, paused, timezone, digest_time, mode, "
                f"empty_digest_line, created_at) VALUES ({chat_id}, 'private', true, false, "
                f"'UTC', {at}, 'both', false, CURRENT_TIMESTAMP)"
            )
            await run(
                "INSERT INTO subscriptions (chat_id, topic, level, created_at) "
                f"VALUES ({chat_id}, 'copper', 'split', CURRENT_TIMESTAMP)"
            )
        for chat_id, day, until in (
            (7, "2026-12-05", "2026-12-05 07:30:00"),
            (7, "2026-12-06", "2026-12-06 07:30:00"),
            (8, "2026-12-06", "2026-12-06 08:00:00"),
        ):
            await run(
                "INSERT INTO digests (chat_id, local_date, covers_until, created_at) VALUES "
                f"({chat_id}, '{day}', '{until}', CURRENT_TIMESTAMP)"
            )
        before = await rows(digests)

        await migrate(engine, command.upgrade, "head")
        assert await rows(digests) == before
        assert await rows("SELECT chat_id, slot FROM digests ORDER BY chat_id, local_date") == [
            (7, "07:30"),
            (7, "07:30"),
            (8, "08:00"),
        ]
        assert await rows("SELECT id, digest_time, quiet_hours FROM chats ORDER BY id") == [
            (7, "07:30", None),
            (8, None, None),
        ]
        await run(
            "UPDATE chats SET digest_time = '07:30 13:00', quiet_hours = '22:00-07:00', "
            "weekly_digest = 'mon 08:00' WHERE id = 7"
        )
        for day, slot, until in (
            ("2026-12-06", "13:00", "2026-12-06 13:00:00"),
            ("2026-12-07", "weekly", "2026-12-07 08:00:00"),
        ):
            await run(
                "INSERT INTO digests (chat_id, local_date, slot, covers_until, created_at) "
                f"VALUES (7, '{day}', '{slot}', '{until}', CURRENT_TIMESTAMP)"
            )

        await migrate(engine, command.downgrade, "0010")
        days = [(chat, str(day), str(until)[:16]) for chat, day, until in await rows(digests)]
        assert days == [  # one a day, the day's last kept; the weekly one gone
            (7, "2026-12-05", "2026-12-05 07:30"),
            (7, "2026-12-06", "2026-12-06 13:00"),
            (8, "2026-12-06", "2026-12-06 08:00"),
        ]
        assert await rows("SELECT id, digest_time FROM chats ORDER BY id") == [
            (7, "07:30"),
            (8, None),
        ]
        assert len(await rows("SELECT id FROM subscriptions")) == 2  # no cascade

        await migrate(engine, command.upgrade, "head")
        assert len(await rows(digests)) == 3
    finally:
        await engine.dispose()


async def test_articles_stored_before_the_story_word_index_are_found_by_it_and_back(
    database_url: str,
) -> None:
    title = "Codelco halts Chuquicamata copper smelter for repairs"
    body = "Chile's Codelco said on Monday it halted its Chuquicamata smelter for repairs."
    rewrite = ArticleIn(title=f"UPDATE 1-{title}", body=body.replace("Monday", "Tuesday"))
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def story_words() -> list[str]:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT word FROM story_words ORDER BY word"))
            return [word for (word,) in rows]

    try:
        await upgrade_schema(engine)
        await migrate(engine, command.downgrade, "0014")
        async with sessions() as session:
            session.add(Article(title=title, body=body, content_hash="h", source="Wire A"))
            await session.commit()

        await migrate(engine, command.upgrade, "head")
        assert await story_words() == sorted(bot_story_words(title, body))
        ingestor = Ingestor(sessions, default_lexicon())
        await ingestor.refresh()
        await ingestor.ingest([rewrite])
        async with sessions() as session:
            first, second = (await session.exec(select(Article).order_by(Article.id))).all()
        assert second.story_id == first.id

        await migrate(engine, command.downgrade, "0014")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "story_words" not in tables
        await migrate(engine, command.upgrade, "head")
        both = [*bot_story_words(title, body), *bot_story_words(rewrite.title, rewrite.body)]
        assert await story_words() == sorted(both)
    finally:
        await engine.dispose()


async def test_the_chat_id_index_of_subscriptions_goes_and_comes_back_with_its_migration(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def indexes() -> set[str]:
        async with engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: inspect(sync).get_indexes("subscriptions")
            )
        return {str(index["name"]) for index in found}

    try:
        await upgrade_schema(engine)
        async with sessions() as session:
            await queries.ensure_chat(session=session, chat_id=41)
            await queries.add_subscription(session=session, chat_id=41, topic="copper")
            await session.commit()
        assert "ix_subscriptions_chat_id" not in await indexes()
        await migrate(engine, command.downgrade, "0018")
        assert "ix_subscriptions_chat_id" in await indexes()
        await migrate(engine, command.upgrade, "head")
        assert "ix_subscriptions_chat_id" not in await indexes()
        async with sessions() as session:
            stored = await queries.list_subscriptions(session=session, chat_id=41)
            assert [subscription.topic for subscription in stored] == ["copper"]
    finally:
        await engine.dispose()
