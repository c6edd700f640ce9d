"""Admin commands (user ids in ADMIN_IDS): /feeds, /addfeed, /removefeed, /resumefeed,
/ingest, /stats, /webhook, and an .opml file sent to the bot (its feeds imported). Everyone else
is told they are admin-only. Commands that fetch from or post to the web run without blocking
other updates. /sources, the public side of the feeds, is for everyone."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from telegram import Bot, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import MessageHandler, filters

from bot import i18n, rendering
from bot.context import BotApplication, BotContext
from bot.feeds import add_feed, policy_from
from bot.fetch import FetchError
from bot.opml import MAX_OPML_BYTES, OpmlError, import_feeds, read_opml
from bot.pages import is_url, read_url
from bot.settings import Settings
from bot.webhooks import (
    DisabledWebhook,
    WebhookPolicy,
    WebhookTarget,
    check_webhook_address,
    deliver,
    new_secret,
    sample_payload,
)
from handlers.common import answer, command, command_argument, is_admin, remember_chat
from storage import feeds as feed_store
from storage import queries
from storage import webhooks as webhook_store
from storage.db import SessionFactory
from storage.models import Feed, utcnow
from storage.stats import collect_stats

log = logging.getLogger(__name__)


async def _admin(update: Update, context: BotContext) -> bool:
    """True for an admin in a private chat; anyone else is told the command is admin-only,
    and an admin in a group to ask in private (feed URLs and errors are not for the group)."""
    if not is_admin(update, context.services):
        await answer(update, rendering.admin_only())
        return False
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await answer(update, rendering.admin_in_private())
        return False
    return True


async def list_feeds(update: Update, context: BotContext) -> None:
    """Every feed with its status, last fetch, items and last error: /feeds."""
    if not await _admin(update, context):
        return
    async with context.services.sessions() as session:
        feeds = await feed_store.list_feeds(session=session)
    for chunk in rendering.feed_list(feeds):
        await answer(update, chunk)


async def add(update: Update, context: BotContext) -> None:
    """Add a feed and fetch it right away: /addfeed URL [NAME]."""
    if not await _admin(update, context):
        return
    services = context.services
    url, _, name = command_argument(update.effective_message).strip().partition(" ")
    if not url:
        await answer(update, rendering.addfeed_usage())
        return
    try:
        feed, created = await add_feed(
            services.sessions,
            url,
            name.strip() or None,
            allow_private=services.settings.allow_private_feed_hosts,
        )
    except ValueError as error:
        await answer(update, rendering.invalid_feed_url(str(error)))
        return
    await answer(update, rendering.feed_added(feed, created=created))
    if not created or feed.id is None:
        return
    outcome = await services.poller.poll_now(feed.id)
    if outcome is not None:
        await answer(
            update,
            rendering.feed_first_fetch(
                ok=outcome.ok,
                entries=outcome.entries,
                new_articles=outcome.report.new,
                skipped_old=outcome.skipped_old,
                matched=outcome.report.matched,
                error=outcome.error,
            ),
        )


def _feed_id(update: Update) -> tuple[str, int | None]:
    typed = command_argument(update.effective_message).strip().removeprefix("#")
    return typed, int(typed) if typed.isdecimal() else None


async def remove(update: Update, context: BotContext) -> None:
    """Stop polling a feed: /removefeed ID."""
    await _change_feed(
        update, context, "removefeed", feed_store.remove_feed, rendering.feed_removed
    )


async def resume(update: Update, context: BotContext) -> None:
    """Poll a paused (or backing-off) feed again now: /resumefeed ID."""
    await _change_feed(
        update, context, "resumefeed", feed_store.resume_feed, rendering.feed_resumed
    )


async def _change_feed(
    update: Update,
    context: BotContext,
    command: str,
    change: Callable[..., Awaitable[Feed | None]],
    confirmation: Callable[[Feed], str],
) -> None:
    """An admin command on one feed by id: apply `change` and confirm, or explain."""
    if not await _admin(update, context):
        return
    typed, feed_id = _feed_id(update)
    if feed_id is None:
        await answer(update, rendering.feed_id_usage(command))
        return
    async with context.services.sessions() as session:
        feed = await change(session=session, feed_id=feed_id)
        await session.commit()
    await answer(update, confirmation(feed) if feed else rendering.no_such_feed(typed))


async def ingest(update: Update, context: BotContext) -> None:
    """Fetch a web page (or feed) and store its article(s): /ingest URL."""
    if not await _admin(update, context):
        return
    services = context.services
    url = command_argument(update.effective_message).strip()
    if not is_url(url):
        await answer(update, rendering.ingest_usage())
        return
    try:
        parsed = await read_url(
            url, policy=policy_from(services.settings), parsers=services.poller.parsers
        )
    except FetchError as error:
        await answer(update, rendering.ingest_failed(url, str(error)))
        return
    ingestor = services.poller.ingestor
    await ingestor.refresh()
    report = await ingestor.ingest(parsed.articles)
    report.rejected[:0] = parsed.rejected
    if report.matched:
        services.dispatcher.wake()
    await answer(
        update,
        rendering.ingest_result(
            new=report.new,
            new_headlines=report.new_headlines,
            duplicates=report.duplicates,
            matched=report.matched,
            titles=[a.title for a in parsed.articles] if report.new else [],
            rejected=[f"{r.where}: {r.reason}" for r in report.rejected],
        ),
    )


async def import_opml(update: Update, context: BotContext) -> None:
    """Import the feeds of an .opml file an admin sends in a private chat."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or message.document is None or chat is None:
        return
    if not is_admin(update, context.services):
        await answer(update, rendering.opml_admins_only())
        return
    if chat.type != ChatType.PRIVATE:
        await answer(update, rendering.opml_in_private())
        return
    document = message.document
    name = document.file_name or "the file"
    if document.file_size is not None and document.file_size > MAX_OPML_BYTES:
        await answer(update, rendering.opml_too_large(MAX_OPML_BYTES))
        return
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
        found = read_opml(data)
    except TelegramError as error:
        await answer(update, rendering.opml_unreadable(name, f"Telegram: {error.message}"))
        return
    except OpmlError as error:
        await answer(update, rendering.opml_unreadable(name, str(error)))
        return
    services = context.services
    report = await import_feeds(
        services.sessions, found.feeds, allow_private=services.settings.allow_private_feed_hosts
    )
    if report.added:
        await services.poller.start_round()  # fetch the new feeds now, not at the next round
    for chunk in rendering.opml_imported(
        len(report.added),
        [f"{note.where}: {note.reason}" for note in report.present],
        [f"{note.where}: {note.reason}" for note in report.skipping(found.skipped)],
    ):
        await answer(update, chunk)


