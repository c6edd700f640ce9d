"""Admin commands (user ids in ADMIN_IDS): /feeds, /addfeed, /removefeed, /resumefeed,
/ingest, /stats. Everyone else is told they are admin-only. Commands that fetch from the web
run without blocking other updates. /sources, the public side of the feeds, is for everyone."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from telegram import Bot, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import rendering
from bot.context import BotApplication, BotContext
from bot.feeds import add_feed, policy_from
from bot.fetch import FetchError
from bot.pages import is_url, read_url
from handlers.common import answer, command, command_argument, is_admin, remember_chat
from storage import feeds as feed_store
from storage import queries
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


async def notify_admins(bot: Bot, admin_ids: Iterable[int], text: str) -> bool:
    """Send a notice to every admin's private chat; False when a send should be retried
    (a network or server error), True once every admin was told or cannot be reached."""
    admins = sorted(admin_ids)
    if not admins:
        log.warning("no ADMIN_IDS to tell: %s", text.replace("\n", " ")[:300])
    told = True
    for admin_id in admins:
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
    app.add_handler(command("sources", list_sources))
