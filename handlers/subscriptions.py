"""/subscribe, /unsubscribe, /list and their inline buttons."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode

from bot import rendering, subscriptions
from bot.callbacks import (
    RemoveSubscription,
    SetItemOption,
    SetLevel,
    ShowItemOptions,
    SubscribeTo,
    SubscribeToEach,
)
from bot.context import BotApplication, BotContext, Services
from bot.rendering import Reply
from bot.senders.telegram import keyboard
from bot.subscriptions import MAX_SUBSCRIPTIONS, MAX_TOPICS_AT_ONCE, Added
from bot.topics import TopicError, ambiguity, parse_watch_item, split_topics
from handlers.common import (
    allowed_to_change,
    answer,
    button,
    command,
    edit_pressed,
)
from handlers.forum import topic_for_new_item
from handlers.targets import Target, command_target, press_on_target
from storage import queries
from storage.models import Level, Subscription


async def subscribe(update: Update, context: BotContext) -> None:
    """Add topics to the chat's (or a channel's) watch-list, several separated by commas, or
    ask what was meant: /subscribe [@CHANNEL] TOPIC[, TOPIC…]."""
    target = await command_target(update, context)
    if target is None:
        return
    typed = await typed_topics(update, target.argument, rendering.subscribe_usage())
    if not typed or not await allowed_to_change(update, context):
        return
    confirmations: list[str] = []
    questions: list[Reply] = []
    for topic in typed:
        outcome = await subscribe_to(context, target, topic)
        if isinstance(outcome, Reply):
            questions.append(target.reply(outcome))
        else:
            confirmations.append(outcome if len(typed) == 1 else f"• {outcome}")
    if confirmations:
        await answer(update, "\n".join(confirmations))
    for question in questions:
        await answer(update, question)


async def typed_topics(update: Update, typed: str, usage: str) -> list[str]:
    """The topics in `typed`, separated by commas; none after telling the user what is wrong
    (`usage` when nothing was typed)."""
    if not typed.strip():
        await answer(update, usage)
        return []
    topics = split_topics(typed) or [typed]  # `,,,` is one topic, refused with a reason
    if len(topics) > MAX_TOPICS_AT_ONCE:
        await answer(update, rendering.too_many_topics_at_once(MAX_TOPICS_AT_ONCE))
        return []
    return topics


async def subscribe_to(context: BotContext, target: Target, typed: str) -> str | Reply:
    """Subscribe to one typed topic; the confirmation, or a question with buttons (several
    topics typed as one, or a likely typo)."""
    services = context.services
    several = ambiguity(typed, services.lexicon)
    if several is not None:
        return rendering.several_topics_question(several)
    try:
        item = parse_watch_item(typed, services.lexicon)
    except TopicError as error:
        return rendering.topic_error_in(typed, str(error))
    candidates = services.suggester.suggest(item)
    if candidates:
        return rendering.suggestion(item.key, candidates)
    return await add_topic(context, target, item.key)


async def add_topic(context: BotContext, target: Target, topic: str) -> str:
    """Store a subscription within the per-chat limits, routed to the forum topic it was
    subscribed from (or, with /topics auto, to a new one); the confirmation to show."""
    group, channel, route = target.group, target.channel, target.route
    try:
        subscribed = await subscriptions.add(
            context.services.sessions, target.chat_id, topic, route
        )
    except TopicError as error:
        return rendering.topic_error_in(topic, str(error))
    match subscribed.added:
        case Added.ADDED if target.forum_topic:
            return rendering.subscribed_here(topic)
        case Added.ADDED:
            made = await topic_for_new_item(context, target, topic)
            return made or rendering.subscribed(topic, group=group, channel=channel)
        case Added.MOVED:
            before = subscribed.before
            return rendering.item_moved(topic, rendering.forum_place(before.thread_id, before.name))
        case Added.ALREADY:
            return rendering.already_subscribed(topic, group=group, channel=channel)
        case Added.FULL:
            return rendering.too_many_subscriptions(MAX_SUBSCRIPTIONS, group=group, channel=channel)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """Remove topics from the chat's (or a channel's) watch-list, typed in any spelling
    /subscribe reads as the same item: /unsubscribe [@CHANNEL] TOPIC[, TOPIC…]."""
    target = await command_target(update, context)
    if target is None:
        return
    typed = await typed_topics(update, target.argument, rendering.unsubscribe_usage())
    if not typed or not await allowed_to_change(update, context):
        return
    services, group, channel = context.services, target.group, target.channel
    lines: list[str] = []
    for topic in typed:
        try:
            item = parse_watch_item(topic, services.lexicon)
        except TopicError as error:
            lines.append(rendering.topic_error_in(topic, str(error)))
            continue
        removal = await subscriptions.remove(
            services.sessions, services.lexicon, target.chat_id, item
        )
        if removal.removed is not None:
            lines.append(rendering.unsubscribed(removal.removed, group=group, channel=channel))
        elif removal.alike:
            lines.append(rendering.ambiguous_removal(item.key, removal.alike))
        else:
            lines.append(rendering.not_subscribed(item.key, group=group, channel=channel))
    await answer(update, "\n".join(lines))


async def list_topics(update: Update, context: BotContext) -> None:
    """Show the chat's (or a channel's) watch-list with a remove button per topic:
    /list [@CHANNEL]."""
    target = await command_target(update, context)
    if target is not None:
        await answer(update, await watch_list(context.services, target))


async def watch_list(services: Services, target: Target) -> Reply:
    """The watch-list; in a forum topic the items that go there, in a forum's General all of
    them, each with where it goes."""
    async with services.sessions() as session:
        rows = await queries.list_subscriptions(session=session, chat_id=target.chat_id)
    route = target.route
    if route is not None and route.thread_id is not None:
        rows = [row for row in rows if row.thread_id == route.thread_id]
    listed = [
        listed_topic(row, in_forum=route is not None and route.thread_id is None)
        for row in rows
        if row.id is not None
    ]
    return target.reply(
        rendering.subscription_list(
            listed, group=target.group, channel=target.channel, forum_topic=target.forum_topic
        )
    )


def listed_topic(row: Subscription, *, in_forum: bool = False) -> rendering.ListedTopic:
    """A /list row (`in_forum`: saying where the item goes)."""
    assert row.id is not None
    return rendering.ListedTopic(
        row.id,
        row.topic,
        row.level,
        silent=row.silent,
        preview=row.preview,
        muted_until=subscriptions.muted_until(row),
        place=rendering.forum_place(row.thread_id, row.thread_name) if in_forum else None,
    )


async def on_options_button(update: Update, context: BotContext) -> None:
    """The ⚙ button of a /list row: that item's delivery options (or back to the list)."""
    press = await press_on_target(update, context, ShowItemOptions)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    services = context.services
    if pressed.back:
        await query.answer()
        await edit_pressed(query, await watch_list(services, target))
        return
    row = await subscriptions.item_options(
        services.sessions, target.chat_id, pressed.subscription_id
    )
    if row is None:
        await query.answer(rendering.not_on_watch_list())
        return
    await query.answer()
    await show_options(query, target, row)