async def list_sources(update: Update, context: BotContext) -> None:
    """Where the news comes from, for everyone: feed names and sites, recent article counts."""
    await remember_chat(update, context)
    async with context.services.sessions() as session:
        feeds = await feed_store.list_feeds(session=session)
        recent = await queries.articles_per_source(
            session=session, since=utcnow() - timedelta(days=rendering.SOURCE_DAYS)
        )
    for chunk in rendering.sources_list(feeds, recent):
        await answer(update, chunk)


async def show_stats(update: Update, context: BotContext) -> None:
    """Chats, watch items, articles, alerts, feeds: /stats."""
    if not await _admin(update, context):
        return
    async with context.services.sessions() as session:
        stats = await collect_stats(session=session)
    await answer(update, rendering.stats_text(stats))


def webhook_policy(settings: Settings) -> WebhookPolicy:
    """How webhooks are posted to: the address rules of feed fetching."""
    return WebhookPolicy(allow_private=settings.allow_private_feed_hosts)


async def webhook(update: Update, context: BotContext) -> None:
    """A chat's outbound webhook: /webhook add [CHAT_ID] URL, remove [CHAT_ID], test [CHAT_ID];
    alone, the list. Without CHAT_ID, the chat where it is typed (the admin's private chat)."""
    if not await _admin(update, context) or await remember_chat(update, context) is None:
        return
    words = command_argument(update.effective_message).split()
    action = words[0].lower() if words else ""
    rest = words[1:]
    chat_id = update.effective_chat.id if update.effective_chat else 0
    if rest and re.fullmatch(r"-?\d{1,20}", rest[0]):
        chat_id = int(rest.pop(0))
    if action == "add" and len(rest) == 1:
        await _add_webhook(update, context, chat_id, rest[0])
    elif action == "remove" and not rest:
        async with context.services.sessions() as session:
            removed = await webhook_store.remove_webhook(session=session, chat_id=chat_id)
            await session.commit()
        await answer(
            update, rendering.webhook_removed(chat_id) if removed else rendering.no_webhook(chat_id)
        )
    elif action == "test" and not rest:
        await _test_webhook(update, context, chat_id)
    elif not words:
        async with context.services.sessions() as session:
            hooks = await webhook_store.list_webhooks(session=session)
        listed = [
            rendering.ListedWebhook(h.chat_id, h.url, h.failures, h.disabled, h.last_error)
            for h in hooks
        ]
        for chunk in rendering.webhook_list(listed):
            await answer(update, chunk)
    else:
        await answer(update, rendering.webhook_usage())


