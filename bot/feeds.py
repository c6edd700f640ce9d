"""Feeds: parsing RSS 0.9x/1.0/2.0 and Atom into articles, entry identity, backoff, and the
poller that fetches due feeds and ingests their new entries through `Ingestor` (the same path
and duplicate checks as `tradebot ingest`).

Pure functions first (`parse_feed`, `entry_key`, `html_to_text`, `backoff_seconds`,
`failure_plan`), tested directly; then `FeedPoller`, which owns the feed rows' lifecycle:

- ok: polled every FEED_POLL_SECONDS, with ETag / Last-Modified;
- backoff: the last fetch failed; the next waits FEED_POLL_SECONDS * 2^failures (at most a
  day, at least what a Retry-After asked for);
- paused: FEED_PAUSE_AFTER_FAILURES failures in a row; not polled until resumed, and the admins
  are told once.

The first successful fetch of a new feed ingests only entries published in the last
FEED_BACKFILL_HOURS; older and undated ones are recorded as seen, so adding a feed does not
flood anyone with its archive. Later fetches ingest every entry not seen before.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from time import struct_time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser

from bot import rendering
from bot.articles import (
    DERIVED_TITLE_LENGTH,
    MAX_BODY_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
    ArticleIn,
    checked,
)
from bot.fetch import FetchError, FetchPolicy, checked_url, fetch, literal_refusal
from bot.ingest import Ingestor, IngestReport
from bot.parsing import MB, ParseAborted, ParseWorkers
from bot.settings import Settings
from bot.text import collapse_whitespace, shorten, split_sentences
from storage import feeds as feed_store
from storage.db import SessionFactory
from storage.models import Feed, utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 86_400.0
MAX_ENTRIES = 500  # entries read from one document
MAX_KEY_LENGTH = 500
FEED_CONCURRENCY = 5
DUE_PER_ROUND = 200
# A claimed feed is left to its poller for this many poll deadlines (then it is due again).
CLAIM_LEASE_FACTOR = 4
FORGET_ENTRIES_AFTER = timedelta(days=180)
# Memory a parse may use, per byte of the largest document accepted (FEED_MAX_BYTES):
# trafilatura needs about 25 for a long article page, feedparser about 5 for a feed.
PARSE_MEMORY_PER_BYTE = 32
MIN_PARSE_MEMORY = 256 * MB

_FEED_TYPES = ("rss", "atom", "rdf", "xml")
_GOOGLE_HOST = re.compile(r"(?:www\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?")
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]", re.IGNORECASE)


class NotAFeed(ValueError):
    """The document is not an RSS or Atom feed."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry: its identity, and the article it carries (None when it was unusable)."""

    key: str
    article: ArticleIn | None
    reason: str | None = None


