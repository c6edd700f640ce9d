"""Articles from the web: fetch a URL and extract the article's title, text and date with
trafilatura, or read it as a feed when it is one. For `tradebot ingest URL` and `/ingest URL`;
the articles then go through `Ingestor` like any other. Both are parsed in `ParseWorkers`."""

from __future__ import annotations

import re
from configparser import ConfigParser
from datetime import UTC, datetime
from functools import cache

from bot.articles import (
    DERIVED_TITLE_LENGTH,
    MAX_BODY_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
    ArticleIn,
    ParsedFile,
    Rejected,
    checked,
)
from bot.feeds import NotAFeed, looks_like_feed, parse_feed
from bot.fetch import ACCEPT_PAGE, FetchPolicy, fetch
from bot.parsing import ParseAborted, ParseWorkers
from bot.text import collapse_whitespace, shorten, split_sentences

MAX_TREE_SIZE = 100_000  # HTML elements trafilatura will look at
MIN_ARTICLE_CHARACTERS = 40  # less is a menu or a teaser, not an article


def is_url(text: str) -> bool:
    return bool(re.match(r"https?://", text.strip(), re.IGNORECASE))


async def read_url(url: str, *, policy: FetchPolicy, parsers: ParseWorkers) -> ParsedFile:
    """The articles at a URL: every entry of a feed, or the one article of a page. Raises
    `FetchError` when nothing could be fetched; a page without an article, or one that overruns
    the parse limits, is a rejection."""
    fetched = await fetch(url, policy=policy, accept=ACCEPT_PAGE)
    parsed = ParsedFile()
    if looks_like_feed(fetched.content, fetched.content_type):
        try:
            feed = await parsers.run(
                parse_feed, fetched.content, url=fetched.url, content_type=fetched.content_type
            )
        except NotAFeed:
            pass
        except ParseAborted as error:
            parsed.rejected.append(Rejected(shorten(url, 120), str(error)))
            return parsed
        else:
            for item in feed.items:
                if item.article is not None:
                    parsed.articles.append(item.article)
                else:
                    where = f"{shorten(url, 80)} entry {shorten(item.key, 80)}"
                    parsed.rejected.append(Rejected(where, item.reason or "unusable entry"))
            if not feed.items:
                parsed.rejected.append(Rejected(shorten(url, 120), "the feed has no entries"))
            return parsed
    try:
        article = await parsers.run(
            extract_article, fetched.content, url=fetched.url, charset=fetched.charset
        )
    except (ValueError, ParseAborted) as error:
        parsed.rejected.append(Rejected(shorten(url, 120), str(error)))
    else:
        parsed.articles.append(article)
    return parsed


def extract_article(
    content: bytes, *, url: str, charset: str | None = None, now: datetime | None = None
) -> ArticleIn:
    """The article on a web page: title, main text (without navigation, ads, comments) and
    date; ValueError when the page has no article text."""
    import trafilatura  # imported here: it is slow to import and only ingest needs it

    document = trafilatura.bare_extraction(
        _decoded(content, charset),
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        config=_config(),
    )
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if not text:
        raise ValueError("no article text found on the page")
    title = collapse_whitespace(getattr(document, "title", None) or "")
    first_line, _, rest = text.partition("\n")
    if title and collapse_whitespace(first_line) == title:
        text = rest.strip()  # trafilatura repeats the headline as the first line
    if len(text) < MIN_ARTICLE_CHARACTERS:
        raise ValueError("no article text found on the page")
    if not title:
        sentences = split_sentences(text)
        title = shorten(sentences[0] if sentences else text, DERIVED_TITLE_LENGTH)
    source = collapse_whitespace(getattr(document, "sitename", None) or "") or _host(url)
    return checked(
        ArticleIn(
            title=shorten(title, MAX_TITLE_LENGTH),
            body=text[:MAX_BODY_LENGTH].strip(),
            url=url if len(url) <= MAX_URL_LENGTH else None,
            source=shorten(source, MAX_SOURCE_LENGTH) or None,
            published=_date(getattr(document, "date", None), now or datetime.now(UTC)),
        )
    )


@cache
def _config() -> ConfigParser:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # ParseWorkers keeps the time
    return config


def _decoded(content: bytes, charset: str | None) -> str | bytes:
    """Text in the declared charset; undeclared or unknown, the bytes for trafilatura to sniff."""
    if charset:
        try:
            return content.decode(charset, errors="replace")
        except LookupError:
            pass
    return content


def _date(value: object, now: datetime) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None if moment > now else moment


def _host(url: str) -> str:
    match = re.match(r"https?://(?:[^@/]*@)?([^/:?#]+)", url, re.IGNORECASE)
    return match.group(1).lower() if match else ""
