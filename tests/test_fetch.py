"""Fetching: address checks, redirects re-checked, size caps (gzip bombs too), timeouts,
conditional GET, against feeds served from 127.0.0.1."""

from __future__ import annotations

import ipaddress
import time

import pytest

from bot.fetch import (
    USER_AGENT,
    FetchError,
    FetchPolicy,
    RefusedURL,
    TooLarge,
    fetch,
    literal_refusal,
    refusal_reason,
    retry_after_seconds,
)
from tests.fakes.web import FakeWeb, Item, rss20

LOCAL = FetchPolicy(allow_private=True, max_bytes=256 * 1024, timeout=3.0)
PUBLIC_ONLY = FetchPolicy(allow_private=False, max_bytes=256 * 1024, timeout=3.0)
FEED = rss20([Item("Copper rises", link="https://wire.example.com/1", guid="1")])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.10.0.5", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("fc00::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    reason = refusal_reason(ipaddress.ip_address(address), allow_private=False)
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), allow_private=False) is None


def test_allowing_private_hosts_still_refuses_metadata_addresses() -> None:
    allowed = ("127.0.0.1", "10.0.0.1", "192.168.0.1", "::1", "fe80::1")
    for address in allowed:
        assert refusal_reason(ipaddress.ip_address(address), allow_private=True) is None
    for address in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"):
        reason = refusal_reason(ipaddress.ip_address(address), allow_private=True)
        assert reason is not None and "metadata" in reason


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/feed", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/", "/feed"],
)
def test_only_http_and_https_urls(url: str) -> None:
    assert literal_refusal(url, allow_private=True) is not None


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Wed, 01 Jan 2025 12:05:00 GMT", now=now) == 300.0


async def test_a_feed_is_fetched_with_a_user_agent_then_304_when_unchanged(web: FakeWeb) -> None:
    web.serve("/feed.xml", FEED)
    first = await fetch(web.url("/feed.xml"), policy=LOCAL)
    assert first.status == 200 and first.content == FEED.encode()
    assert first.etag and first.content_type and "rss" in first.content_type
    second = await fetch(web.url("/feed.xml"), policy=LOCAL, etag=first.etag)
    assert second.not_modified and second.content == b""
    [one, two] = web.hits_to("/feed.xml")
    assert one.headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("tradebot/")
    assert "+https://github.com/tradebot" in USER_AGENT
    assert "If-None-Match" not in one.headers and two.headers["If-None-Match"] == first.etag
    assert (one.status, two.status) == (200, 304)


async def test_if_modified_since_gets_a_304(web: FakeWeb) -> None:
    from datetime import UTC, datetime

    web.serve("/feed.xml", FEED, etag=False, last_modified=datetime(2025, 1, 6, 10, tzinfo=UTC))
    first = await fetch(web.url("/feed.xml"), policy=LOCAL)
    assert first.last_modified == "Mon, 06 Jan 2025 10:00:00 GMT" and first.etag is None
    second = await fetch(web.url("/feed.xml"), policy=LOCAL, last_modified=first.last_modified)
    assert second.not_modified


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "2130706433", "0.0.0.0"])
async def test_private_hosts_are_refused_before_any_request(web: FakeWeb, host: str) -> None:
    web.serve("/feed.xml", FEED)
    with pytest.raises(RefusedURL, match="refused") as refused:
        await fetch(web.url("/feed.xml", host=host), policy=PUBLIC_ONLY)
    assert "ALLOW_PRIVATE_FEED_HOSTS" in str(refused.value)
    assert web.hits == []


async def test_redirects_are_followed(web: FakeWeb) -> None:
    web.serve("/feed.xml", FEED)
    web.redirect("/old", "/moved", status=301)
    web.redirect("/moved", web.url("/feed.xml"), status=307)
    fetched = await fetch(web.url("/old"), policy=LOCAL)
    assert fetched.status == 200 and fetched.url == web.url("/feed.xml")


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/latest/", "metadata"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/feed", "only http and https"),
    ],
)
async def test_every_redirect_is_checked_again(web: FakeWeb, target: str, why: str) -> None:
    web.redirect("/feed.xml", target)
    with pytest.raises(RefusedURL, match=why):
        await fetch(web.url("/feed.xml"), policy=LOCAL)
    assert len(web.hits) == 1


async def test_redirect_loops_end(web: FakeWeb) -> None:
    web.redirect("/a", "/b")
    web.redirect("/b", "/a")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetch(web.url("/a"), policy=LOCAL)
    assert len(web.hits) == 6


async def test_errors_carry_the_status_and_retry_after(web: FakeWeb) -> None:
    web.fail("/feed.xml", 503, headers={"Retry-After": "120"})
    with pytest.raises(FetchError, match="HTTP 503") as failed:
        await fetch(web.url("/feed.xml"), policy=LOCAL)
    assert failed.value.status == 503 and failed.value.retry_after == 120.0
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetch(web.url("/missing"), policy=LOCAL)


async def test_a_connection_refused_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot connect"):
        await fetch("http://127.0.0.1:9/feed.xml", policy=LOCAL)


@pytest.mark.parametrize("declare_length", [True, False])
async def test_an_oversized_body_is_refused(web: FakeWeb, declare_length: bool) -> None:
    web.stream("/big.xml", 50 * 1024 * 1024, declare_length=declare_length)
    started = time.monotonic()
    with pytest.raises(TooLarge, match="larger than 256 KB"):
        await fetch(web.url("/big.xml"), policy=LOCAL)
    assert time.monotonic() - started < 2


async def test_a_gzip_bomb_is_stopped_at_the_decompressed_cap(web: FakeWeb) -> None:
    web.gzip_bomb("/bomb.xml", megabytes=64)
    started = time.monotonic()
    with pytest.raises(TooLarge, match="larger than 256 KB"):
        await fetch(web.url("/bomb.xml"), policy=LOCAL)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("compress", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_bodies_are_decoded(web: FakeWeb, compress: str) -> None:
    web.serve("/feed.xml", FEED, compress=compress)
    fetched = await fetch(web.url("/feed.xml"), policy=LOCAL)
    assert fetched.content == FEED.encode()
    assert web.hits[0].headers["Accept-Encoding"] == "gzip, deflate"


async def test_a_slow_server_times_out(web: FakeWeb) -> None:
    web.serve("/slow.xml", FEED, delay=10)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s"):
        await fetch(web.url("/slow.xml"), policy=FetchPolicy(allow_private=True, timeout=0.5))
    assert time.monotonic() - started < 1.5


async def test_a_dripping_server_hits_the_overall_deadline(web: FakeWeb) -> None:
    web.stream("/drip.xml", 1024 * 1024, drip_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        await fetch(web.url("/drip.xml"), policy=FetchPolicy(allow_private=True, timeout=0.7))
    assert time.monotonic() - started < 1.5
