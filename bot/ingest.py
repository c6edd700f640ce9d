"""Ingest: store an article, match it against every active watch item and record what it
matched, all in one transaction, so an article is never stored without its matches and a
re-ingested article records nothing. The dispatcher expands the matches to the chats watching
those items when it sends (`bot.fanout`), so ingest costs follow the articles and the distinct
watch items, not the number of chats."""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.articles import MAX_SOURCE_LENGTH, ArticleIn, Rejected, checked
from bot.facts import extract_facts, figures_to_json
from bot.language import detect_language, preload
from bot.lexicon import Lexicon
from bot.matching import Match, Matcher
from bot.parsing import ParseAborted, ParseWorkers
from bot.stories import StoryText, pick_cluster, story_signature, story_words
from bot.suggest import names_in
from bot.text import content_hash, search_words
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage import queries
from storage.db import SessionFactory, storage_failure
from storage.models import AlertStatus, Level, utcnow
from storage.search import StoryCandidate, StoryWords, add_story_words, story_candidates

log = logging.getLogger(__name__)

STORY_DAYS = 3  # reports further apart are different stories
STORY_SEARCH_WORDS = 8
STORY_CANDIDATES = 20
# Articles stored per transaction: a commit costs about the same whatever the batch.
BATCH_SIZE = 200
# Characters of articles a text worker reads per call: about 0.1 s of work on wire copy.
WORKER_CHARACTERS = 100_000
# A watch-list change adds a small matcher for the new items (see `Router`) until they are more
# than this share of the items (and more than `REBUILD_AT_LEAST`): then all are built again.
REBUILD_SHARE = 0.05
REBUILD_AT_LEAST = 200


@dataclass(slots=True)
class IngestReport:
    new: int = 0
    new_headlines: int = 0
    duplicates: int = 0
    matched: int = 0  # stored articles (and headlines) that matched a watch item
    rejected: list[Rejected] = field(default_factory=list)

    def merge(self, other: IngestReport) -> None:
        self.new += other.new
        self.new_headlines += other.new_headlines
        self.duplicates += other.duplicates
        self.matched += other.matched
        self.rejected.extend(other.rejected)


class StorageFailure(Exception):
    """The database cannot store articles now (disk full, read-only, gone): not the fault of
    an article, so ingest stops. `report` counts what was stored before."""

    def __init__(self, reason: str, report: IngestReport) -> None:
        super().__init__(reason)
        self.reason = reason
        self.report = report


class RoutedAlert(NamedTuple):
    """What one chat is told about one article, and why."""

    chat_id: int
    topics: tuple[str, ...]  # the watch items it is told about, in key order
    mentions: tuple[str, ...]  # those of them the article only mentions in passing
    evidence_at: int  # where the sentence showing the best reason is
    relevance: float  # the best of the items'
    status: str  # pending (push now) or held (for the digest)


# Plain strings: looking an Enum member up costs a call, and `decide` runs once per alert.
_MAIN, _ALL = Level.MAIN.value, Level.ALL.value
_PENDING, _HELD = AlertStatus.PENDING.value, AlertStatus.HELD.value


def decide(
    chat_id: int, matched: Sequence[tuple[Match, str]], digest_only: bool
) -> RoutedAlert | None:
    """What a chat hears of an article from the matches of its watch items, each with the
    item's level: a main story is pushed; a passing mention is pushed (level all), kept for
    the digest (split) or dropped (main). Nothing when every match was dropped."""
    if len(matched) == 1:  # most chats: the same rules for one watch item, without the lists
        match, level = matched[0]
        if not match.about and level == _MAIN:
            return None
        push = not digest_only and (match.about or level == _ALL)
        return RoutedAlert(
            chat_id,
            (match.key,),
            () if match.about else (match.key,),
            match.evidence_at,
            match.relevance,
            _PENDING if push else _HELD,
        )
    kept = [(match, level) for match, level in matched if match.about or level != _MAIN]
    if not kept:
        return None
    push = not digest_only and any(m.about or level == _ALL for m, level in kept)
    best = max(kept, key=lambda pair: (pair[0].about, pair[0].relevance))[0]
    return RoutedAlert(
        chat_id,
        tuple(match.key for match, _ in kept),
        tuple(match.key for match, _ in kept if not match.about),
        best.evidence_at,
        best.relevance,
        _PENDING if push else _HELD,
    )


