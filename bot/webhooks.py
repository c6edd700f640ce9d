"""Outbound webhooks, the second delivery channel: a chat's alerts POSTed as JSON.

- the body is signed: ``X-Tradebot-Signature: sha256=<hex HMAC-SHA256 of the body with the
  webhook's secret>``; ``Idempotency-Key`` is the same for every attempt at one (chat, article),
  so a receiver can drop a retry it has already accepted;
- addresses follow the rules of feed fetching (`bot.fetch`): https only, and plain http or
  private and loopback hosts only where ALLOW_PRIVATE_FEED_HOSTS=true, cloud metadata addresses
  never; the host is resolved and checked at each delivery and the request goes to the checked
  address; redirects are not followed;
- a 5xx, 408, 429, a timeout or a failed connection is retried with exponential backoff
  (Retry-After is honoured up to `WebhookPolicy.max_delay`); any other answer is final;
- `WebhookSender.submit` delivers in the background, so a slow receiver never holds up Telegram
  delivery, and records the outcome: `DISABLE_AFTER` failed deliveries in a row disable the
  webhook, and the admins are told once.

No Telegram here; the database only through `storage.webhooks`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bot.fetch import (
    MAX_ADDRESSES_TRIED,
    USER_AGENT,
    FetchError,
    RefusedURL,
    allowed_addresses,
    checked_url,
    literal_refusal,
    pinned_client,
    pinned_request,
    retry_after_seconds,
)
from storage import webhooks as webhook_store
from storage.db import SessionFactory

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tradebot-Signature"
EVENT_HEADER = "X-Tradebot-Event"
DISABLE_AFTER = 5  # failed deliveries in a row, each after all its attempts
MAX_URL_LENGTH = 2000
CONCURRENT_DELIVERIES = 4
RETRYABLE = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    allow_private: bool = False  # ALLOW_PRIVATE_FEED_HOSTS
    timeout: float = 10.0  # per attempt
    attempts: int = 4
    first_delay: float = 1.0  # before the second attempt; doubled before each next one
    max_delay: float = 30.0


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where a payload goes and how it is signed."""

    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookArticle:
    id: int
    title: str
    url: str | None
    source: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookItem:
    """A watch item the article matched; `main_story` False for a passing mention."""

    topic: str
    main_story: bool


@dataclass(frozen=True, slots=True)
class WebhookPayload:
    """What one POST carries, and its idempotency key."""

    event: str  # "alert", or "test" for /webhook test
    chat_id: int
    idempotency_key: str
    article: WebhookArticle
    items: tuple[WebhookItem, ...] = ()
    relevance: float = 0.0
    evidence: str = ""
    sources: tuple[str, ...] = ()

    def body(self) -> bytes:
        """The JSON body (UTF-8, keys sorted): the bytes that are signed."""
        published = self.article.published_at
        document: dict[str, Any] = {
            "event": self.event,
            "chat_id": self.chat_id,
            "article": {
                "id": self.article.id,
                "title": self.article.title,
                "url": self.article.url,
                "source": self.article.source,
                "published_at": published.isoformat() if published else None,
            },
            "items": [{"topic": i.topic, "main_story": i.main_story} for i in self.items],
            "relevance": round(self.relevance, 3),
            "evidence": self.evidence,
            "sources": list(self.sources),
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")


@dataclass(frozen=True, slots=True)
class DisabledWebhook:
    """A webhook that repeated failures just disabled: what the admins are told."""

    chat_id: int
    url: str
    failures: int
    error: str | None


@dataclass(frozen=True, slots=True)
class WebhookResult:
    delivered: bool
    status: int | None  # the receiver's last HTTP status (None: no answer)
    attempts: int
    error: str | None = None


def alert_payload(
    chat_id: int,
    article: WebhookArticle,
    items: tuple[WebhookItem, ...],
    *,
    relevance: float,
    evidence: str,
    sources: tuple[str, ...],
    thread_id: int = 0,
) -> WebhookPayload:
    """The payload of an alert; its idempotency key is the same for each (chat, article), and
    for each forum topic (`thread_id`, 0 for none) an article was alerted to in a chat."""
    key = f"tradebot:{chat_id}:{article.id}" + (f":{thread_id}" if thread_id else "")
    return WebhookPayload(
        event="alert",
        chat_id=chat_id,
        idempotency_key=key,
        article=article,
        items=items,
        relevance=relevance,
        evidence=evidence,
        sources=sources,
    )


def sample_payload(chat_id: int) -> WebhookPayload:
    """What /webhook test sends: an example alert, under a key of its own each time."""
    article = WebhookArticle(
        id=0,
        title="Test alert from tradebot: copper prices rise",
        url=None,
        source="tradebot",
        published_at=None,
    )
    return WebhookPayload(
        event="test",
        chat_id=chat_id,
        idempotency_key=f"tradebot:test:{chat_id}:{uuid.uuid4().hex}",
        article=article,
        items=(WebhookItem("copper", main_story=True),),
        relevance=1.0,
        evidence="This is a test of the chat's webhook.",
        sources=("tradebot",),
    )


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def checked_webhook_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL when its form is allowed for a webhook (no DNS lookup); RefusedURL otherwise."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    parsed = checked_url(url)
    if parsed.scheme != "https" and not allow_private:
        raise RefusedURL("webhooks need https (ALLOW_PRIVATE_FEED_HOSTS=true allows plain http)")
    reason = literal_refusal(url, allow_private=allow_private)
    if reason:
        raise RefusedURL(f"refused {parsed.host}: {reason}")
    return parsed


async def check_webhook_address(url: str, *, allow_private: bool) -> httpx.URL:
    """`checked_webhook_url`, and every address its host resolves to allowed."""
    parsed = checked_webhook_url(url, allow_private=allow_private)
    await allowed_addresses(parsed, allow_private=allow_private)
    return parsed


async def deliver(
    target: WebhookTarget, payload: WebhookPayload, *, policy: WebhookPolicy
) -> WebhookResult:
    """POST the payload, retrying what may succeed later; never raises for the receiver's
    faults."""
    body = payload.body()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": payload.idempotency_key,
        SIGNATURE_HEADER: sign(target.secret, body),
        EVENT_HEADER: payload.event,
    }
    try:
        url = checked_webhook_url(target.url, allow_private=policy.allow_private)
    except RefusedURL as refused:
        return WebhookResult(False, None, 0, str(refused))
    status: int | None = None
    error = ""
    for attempt in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            async with asyncio.timeout(policy.timeout):
                status, wait = await _post(url, body, headers, policy)
        except RefusedURL as refused:
            return WebhookResult(False, None, attempt, str(refused))
        except TimeoutError:
            status, error = None, f"timed out after {policy.timeout:g} s"
        except FetchError as failed:
            status, error = None, str(failed)
        else:
            if 200 <= status < 300:
                return WebhookResult(True, status, attempt)
            error = f"HTTP {status}"
            if status < 500 and status not in RETRYABLE:
                return WebhookResult(False, status, attempt, error)
        if attempt < policy.attempts:
            backoff = policy.first_delay * 2 ** (attempt - 1)
            await asyncio.sleep(min(policy.max_delay, max(backoff, wait or 0.0)))
    return WebhookResult(False, status, policy.attempts, error)


