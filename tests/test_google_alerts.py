"""Google Alerts feeds as sources: every item links through a Google redirect, which is
unwrapped to the article itself, and Google's <b> markup is dropped from titles. The feed is
served from 127.0.0.1 in Google Alerts' Atom shape (sample entries written for these tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import pytest

from bot.context import BotApplication
from bot.feeds import parse_feed, unwrapped_redirect
from bot.settings import Settings
from storage.db import SessionFactory
from tests.fakes import FakeTelegram
from tests.fakes.web import ATOM_TYPE, FakeWeb
from tests.test_alerts import subscribe
from tests.test_feed_polling import ADMIN, ANALYST, add

GOOGLE = "https://www.google.com/url?rct=j&sa=t&url={}&ct=ga&cd=CAIyGjk2&usg=AOvVaw0x"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "allow_private_feed_hosts": True,
            "feed_poll_seconds": 0.3,
            "feed_timeout_seconds": 1.0,
            "admin_ids": frozenset({ADMIN}),
        }
    )


def google_alerts_feed(entries: list[tuple[str, str, str]]) -> str:
    """An Atom document shaped like a Google Alerts feed: (title HTML, article URL, text HTML)."""
    now = datetime.now(UTC)
    items = []
    for n, (title, article_url, content) in enumerate(entries):
        stamp = (now - timedelta(minutes=10 * (n + 1))).strftime("%Y-%m-%dT%H:%M:%SZ")
        link = GOOGLE.format(quote(article_url, safe=":/"))  # as Google encodes it
        items.append(
            "<entry>"
            f"<id>tag:google.com,2013:googlealerts/feed:{1000 + n}</id>"
            f'<title type="html">{escape(title)}</title>'
            f"<link href={quoteattr(link)}></link>"
            f"<published>{stamp}</published><updated>{stamp}</updated>"
            f'<content type="html">{escape(content)}</content>'
            "<author><name></name></author>"
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">'
        "<id>tag:google.com,2005:reference/alerts/feed/0425/1179</id>"
        "<title>Google Alert - copper</title>"
        '<link href="https://www.google.com/alerts/feeds/0425/1179" rel="self"></link>'
        f"<updated>{now:%Y-%m-%dT%H:%M:%SZ}</updated>" + "".join(items) + "</feed>"
    )


SAMPLE = [
    (
        "Chile&#39;s <b>copper</b> output falls for a third month",
        "https://news.example.com/markets/chile-copper-output?src=rss&id=77",
        "State miner Codelco said <b>copper</b> production dropped 8% in February ...",
    ),
    (
        "Zambia <b>copper</b> exports hit a record",
        "https://www.metals.example.org/zambia-exports",
        "Shipments of <b>copper</b> climbed to 80,000 tonnes in May ...",
    ),
]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (GOOGLE.format("https://news.example.com/a"), "https://news.example.com/a"),
        (
            "https://www.google.com/url?q=https://x.example/p%3Fa%3D1%26b%3D2&sa=U",
            "https://x.example/p?a=1&b=2",
        ),
        ("https://google.co.uk/url?url=http://x.example/", "http://x.example/"),
        ("https://www.google.com/url?url=javascript:alert(1)", None),  # not a web page
        ("https://www.google.com/search?q=https://x.example/", None),  # not the redirect
        ("https://evil.example/url?url=https://x.example/", None),  # not Google
        ("https://google.com.evil.example/url?url=https://x.example/", None),
        ("https://news.example.com/a", None),
    ],
)
def test_only_google_redirect_links_are_unwrapped(link: str, expected: str | None) -> None:
    assert unwrapped_redirect(link) == expected


def test_a_google_alerts_item_is_the_article_it_links_to() -> None:
    parsed = parse_feed(
        google_alerts_feed(SAMPLE).encode(),
        url="https://www.google.com/alerts/feeds/0425/1179",
        content_type=ATOM_TYPE,
    )
    first, second = parsed.articles
    assert first.title == "Chile's copper output falls for a third month"
    assert first.url == "https://news.example.com/markets/chile-copper-output?src=rss&id=77"
    assert first.source == "news.example.com"  # the publisher, not "Google Alert - copper"
    assert "<b>" not in first.body and "copper production dropped 8%" in first.body
    assert (second.url, second.source) == (
        "https://www.metals.example.org/zambia-exports",
        "metals.example.org",
    )


def test_google_markup_is_dropped_from_an_rss_title_too() -> None:
    link = GOOGLE.format(quote("https://news.example.com/zinc", safe=":/"))
    document = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Google Alert - zinc</title>'
        f"<item><title>&lt;b&gt;Zinc&lt;/b&gt; smelter &amp;amp; mine sold</title>"
        f"<link>{escape(link)}</link><guid>tag:google.com,2013:googlealerts/feed:7</guid>"
        "<description>A &lt;b&gt;zinc&lt;/b&gt; deal.</description></item></channel></rss>"
    )
    [article] = parse_feed(
        document.encode(), url="https://www.google.com/alerts/feeds/1/2"
    ).articles
    assert (article.title, article.url) == (
        "Zinc smelter & mine sold",
        "https://news.example.com/zinc",
    )


async def test_a_google_alerts_feed_alerts_with_the_real_article_link(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, db: SessionFactory
) -> None:
    await subscribe(db, ANALYST, "copper")
    web.serve("/alerts/feeds/0425/1179", google_alerts_feed(SAMPLE[:1]), content_type=ATOM_TYPE)
    await add(db, web.url("/alerts/feeds/0425/1179"))

    [alert] = await telegram.wait_for_sent(chat_id=ANALYST, timeout=10)
    text = alert.plain_text or ""
    assert text.startswith("🔔 Chile's copper output falls for a third month")
    assert "&lt;b&gt;" not in (alert.text or "") and "<b>copper" not in (alert.text or "")
    assert "news.example.com" in text
    links = [e["url"] for e in alert.entities if e["type"] == "text_link"]
    assert links == ["https://news.example.com/markets/chile-copper-output?src=rss&id=77"]
    assert "google.com" not in (alert.text or "")