class Router:
    """Which watch items an article matched: one matcher over the distinct watch items of
    active chats, whatever the number of chats watching each.

    Building the matcher costs seconds for 100,000 distinct items, so a change of the items
    keeps it (`updated`): items no longer watched are left out of what `route` returns, and
    new ones get a small matcher of their own, until the changes since it was built are more
    than `REBUILD_SHARE` of the items: then one matcher over all of them is built again."""

    def __init__(self, topics: Iterable[str], lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._key_of: dict[str, str] = {}  # stored topic → its item's key
        items = self._parsed(topics, self._key_of)
        self._matcher = Matcher(items.values(), lexicon)
        self._built_keys = frozenset(items)  # the items of `_matcher`
        self._built_size = len(self._key_of)
        self._changes = 0  # topics added or removed since `_matcher` was built
        self._added_items: dict[str, WatchItem] = {}  # items new since then, by key
        self._added: Matcher | None = None  # … and their matcher
        self._topics = _topics_by_key(self._key_of)

    def _parsed(self, topics: Iterable[str], key_of: dict[str, str]) -> dict[str, WatchItem]:
        """The watch items of stored topics by key (a topic that no longer parses is skipped);
        fills `key_of`."""
        items: dict[str, WatchItem] = {}
        for topic in topics:
            try:
                item = parse_watch_item(topic, self._lexicon)
            except TopicError as error:
                log.warning("skipping stored topic %r: %s", topic, error)
                continue
            items[item.key] = item
            key_of[topic] = item.key
        return items

    def updated(self, topics: Collection[str]) -> Router:
        """The router for another set of stored topics: this one's matcher kept, with a small
        one for the new items, when they changed little since it was built; else a new one."""
        current = set(topics)
        new = [topic for topic in current if topic not in self._key_of]
        removed = len(self._key_of) - (len(current) - len(new))
        changes = self._changes + len(new) + removed
        if changes > max(REBUILD_AT_LEAST, REBUILD_SHARE * self._built_size):
            return Router(current, self._lexicon)
        if not new and not removed:
            return self
        router = copy.copy(self)
        router._changes = changes
        key_of: dict[str, str] = {}
        items = self._parsed(new, key_of)
        router._key_of = {t: k for t, k in self._key_of.items() if t in current} | key_of
        router._topics = _topics_by_key(router._key_of)
        added = {key: item for key, item in items.items() if key not in self._built_keys}
        if added:
            router._added_items = self._added_items | added
            router._added = Matcher(router._added_items.values(), self._lexicon)
        return router

    def route(self, title: str, body: str) -> list[Match]:
        """The article's matches, one per stored watch item (`Match.key`: the topic as
        subscriptions store it, which the fan-out looks chats up by)."""
        matches = self._matcher.match(title, body)
        if self._added is not None:
            matches = sorted((*matches, *self._added.match(title, body)), key=_match_key)
        return [
            match._replace(key=topic) for match in matches for topic in self._topics_of(match.key)
        ]

    def _topics_of(self, key: str) -> Sequence[str]:
        """The stored topics of an item's key: most often just the key."""
        topics = self._topics.get(key)
        if topics is not None:
            return topics
        return (key,) if self._key_of.get(key) == key else ()


def _topics_by_key(key_of: dict[str, str]) -> dict[str, list[str]]:
    """The stored topics of the keys that are not just their one stored topic (few are: a
    list for each of 100,000 keys would cost megabytes)."""
    others = {key for topic, key in key_of.items() if topic != key}
    topics: dict[str, list[str]] = defaultdict(list)
    for topic, key in key_of.items():
        if key in others:
            topics[key].append(topic)
    return dict(topics)


def _match_key(match: Match) -> str:
    return match.key


@dataclass(frozen=True, slots=True)
class _Read:
    """What ingest derives from an article's text alone (no watch item involved), so that it
    can be worked out in another process."""

    article: ArticleIn
    content_hash: str
    search_text: str
    signature: str
    story_words: tuple[str, ...]  # what the search for earlier reports of its story looks for
    story_index: tuple[str, ...]  # what later reports of its story find it by
    facts: list[tuple[int, str, str, str]]  # position, sentence, figures JSON, key
    language: str | None  # ISO 639-1, when `detect_language` could tell
    names: Counter[str]
    headlines: tuple[_Read, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An article with everything ingest derives from its text, ready to be stored."""

    article: ArticleIn
    content_hash: str
    search_text: str
    signature: str
    story_words: tuple[str, ...]
    story_index: tuple[str, ...]
    facts: list[tuple[int, str, str, str]]
    language: str | None
    matches: list[Match]
    names: Counter[str]
    headlines: tuple[_Prepared, ...]


_PreparedBatch = tuple[list[_Prepared], list[Rejected]]


def _read(article: ArticleIn) -> _Read:
    """Everything ingest derives from an article's text (ValueError: the article is out of
    limits). Every article passes `checked` here, whatever it came from, so no control
    character reaches the database or a message. An article without a source is credited to
    its URL's host."""
    article = checked(article)
    if article.source is None and article.url:
        article = replace(article, source=source_from_url(article.url))
    return _Read(
        article=article,
        content_hash=content_hash(article.title, article.body),
        search_text=search_words(article.title, article.body),
        signature=story_signature(article.title, article.body),
        story_words=_story_words(article.title),
        story_index=story_words(article.title, article.body),
        facts=[
            (fact.position, fact.sentence, figures_to_json(fact.figures), fact.key)
            for fact in extract_facts(article.title, article.body)
        ],
        language=detect_language(article.title, article.body),
        names=names_in(article.title, article.body),
        headlines=tuple(
            _read(ArticleIn(title=headline, source=article.source))
            for headline in article.headlines
        ),
    )


def read_texts(articles: Sequence[ArticleIn]) -> list[_Read | Rejected]:
    """`_read` of each article, or why it could not be read: one article never stops the
    others. Runs in a text worker (picklable in and out) or in the ingesting process."""
    read: list[_Read | Rejected] = []
    for article in articles:
        try:
            read.append(_read(article))
        except ValueError as error:
            read.append(Rejected(article.title[:60], str(error)))
        except Exception as error:
            log.exception("could not read %r", article.title[:80])
            read.append(Rejected(article.title[:60], f"internal error: {error}"))
    return read


def _prepare(router: Router, read: _Read) -> _Prepared:
    """An article read, with what it matched."""
    article = read.article
    return _Prepared(
        article=article,
        content_hash=read.content_hash,
        search_text=read.search_text,
        signature=read.signature,
        story_words=read.story_words,
        story_index=read.story_index,
        facts=read.facts,
        language=read.language,
        matches=router.route(article.title, article.body),
        names=read.names,
        headlines=tuple(_prepare(router, headline) for headline in read.headlines),
    )


def _chunks(articles: list[ArticleIn]) -> Iterator[list[ArticleIn]]:
    """The articles in runs of at most `WORKER_CHARACTERS` characters (or one article), each
    read well within a worker's deadline."""
    chunk: list[ArticleIn] = []
    size = 0
    for article in articles:
        length = len(article.title) + len(article.body)
        if chunk and size + length > WORKER_CHARACTERS:
            yield chunk
            chunk, size = [], 0
        chunk.append(article)
        size += length
    if chunk:
        yield chunk


class Ingestor:
    """Stores articles and what they matched.

    The text work (facts, search words, matching) is done before a transaction opens, and
    `BATCH_SIZE` articles share one transaction: the write lock is held only while rows are
    written, and committing costs little per article. While one batch is written (the
    database works in its driver's thread), the next one is prepared. A batch that fails
    (another process stored one of its articles meanwhile, or one article is bad) is stored
    again one article at a time, so an article only ever costs itself."""

    def __init__(
        self, sessions: SessionFactory, lexicon: Lexicon, text_workers: ParseWorkers | None = None
    ) -> None:
        self._sessions = sessions
        self._lexicon = lexicon
        self._workers = text_workers
        preload()  # the language model, while the first articles are read
        self._router = Router((), lexicon)
        self._fingerprint: tuple[int, ...] | None = None

    async def refresh(self) -> None:
        """Reload the distinct watch items of active chats when they changed. The matcher is
        rebuilt in a worker thread, off the event loop that answers chats."""
        async with self._sessions() as session:
            fingerprint = await queries.subscriptions_fingerprint(session=session)
            if fingerprint == self._fingerprint:
                return
            topics = await queries.active_topics(session=session)
        self._router = await asyncio.to_thread(self._router.updated, topics)
        self._fingerprint = fingerprint

    async def ingest(
        self,
        articles: Iterable[ArticleIn],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Store the articles; `StorageFailure` (with the report so far) when the database
        fails, as opposed to an article."""
        report = IngestReport()
        done = 0
        batches = _batches(articles, BATCH_SIZE)
        preparing = self._prepare_next(batches)
        try:
            while preparing is not None:
                prepared, rejected = await preparing
                preparing = self._prepare_next(batches)  # while this batch is stored
                report.rejected.extend(rejected)
                try:
                    report.merge(await self._store_batch(prepared))
                except StorageFailure as failure:
                    report.merge(failure.report)
                    raise StorageFailure(failure.reason, report) from failure.__cause__
                done += len(prepared) + len(rejected)
                if progress:
                    progress(done)
        finally:
            if preparing is not None:
                preparing.cancel()
        return report

    def _prepare_next(
        self, batches: Iterator[list[ArticleIn]]
    ) -> asyncio.Future[_PreparedBatch] | None:
        batch = next(batches, None)
        return None if batch is None else asyncio.ensure_future(self._prepare_batch(batch))

    async def _prepare_batch(self, articles: list[ArticleIn]) -> _PreparedBatch:
        """The articles read (by the text workers, if any) and matched one by one, letting
        other work run between them (the previous batch being stored, and in the bot, replies
        to chats)."""
        prepared, rejected = [], []
        for read in await self._read_texts(articles):
            if isinstance(read, Rejected):
                rejected.append(read)
                continue
            try:
                prepared.append(_prepare(self._router, read))
            except Exception as error:  # one bad article never stops the others
                log.exception("could not match %r", read.article.title[:80])
                rejected.append(Rejected(read.article.title[:60], f"internal error: {error}"))
            await asyncio.sleep(0)
        return prepared, rejected

    async def _read_texts(self, articles: list[ArticleIn]) -> list[_Read | Rejected]:
        """`read_texts` in the text workers, a chunk each at a time; a chunk they fail on (a
        worker could not start, died, or overran its deadline or memory) is read here."""
        workers = self._workers
        if workers is None:
            return read_texts(articles)

        async def chunk_read(chunk: list[ArticleIn]) -> list[_Read | Rejected]:
            try:
                return await workers.run(read_texts, chunk)
            except (ParseAborted, OSError) as error:
                log.warning("text worker failed (%s): reading %d articles here", error, len(chunk))
                return read_texts(chunk)

        chunks = await asyncio.gather(*(chunk_read(chunk) for chunk in _chunks(articles)))
        return [read for chunk in chunks for read in chunk]

    async def _store_batch(self, batch: list[_Prepared]) -> IngestReport:
        """Store a batch together, or one by one when that fails because of an article."""
        if len(batch) > 1:
            try:
                return await self._store_together(batch)
            except Exception as error:
                _raise_if_storage_failed(error, IngestReport())
                log.info("a batch of %d articles failed; storing them one by one", len(batch))
        report = IngestReport()
        for prepared in batch:
            try:
                report.merge(await self._store_together([prepared]))
            except Exception as error:
                _raise_if_storage_failed(error, report)
                await self._reject(prepared, error, report)
        return report

    async def _reject(self, prepared: _Prepared, error: Exception, report: IngestReport) -> None:
        """Count an article the database refused: a duplicate when another process stored it
        meanwhile, else rejected with the database's reason."""
        where = prepared.article.title[:60]
        if not isinstance(error, IntegrityError):
            log.error("could not ingest %r", prepared.article.title[:80], exc_info=error)
            report.rejected.append(Rejected(where, f"internal error: {error}"))
        elif await self._is_stored(prepared):
            report.duplicates += 1
        else:
            report.rejected.append(Rejected(where, str(error.orig)))

    async def _is_stored(self, prepared: _Prepared) -> bool:
        url = prepared.article.url
        async with self._sessions() as session:
            hashes, urls = await queries.stored_keys(
                session=session, content_hashes=[prepared.content_hash], urls=[url] if url else []
            )
        return bool(hashes or urls)

    async def _store_together(self, batch: list[_Prepared]) -> IngestReport:
        """Store articles (and their headlines) in one transaction, a few statements for the
        whole batch. Earlier reports of each article's story are looked up before anything is
        written (so the full-text index is not flushed after every article); reports within
        the batch are recognised from the batch itself."""
        report = IngestReport()
        now = utcnow()
        async with self._sessions() as session, session.begin():
            everything = [p for prepared in batch for p in (prepared, *prepared.headlines)]
            hashes, urls = await queries.stored_keys(
                session=session,
                content_hashes=[p.content_hash for p in everything],
                urls=[p.article.url for p in everything if p.article.url],
            )
            rows: list[_Row] = []
            for prepared in batch:
                parent = _Row.unless_stored(prepared, None, now, hashes, urls)
                if parent is None:
                    report.duplicates += 1
                    continue
                rows.append(parent)
                for headline in prepared.headlines:
                    row = _Row.unless_stored(headline, parent, now, hashes, urls)
                    if row is None:
                        report.duplicates += 1
                    else:
                        rows.append(row)
            stored_reports = await story_candidates(
                session=session,
                words=[row.prepared.story_words for row in rows],
                limit=STORY_CANDIDATES,
                since=now - timedelta(days=STORY_DAYS),
                signature_of=story_signature,
            )
            holding: dict[str, list[int]] = defaultdict(list)  # word → earlier rows with it
            searched = {word for row in rows for word in row.prepared.story_words}
            for index, (row, stored) in enumerate(zip(rows, stored_reports, strict=True)):
                sharing = {i for word in row.prepared.story_words for i in holding.get(word, ())}
                newest = sorted(sharing, reverse=True)[:STORY_CANDIDATES]
                in_batch = [rows[i] for i in newest]
                row.story = _earlier_report(row, in_batch, stored) or row
                for word in searched.intersection(row.prepared.story_index):
                    holding[word].append(index)
            await self._insert(session, rows)
            await add_story_words(
                session=session,
                articles=[StoryWords(row.id, row.prepared.story_index) for row in rows],
            )
            report.matched += await queries.add_matches(
                session=session,
                matches=[
                    queries.NewMatch(row.id, m.key, m.about, m.relevance, m.evidence_at)
                    for row in rows
                    for m in row.prepared.matches
                ],
            )
            await queries.add_facts(
                session=session,
                facts=[(row.id, *fact) for row in rows for fact in row.prepared.facts],
            )
            vocabulary: Counter[str] = Counter()
            for row in rows:
                if row.parent is None:
                    report.new += 1
                    vocabulary.update(row.prepared.names)
                else:
                    report.new_headlines += 1
            await queries.record_vocabulary(session=session, terms=vocabulary)
        return report

    async def _insert(self, session: AsyncSession, rows: list[_Row]) -> None:
        """Insert the rows, articles before their headlines, and record their stories."""
        for level in ([r for r in rows if r.parent is None], [r for r in rows if r.parent]):
            ids = await queries.add_articles(session=session, rows=[r.values() for r in level])
            for row, article_id in zip(level, ids, strict=True):
                row.id = article_id
        await queries.set_stories(
            session=session,
            stories=[(row.id, row.story_id) for row in rows if isinstance(row.story, _Row)],
        )


def source_from_url(url: str) -> str | None:
    """The host a URL names, without "www." ("https://www.mining.com/a" → "mining.com")."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.removeprefix("www.")[:MAX_SOURCE_LENGTH] if host else None


def _raise_if_storage_failed(error: Exception, report: IngestReport) -> None:
    reason = storage_failure(error)
    if reason is not None:
        raise StorageFailure(reason, report) from error


def _batches(articles: Iterable[ArticleIn], size: int) -> Iterator[list[ArticleIn]]:
    """The articles in lists of `size` (the last may be shorter); itertools.batched in 3.12."""
    iterator = iter(articles)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _earlier_report(
    row: _Row, in_batch: list[_Row], stored: list[StoryCandidate]
) -> _Row | int | None:
    """The story an article continues: a report earlier in the batch, a stored story's id, or
    None for a new story. Candidates are the newest recent reports sharing a word of its title:
    `in_batch` (newest first) and `stored` (found by full-text search)."""
    options: list[tuple[StoryText, _Row | int]] = [
        (earlier.story_text, earlier.known_story) for earlier in in_batch
    ]
    options += [(StoryText(c.signature, c.published), c.story_id) for c in stored]
    options = options[:STORY_CANDIDATES]
    index = pick_cluster(row.story_text, [text for text, _ in options], max_days=STORY_DAYS)
    return None if index is None else options[index][1]


def _story_words(title: str) -> tuple[str, ...]:
    """The title's words a search for earlier reports of its story looks for."""
    return story_words(title, "")[:STORY_SEARCH_WORDS]


@dataclass(eq=False, slots=True)
class _Row:
    """An article of a batch on its way into the database."""

    prepared: _Prepared
    parent: _Row | None  # the article a headline came with
    ingested: datetime
    story: _Row | int | None = None  # its story's first report in the batch, or a stored story
    id: int = 0  # once inserted

    @classmethod
    def unless_stored(
        cls,
        prepared: _Prepared,
        parent: _Row | None,
        now: datetime,
        hashes: set[str],
        urls: set[str],
    ) -> _Row | None:
        """A row for an article not stored yet (nor earlier in the batch); keys noted."""
        url = prepared.article.url
        if prepared.content_hash in hashes or (url is not None and url in urls):
            return None
        hashes.add(prepared.content_hash)
        if url is not None:
            urls.add(url)
        return cls(prepared, parent, now)

    @property
    def story_text(self) -> StoryText:
        return StoryText(self.prepared.signature, self.prepared.article.published or self.ingested)

    @property
    def known_story(self) -> _Row | int:
        assert self.story is not None, "a batch finds its rows' stories before storing them"
        return self.story

    @property
    def story_id(self) -> int:
        story = self.known_story
        return story if isinstance(story, int) else story.id

    def values(self) -> dict[str, object]:
        article = self.prepared.article
        return {
            "url": article.url,
            "content_hash": self.prepared.content_hash,
            "title": article.title,
            "body": article.body,
            "source": article.source,
            "published_at": article.published,
            "ingested_at": self.ingested,
            "parent_id": self.parent.id if self.parent else None,
            "story_id": self.story if isinstance(self.story, int) else None,
            "search_text": self.prepared.search_text,
            "language": self.prepared.language,
            "story_signature": self.prepared.signature,
        }
