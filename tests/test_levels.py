"""Levels per watch item, end to end: main stories pushed, passing mentions pushed, kept for
the digest or dropped as each item's level says, switched from its /list row."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.ingest import Ingestor, decide
from bot.lexicon import default_lexicon
from bot.matching import Match, Matcher
from bot.topics import parse_watch_item
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus, Level, Subscription
from tests.fakes import FakeTelegram, SentMessage
from tests.test_alerts import expand
from tests.test_chat_commands import say

CHAT = 701

# Stories about copper: copper in the headline.
MAIN_STORIES = [
    ArticleIn(
        title="Copper prices climb as Chilean mines cut output",
        body="Copper rose 2% on the LME after two Chilean mines cut production. "
        "Traders expect tighter copper supply into next year.",
        url="https://wire.example/copper-climbs",
        source="Metals Wire",
    ),
    ArticleIn(
        title="Zambia copper exports hit a record",
        body="Zambia shipped 80,000 tonnes of copper in May, the most in a decade. "
        "New mines in the Copperbelt province added to output.",
        url="https://wire.example/zambia-copper",
        source="Metals Wire",
    ),
    ArticleIn(
        title="Copper smelter strike ends in Peru",
        body="Workers at Peru's largest copper smelter accepted a 6% wage increase. "
        "The smelter will restart within a week.",
        url="https://wire.example/peru-smelter",
        source="Metals Wire",
    ),
]

# Stories about something else that name copper once, in their last sentence.
MENTIONS = [
    ArticleIn(
        title="Argentina's wheat harvest beats forecasts",
        body="Farmers in Argentina brought in 21 million tonnes of wheat, well above forecasts. "
        "Exporters expect record shipments to Brazil and Indonesia. Rain in the Pampas helped "
        "yields in the south. Elsewhere on commodity markets, copper prices edged up on the LME.",
        url="https://farm.example/wheat",
        source="Farm Desk",
    ),
    ArticleIn(
        title="Coffee futures slide on a bumper Brazilian crop",
        body="Arabica futures fell 4% as Brazil's harvest came in larger than expected. "
        "Roasters have built up stocks in Europe. Vietnam's robusta crop is also recovering. "
        "Miners meanwhile watched copper, which traded flat on the LME.",
        url="https://softs.example/coffee",
        source="Softs Daily",
    ),
    ArticleIn(
        title="Container freight rates fall for a third week",
        body="Spot rates for shipping a container from Shanghai to Rotterdam fell 8%. "
        "Carriers added capacity on Asia-Europe routes. Port congestion eased in Singapore. "
        "Transpacific rates held steady as importers kept orders light ahead of the holidays. "
        "Analysts expect rates to stay low until carriers retire older ships next year. "
        "Among bulk cargoes, brokers said copper concentrate shipments were steady.",
        url="https://freight.example/rates",
        source="Freight Week",
    ),
]


def level_button(listing: SentMessage, topic: str) -> dict[str, Any]:
    """The button on the /list row of a topic showing its level (it opens its options)."""
    for row in listing.reply_markup["inline_keyboard"]:
        if row[0]["text"] == f"✖ {topic}":
            return dict(row[1])
    raise AssertionError(f"no row for {topic}")


def option(options: SentMessage, label: str) -> dict[str, Any]:
    """The button of an item's options labelled `label` (✓: the current choice)."""
    for row in options.reply_markup["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return dict(button)
    raise AssertionError(f"no option {label!r}")


async def press(
    telegram: FakeTelegram, button: dict[str, Any], message: SentMessage
) -> SentMessage:
    """Press a button under a message; the message as the bot edited it."""
    before = len(telegram.sent_to(CHAT))
    telegram.add_callback(CHAT, button["callback_data"], message_id=message.message_id)
    return (await telegram.wait_for_sent(before + 1, chat_id=CHAT))[-1]


async def levels(db: SessionFactory) -> dict[str, str]:
    async with db() as session:
        rows = await session.exec(select(Subscription).where(Subscription.chat_id == CHAT))
        return {row.topic: row.level for row in rows.all()}


async def test_levels_switched_from_the_list_decide_what_is_pushed_and_what_waits(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    await say(telegram, "/subscribe lithium", CHAT)
    listing = await say(telegram, "/list", CHAT)
    assert level_button(listing, "copper")["text"] == "⚙ main now, mentions in digest"
    assert await levels(db) == {"copper": "split", "lithium": "split"}

    # The default: the story about copper is pushed, the passing mention waits for the digest.
    await ingest(MAIN_STORIES[0], MENTIONS[0])
    [main] = await wait_for_alerts(telegram, 1)
    assert "Copper prices climb" in main and "Matched: copper — main subject" in main
    digest = (await say(telegram, "/digest", CHAT)).plain_text or ""
    assert "• Copper prices climb as Chilean mines cut output" in digest
    assert "◦ Argentina's wheat harvest beats forecasts" in digest
    assert "mentioned in passing" in digest.split("Argentina")[1]

    # Copper's options, then every mention now. Lithium's level is untouched.
    options = await press(telegram, level_button(listing, "copper"), listing)
    assert options.method == "editMessageText"
    assert option(options, "✓ mentions in digest")
    edited = await press(telegram, option(options, "every mention"), options)
    assert telegram.callback_answers[-1]["text"] == "copper: every mention now"
    assert option(edited, "✓ every mention")
    assert await levels(db) == {"copper": "all", "lithium": "split"}
    await ingest(MAIN_STORIES[1], MENTIONS[1])
    pushed = await wait_for_alerts(telegram, 3)
    assert any("Zambia copper exports" in text for text in pushed)
    [mention] = [text for text in pushed if "Coffee futures" in text]
    assert "Matched: copper — mentioned" in mention
    assert "“Miners meanwhile watched copper, which traded flat on the LME.”" in mention

    # Main stories only. The mention is neither pushed nor kept.
    edited = await press(telegram, option(edited, "main only"), edited)
    assert await levels(db) == {"copper": "main", "lithium": "split"}
    await ingest(MAIN_STORIES[2], MENTIONS[2])
    pushed = await wait_for_alerts(telegram, 4)
    assert any("Copper smelter strike" in text for text in pushed)
    async with db() as session:
        held = (await session.exec(select(Alert).where(Alert.chat_id == CHAT))).all()
    assert len(held) == 5  # no alert row at all for the freight story
    assert "Container freight" not in (await say(telegram, "/digest", CHAT)).plain_text
    await asyncio.sleep(0.8)  # time for the dispatcher to send anything more it (wrongly) would
    assert len(await wait_for_alerts(telegram, 4)) == 4


async def wait_for_alerts(telegram: FakeTelegram, count: int) -> list[str]:
    """The alert texts the chat got, once there are `count` (and none arrive for a moment)."""
    sent = await telegram.wait_for_sent(chat_id=CHAT)
    for _ in range(100):
        texts = [m.plain_text or "" for m in sent if (m.plain_text or "").startswith("🔔")]
        if len(texts) >= count:
            return texts
        sent = await telegram.wait_for_sent(len(sent) + 1, chat_id=CHAT)
    raise AssertionError(f"expected {count} alerts")


def test_a_headline_about_copper_is_a_main_story_and_a_last_sentence_a_mention() -> None:
    matcher = Matcher([parse_watch_item("copper", default_lexicon())], default_lexicon())
    [main] = matcher.match(MAIN_STORIES[0].title, MAIN_STORIES[0].body)
    [mention] = matcher.match(MENTIONS[0].title, MENTIONS[0].body)
    assert main.about and not mention.about
    assert 0 <= mention.relevance < main.relevance <= 1


def match(key: str, *, about: bool, relevance: float = 0.5, evidence_at: int = 0) -> Match:
    return Match(key, evidence_at, relevance, about)


def test_a_chat_is_told_by_the_levels_of_the_items_an_article_matched() -> None:
    story, mention = match("copper", about=True), match("copper", about=False)
    assert decide(1, [(story, Level.MAIN)], False) == (
        1,
        ("copper",),
        (),
        0,
        0.5,
        AlertStatus.PENDING,
    )
    assert decide(1, [(mention, Level.MAIN)], False) is None
    assert decide(1, [(mention, Level.SPLIT)], False) == (
        1,
        ("copper",),
        ("copper",),
        0,
        0.5,
        AlertStatus.HELD,
    )
    pushed = decide(1, [(mention, Level.ALL)], False)
    assert pushed is not None and pushed.status == AlertStatus.PENDING
    digest_only = decide(1, [(story, Level.SPLIT)], True)
    assert digest_only is not None and digest_only.status == AlertStatus.HELD
    # A story about one item that mentions another: pushed, the reason of the main story shown.
    zinc = match("zinc", about=False, relevance=0.1, evidence_at=400)
    copper = match("copper", about=True, relevance=0.9, evidence_at=20)
    both = decide(1, [(copper, Level.SPLIT), (zinc, Level.SPLIT)], False)
    assert both == (1, ("copper", "zinc"), ("zinc",), 20, 0.9, AlertStatus.PENDING)
    dropped = decide(1, [(copper, Level.SPLIT), (zinc, Level.MAIN)], False)
    assert dropped == (1, ("copper",), (), 20, 0.9, AlertStatus.PENDING)


async def test_a_level_changed_after_ingest_decides_what_the_fan_out_writes(
    db: SessionFactory,
) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=CHAT)
        await queries.add_subscription(session=session, chat_id=CHAT, topic="copper")
        await session.commit()
    ingestor = Ingestor(db, default_lexicon())
    await ingestor.refresh()
    report = await ingestor.ingest([MENTIONS[0], MAIN_STORIES[0]])
    assert (report.new, report.matched) == (2, 2)  # what matched; levels apply at fan-out
    async with db() as session:
        [subscription] = await queries.list_subscriptions(session=session, chat_id=CHAT)
        assert subscription.id is not None
        await queries.set_level(
            session=session, chat_id=CHAT, subscription_id=subscription.id, level=Level.MAIN
        )
        await session.commit()
    await expand(db)
    async with db() as session:
        [alert] = (await session.exec(select(Alert))).all()
    assert (alert.mentions, alert.status) == ("[]", AlertStatus.PENDING)


async def test_a_level_button_of_another_chat_changes_nothing(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    listing = await say(telegram, "/list", CHAT)
    other = CHAT + 1
    await say(telegram, "/start", other)
    options = await press(telegram, level_button(listing, "copper"), listing)
    telegram.add_callback(other, option(options, "every mention")["callback_data"], message_id=1)
    await telegram.wait_for_call("answerCallbackQuery", 2)
    assert telegram.callback_answers[-1]["text"] == "That topic is no longer on your watch-list."
    assert await levels(db) == {"copper": "split"}
