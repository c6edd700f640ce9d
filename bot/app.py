"""Assembly: `build_application` creates the bot from its settings and dependencies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot import menus
from bot.context import BotApplication, BotContext, Services, services_of
from bot.delivery import Dispatcher, SendBudget
from bot.digest_jobs import sync_digest_jobs
from bot.feeds import FeedPoller
from bot.ingest import Ingestor
from bot.lexicon import Lexicon, default_lexicon
from bot.settings import Settings
from bot.suggest import Suggester
from bot.updates import PerChatUpdateProcessor
from bot.webhooks import WebhookSender
from handlers import (
    admin,
    alerts,
    basics,
    common,
    export,
    feedback,
    forum,
    inline,
    preferences,
    querytest,
    questions,
    subscriptions,
)
from storage import queries
from storage.db import create_engine, session_factory
from storage.locks import SenderLock
from storage.schema import upgrade_schema

log = logging.getLogger(__name__)

VOCABULARY_REFRESH_SECONDS = 600
DIGEST_RESYNC_SECONDS = 300
FEED_ROUND_SECONDS = 30.0  # how often due feeds are looked for (at most FEED_POLL_SECONDS)
OFFLINE_TOKEN = "0:offline"


def build_application(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    request: BaseRequest | None = None,
    lexicon: Lexicon | None = None,
    budget: SendBudget | None = None,
) -> BotApplication:
    """The whole bot: handlers, dispatcher and jobs, on the given database and transport."""
    engine = engine or create_engine(settings.database_url)
    sessions = session_factory(engine)
    lexicon = lexicon or default_lexicon()
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token or OFFLINE_TOKEN)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app: BotApplication = builder.build()
    webhooks = WebhookSender(
        sessions,
        admin.webhook_policy(settings),
        on_disabled=lambda disabled: admin.report_disabled_webhook(
            app.bot, sessions, settings.admin_ids, disabled
        ),
    )
    app.bot_data["services"] = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        lexicon=lexicon,
        suggester=Suggester(lexicon),
        dispatcher=Dispatcher(
            app.bot,
            sessions,
            poll_seconds=settings.alert_poll_seconds,
            sender_lock=SenderLock(engine),
            burst_seconds=settings.alert_burst_seconds,
            budget=budget,
            webhooks=webhooks,
        ),
        webhooks=webhooks,
        poller=FeedPoller(
            sessions,
            Ingestor(sessions, lexicon),
            settings,
            notify=lambda notice: admin.notify_admins(
                app.bot, sessions, settings.admin_ids, notice
            ),
            on_alerts=lambda: services_of(app).dispatcher.wake(),
        ),
    )

    app.add_handler(TypeHandler(Update, common.choose_language), group=-1)
    basics.register(app)
    subscriptions.register(app)
    forum.register(app)
    feedback.register(app)
    export.register(app)
    inline.register(app)
    querytest.register(app)
    questions.register(app)
    preferences.register(app)
    admin.register(app)
    alerts.register(app)
    basics.register_fallbacks(app)
    return app


def file_base_url(api_base_url: str) -> str:
    """Where files are downloaded from, beside the API: https://api.telegram.org/bot serves
    files at https://api.telegram.org/file/bot (a local Bot API server and the test fake too)."""
    return api_base_url.rstrip("/").removesuffix("/bot") + "/file/bot"


@asynccontextmanager
async def running(app: BotApplication, *, poll_timeout: int = 10) -> AsyncIterator[BotApplication]:
    """Run the bot inside an existing event loop, in the order `run_polling` uses (with the same
    post-init/stop/shutdown hooks, which PTB only calls itself from `run_polling`)."""
    assert app.updater is not None
    await app.initialize()
    await _post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await _post_stop(app)
        await app.shutdown()
        await _post_shutdown(app)


async def _post_init(app: BotApplication) -> None:
    services = services_of(app)
    await upgrade_schema(services.engine)
    await refresh_vocabulary(services)
    admin_ids = services.settings.admin_ids
    async with services.sessions() as session:
        chosen = await queries.chosen_languages(session=session, chat_ids=admin_ids)
    await menus.set_command_menus(app.bot, admin_ids, chosen)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            _refresh_vocabulary_job,
            interval=VOCABULARY_REFRESH_SECONDS,
            name="refresh-vocabulary",
            job_kwargs={"replace_existing": True, "id": "refresh-vocabulary"},
        )
        app.job_queue.run_repeating(
            _sync_digest_jobs_job,  # picks up settings changed by other instances or the CLI
            interval=DIGEST_RESYNC_SECONDS,
            name="sync-digest-jobs",
            job_kwargs={"replace_existing": True, "id": "sync-digest-jobs"},
        )
        await sync_digest_jobs(app)
        interval = min(services.settings.feed_poll_seconds, FEED_ROUND_SECONDS)
        app.job_queue.run_repeating(
            _poll_feeds_job,
            interval=interval,
            first=min(interval, 2.0),
            name="poll-feeds",
            job_kwargs={
                "replace_existing": True,
                "id": "poll-feeds",
                "max_instances": 1,
                "coalesce": True,
            },
        )
    services.dispatcher.start()


async def _post_stop(app: BotApplication) -> None:
    await services_of(app).poller.stop()
    await services_of(app).dispatcher.stop()
    await services_of(app).webhooks.stop()


async def _post_shutdown(app: BotApplication) -> None:
    services = services_of(app)
    await services.poller.stop()
    await services.dispatcher.stop()
    await services.webhooks.stop()
    await services.engine.dispose()


async def refresh_vocabulary(services: Services) -> None:
    """Teach the suggester the names seen in stored articles."""
    async with services.sessions() as session:
        services.suggester.add(await queries.vocabulary(session=session))


async def _sync_digest_jobs_job(context: BotContext) -> None:
    await sync_digest_jobs(cast(BotApplication, context.application))


async def _refresh_vocabulary_job(context: BotContext) -> None:
    await refresh_vocabulary(context.services)


async def _poll_feeds_job(context: BotContext) -> None:
    """Start polling the feeds that are due (each finishes on its own; see `FeedPoller`)."""
    try:
        await context.services.poller.start_round()
    except Exception:
        log.exception("could not start a feed polling round; trying again next round")
