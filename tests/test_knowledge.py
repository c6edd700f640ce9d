"""/facts, /related, /latest, /trend and story clustering, end to end, and their CLI twins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.articles import ArticleIn, ParsedFile, read_articles
from bot.cli import main
from bot.context import BotApplication
from storage.db import SessionFactory
from tests.conftest import DATA
from tests.fakes import FakeTelegram, utf16_len
from tests.test_chat_commands import say, store_topics

CHAT = 701


@pytest.fixture
async def sample(ingest: Callable[..., Any]) -> None:
    """The India–Chile copper article with its headlines, and a Chilean mines story."""
    articles = ParsedFile.of(read_articles(DATA / "india-chile-copper.txt")).articles
    articles += ParsedFile.of(read_articles(DATA / "facts-chile-copper-output.txt")).articles
    await ingest(*articles)


async def test_facts_copper_lists_the_import_share_and_the_2047_projection(
    bot: BotApplication, telegram: FakeTelegram, sample: None
) -> None:
    reply = await say(telegram, "/facts copper", CHAT)
    text = reply.plain_text or ""
    assert text.startswith("📊 Key facts: copper (1–")
    assert "over 90% of its copper concentrate" in text and "97% by 2047" in text
    assert "448,000 tonnes" in text  # a copper fact that does not say copper
    assert "would follow the negotiations closely" not in text  # commentary stays out
    assert "rare earth magnets" not in text  # another commodity's figure
    assert len(text) <= 1600


async def test_facts_rare_earths_lists_chinas_magnet_share(
    bot: BotApplication, telegram: FakeTelegram, sample: None
) -> None:
    text = (await say(telegram, "/facts rare earths", CHAT)).plain_text or ""
    assert "roughly 90% of the world's rare earth magnets" in text
    assert "copper concentrate" not in text


async def test_many_facts_are_paged_with_a_more_button(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(
        *(
            ArticleIn(
                title=f"Copper report {n}",
                body=f"Copper stocks in warehouse {n} rose {n + 1}% to {1000 + n * 37} tonnes "
                f"as smelter {n} output increased. " + "Traders were cautious. " * 20,
                url=f"https://x.example/{n}",
                source=f"Wire {n}",
            )
            for n in range(30)
        )
    )
    first = await say(telegram, "/facts copper", CHAT)
    assert "(1–" in first.plain_text and "of 30)" in first.plain_text
    assert utf16_len(first.plain_text) <= 1500
    [[button]] = first.reply_markup["inline_keyboard"]
    assert button["text"] == "more…"
    telegram.add_callback(CHAT, button["callback_data"], message_id=first.message_id)
    second = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert second.method == "editMessageText"
    shown_first = first.plain_text.split("\n", 1)[0].split("(1–")[1].split(" ")[0]
    assert f"({int(shown_first) + 1}–" in second.plain_text


async def test_related_india_chile_lists_the_us_india_trade_deal(
    bot: BotApplication, telegram: FakeTelegram, sample: None
) -> None:
    text = (await say(telegram, "/related India-Chile", CHAT)).plain_text or ""
    assert "U.S. and India Agree Trade Deal That Cuts Tariffs" in text
    assert "Japan’s Finance Minister" not in text  # nothing shared with India or Chile


async def test_latest_shows_newest_first_with_escaped_titles_and_other_sources(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    await ingest(
        ArticleIn(
            title="Lithium <b>prices</b> & spodumene slide",
            body="Lithium carbonate fell 7.8% this month as Australian mines raised output.",
            url="https://a.example/1",
            source="Battery <Daily>",
            published=now - timedelta(days=1),
        ),
        ArticleIn(
            title="Chile's lithium output rises 12%",
            body="Chile produced more lithium as new brine ponds opened in the Atacama.",
            url="https://a.example/2",
            source="Andes Wire",
            published=now,
        ),
        ArticleIn(
            title="Lithium prices slide as spodumene floods in",
            body="Lithium carbonate fell 7.8% this month as Australian mines raised output.",
            url="https://b.example/1",
            source="Metals Desk",
            published=now - timedelta(hours=20),
        ),
    )
    reply = await say(telegram, "/latest lithium", CHAT)
    lines = (reply.plain_text or "").splitlines()
    assert lines[0] == "🗞 Latest on lithium"
    assert lines[1].startswith("• Chile's lithium output rises 12%")
    assert "Lithium prices slide as spodumene floods in" in lines[2]
    assert "(also reported by Battery <Daily>)" in lines[2]
    assert len(lines) == 3


async def test_latest_never_dates_a_story_by_the_day_it_was_stored(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(
        ArticleIn(
            title="Tin smelter restarts in Bolivia",
            body="The tin smelter restarted after a two-month strike, its owner said.",
            url="https://c.example/1",
        )
    )
    reply = await say(telegram, "/latest tin", CHAT)
    [line] = (reply.plain_text or "").splitlines()[1:]
    assert line.endswith("— c.example, date unknown")  # the source: the link's host
    assert datetime.now(UTC).strftime("%d %b %Y") not in line


async def test_the_same_story_from_another_source_alerts_once(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    await ingest(
        ArticleIn(
            title="Codelco cuts copper output forecast after mine accident",
            body="Chile's Codelco cut its 2026 copper output forecast to 1.3 million tonnes "
            "after an accident at El Teniente.",
            url="https://a.example/codelco",
            source="Wire A",
        )
    )
    await telegram.wait_for_sent(2, chat_id=CHAT)
    await ingest(
        ArticleIn(
            title="Codelco lowers copper output forecast after El Teniente accident",
            body="Codelco of Chile cut its copper output forecast for 2026 to 1.3 million "
            "tonnes following an accident at El Teniente.",
            url="https://b.example/codelco",
            source="Wire B",
        )
    )
    digest = await say(telegram, "/digest", CHAT)
    assert len(telegram.sent_to(CHAT)) == 3  # subscribe answer, one alert, the digest
    assert "(also reported by Wire B)" in (digest.plain_text or "")


async def test_trend_sends_a_chart_or_a_sentence(
    bot: BotApplication, telegram: FakeTelegram, sample: None
) -> None:
    empty = await say(telegram, "/trend tungsten", CHAT)
    assert (
        empty.method == "sendMessage" and "No stored articles matched tungsten" in empty.plain_text
    )
    chart = await say(telegram, "/trend copper", CHAT)
    assert chart.method == "sendPhoto"
    assert chart.file_size and chart.file_size > 1000
    assert (chart.plain_text or "").startswith("copper: 2 articles in the last 30 days")


async def test_questions_need_a_topic(bot: BotApplication, telegram: FakeTelegram) -> None:
    for command in ("related", "latest", "trend"):
        assert "Usage" in (await say(telegram, f"/{command}", CHAT)).plain_text


def test_the_cli_prints_the_same_answers(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["ingest", str(DATA / "india-chile-copper.txt")]) == 0
    capsys.readouterr()
    assert main(["facts", "rare earths"]) == 0
    assert "roughly 90% of the world's rare earth magnets" in capsys.readouterr().out
    assert main(["related", "India-Chile"]) == 0
    assert "U.S. and India Agree Trade Deal" in capsys.readouterr().out
    assert main(["latest", "copper"]) == 0
    assert "India is negotiating with Chile" in capsys.readouterr().out
    assert main(["digest", "424242"]) == 1


NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def copper_story(n: int, title: str, body: str, *, days_ago: int, source: str) -> ArticleIn:
    return ArticleIn(
        title=title,
        body=body,
        url=f"https://news.example/{n}",
        source=source,
        published=NOW - timedelta(days=days_ago),
    )


async def test_facts_leave_out_tables_merge_duplicates_name_subjects_and_link_newest_first(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(
        copper_story(
            1,
            "Delhi plans a bigger copper smelting industry",
            "India wants to double its refined copper capacity within a decade.\n\n"
            "The government targets 3 million tonnes of copper a year by 2031.",
            days_ago=5,
            source="Mint Desk",
        ),
        copper_story(
            2,
            "LME copper stocks fall",
            "Copper stocks in LME warehouses fell 4,500 tonnes to 160,000 tonnes on Monday.\n\n"
            "COPPER GRADE A - Steady 125 tonnes cash 874.50 3months 880.00 STANDARD - Quiet 75 "
            "tonnes cash 861.00 3months nil LEAD - Steady 250 tonnes cash 301.50 3months 299.00",
            days_ago=1,
            source="Metals Wire",
        ),
        copper_story(
            3,
            "Warehouse copper stocks drop",
            "Copper stocks in LME warehouses fell by 4,500 tonnes to 160,000 tonnes on Monday, "
            "traders said.",
            days_ago=2,
            source="Exchange Daily",
        ),
    )
    reply = await say(telegram, "/facts copper", CHAT)
    lines = (reply.plain_text or "").splitlines()
    assert lines[0] == "📊 Key facts: copper (1–2 of 2)"
    assert lines[1].startswith("• Copper stocks in LME warehouses fell 4,500 tonnes")
    assert lines[1].endswith("— Metals Wire, 23 Nov 2026 (also Exchange Daily)")
    assert lines[2] == (
        "• The government of India targets 3 million tonnes of copper a year by 2031. "
        "— Mint Desk, 19 Nov 2026"
    )
    assert '<a href="https://news.example/2">Metals Wire, 23 Nov 2026</a>' in (reply.text or "")


async def test_related_answers_with_the_matching_stories_when_nothing_else_is_related(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(
        copper_story(
            1,
            "Codelco cuts copper output forecast",
            "Codelco cut its copper output forecast for the year.",
            days_ago=3,
            source="Andes Wire",
        ),
        copper_story(
            2,
            "Zambian copper exports rise",
            "Zambia shipped more copper through Dar es Salaam.",
            days_ago=1,
            source="Lusaka Post",
        ),
    )
    for topic, first in (("copper", "Zambian"), ("Codelco", "Codelco")):
        lines = ((await say(telegram, f"/related {topic}", CHAT)).plain_text or "").splitlines()
        assert lines[0] == f"🔗 Related to {topic}"
        assert lines[1].startswith(f"• {first}")


async def test_related_ranks_by_the_topic_s_names_not_by_words_of_another_sense(
    bot: BotApplication, telegram: FakeTelegram, sample: None, ingest: Callable[..., Any]
) -> None:
    await ingest(
        ArticleIn(
            title="India is negotiating chile pepper and fine china export deals",
            body="Indian growers of chile peppers want buyers for fine china and spice blends.",
            url="https://spice.example/1",
            source="Spice Trade",
        )
    )
    lines = ((await say(telegram, "/related India-Chile", CHAT)).plain_text or "").splitlines()
    assert lines[1].startswith("• U.S. and India Agree Trade Deal That Cuts Tariffs")
    chile = next(n for n, line in enumerate(lines) if "Chile's copper output slides" in line)
    chilli = next(n for n, line in enumerate(lines) if "chile pepper" in line)
    assert chile < chilli == len(lines) - 1  # naming India alone counts least
    assert "Japan’s Finance Minister" not in "\n".join(lines)


async def test_a_question_with_a_typo_suggests_spellings_and_a_button_answers(
    bot: BotApplication, telegram: FakeTelegram, sample: None
) -> None:
    for question in ("facts", "related", "latest", "trend"):
        reply = await say(telegram, f"/{question} coper", CHAT)
        assert "Did you mean copper?" in (reply.plain_text or "")
        data = [row[0]["callback_data"] for row in reply.reply_markup["inline_keyboard"]]
        assert data == [f"ask:{question}:copper", f"ask:{question}:coper"]
    before = len(telegram.sent_to(CHAT))
    telegram.add_callback(CHAT, "ask:facts:copper", message_id=reply.message_id)
    answer = (await telegram.wait_for_sent(before + 1, chat_id=CHAT))[-1]
    assert (answer.plain_text or "").startswith("📊 Key facts: copper (1–")
    telegram.add_callback(CHAT, "ask:latest:coper", message_id=reply.message_id)
    kept = (await telegram.wait_for_sent(before + 2, chat_id=CHAT))[-1]
    assert kept.plain_text == "No stored articles on coper yet."


async def test_facts_alone_answers_for_the_watch_list_grouped_by_item(
    bot: BotApplication, telegram: FakeTelegram, sample: None, db: SessionFactory
) -> None:
    empty = await say(telegram, "/facts", CHAT)
    assert (empty.plain_text or "").startswith("Your watch-list is empty.")
    await store_topics(db, ["copper", "rare earths", "tungsten"], CHAT)
    reply = await say(telegram, "/facts", CHAT)
    text = reply.plain_text or ""
    assert text.startswith("📊 Key facts on your watch-list\n\ncopper\n• ")
    copper, rare_earths = text.split("\n\ncopper\n")[1].split("\n\nrare earths\n")
    assert len(copper.splitlines()) == 3 and "97% by 2047" in copper
    assert "roughly 90% of the world's rare earth magnets" in rare_earths
    assert text.endswith("Not shown (no figures yet, or no room): tungsten")
    [[more]] = reply.reply_markup["inline_keyboard"]
    assert (more["text"], more["callback_data"]) == ("More on copper", "ask:facts:copper")


async def test_related_to_a_cooccurrence_no_article_matches_lists_those_naming_a_term(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(
        ArticleIn(title="Chile raises its copper royalty", body="Chile's senate voted for it."),
        ArticleIn(title="Zinc smelters idle", body="European zinc smelters cut output."),
    )
    lines = ((await say(telegram, "/related India-Chile", CHAT)).plain_text or "").splitlines()
    assert [line.split(" — ")[0] for line in lines[1:]] == ["• Chile raises its copper royalty"]
