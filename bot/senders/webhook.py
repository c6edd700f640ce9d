"""The webhook sender: an alert Telegram accepted, posted as signed JSON to the chat's
webhook in the background (`bot.webhooks.WebhookSender`), so a slow or failing receiver
never holds up a send."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from bot.matching import evidence_sentence
from bot.senders import Destination, SendResult, SendStatus
from bot.webhooks import WebhookArticle, WebhookItem, WebhookPayload, WebhookSender, alert_payload
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, Article

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertPosted:
    """An alert as its webhook gets it: the article, the items and the story's sources."""

    payload: WebhookPayload


class WebhookAlertSender:
    """Renders alerts as webhook payloads and submits them to the chat's webhook: a
    `Sender[AlertPosted]`."""

    def __init__(self, webhooks: WebhookSender, sessions: SessionFactory) -> None:
        self._webhooks = webhooks
        self._sessions = sessions

    async def render(self, alert: Alert, article: Article) -> AlertPosted:
        """The payload of a sent alert, naming the story's sources (the article's own when
        they cannot be read: no failure here stops the chat's Telegram alerts)."""
        assert article.id is not None
        sources = [article.source] if article.source else []
        if article.story_id is not None:
            try:
                async with self._sessions() as session:
                    sources = await queries.story_sources(
                        session=session, story_id=article.story_id
                    )
            except Exception:
                log.exception("the story sources of alert %s for its webhook", alert.id)
        mentions = set(json.loads(alert.mentions))
        return AlertPosted(
            alert_payload(
                alert.chat_id,
                WebhookArticle(
                    article.id, article.title, article.url, article.source, article.published_at
                ),
                tuple(
                    WebhookItem(topic, main_story=topic not in mentions)
                    for topic in json.loads(alert.topics)
                ),
                relevance=alert.relevance,
                evidence=evidence_sentence(article.title, article.body, alert.evidence_at),
                sources=tuple(sources),
                thread_id=alert.thread_id,
            )
        )

    async def send(self, destination: Destination, message: AlertPosted) -> SendResult:
        """Post in the background (the outcome is recorded on the webhook): SENT means
        handed over."""
        self._webhooks.submit(message.payload)
        return SendResult(SendStatus.SENT)
