"""OPML lists of feeds, as feed readers import and export them: `read_opml` takes every feed
outline (folders nested to any depth) from an untrusted document, `import_feeds` stores them
with the checks of `tradebot feeds add`, and `write_opml` writes OPML 2.0.

The document is parsed by defusedxml with DTDs forbidden, so entity expansion ("billion
laughs"), external entities and DTD fetches are refused before anything is read. An outline
that cannot be a feed is reported with a one-line reason; the others are still imported."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.articles import MAX_SOURCE_LENGTH
from bot.feeds import normalized_feed_url
from bot.text import collapse_whitespace, shorten
from storage import feeds as feed_store
from storage.db import SessionFactory
from storage.models import Feed

MAX_OPML_BYTES = 1024 * 1024
MAX_FEEDS = 5000  # feed outlines read from one document
OPML_TITLE = "tradebot feeds"


class OpmlError(ValueError):
    """The document is not a readable OPML document."""


@dataclass(frozen=True, slots=True)
class Outline:
    """A feed outline: its place in the document (`where` for messages), its URL and name."""

    number: int
    where: str
    url: str
    name: str | None


@dataclass(frozen=True, slots=True)
class OutlineNote:
    """An outline skipped or already there, and why."""

    number: int  # the outline's place in the document
    where: str
    reason: str


@dataclass(slots=True)
class OpmlFeeds:
    feeds: list[Outline] = field(default_factory=list)
    skipped: list[OutlineNote] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    added: list[Feed] = field(default_factory=list)
    present: list[OutlineNote] = field(default_factory=list)  # feeds that were there already
    skipped: list[OutlineNote] = field(default_factory=list)  # bad or repeated outlines

    def skipping(self, unread: Iterable[OutlineNote]) -> list[OutlineNote]:
        """The outlines skipped here and `unread` (those that were not feeds), in order."""
        return sorted([*unread, *self.skipped], key=lambda skipped: skipped.number)


def read_opml(data: bytes) -> OpmlFeeds:
    """The feed outlines of an OPML document, in document order, and the outlines skipped
    (with why); OpmlError when the document is too large, not XML, unsafe or not OPML."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"larger than {MAX_OPML_BYTES // 1024} KB")
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise OpmlError(
            f"refused: {type(error).__name__} (DTDs and entities are not allowed)"
        ) from None
    except ET.ParseError as error:
        raise OpmlError(f"not well-formed XML: {error}") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"not OPML: the root element is <{_local(root.tag)[:40]}>")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise OpmlError("not OPML: no <body>")
    found = OpmlFeeds()
    number = 0
    for outline in body.iter():
        if _local(outline.tag) != "outline":
            continue
        number += 1
        attributes = {key.lower(): value for key, value in outline.attrib.items()}
        label = _clean(attributes.get("title") or attributes.get("text") or "")
        where = f'outline {number} "{shorten(label, 60)}"' if label else f"outline {number}"
        url = (attributes.get("xmlurl") or "").strip()
        if not url:
            if not any(_local(child.tag) == "outline" for child in outline):
                found.skipped.append(OutlineNote(number, where, "no xmlUrl: not a feed"))
            continue  # a folder: its outlines are read in turn
        if len(found.feeds) >= MAX_FEEDS:
            found.skipped.append(
                OutlineNote(number, where, f"more than {MAX_FEEDS} feeds in one file")
            )
            continue
        name = shorten(label, MAX_SOURCE_LENGTH) if label and label != url else None
        found.feeds.append(Outline(number, where, url, name or None))
    return found


async def import_feeds(
    sessions: SessionFactory, outlines: Sequence[Outline], *, allow_private: bool
) -> ImportReport:
    """Store the feeds (due at once) in one transaction, each checked as `tradebot feeds add`
    checks a URL; a bad or repeated outline is reported and skipped, never the others."""
    report = ImportReport()
    first_at: dict[str, str] = {}
    async with sessions() as session:
        for outline in outlines:
            try:
                url = normalized_feed_url(outline.url, allow_private=allow_private)
            except ValueError as error:
                report.skipped.append(OutlineNote(outline.number, outline.where, str(error)))
                continue
            if url in first_at:
                report.skipped.append(
                    OutlineNote(outline.number, outline.where, f"repeats {first_at[url]}")
                )
                continue
            first_at[url] = outline.where
            feed, created = await feed_store.add_feed(session=session, url=url, name=outline.name)
            if created:
                report.added.append(feed)
            else:
                report.present.append(
                    OutlineNote(outline.number, outline.where, f"already there as feed #{feed.id}")
                )
        await session.commit()
    return report


def write_opml(feeds: Iterable[Feed], *, now: datetime | None = None) -> str:
    """An OPML 2.0 document listing the feeds (a feed without a name is named by its URL)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = OPML_TITLE
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC))
    body = ET.SubElement(root, "body")
    for feed in feeds:
        outline = ET.SubElement(body, "outline", type="rss", text=_xml_safe(feed.name or feed.url))
        if feed.name:
            outline.set("title", _xml_safe(feed.name))
        outline.set("xmlUrl", _xml_safe(feed.url))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _local(tag: object) -> str:
    """An element's name without its namespace (comments and the like have none)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _clean(text: str) -> str:
    return collapse_whitespace("".join(c if c.isprintable() else " " for c in text))


def _xml_safe(text: str) -> str:
    """Text with a space for each character XML 1.0 cannot carry (feed names come from the
    web), as reading turns control characters into spaces."""
    return "".join(
        c
        if c in "\t\n\r" or ("\x20" <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c > "\uffff"
        else " "
        for c in text
    )
