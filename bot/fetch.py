"""Fetching feeds and web pages, safely and politely.

- only http and https; every host is resolved here and each of its addresses checked before
  anything is sent: loopback, private, link-local, multicast, reserved and unspecified addresses
  are refused unless `allow_private` (ALLOW_PRIVATE_FEED_HOSTS), and cloud metadata addresses
  always are;
- the connection goes to the address that was checked (no second DNS lookup that could answer
  differently), with the original host name in the Host header and TLS SNI;
- redirects are followed by hand, at most `MAX_REDIRECTS`, each hop checked again;
- the body is streamed and decompressed here, and the decompressed size is capped, so neither
  a huge response nor a gzip bomb gets past `max_bytes`;
- conditional GET (ETag / Last-Modified), a User-Agent naming the bot, and an overall deadline.

No database, no Telegram: a fetch returns bytes and headers or raises `FetchError`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _version() -> str:
    try:
        return version("tradebot")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


USER_AGENT = f"tradebot/{_version()} (+https://github.com/tradebot)"
ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
ACCEPT_PAGE = (
    "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, */*;q=0.5"
)
MAX_REDIRECTS = 5
MAX_ADDRESSES_TRIED = 3
CHUNK_BYTES = 64 * 1024
MAX_HEADER_VALUE = 500
REDIRECTS = frozenset({301, 302, 303, 307, 308})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


class FetchError(Exception):
    """The resource could not be fetched; the message says why in a few words."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RefusedURL(FetchError):
    """Nothing was sent: the scheme or an address of the host is not allowed."""


class TooLarge(FetchError):
    """The (decompressed) response is larger than the cap."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_private: bool = False
    max_bytes: int = 10 * 1024 * 1024
    timeout: float = 30.0
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    status: int  # 2xx, or 304 for a conditional GET that found nothing new
    content: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str | None:
        match = re.search(r"charset=[\"']?([\w.:-]+)", self.content_type or "", re.IGNORECASE)
        return match.group(1) if match else None


def refusal_reason(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why a connection to this address is refused, or None when it is allowed."""
    embedded: list[IPAddress] = []  # IPv4 addresses inside IPv6 ones first, then the address
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour, *(address.teredo or ())):
            if inner is not None:
                embedded.append(inner)
    embedded.append(address)
    for candidate in embedded:
        if candidate in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address"
    if allow_private:
        return None
    for candidate in embedded:
        for kind, flagged in (
            ("an unspecified", candidate.is_unspecified),
            ("a loopback", candidate.is_loopback),
            ("a link-local", candidate.is_link_local),
            ("a multicast", candidate.is_multicast),
            ("a reserved", candidate.is_reserved),
            ("a private", candidate.is_private),
            ("a non-public", not candidate.is_global),
        ):
            if flagged:
                return f"{address} is {kind} address"
    return None


def checked_url(url: str | httpx.URL) -> httpx.URL:
    """The URL parsed, when it is an absolute http(s) URL with a host; RefusedURL otherwise."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as error:
        raise RefusedURL(f"not a valid URL: {error}") from None
    if parsed.scheme not in ("http", "https"):
        raise RefusedURL(f"only http and https URLs are fetched, not {parsed.scheme or 'this'}")
    if not parsed.host:
        raise RefusedURL("the URL has no host")
    return parsed


def literal_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why a URL is refused without a DNS lookup (bad scheme, or a refused IP literal)."""
    try:
        parsed = checked_url(url)
    except RefusedURL as error:
        return str(error)
    try:
        address = ipaddress.ip_address(parsed.host)
    except ValueError:
        return None
    return refusal_reason(address, allow_private=allow_private)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (an IP literal is itself), through the event loop."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"cannot resolve {host}: {getattr(error, 'strerror', error)}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    return addresses


async def allowed_addresses(url: httpx.URL, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to for a URL; RefusedURL when any of them is refused."""
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await resolve(url.host, port)
    for address in addresses:
        reason = refusal_reason(address, allow_private=allow_private)
        if reason:
            hint = "" if allow_private else " (ALLOW_PRIVATE_FEED_HOSTS=true allows private hosts)"
            raise RefusedURL(f"refused {url.host}: {reason}{hint}")
    return addresses


async def fetch(
    url: str,
    *,
    policy: FetchPolicy,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = ACCEPT_FEED,
) -> Fetched:
    """GET a URL within the policy; a 304 comes back as `Fetched.not_modified`."""
    headers = {"User-Agent": policy.user_agent, "Accept": accept}
    headers["Accept-Encoding"] = "gzip, deflate"
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(policy.timeout):
            return await _follow(checked_url(url), headers, policy)
    except TimeoutError:
        raise FetchError(f"timed out after {policy.timeout:g} s") from None


async def _follow(url: httpx.URL, headers: dict[str, str], policy: FetchPolicy) -> Fetched:
    for _hop in range(MAX_REDIRECTS + 1):
        addresses = await allowed_addresses(url, allow_private=policy.allow_private)
        result = await _get(url, addresses, headers, policy)
        if isinstance(result, Fetched):
            return result
        url = checked_url(result)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


async def _get(
    url: httpx.URL, addresses: list[IPAddress], headers: dict[str, str], policy: FetchPolicy
) -> Fetched | httpx.URL:
    """One request, to the first checked address that accepts a connection: the response, or
    the URL a redirect points at."""
    last_error: httpx.ConnectError | None = None
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        try:
            return await _get_from(url, address, headers, policy)
        except httpx.ConnectError as error:
            last_error = error
    raise FetchError(f"cannot connect to {url.host}: {_describe(last_error)}")


async def _get_from(
    url: httpx.URL, address: IPAddress, headers: dict[str, str], policy: FetchPolicy
) -> Fetched | httpx.URL:
    async with pinned_client(policy.timeout) as client:
        request = pinned_request(client, "GET", url, address, headers)
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectError:
            raise
        except httpx.HTTPError as error:
            raise FetchError(_describe(error)) from None
        try:
            return await _read(url, response, policy)
        except httpx.HTTPError as error:
            raise FetchError(_describe(error)) from None
        finally:
            await response.aclose()


def pinned_client(timeout: float) -> httpx.AsyncClient:
    """A client for one request to a checked address. A client per request: connections are
    pinned to an address, so none is shared between host names that happen to resolve alike."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
        trust_env=False,
        verify=_ssl_context(),
    )


