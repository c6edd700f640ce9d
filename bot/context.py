"""What handlers and jobs can reach through their context: the bot's services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, CallbackContext, ExtBot

from bot.delivery import Dispatcher
from bot.feeds import FeedPoller
from bot.lexicon import Lexicon
from bot.settings import Settings
from bot.suggest import Suggester
from bot.webhooks import WebhookSender
from storage.db import SessionFactory


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    lexicon: Lexicon
    suggester: Suggester
    dispatcher: Dispatcher
    poller: FeedPoller
    webhooks: WebhookSender  # posts sent alerts to chats' webhooks; stopped on shutdown
    # chats' updates are handled concurrently: one digest-job sync at a time
    digest_sync: asyncio.Lock = field(default_factory=asyncio.Lock)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context of this bot: `context.services` reaches the shared services."""

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


def services_of(app: BotApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services
