"""Reading articles from files: plain-text articles and JSON / JSON Lines records.

Pure parsing: no database, no Telegram. Files are read as a stream of records, so memory stays
flat whatever the file's size, and every bad record is rejected on its own with a reason.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from bot.text import collapse_whitespace, shorten, split_sentences, strip_control_characters

MAX_TITLE_LENGTH = 300
MAX_BODY_LENGTH = 200_000
MAX_URL_LENGTH = 2_000
MAX_SOURCE_LENGTH = 100
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_TEXT_FILE_BYTES = 2 * 1024 * 1024  # a text file is one article (and its headlines)
MAX_RECORD_BYTES = 4 * 1024 * 1024  # one JSON Lines record
EARLIEST_PUBLISHED = datetime(1900, 1, 1, tzinfo=UTC)  # earlier dates are typos
DERIVED_TITLE_LENGTH = 90
HEADLINE_MAX_LENGTH = 200
TEXT_SUFFIXES = (".txt", ".text", ".md")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ArticleIn:
    """An article as read, before it is stored."""

    title: str
    body: str = ""
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    headlines: tuple[str, ...] = ()  # related headlines printed after a plain-text article


@dataclass(frozen=True, slots=True)
class Rejected:
    where: str  # file and line or record number
    reason: str


Record = ArticleIn | Rejected


@dataclass(slots=True)
class ParsedFile:
    articles: list[ArticleIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @classmethod
    def of(cls, records: Iterable[Record]) -> ParsedFile:
        """Every record read, in two lists (for inputs small enough to hold)."""
        parsed = cls()
        for record in records:
            if isinstance(record, ArticleIn):
                parsed.articles.append(record)
            else:
                parsed.rejected.append(record)
        return parsed


class ArticleFileError(Exception):
    """The file could not be read at all."""


def read_articles(path: Path) -> Iterator[Record]:
    """The articles in a file, read as they are iterated; the format follows the suffix.
    A file that cannot be opened, or is too large or of an unknown kind, raises
    `ArticleFileError` here, before anything is read."""
    suffix = path.suffix.lower()
    limit = MAX_TEXT_FILE_BYTES if suffix in TEXT_SUFFIXES else MAX_FILE_BYTES
    try:
        if path.stat().st_size > limit:
            raise ArticleFileError(f"{path}: larger than {_megabytes(limit)}")
        if suffix not in TEXT_SUFFIXES + JSON_SUFFIXES:
            raise ArticleFileError(f"{path}: unknown format (use .txt, .json or .jsonl)")
        handle = path.open("rb")
    except OSError as error:
        raise ArticleFileError(f"{path}: {error.strerror or error}") from error
    if suffix in JSON_SUFFIXES:
        return _closing(handle, json_records(handle, name=path.name))
    return _closing(handle, _text_file(handle, path))


def _megabytes(size: int) -> str:
    return f"{size // 2**20} MB"


def _closing(handle: BinaryIO, records: Iterator[Record]) -> Iterator[Record]:
    with handle:
        yield from records


def _text_file(handle: BinaryIO, path: Path) -> Iterator[Record]:
    text = handle.read().decode("utf-8-sig", errors="replace")
    try:
        yield parse_text_article(text)  # a file's name is not a source: alerts say "unknown"
    except ValueError as error:
        yield Rejected(path.name, str(error))


def parse_text_article(text: str) -> ArticleIn:
    """A plain-text article: an optional title line, paragraphs, then optionally a block of
    one-line related headlines. Without a title line, the title is derived from the lead."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    headlines: tuple[str, ...] = ()
    if len(blocks) >= 2 and _is_headline_block(blocks[-1]):
        headlines = tuple(
            collapse_whitespace(line) for line in blocks[-1].splitlines() if line.strip()
        )
        blocks = blocks[:-1]
    title = ""
    first_lines = blocks[0].strip().split("\n", 1) if blocks else [""]
    if len(blocks) >= 2 and len(first_lines) == 1 and _looks_like_title(first_lines[0]):
        title, blocks = collapse_whitespace(first_lines[0]), blocks[1:]
    body = "\n\n".join(block.strip() for block in blocks)
    if not body and not title:
        raise ValueError("no text")
    if not title:
        sentences = split_sentences(body)
        title = shorten(sentences[0] if sentences else body, DERIVED_TITLE_LENGTH)
    return checked(ArticleIn(title=title, body=body, headlines=headlines))


