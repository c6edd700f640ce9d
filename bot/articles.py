"""Reading articles from files: plain-text articles and JSON / JSON Lines records.

Pure parsing: no database, no Telegram. Bad records are rejected one by one with a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.text import collapse_whitespace, shorten, split_sentences

MAX_TITLE_LENGTH = 300
MAX_BODY_LENGTH = 200_000
MAX_URL_LENGTH = 2_000
MAX_SOURCE_LENGTH = 100
MAX_FILE_BYTES = 200 * 1024 * 1024
DERIVED_TITLE_LENGTH = 90
HEADLINE_MAX_LENGTH = 200
TEXT_SUFFIXES = (".txt", ".text", ".md")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


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


@dataclass(slots=True)
class ParsedFile:
    articles: list[ArticleIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class ArticleFileError(Exception):
    """The file could not be read at all."""


def read_articles(path: Path) -> ParsedFile:
    """Read every article in a file; the format follows the suffix."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ArticleFileError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB")
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as error:
        raise ArticleFileError(f"{path}: {error.strerror or error}") from error
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return parse_json_articles(text, name=path.name)
    if suffix in TEXT_SUFFIXES:
        parsed = ParsedFile()
        try:
            parsed.articles.append(parse_text_article(text, source=path.stem))
        except ValueError as error:
            parsed.rejected.append(Rejected(path.name, str(error)))
        return parsed
    raise ArticleFileError(f"{path}: unknown format (use .txt, .json or .jsonl)")


def parse_text_article(text: str, *, source: str | None = None) -> ArticleIn:
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
    return _checked(ArticleIn(title=title, body=body, source=source, headlines=headlines))


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
    parsed = ParsedFile()
    for where, record in _json_records(text, name, parsed):
        try:
            parsed.articles.append(article_from_record(record))
        except ValueError as error:
            parsed.rejected.append(Rejected(where, str(error)))
    return parsed


def _json_records(text: str, name: str, parsed: ParsedFile) -> Iterator[tuple[str, Any]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError as error:
            parsed.rejected.append(
                Rejected(name, f"invalid JSON: {error.msg} (line {error.lineno})")
            )
            return
        for index, record in enumerate(document, start=1):
            yield f"{name}#{index}", record
        return
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            document = None  # not one object: JSON Lines
        if isinstance(document, dict):
            records = document.get("articles")
            if isinstance(records, list):
                for index, record in enumerate(records, start=1):
                    yield f"{name}#{index}", record
            else:
                yield name, document
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{number}", json.loads(line)
        except json.JSONDecodeError as error:
            parsed.rejected.append(Rejected(f"{name}:{number}", f"invalid JSON: {error.msg}"))


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
    return _checked(
        ArticleIn(
            title=collapse_whitespace(title),
            body=(record.get("body") or "").strip(),
            url=(record.get("url") or "").strip() or None,
            source=collapse_whitespace(record.get("source") or "") or None,
            published=published,
        )
    )


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp in UTC; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"published is not an ISO 8601 date: {value[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def checked(article: ArticleIn) -> ArticleIn:
    """The article when it is within every limit (title, body, url, source); ValueError
    naming the first one it exceeds. Every article from a file, a feed or a page passes here."""
    return _checked(article)


def _checked(article: ArticleIn) -> ArticleIn:
    if len(article.title) > MAX_TITLE_LENGTH:
        raise ValueError(f"title longer than {MAX_TITLE_LENGTH} characters")
    if len(article.body) > MAX_BODY_LENGTH:
        raise ValueError(f"body longer than {MAX_BODY_LENGTH} characters")
    if article.url is not None:
        if len(article.url) > MAX_URL_LENGTH:
            raise ValueError(f"url longer than {MAX_URL_LENGTH} characters")
        if not re.match(r"https?://[^\s/]+", article.url, re.IGNORECASE):
            raise ValueError("url must start with http:// or https://")
    if article.source is not None and len(article.source) > MAX_SOURCE_LENGTH:
        raise ValueError(f"source longer than {MAX_SOURCE_LENGTH} characters")
    return article
