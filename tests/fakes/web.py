"""A fake of the web for tests: an aiohttp server on 127.0.0.1 serving feeds and pages.

    async with FakeWeb() as web:
        web.serve("/feed.xml", rss20([Item("Copper rises", link="https://x.example/1")]))
        url = web.url("/feed.xml")
        ...
        web.fail("/feed.xml", status=500)

Each path answers what it was last told to: a document (with an ETag, answering 304 to a
matching If-None-Match or If-Modified-Since), an error status, a redirect, a slow response, a
stream of a given size, a gzip bomb. Every request is recorded in `hits`.

Also here: writers of RSS 2.0, RSS 1.0, RSS 0.91 and Atom 1.0 documents from `Item`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from types import TracebackType
from typing import Self
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int
    at: float


@dataclass
class _Route:
    status: int = 200
    body: bytes = b""
    content_type: str = RSS_TYPE
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    encoding: str | None = None  # Content-Encoding of `body` as served (already encoded)
    stream_bytes: int = 0  # >0: stream this many bytes instead of `body`
    drip_seconds: float = 0.0  # pause between streamed chunks


class FakeWeb:
    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self.hits: list[Hit] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._hit = asyncio.Event()

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    # ----------------------------------------------------------------------------- scripting

    def serve(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = RSS_TYPE,
        etag: bool | str = True,
        last_modified: datetime | None = None,
        status: int = 200,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        compress: str | None = None,
    ) -> None:
        """Answer `path` with a document; ETag (derived from the body unless given) and
        Last-Modified make conditional requests answer 304. `compress`: gzip or deflate."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        tag = etag if isinstance(etag, str) else f'"{hashlib.sha1(data).hexdigest()[:16]}"'
        encoded = data
        if compress == "gzip":
            encoded = gzip.compress(data)
        elif compress == "deflate":
            encoded = zlib.compress(data)
        elif compress == "raw-deflate":
            packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            encoded, compress = packer.compress(data) + packer.flush(), "deflate"
        self._routes[path] = _Route(
            status=status,
            body=encoded,
            content_type=content_type,
            etag=tag if etag else None,
            last_modified=format_datetime(last_modified, usegmt=True) if last_modified else None,
            headers=dict(headers or {}),
            delay=delay,
            encoding=compress,
        )

    def fail(self, path: str, status: int = 500, *, headers: dict[str, str] | None = None) -> None:
        self._routes[path] = _Route(
            status=status, body=b"error", content_type="text/plain", headers=dict(headers or {})
        )

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self._routes[path] = _Route(status=status, headers={"Location": location})

    def stream(
        self,
        path: str,
        size: int,
        *,
        content_type: str = RSS_TYPE,
        drip_seconds: float = 0.0,
        declare_length: bool = False,
    ) -> None:
        """A body of `size` bytes sent in chunks (optionally slowly), without holding it."""
        headers = {"X-Declared-Length": str(size)} if declare_length else {}
        self._routes[path] = _Route(
            content_type=content_type,
            stream_bytes=size,
            drip_seconds=drip_seconds,
            headers=headers,
        )

    def gzip_bomb(self, path: str, megabytes: int = 64) -> None:
        """A small gzip body that inflates to `megabytes` MB of '<'."""
        self._routes[path] = _Route(body=_bomb(megabytes), encoding="gzip")

    def remove(self, path: str) -> None:
        self._routes.pop(path, None)

    # ----------------------------------------------------------------------------- records

    def hits_to(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    async def wait_for_hits(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        while len(self.hits_to(path)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"expected {count} requests to {path}, got {len(self.hits_to(path))}"
                )
            self._hit.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hit.wait(), timeout=min(remaining, 0.1))
        return self.hits_to(path)

    # ----------------------------------------------------------------------------- serving

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = self._routes.get(request.path)
        status = 404 if route is None else route.status
        if route is not None and route.status == 200 and self._not_modified(request, route):
            status = 304
        self.hits.append(Hit(request.path, dict(request.headers), status, time.monotonic()))
        self._hit.set()
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if status == 304:
            return web.Response(status=304, headers=headers)
        if route.stream_bytes:
            return await self._stream(request, route, headers)
        if route.encoding:
            headers["Content-Encoding"] = route.encoding
        headers["Content-Type"] = route.content_type
        return web.Response(status=status, body=route.body, headers=headers)

    @staticmethod
    def _not_modified(request: web.Request, route: _Route) -> bool:
        if route.etag and request.headers.get("If-None-Match") == route.etag:
            return True
        since = request.headers.get("If-Modified-Since")
        return bool(route.last_modified and since == route.last_modified)

    @staticmethod
    async def _stream(
        request: web.Request, route: _Route, headers: dict[str, str]
    ) -> web.StreamResponse:
        declared = headers.pop("X-Declared-Length", None)
        response = web.StreamResponse(headers={**headers, "Content-Type": route.content_type})
        if declared:
            response.content_length = int(declared)
        await response.prepare(request)
        chunk = b"<" * 65_536
        sent = 0
        try:
            while sent < route.stream_bytes:
                piece = chunk[: route.stream_bytes - sent]
                await response.write(piece)
                sent += len(piece)
                if route.drip_seconds:
                    await asyncio.sleep(route.drip_seconds)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, as it should on an oversized body
        return response


@cache
def _bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"<" * (1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()


# --------------------------------------------------------------------------------------------
# Feed documents
# --------------------------------------------------------------------------------------------


@dataclass
class Item:
    title: str | None
    link: str | None = None
    guid: str | None = None
    description: str | None = None  # HTML (escaped into the XML as text)
    published: datetime | None = None
    content_html: str | None = None  # content:encoded / Atom content


def _now() -> datetime:
    return datetime.now(UTC)


def _text(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value is not None else ""


def rss20(
    items: Sequence[Item], *, title: str = "Test Wire", link: str = "https://wire.example.com/"
) -> str:
    parts = []
    for item in items:
        parts.append(
            "<item>"
            + _text("title", item.title)
            + _text("link", item.link)
            + (f'<guid isPermaLink="false">{escape(item.guid)}</guid>' if item.guid else "")
            + _text("description", item.description)
            + (
                f"<content:encoded>{escape(item.content_html)}</content:encoded>"
                if item.content_html
                else ""
            )
            + (
                _text("pubDate", format_datetime(item.published, usegmt=True))
                if item.published
                else ""
            )
            + "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel>{_text('title', title)}{_text('link', link)}"
        f"<description>test feed</description>{''.join(parts)}</channel></rss>"
    )


def atom(items: Sequence[Item], *, title: str = "Test Atom", feed_id: str = "urn:test:atom") -> str:
    parts = []
    for item in items:
        updated = (item.published or _now()).isoformat().replace("+00:00", "Z")
        parts.append(
            "<entry>"
            + (f'<title type="text">{escape(item.title)}</title>' if item.title is not None else "")
            + (f'<link rel="alternate" href={quoteattr(item.link)}/>' if item.link else "")
            + _text("id", item.guid)
            + (f"<published>{updated}</published>" if item.published else "")
            + f"<updated>{updated}</updated>"
            + (
                f'<summary type="html">{escape(item.description)}</summary>'
                if item.description
                else ""
            )
            + (
                f'<content type="html">{escape(item.content_html)}</content>'
                if item.content_html
                else ""
            )
            + "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"{_text('title', title)}{_text('id', feed_id)}"
        f"<updated>{_now().isoformat().replace('+00:00', 'Z')}</updated>"
        f"{''.join(parts)}</feed>"
    )


def rss10(items: Sequence[Item], *, title: str = "Test RDF") -> str:
    parts = []
    for item in items:
        about = item.guid or item.link or ""
        parts.append(
            f"<item rdf:about={quoteattr(about)}>"
            + _text("title", item.title)
            + _text("link", item.link)
            + _text("description", item.description)
            + (
                _text("dc:date", item.published.isoformat().replace("+00:00", "Z"))
                if item.published
                else ""
            )
            + "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://rdf.example.com/">{_text("title", title)}'
        "<link>https://rdf.example.com/</link><description>test</description></channel>"
        f"{''.join(parts)}</rdf:RDF>"
    )


def rss091(items: Sequence[Item], *, title: str = "Old Wire") -> str:
    parts = [
        "<item>"
        + _text("title", i.title)
        + _text("link", i.link)
        + _text("description", i.description)
        + "</item>"
        for i in items
    ]
    return (
        '<?xml version="1.0" encoding="iso-8859-1"?>\n'
        '<rss version="0.91"><channel>'
        f"{_text('title', title)}<link>https://old.example.com/</link>"
        f"<description>old</description><language>en</language>{''.join(parts)}"
        "</channel></rss>"
    )


def article_page(
    title: str,
    paragraphs: Sequence[str],
    *,
    site: str = "Metals Daily",
    published: str | None = None,
) -> str:
    """A web page with navigation and footer around one article."""
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html><head>"
        f"<title>{escape(title)} | {escape(site)}</title>"
        f'<meta property="og:site_name" content={quoteattr(site)}>{meta}'
        "</head><body><nav><a href='/'>Home</a> | <a href='/markets'>Markets</a></nav>"
        f"<article><h1>{escape(title)}</h1>{body}</article>"
        "<footer>© Metals Daily. All rights reserved.</footer></body></html>"
    )
