"""Feed logic without a network: parsing RSS 0.91/1.0/2.0 and Atom, entry identity, hostile
content, backoff and pausing, web-page extraction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds import (
    MAX_BACKOFF_SECONDS,
    NotAFeed,
    backoff_seconds,
    failure_plan,
    html_to_text,
    looks_like_feed,
    normalized_feed_url,
    parse_feed,
)
from bot.pages import extract_article
from tests.fakes.web import Item, article_page, atom, rss091, rss10, rss20

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
URL = "https://wire.example.com/feed.xml"
STORY = Item(
    "Copper output rises at Chilean mine",
    link="https://wire.example.com/copper-1",
    guid="urn:wire:1",
    description="<p>Copper production rose <b>3%</b> in October.</p><p>Exports grew.</p>",
    published=NOW - timedelta(hours=2),
)


@pytest.mark.parametrize(
    ("document", "version"),
    [(rss20, "rss20"), (atom, "atom10"), (rss10, "rss10")],
)
def test_rss_and_atom_entries_become_articles(document: object, version: str) -> None:
    parsed = parse_feed(document([STORY]).encode(), url=URL, now=NOW)  # type: ignore[operator]
    assert parsed.version == version
    [item] = parsed.items
    assert item.key == "urn:wire:1"
    article = item.article
    assert article is not None
    assert article.title == "Copper output rises at Chilean mine"
    assert article.body == "Copper production rose 3% in October.\n\nExports grew."
    assert article.url == "https://wire.example.com/copper-1"
    assert article.published == NOW - timedelta(hours=2)
    assert article.source == parsed.title


def test_rss_091_is_read_too() -> None:
    document = rss091([Item("Tin prices ease", link="https://old.example.com/tin")])
    parsed = parse_feed(document.encode("iso-8859-1"), url=URL, now=NOW)
    assert parsed.version == "rss091u"
    [item] = parsed.items
    assert item.key == "https://old.example.com/tin"  # no guid: the link
    assert item.article is not None and item.article.source == "Old Wire"


def test_a_name_given_to_the_feed_is_the_source() -> None:
    parsed = parse_feed(rss20([STORY]).encode(), url=URL, source="Metals desk", now=NOW)
    assert parsed.articles[0].source == "Metals desk"


def test_entry_identity_falls_back_from_guid_to_link_to_text() -> None:
    items = [
        Item("With guid", guid="g-1", link="https://x.example/1"),
        Item("Link only", link="https://x.example/2"),
        Item("Neither", description="just text"),
        Item("Long guid", guid="x" * 800),
    ]
    keys = [item.key for item in parse_feed(rss20(items).encode(), url=URL, now=NOW).items]
    assert keys[:2] == ["g-1", "https://x.example/2"]
    assert keys[2].startswith("sha256:") and keys[3].startswith("sha256:")
    assert len(set(keys)) == 4 and all(len(key) <= 500 for key in keys)


def test_relative_links_are_resolved_against_the_feed() -> None:
    parsed = parse_feed(rss20([Item("Relative", link="/news/7")]).encode(), url=URL, now=NOW)
    assert parsed.articles[0].url == "https://wire.example.com/news/7"


def test_hostile_entries_are_plain_text_within_limits() -> None:
    items = [
        Item(
            "Copper &amp; <b>tin</b> &lt;3",
            link="javascript:alert(1)",
            description='<img src=x onerror=alert(1)><script>steal()</script><p>Body & "more"</p>',
            guid="h-1",
        ),
        Item("T" * 1000, guid="h-2", description="d" * 300_000),
        Item(None, guid="h-3", description="<p>Zinc smelter restarts. Output resumes.</p>"),
        Item("", guid="h-4", description=""),
        Item('<script>alert("x")</script> Lead <i>up</i>', guid="h-5"),
    ]
    parsed = parse_feed(rss20(items).encode(), url=URL, now=NOW)
    first, long, untitled, empty, literal = parsed.items
    assert first.article is not None
    assert first.article.title == "Copper & tin <3"  # an HTML title: tags dropped
    # not HTML (a script is no part of a title): kept as the literal text it is, escaped
    # wherever it is shown
    assert literal.article is not None
    assert literal.article.title == '<script>alert("x")</script> Lead <i>up</i>'
    assert first.article.body == 'Body & "more"'
    assert first.article.url is None  # not http(s)
    assert long.article is not None
    assert len(long.article.title) <= 300 and len(long.article.body) <= 200_000
    assert untitled.article is not None and untitled.article.title == "Zinc smelter restarts."
    assert empty.article is None and empty.reason == "entry has no title and no text"


def test_a_date_in_the_future_becomes_now() -> None:
    future = Item("Tomorrow's news", guid="f", published=NOW + timedelta(days=30))
    parsed = parse_feed(rss20([future]).encode(), url=URL, now=NOW)
    assert parsed.articles[0].published == NOW


@pytest.mark.parametrize(
    "content",
    [
        b"<html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
        b"not xml at all",
        b"",
        b"/etc/passwd",  # taken as a file name if handed to feedparser as bytes
        b"http://169.254.169.254/latest/meta-data/",  # or as a URL to fetch
    ],
)
def test_documents_that_are_not_feeds_are_refused(content: bytes) -> None:
    with pytest.raises(NotAFeed, match="not an RSS or Atom feed"):
        parse_feed(content, url=URL, now=NOW)


def test_entity_expansion_bombs_do_not_expand() -> None:
    levels = [
        '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">',
        *(
            f'<!ENTITY {c} "{("&" + p + ";") * 16}">'
            for p, c in zip("abcdef", "bcdefg", strict=True)
        ),
    ]
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + "]>"
        '<rss version="2.0"><channel><title>x</title>'
        "<item><title>&g;</title><guid>1</guid></item></channel></rss>"
    )
    try:
        parsed = parse_feed(bomb.encode(), url=URL, now=NOW)
    except NotAFeed:
        return
    assert all(len(article.title) < 1000 for article in parsed.articles)


def test_external_entities_are_not_read() -> None:
    document = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>x</title>'
        "<item><title>a &x; b</title><guid>1</guid></item></channel></rss>"
    )
    parsed = parse_feed(document.encode(), url=URL, now=NOW)
    assert all("root:" not in article.title for article in parsed.articles)


def test_feeds_are_told_from_pages() -> None:
    assert looks_like_feed(b"<rss version='2.0'>", "application/rss+xml")
    assert looks_like_feed(b"<?xml version='1.0'?><feed xmlns='...'>", "text/xml")
    assert looks_like_feed(b"<?xml version='1.0'?><rdf:RDF>", None)
    assert looks_like_feed(b"<rss version='2.0'><channel>", "text/html")  # mislabelled
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>", "text/html")
    assert not looks_like_feed(b"<html><body>rss</body></html>", None)


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    markup = (
        "<div>One &amp; <i>two</i><br>three</div><script>x()</script><style>p{}</style><p>four</p>"
    )
    assert html_to_text(markup) == "One & two\n\nthree\n\nfour"


def test_backoff_doubles_and_stops_at_a_day() -> None:
    delays = [backoff_seconds(n, poll_seconds=600) for n in range(1, 10)]
    assert delays[:4] == [1200, 2400, 4800, 9600]
    assert max(delays) == MAX_BACKOFF_SECONDS == 86_400
    assert backoff_seconds(1, poll_seconds=600, retry_after=7200) == 7200
    assert backoff_seconds(1, poll_seconds=600, retry_after=10 * 86_400) == MAX_BACKOFF_SECONDS
    assert backoff_seconds(500, poll_seconds=600) == MAX_BACKOFF_SECONDS


def test_a_feed_is_paused_after_repeated_failures() -> None:
    plan = failure_plan(0, now=NOW, poll_seconds=60, pause_after=3)
    assert (plan.failures, plan.paused, plan.next_poll_at) == (
        1,
        False,
        NOW + timedelta(seconds=120),
    )
    plan = failure_plan(1, now=NOW, poll_seconds=60, pause_after=3, retry_after=3600)
    assert (plan.failures, plan.paused, plan.next_poll_at) == (2, False, NOW + timedelta(hours=1))
    plan = failure_plan(2, now=NOW, poll_seconds=60, pause_after=3)
    assert (plan.failures, plan.paused, plan.next_poll_at) == (3, True, None)


def test_feed_urls_are_normalized_and_checked() -> None:
    assert normalized_feed_url(" HTTPS://Wire.Example.com/feed ", allow_private=False) == (
        "https://wire.example.com/feed"
    )
    for bad in ("ftp://x.example/feed", "wire.example.com/feed", "http://10.0.0.1/feed"):
        with pytest.raises(ValueError):
            normalized_feed_url(bad, allow_private=False)
    assert normalized_feed_url("http://10.0.0.1/feed", allow_private=True)
    with pytest.raises(ValueError, match="metadata"):
        normalized_feed_url("http://169.254.169.254/", allow_private=True)


def test_a_web_page_gives_its_article_title_text_and_date() -> None:
    page = article_page(
        "Copper jumps as Chile output falls",
        [
            "Copper prices rose 4% on the LME on Tuesday after Chilean mine output fell "
            "for a third month, traders said.",
            "The state miner Codelco said production dropped 8% in February.",
        ],
        published="2025-03-04T08:00:00Z",
    )
    article = extract_article(page.encode(), url="https://metals.example.com/a", now=NOW)
    assert article.title == "Copper jumps as Chile output falls"
    assert article.body.startswith("Copper prices rose 4% on the LME")
    assert "Codelco" in article.body
    assert "Home" not in article.body and "rights reserved" not in article.body
    assert article.published == datetime(2025, 3, 4, tzinfo=UTC)
    assert article.source == "Metals Daily"
    assert article.url == "https://metals.example.com/a"


def test_a_page_without_an_article_is_refused() -> None:
    with pytest.raises(ValueError, match="no article text"):
        extract_article(b"<html><body><nav>Home</nav></body></html>", url="https://x.example/")