async def on_option_button(update: Update, context: BotContext) -> None:
    """A button of an item's options: set that option, refresh the options."""
    press = await press_on_target(update, context, SetItemOption)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    row = await subscriptions.set_item_option(
        context.services.sessions,
        target.chat_id,
        pressed.subscription_id,
        pressed.name,
        pressed.value,
    )
    if row is None:
        await query.answer(rendering.not_on_watch_list())
        return
    await query.answer(rendering.option_set_notice(row.topic, pressed.name, pressed.value))
    await show_options(query, target, row)


async def show_options(query: CallbackQuery, target: Target, row: Subscription) -> None:
    """Edit the pressed message into an item's options."""
    await edit_pressed(
        query, target.reply(rendering.item_options(listed_topic(row), channel=target.channel))
    )


async def on_subscribe_button(update: Update, context: BotContext) -> None:
    """A "Did you mean …?" button: subscribe to the chosen spelling."""
    press = await press_on_target(update, context, SubscribeTo)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    services = context.services
    try:
        topic = parse_watch_item(pressed.topic, services.lexicon).key
    except TopicError as error:
        await query.answer(str(error))
        return
    confirmation = await add_topic(context, target, topic)
    await query.answer()
    await query.edit_message_text(confirmation, parse_mode=ParseMode.HTML)


async def on_subscribe_each_button(update: Update, context: BotContext) -> None:
    """An "Either" button: subscribe to each topic as a watch item of its own."""
    press = await press_on_target(update, context, SubscribeToEach)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    services = context.services
    try:
        topics = [parse_watch_item(topic, services.lexicon).key for topic in pressed.topics]
    except TopicError as error:
        await query.answer(str(error))
        return
    confirmations = [await add_topic(context, target, topic) for topic in topics]
    await query.answer()
    await query.edit_message_text(
        "\n".join(f"• {line}" for line in confirmations), parse_mode=ParseMode.HTML
    )


async def on_remove_button(update: Update, context: BotContext) -> None:
    """A remove button under /list: drop that topic and refresh the list."""
    press = await press_on_target(update, context, RemoveSubscription)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    services = context.services
    topic = await subscriptions.remove_by_id(
        services.sessions, target.chat_id, pressed.subscription_id
    )
    if topic is None:
        await query.answer(rendering.already_removed())
        return
    await query.answer(rendering.removed_notice(topic))
    refreshed = await watch_list(services, target)
    await query.edit_message_text(
        refreshed.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(refreshed)
    )


async def on_level_button(update: Update, context: BotContext) -> None:
    """A level button of an item's options: switch what it sends at once, refresh the
    options."""
    press = await press_on_target(update, context, SetLevel)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    services = context.services
    async with services.sessions() as session:
        topic = await queries.set_level(
            session=session,
            chat_id=target.chat_id,
            subscription_id=pressed.subscription_id,
            level=Level(pressed.level),
        )
        await session.commit()
    row = await subscriptions.item_options(
        services.sessions, target.chat_id, pressed.subscription_id
    )
    if topic is None or row is None:
        await query.answer(rendering.not_on_watch_list())
        return
    await query.answer(rendering.level_set_notice(topic, pressed.level))
    await show_options(query, target, row)


def register(app: BotApplication) -> None:
    app.add_handler(command("subscribe", subscribe))
    app.add_handler(command("unsubscribe", unsubscribe))
    app.add_handler(command("list", list_topics))
    app.add_handler(button(SubscribeTo, on_subscribe_button))
    app.add_handler(button(RemoveSubscription, on_remove_button))
    app.add_handler(button(SubscribeToEach, on_subscribe_each_button))
    app.add_handler(button(SetLevel, on_level_button))
    app.add_handler(button(ShowItemOptions, on_options_button))
    app.add_handler(button(SetItemOption, on_option_button))