def pinned_request(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    address: IPAddress,
    headers: dict[str, str],
    content: bytes | None = None,
) -> httpx.Request:
    """A request to `url` sent to the checked `address`, with the URL's host name in the Host
    header and TLS SNI."""
    return client.build_request(
        method,
        url.copy_with(host=str(address)),
        headers={**headers, "Host": url.netloc.decode("ascii")},
        content=content,
        extensions={"sni_hostname": url.host} if url.scheme == "https" else None,
    )


async def _read(
    url: httpx.URL, response: httpx.Response, policy: FetchPolicy
) -> Fetched | httpx.URL:
    status = response.status_code
    if status in REDIRECTS:
        location = response.headers.get("Location")
        if not location:
            raise FetchError(f"HTTP {status} without a Location")
        try:
            return url.join(location.strip())
        except httpx.InvalidURL as error:
            raise FetchError(f"redirect to an invalid URL: {error}") from None
    etag = _header(response, "ETag")
    last_modified = _header(response, "Last-Modified")
    if status == 304:
        return Fetched(str(url), 304, b"", None, etag, last_modified)
    if not 200 <= status < 300:
        raise FetchError(
            f"HTTP {status}",
            status=status,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise TooLarge(f"response larger than {_size(policy.max_bytes)}")
    decoder = _Decoder(response.headers.get("Content-Encoding", ""))
    body = bytearray()
    async for raw in response.aiter_raw(CHUNK_BYTES):
        body += decoder.decode(raw, policy.max_bytes - len(body) + 1)
        if len(body) > policy.max_bytes:
            raise TooLarge(f"response larger than {_size(policy.max_bytes)}")
    body += decoder.flush(policy.max_bytes - len(body) + 1)
    if len(body) > policy.max_bytes:
        raise TooLarge(f"response larger than {_size(policy.max_bytes)}")
    return Fetched(
        str(url), status, bytes(body), response.headers.get("Content-Type"), etag, last_modified
    )


class _Decoder:
    """Content-Encoding identity, gzip or deflate, producing at most `limit` bytes per call."""

    def __init__(self, encoding: str) -> None:
        codings = [c.strip().lower() for c in encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise FetchError(f"unsupported Content-Encoding {encoding[:40]!r}")
        self._coding = codings[0] if codings else None
        self._zlib: zlib._Decompress | None = None
        self._started = False
        if self._coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._coding == "deflate":
            self._zlib = zlib.decompressobj()
        elif self._coding is not None:
            raise FetchError(f"unsupported Content-Encoding {self._coding[:40]!r}")

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._zlib is None:
            return data
        try:
            return self._decompress(data, limit)
        except zlib.error:
            if self._coding == "deflate" and not self._started:  # raw deflate, no zlib header
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                try:
                    return self._decompress(data, limit)
                except zlib.error as error:
                    raise FetchError(f"corrupt deflate body: {error}") from None
            raise FetchError(f"corrupt {self._coding} body") from None

    def _decompress(self, data: bytes, limit: int) -> bytes:
        assert self._zlib is not None
        out = self._zlib.decompress(data, max(limit, 1))
        self._started = True
        while self._zlib.unconsumed_tail and len(out) < limit:
            out += self._zlib.decompress(self._zlib.unconsumed_tail, limit - len(out))
        return out

    def flush(self, limit: int) -> bytes:
        if self._zlib is None:
            return b""
        try:
            return self._zlib.flush(max(limit, 1))
        except zlib.error:
            raise FetchError(f"corrupt {self._coding} body") from None


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _header(response: httpx.Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value if value and len(value) <= MAX_HEADER_VALUE else None


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB" if limit >= 1024 else f"{limit} bytes"


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "no address to connect to"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    text = str(error).strip() or type(error).__name__
    if isinstance(error, ssl.SSLError) or "SSL" in text or "certificate" in text.lower():
        return f"TLS error: {text}"[:300]
    return text[:300]


@cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