async def _post(
    url: httpx.URL, body: bytes, headers: dict[str, str], policy: WebhookPolicy
) -> tuple[int, float | None]:
    """One POST to the first checked address that accepts a connection: (status, Retry-After
    in seconds)."""
    addresses = await allowed_addresses(url, allow_private=policy.allow_private)
    last_error: httpx.ConnectError | None = None
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        async with pinned_client(policy.timeout) as client:
            request = pinned_request(client, "POST", url, address, headers, body)
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError as error:
                last_error = error
                continue
            except httpx.HTTPError as error:
                raise FetchError(str(error) or type(error).__name__) from None
            await response.aclose()  # the answer's body is not read
            return response.status_code, retry_after_seconds(response.headers.get("Retry-After"))
    raise FetchError(f"cannot connect to {url.host}: {last_error or 'no address'}")


@dataclass(slots=True)
class WebhookSender:
    """Delivers chats' payloads in the background and keeps each webhook's record."""

    sessions: SessionFactory
    policy: WebhookPolicy
    on_disabled: Callable[[DisabledWebhook], Awaitable[object]]  # the app tells the admins
    _tasks: set[asyncio.Task[WebhookResult | None]] = field(default_factory=set)
    _slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CONCURRENT_DELIVERIES)
    )

    def submit(self, payload: WebhookPayload) -> None:
        """Deliver to the chat's webhook, if it has an enabled one, without waiting."""
        task = asyncio.create_task(self.deliver(payload), name=f"webhook {payload.chat_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, payload: WebhookPayload) -> WebhookResult | None:
        """Deliver to the chat's webhook and record the outcome; None when the chat has no
        enabled webhook."""
        async with self.sessions() as session:
            webhook = await webhook_store.get_webhook(session=session, chat_id=payload.chat_id)
        if webhook is None or webhook.disabled or webhook.id is None:
            return None
        async with self._slots:
            result = await deliver(
                WebhookTarget(webhook.url, webhook.secret), payload, policy=self.policy
            )
        async with self.sessions() as session:
            disabled = await webhook_store.record_delivery(
                session=session,
                webhook_id=webhook.id,
                error=None if result.delivered else (result.error or "not delivered"),
                disable_after=DISABLE_AFTER,
            )
            await session.commit()
        if disabled:
            try:
                await self.on_disabled(
                    DisabledWebhook(webhook.chat_id, webhook.url, DISABLE_AFTER, result.error)
                )
            except Exception:
                log.exception("could not report that webhook %s was disabled", webhook.id)
        return result

    async def wait(self) -> None:
        """Wait until the deliveries under way have finished."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the deliveries still running."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