@dataclass(slots=True)
class ParsedFeed:
    title: str | None
    version: str
    items: list[FeedItem] = field(default_factory=list)

    @property
    def articles(self) -> list[ArticleIn]:
        return [item.article for item in self.items if item.article is not None]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def looks_like_feed(content: bytes, content_type: str | None) -> bool:
    """Whether a response is a feed rather than a web page (by type, else by its root tag)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if "html" in kind:
        return bool(_FEED_ROOT.search(content[:2048])) and b"<html" not in content[:2048].lower()
    if any(word in kind for word in _FEED_TYPES):
        return True
    return bool(_FEED_ROOT.search(content[:2048]))


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse an RSS or Atom document into entries and articles; NotAFeed when it is neither.
    Every string is treated as untrusted text: tags are stripped, limits applied."""
    document = feedparser.parse(
        io.BytesIO(content),  # bytes or str would be taken for a file name or URL
        response_headers={
            "content-location": url,
            "content-type": content_type or "application/xml",
        },
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    if not document.get("version") and not document.entries:
        problem = document.get("bozo_exception")
        detail = f" ({shorten(str(problem), 120)})" if problem else ""
        raise NotAFeed(f"not an RSS or Atom feed{detail}")
    feed_title = _text_of(document.feed, "title") or None
    source = shorten(source or feed_title or _host(url), MAX_SOURCE_LENGTH) or None
    moment = now or datetime.now(UTC)
    parsed = ParsedFeed(title=feed_title, version=document.get("version") or "unknown")
    for entry in document.entries[:MAX_ENTRIES]:
        key = entry_key(entry)
        try:
            parsed.items.append(FeedItem(key, entry_article(entry, source=source, now=moment)))
        except ValueError as error:
            parsed.items.append(FeedItem(key, None, str(error)))
    return parsed


def entry_key(entry: Any) -> str:
    """An entry's identity: its guid/id, else its link, else a digest of its text."""
    for name in ("id", "link"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            key = value.strip()
            break
    else:
        text = f"{entry.get('title', '')}\n{entry.get('summary', '')}"
        key = "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
    if len(key) > MAX_KEY_LENGTH:
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
    return key


def entry_article(entry: Any, *, source: str | None, now: datetime) -> ArticleIn:
    """The article an entry carries: title, text, link and date, within the article limits."""
    title = _text_of(entry, "title")
    body = _entry_body(entry)
    if body == title:
        body = ""
    if not title:
        if not body:
            raise ValueError("entry has no title and no text")
        sentences = split_sentences(body)
        title = shorten(sentences[0] if sentences else body, DERIVED_TITLE_LENGTH)
    link = entry.get("link")
    url = link.strip() if isinstance(link, str) else None
    real = unwrapped_redirect(url) if url else None
    if real is not None:
        url = real
        source = shorten(_host(real).removeprefix("www."), MAX_SOURCE_LENGTH)  # not Google
    if url and (len(url) > MAX_URL_LENGTH or not re.match(r"https?://[^\s/]+", url, re.I)):
        url = None
    published = _timestamp(entry.get("published_parsed") or entry.get("updated_parsed"))
    if published is not None and published > now:
        published = now  # a date in the future is a publisher's mistake
    return checked(
        ArticleIn(
            title=shorten(title, MAX_TITLE_LENGTH),
            body=body[:MAX_BODY_LENGTH].strip(),
            url=url or None,
            source=source,
            published=published,
        )
    )


def unwrapped_redirect(url: str) -> str | None:
    """The article a Google redirect link leads to (Google Alerts feeds link every item as
    ``https://www.google.com/url?...&url=ARTICLE``); None for any other link."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.path != "/url" or not _GOOGLE_HOST.fullmatch(host):
        return None
    query = parse_qs(parts.query)
    for name in ("url", "q"):
        for target in query.get(name, ()):
            target = target.strip()
            if re.match(r"https?://[^\s/]+", target, re.I):
                return target
    return None


def _entry_body(entry: Any) -> str:
    candidates: list[tuple[str, str]] = []
    for content in entry.get("content") or ():
        if isinstance(content, dict) and isinstance(content.get("value"), str):
            candidates.append((content["value"], str(content.get("type") or "")))
    if not candidates and isinstance(entry.get("summary"), str):
        detail = entry.get("summary_detail") or {}
        candidates.append((entry["summary"], str(detail.get("type") or "text/html")))
    texts = [html_to_text(value) if "html" in kind else value.strip() for value, kind in candidates]
    return max(texts, key=len, default="")


def _text_of(container: Any, name: str) -> str:
    """A one-line text field (title), tags stripped when it is HTML."""
    value = container.get(name)
    if not isinstance(value, str):
        return ""
    detail = container.get(f"{name}_detail") or {}
    if "html" in str(detail.get("type") or ""):
        value = html_to_text(value)
    return collapse_whitespace(value)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _host(url: str) -> str:
    match = re.match(r"https?://(?:[^@/]*@)?([^/:?#]+)", url, re.I)
    return match.group(1).lower() if match else url


_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    ]
)
_SKIPPED_TAGS = frozenset(
    ["script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head"]
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped (scripts and styles with their content),
    entities decoded, one paragraph per block."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (collapse_whitespace(line) for line in "".join(extractor.parts).split("\n"))
    return "\n\n".join(line for line in lines if line)


# --------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------


def backoff_seconds(
    failures: int, *, poll_seconds: float, retry_after: float | None = None
) -> float:
    """How long to wait after `failures` failures in a row: poll interval * 2^failures, at
    least what the server asked for, at most a day."""
    delay = poll_seconds * 2.0 ** min(max(failures, 0), 40)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(MAX_BACKOFF_SECONDS, delay)


@dataclass(frozen=True, slots=True)
class FailurePlan:
    failures: int
    paused: bool
    next_poll_at: datetime | None


def failure_plan(
    previous_failures: int,
    *,
    now: datetime,
    poll_seconds: float,
    pause_after: int,
    retry_after: float | None = None,
) -> FailurePlan:
    """What follows one more failure: paused after `pause_after` in a row, else a backoff."""
    failures = previous_failures + 1
    if failures >= pause_after:
        return FailurePlan(failures, True, None)
    delay = backoff_seconds(failures, poll_seconds=poll_seconds, retry_after=retry_after)
    return FailurePlan(failures, False, now + timedelta(seconds=delay))


# --------------------------------------------------------------------------------------------
# Polling
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FeedOutcome:
    feed_id: int
    url: str
    ok: bool = False
    not_modified: bool = False
    entries: int = 0  # in the document
    new_entries: int = 0  # not seen before
    skipped_old: int = 0  # first fetch: older than the backfill window
    report: IngestReport = field(default_factory=IngestReport)
    error: str | None = None
    paused: bool = False


def policy_from(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        allow_private=settings.allow_private_feed_hosts,
        max_bytes=settings.feed_max_bytes,
        timeout=settings.feed_timeout_seconds,
    )


def parse_workers_from(settings: Settings) -> ParseWorkers:
    """Workers parsing feeds and pages within FEED_PARSE_SECONDS and memory after FEED_MAX_BYTES."""
    memory = max(MIN_PARSE_MEMORY, PARSE_MEMORY_PER_BYTE * settings.feed_max_bytes)
    return ParseWorkers(seconds=settings.feed_parse_seconds, memory_bytes=memory)


Notify = Callable[[Callable[[], str]], Awaitable[bool]]  # a notice, rendered per admin


class FeedPoller:
    """Polls due feeds, a few at a time, each within its own deadline, so one slow or broken
    feed never holds up the others; `notify` tells the admins (True once they were told)."""

    def __init__(
        self,
        sessions: SessionFactory,
        ingestor: Ingestor,
        settings: Settings,
        *,
        notify: Notify | None = None,
        on_alerts: Callable[[], None] | None = None,
        concurrency: int = FEED_CONCURRENCY,
    ) -> None:
        self._sessions = sessions
        self._ingestor = ingestor
        self._settings = settings
        self._policy = policy_from(settings)
        self._parsers = parse_workers_from(settings)
        self._notify = notify
        self._on_alerts = on_alerts
        self._slots = asyncio.Semaphore(concurrency)
        self._write_lock = asyncio.Lock()
        self._notify_lock = asyncio.Lock()
        self._in_flight: dict[int, asyncio.Task[FeedOutcome]] = {}

    @property
    def ingestor(self) -> Ingestor:
        return self._ingestor

    @property
    def parsers(self) -> ParseWorkers:
        return self._parsers

    async def start_round(self, now: datetime | None = None) -> list[asyncio.Task[FeedOutcome]]:
        """Start polling every due feed that is not being polled already; the started tasks.
        Returns at once: each feed finishes (or times out) on its own."""
        await self.notify_paused()
        async with self._sessions() as session:
            due = await feed_store.claim_due_feeds(
                session=session,
                now=now or utcnow(),
                limit=DUE_PER_ROUND,
                lease=timedelta(seconds=CLAIM_LEASE_FACTOR * self._poll_deadline),
            )
        due = [feed for feed in due if feed.id is not None and feed.id not in self._in_flight]
        if not due:
            return []
        await self._ingestor.refresh()
        return [self._start(feed) for feed in due]

    async def poll_now(self, feed_id: int) -> FeedOutcome | None:
        """Poll one feed now (or wait for the poll in progress); None if there is no such feed."""
        running = self._in_flight.get(feed_id)
        if running is not None:
            return await asyncio.shield(running)
        async with self._sessions() as session:
            feed = await feed_store.get_feed(session=session, feed_id=feed_id)
        if feed is None:
            return None
        await self._ingestor.refresh()
        running = self._in_flight.get(feed_id)  # a round may have started it meanwhile
        return await asyncio.shield(running or self._start(feed))

    async def stop(self) -> None:
        """Cancel the polls in progress, wait for them to end, and end the parse workers."""
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._parsers.close()

    @property
    def _poll_deadline(self) -> float:
        return self._settings.feed_timeout_seconds + self._settings.feed_parse_seconds

    def _start(self, feed: Feed) -> asyncio.Task[FeedOutcome]:
        assert feed.id is not None
        feed_id = feed.id
        task = asyncio.create_task(self._poll(feed), name=f"poll-feed-{feed_id}")
        self._in_flight[feed_id] = task
        task.add_done_callback(lambda _task: self._in_flight.pop(feed_id, None))
        return task

    async def _poll(self, feed: Feed) -> FeedOutcome:
        assert feed.id is not None
        outcome = FeedOutcome(feed.id, feed.url)
        try:
            async with self._slots:
                fetched = await fetch(
                    feed.url,
                    policy=self._policy,
                    etag=feed.etag,
                    last_modified=feed.last_modified,
                )
                parsed = None
                if not fetched.not_modified:
                    parsed = await self._parsers.run(
                        parse_feed,
                        fetched.content,
                        url=fetched.url,
                        content_type=fetched.content_type,
                        source=feed.name,
                    )
            await self._store(feed, outcome, fetched.etag, fetched.last_modified, parsed)
        except (FetchError, NotAFeed, ParseAborted) as error:
            await self._fail(feed, outcome, str(error), getattr(error, "retry_after", None))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one feed's surprise never stops the poller
            log.exception("polling feed %s failed", feed.id)
            await self._fail(feed, outcome, f"internal error: {error}", None)
        if outcome.paused:
            await self.notify_paused()
        return outcome

    async def _store(
        self,
        feed: Feed,
        outcome: FeedOutcome,
        etag: str | None,
        last_modified: str | None,
        parsed: ParsedFeed | None,
    ) -> None:
        assert feed.id is not None
        now = utcnow()
        next_poll = now + timedelta(seconds=self._settings.feed_poll_seconds)
        outcome.ok = True
        async with self._write_lock:
            if parsed is None:
                outcome.not_modified = True
                async with self._sessions() as session, session.begin():
                    row = await feed_store.get_feed(session=session, feed_id=feed.id)
                    if row is not None:
                        await feed_store.record_success(
                            session=session,
                            feed=row,
                            now=now,
                            next_poll_at=next_poll,
                            etag=etag,
                            last_modified=last_modified,
                            not_modified=True,
                        )
                return
            keys = [item.key for item in parsed.items]
            outcome.entries = len(keys)
            async with self._sessions() as session:
                known = await feed_store.known_entries(session=session, feed_id=feed.id, keys=keys)
            fresh: list[FeedItem] = []
            for item in parsed.items:
                if item.key not in known:
                    known.add(item.key)  # a key listed twice in one document counts once
                    fresh.append(item)
            outcome.new_entries = len(fresh)
            articles = self._to_ingest(feed, fresh, outcome, now)
            if articles:
                outcome.report = await self._ingestor.ingest(articles)
            for item in fresh:
                if item.article is None:
                    log.info("feed %s: skipped entry %s: %s", feed.id, item.key[:100], item.reason)
            async with self._sessions() as session, session.begin():
                row = await feed_store.get_feed(session=session, feed_id=feed.id)
                if row is None:
                    return  # removed while it was being polled
                added = await feed_store.mark_entries_seen(
                    session=session, feed_id=feed.id, keys=[item.key for item in fresh], now=now
                )
                await feed_store.forget_entries(
                    session=session,
                    feed_id=feed.id,
                    seen_before=now - FORGET_ENTRIES_AFTER,
                    keep=keys,
                )
                await feed_store.record_success(
                    session=session,
                    feed=row,
                    now=now,
                    next_poll_at=next_poll,
                    etag=etag,
                    last_modified=last_modified,
                    new_entries=added,
                    name=shorten(parsed.title, MAX_SOURCE_LENGTH) if parsed.title else None,
                )
        if outcome.report.matched and self._on_alerts is not None:
            self._on_alerts()

    def _to_ingest(
        self, feed: Feed, fresh: Sequence[FeedItem], outcome: FeedOutcome, now: datetime
    ) -> list[ArticleIn]:
        """The articles of new entries, oldest first; on a feed's first fetch only the recent."""
        articles = [item.article for item in fresh if item.article is not None]
        if feed.last_success_at is None:
            cutoff = now - timedelta(hours=self._settings.feed_backfill_hours)
            recent = [a for a in articles if a.published is not None and a.published >= cutoff]
            outcome.skipped_old = len(articles) - len(recent)
            articles = recent
        articles.reverse()  # feeds list the newest first
        return articles

    async def _fail(
        self, feed: Feed, outcome: FeedOutcome, error: str, retry_after: float | None
    ) -> None:
        assert feed.id is not None
        now = utcnow()
        outcome.error = error
        async with self._write_lock, self._sessions() as session, session.begin():
            row = await feed_store.get_feed(session=session, feed_id=feed.id)
            if row is None:
                return
            plan = failure_plan(
                row.consecutive_failures,
                now=now,
                poll_seconds=self._settings.feed_poll_seconds,
                pause_after=self._settings.feed_pause_after_failures,
                retry_after=retry_after,
            )
            await feed_store.record_failure(
                session=session,
                feed=row,
                now=now,
                error=error,
                failures=plan.failures,
                next_poll_at=plan.next_poll_at,
                paused=plan.paused,
            )
        outcome.paused = plan.paused
        log.warning(
            "feed %s (%s): %s; %s",
            feed.id,
            feed.url[:200],
            error,
            f"paused after {plan.failures} failures"
            if plan.paused
            else f"failure {plan.failures}, next try at {plan.next_poll_at:%H:%M:%S}",
        )

    async def notify_paused(self) -> None:
        """Tell the admins about each newly paused feed, once."""
        if self._notify is None:
            return
        async with self._notify_lock:
            async with self._sessions() as session:
                paused = await feed_store.paused_unnotified(session=session)
            for feed in paused:
                assert feed.id is not None
                notice = partial(
                    rendering.feed_paused,
                    feed_id=feed.id,
                    name=feed.name,
                    url=feed.url,
                    failures=feed.consecutive_failures,
                    error=feed.last_error,
                )
                if not await self._notify(notice):
                    continue  # not delivered: try again next round
                async with self._write_lock, self._sessions() as session:
                    await feed_store.mark_paused_notified(session=session, feed_id=feed.id)
                    await session.commit()


# --------------------------------------------------------------------------------------------
# Adding feeds (CLI and /addfeed)
# --------------------------------------------------------------------------------------------


def normalized_feed_url(url: str, *, allow_private: bool) -> str:
    """The URL as stored (scheme and host lower-cased); ValueError when it is not an http(s)
    URL or names a refused address outright. Host names are checked at each fetch."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"URL longer than {MAX_URL_LENGTH} characters")
    reason = literal_refusal(url, allow_private=allow_private)
    if reason:
        raise ValueError(reason)
    return str(checked_url(url))


async def add_feed(
    sessions: SessionFactory, url: str, name: str | None, *, allow_private: bool
) -> tuple[Feed, bool]:
    """Store a feed (due at once); (feed, created). ValueError for an unusable URL."""
    normalized = normalized_feed_url(url, allow_private=allow_private)
    clean_name = shorten(collapse_whitespace(name or ""), MAX_SOURCE_LENGTH) or None
    async with sessions() as session:
        feed, created = await feed_store.add_feed(session=session, url=normalized, name=clean_name)
        await session.commit()
    return feed, created