async def _add_webhook(update: Update, context: BotContext, chat_id: int, url: str) -> None:
    settings = context.services.settings
    try:
        await check_webhook_address(url, allow_private=settings.allow_private_feed_hosts)
    except FetchError as error:
        await answer(update, rendering.webhook_refused(str(error)))
        return
    secret = new_secret()
    async with context.services.sessions() as session:
        if not await webhook_store.chat_exists(session=session, chat_id=chat_id):
            await answer(update, rendering.webhook_unknown_chat(chat_id))
            return
        replaced = await webhook_store.get_webhook(session=session, chat_id=chat_id) is not None
        await webhook_store.set_webhook(session=session, chat_id=chat_id, url=url, secret=secret)
        await session.commit()
    await answer(update, rendering.webhook_added(chat_id, url, secret, replaced=replaced))


async def _test_webhook(update: Update, context: BotContext, chat_id: int) -> None:
    async with context.services.sessions() as session:
        hook = await webhook_store.get_webhook(session=session, chat_id=chat_id)
    if hook is None:
        await answer(update, rendering.no_webhook(chat_id))
        return
    result = await deliver(
        WebhookTarget(hook.url, hook.secret),
        sample_payload(chat_id),
        policy=webhook_policy(context.services.settings),
    )
    await answer(
        update,
        rendering.webhook_test_result(
            chat_id,
            hook.url,
            delivered=result.delivered,
            status=result.status,
            attempts=result.attempts,
            error=result.error,
        ),
    )


async def report_disabled_webhook(
    bot: Bot, sessions: SessionFactory, admin_ids: Iterable[int], disabled: DisabledWebhook
) -> None:
    """Tell the admins that repeated failures disabled a webhook (`WebhookSender.on_disabled`)."""
    await notify_admins(
        bot,
        sessions,
        admin_ids,
        lambda: rendering.webhook_disabled(
            disabled.chat_id, disabled.url, disabled.failures, disabled.error
        ),
    )


async def notify_admins(
    bot: Bot, sessions: SessionFactory, admin_ids: Iterable[int], notice: Callable[[], str]
) -> bool:
    """Send a notice (rendered in each admin's chat language) to every admin's private chat;
    False when a send should be retried (a network or server error), True once every admin
    was told or cannot be reached."""
    admins = sorted(admin_ids)
    if not admins:
        log.warning("no ADMIN_IDS to tell: %s", notice().replace("\n", " ")[:300])
    told = True
    for admin_id in admins:
        async with sessions() as session:
            chosen, code = await queries.chat_languages(session=session, chat_id=admin_id)
        with i18n.speaking(i18n.chat_language(chosen, code)):
            text = notice()
        try:
            await bot.send_message(admin_id, text, parse_mode=ParseMode.HTML)
        except (Forbidden, BadRequest) as error:  # never started the bot, or blocked it
            log.warning("cannot notify admin %s: %s", admin_id, error.message)
        except TelegramError as error:
            log.warning("notifying admin %s failed (%s); will retry", admin_id, error)
            told = False
    return told


def register(app: BotApplication) -> None:
    app.add_handler(command("feeds", list_feeds))
    app.add_handler(command("addfeed", add, block=False))
    app.add_handler(command("removefeed", remove))
    app.add_handler(command("resumefeed", resume))
    app.add_handler(command("ingest", ingest, block=False))
    app.add_handler(command("stats", show_stats))
    app.add_handler(command("webhook", webhook, block=False))
    app.add_handler(command("sources", list_sources))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.Document.FileExtension("opml"),
            import_opml,
            block=False,
        )
    )