def _looks_like_title(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= 150 and not line.endswith((".", ",", ";", ":"))


def _is_headline_block(block: str) -> bool:
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    return len(lines) >= 2 and all(
        len(line) <= HEADLINE_MAX_LENGTH and not line.endswith(".") for line in lines
    )


def parse_json_articles(text: str, *, name: str) -> ParsedFile:
    """JSON (one object, a list, or {"articles": [...]}) or JSON Lines, one record each."""
    return ParsedFile.of(json_records(io.BytesIO(text.encode("utf-8")), name=name))


def json_records(handle: BinaryIO, *, name: str) -> Iterator[Record]:
    """The records of a JSON document (one object, a list, or {"articles": [...]}) or of JSON
    Lines, read from a binary file as they are iterated (a list is parsed incrementally)."""
    head = handle.read(len(_BOM))
    start = len(_BOM) if head == _BOM else 0
    handle.seek(start)
    first = handle.read(1 << 16).lstrip()[:1]
    handle.seek(start)
    if first == b"[":
        yield from _listed_records(handle, "item", name)
        return
    if first == b"{" and not _first_line_is_an_object(handle):
        handle.seek(start)
        if (yield from _listed_records(handle, "articles.item", name, fallback=True)):
            return
    handle.seek(start)
    yield from _json_lines(handle, name)


def _first_line_is_an_object(handle: BinaryIO) -> bool:
    """Whether the file's first line is a whole JSON object (then the file is JSON Lines)."""
    line = handle.readline(MAX_RECORD_BYTES).decode("utf-8", errors="replace")
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _listed_records(
    handle: BinaryIO, prefix: str, name: str, *, fallback: bool = False
) -> Generator[Record, None, bool]:
    """The records of the list at `prefix`, or of the lone object when there is no such list.
    With `fallback`, a document that is not valid JSON from its start yields nothing and
    returns False (it is read as JSON Lines instead)."""
    index = 0
    start = handle.tell()
    try:
        for index, record in enumerate(ijson.items(handle, prefix, use_float=True), start=1):
            yield _record(f"{name}#{index}", record)
        if index == 0 and prefix != "item":
            handle.seek(start)
            for document in ijson.items(handle, "", use_float=True):
                yield from _records_in(name, document)
                index = 1
    except ijson.JSONError as error:
        if fallback and index == 0:
            return False
        reason = str(error).splitlines()[0] if str(error) else "malformed"
        where = f"{name}#{index + 1}" if index else name
        yield Rejected(where, f"invalid JSON: {reason}; the rest of the file was not read")
    return True


def _json_lines(handle: BinaryIO, name: str) -> Iterator[Record]:
    """One record per line; a line too long to be a record is skipped whole."""
    for number, line in enumerate(_lines(handle), start=1):
        where = f"{name}:{number}"
        if line is None:
            yield Rejected(where, f"record larger than {_megabytes(MAX_RECORD_BYTES)}")
            continue
        text = line.decode("utf-8", errors="replace")
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield Rejected(where, f"invalid JSON: {error.msg}")
            continue
        except RecursionError:
            yield Rejected(where, "invalid JSON: nested too deeply")
            continue
        yield from _records_in(where, record)


def _lines(handle: BinaryIO) -> Iterator[bytes | None]:
    """The file's lines; None for a line longer than a record may be (read past, not kept)."""
    while line := handle.readline(MAX_RECORD_BYTES + 1):
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(MAX_RECORD_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def _records_in(where: str, value: Any) -> Iterator[Record]:
    """The records of one JSON value: an object, or a wrapper {"articles": [...]}."""
    listed = value.get("articles") if isinstance(value, dict) else None
    if isinstance(listed, list):
        for index, record in enumerate(listed, start=1):
            yield _record(f"{where}#{index}", record)
    else:
        yield _record(where, value)


def _record(where: str, record: Any) -> Record:
    try:
        return article_from_record(record)
    except ValueError as error:
        return Rejected(where, str(error))


def article_from_record(record: Any) -> ArticleIn:
    """Validate one JSON record: `title` required; `url`, `body`, `published`, `source` optional."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("missing title")
    for key in ("url", "body", "source", "published"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ValueError(f"{key} must be a string")
    published = None
    if record.get("published"):
        published = parse_timestamp(record["published"])
    return checked(
        ArticleIn(
            title=collapse_whitespace(title),
            body=(record.get("body") or "").strip(),
            url=(record.get("url") or "").strip() or None,
            source=collapse_whitespace(record.get("source") or "") or None,
            published=published,
        )
    )


def parse_timestamp(value: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 timestamp in UTC; a time without a zone is taken as UTC. A date in the
    future is a publisher's mistake and becomes `now`; one before 1900 is refused."""
    now = now or datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"published is not an ISO 8601 date: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.year > now.year:
        return now  # converting the far future to UTC may leave the calendar
    if moment.year < EARLIEST_PUBLISHED.year:
        raise ValueError(f"published is before {EARLIEST_PUBLISHED.year}: {value[:40]!r}")
    return min(moment.astimezone(UTC), now)


# Wire headlines bracket company names and their tickers: "<TECHNIGEN PLATINUM CORP> IN METALS
# FIND", "HECLA <HL> TO BUY STAKE". A ticker after a name goes; a bracketed name stays, unwrapped.
_TICKER_AFTER_NAME = re.compile(r"(?<=\w)\s*<[A-Z][A-Z.]{0,5}>")
_BRACKETED_NAME = re.compile(r"<([A-Z][\w&'’.,/ -]{0,80})>")


def unbracketed(headline: str) -> str:
    """A headline without the wire's ticker brackets."""
    return _BRACKETED_NAME.sub(r"\1", _TICKER_AFTER_NAME.sub("", headline))


def checked(article: ArticleIn) -> ArticleIn:
    """The article without control characters and its headlines without ticker brackets
    (`unbracketed`), when it is within every limit (title, body, url, source); ValueError
    naming the first one it exceeds. Every article from a file, a feed or a page passes here."""
    article = replace(
        article,
        title=unbracketed(strip_control_characters(article.title)),
        body=strip_control_characters(article.body),
        source=strip_control_characters(article.source) if article.source else article.source,
        headlines=tuple(unbracketed(strip_control_characters(line)) for line in article.headlines),
    )
    if not article.title.strip():
        raise ValueError("missing title")
    if len(article.title) > MAX_TITLE_LENGTH:
        raise ValueError(f"title longer than {MAX_TITLE_LENGTH} characters")
    if len(article.body) > MAX_BODY_LENGTH:
        raise ValueError(f"body longer than {MAX_BODY_LENGTH} characters")
    if article.url is not None:
        if len(article.url) > MAX_URL_LENGTH:
            raise ValueError(f"url longer than {MAX_URL_LENGTH} characters")
        if not re.match(r"https?://[^\s/]+", article.url, re.IGNORECASE):
            raise ValueError("url must start with http:// or https://")
        if strip_control_characters(article.url) != article.url:
            raise ValueError("url contains control characters")
    if article.source is not None and len(article.source) > MAX_SOURCE_LENGTH:
        raise ValueError(f"source longer than {MAX_SOURCE_LENGTH} characters")
    return article
