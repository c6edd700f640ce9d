"""Everything the bot says, as Telegram HTML. Every user- or article-supplied string goes
through `escape`; nothing here imports Telegram, so it is tested directly."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from babel.dates import format_date, format_datetime

from bot.callbacks import (
    LEVELS,
    Ask,
    Callback,
    ChangeSetting,
    LessChoice,
    LessChoiceName,
    LessLikeThis,
    LevelName,
    MoreFacts,
    OptionName,
    Question,
    RemoveSubscription,
    SetItemOption,
    SetLanguage,
    SetLevel,
    SetTimezone,
    ShowEvidence,
    ShowHelp,
    ShowItemOptions,
    ShowSettings,
    SubscribeTested,
    SubscribeTo,
    SubscribeToEach,
    UndoLess,
    decode,
    encode,
    fits,
)
from bot.channels import Refusal
from bot.commands import Command, Scope, commands_for
from bot.digests import DigestArticle
from bot.facts import RankedFact
from bot.i18n import AUTOMATIC, LANGUAGES, N_, _, current_language, ngettext
from bot.language import language_name
from bot.localtime import ZoneChoice, offset_label, utc_offset
from bot.refs import ArticleRef, QueryTestReport, Story
from bot.text import shorten, utf16_length
from bot.topics import Ambiguous

if TYPE_CHECKING:  # types only: rendering stays free of the database at run time
    from storage.models import Alert, Article, Feed
    from storage.stats import Stats

MESSAGE_LIMIT = 4096
CALLBACK_NOTICE_LENGTH = 200
ALERT_TITLE_LENGTH = 300
ALERT_EVIDENCE_LENGTH = 700
ALERT_TOPICS_LENGTH = 800
LISTED_TOPIC_LENGTH = 75  # 50 topics of 75 characters fit one message
LISTED_LENGTH = 3800  # the rows of /list, leaving room for its heading and last line

_TAG = re.compile(r"<[^>]*>")


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode (safe in text and attribute values)."""
    return html.escape(text, quote=True)


def visible_length(html_text: str) -> int:
    """Length of an HTML message as Telegram counts it: tags removed, entities decoded, UTF-16."""
    return utf16_length(html.unescape(_TAG.sub("", html_text)))


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Callback


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())


def split_message(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join HTML lines into as few messages as fit Telegram's limit; lines stay whole."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = visible_length(line) + 1
        if current and size + length > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length
    if current:
        chunks.append("\n".join(current))
    return chunks


def _command_usage(command: Command) -> str:
    """A line of /help: the command, what to type after it, what it does."""
    args = f" {escape(_(command.args))}" if command.args else ""
    return f"/{command.name}{args} — {escape(_(command.description))}"


def help_text(*, admin: bool = False) -> str:
    """The help; admins also see the admin commands (which are not advertised to others)."""
    lines = [
        _("<b>tradebot</b> sends you trade news the moment it matches your watch-list."),
        "",
        _("<b>Commands</b>"),
        *(_command_usage(command) for command in commands_for(Scope.EVERYONE)),
        "",
        _("<b>Topics</b>"),
        _("• a word or phrase: <code>copper</code>, <code>rare earths</code>"),
        _("• both in one article: <code>India-Chile</code>"),
        _("• several at once: <code>copper, gold</code>"),
        _('• leave some out: <code>copper -Copperfield -"copper wire"</code>'),
        _(
            "• a query: <code>(copper OR nickel) -Copperfield</code>, "
            "<code>India NEAR Chile</code> (one sentence), <code>title:copper</code>, "
            '<code>"copper wire"</code> (exact), '
            "<code>/nick(el|le)/</code> — try one first with /test"
        ),
        _(
            "Names know their aliases (US = U.S. = United States) and groups their members "
            "(rare earths = neodymium, dysprosium, …). Capitalised names match only names: "
            "<code>China</code> is not fine china."
        ),
        "",
        _("<b>Channels</b>"),
        _(
            "A channel's owner or administrators manage it from their private chat with me: "
            "<code>/subscribe @channel copper</code>, <code>/list @channel</code>, "
            "<code>/settings @channel</code> (or the channel's id, -100…). "
            "Add me to the channel as an administrator who may post messages; alerts and "
            "digests are posted there."
        ),
    ]
    if admin:
        lines += [
            "",
            _("<b>Admin</b>"),
            *(_command_usage(command) for command in commands_for(Scope.ADMIN)),
        ]
    return "\n".join(lines)


def welcome(*, group: bool = False) -> Reply:
    """/start: what the bot does, how to begin, and buttons to the rest."""
    if group:
        intro = _(
            "👋 <b>tradebot</b> sends this group trade news the moment it matches a watch-list."
        )
    else:
        intro = _("👋 <b>tradebot</b> sends you trade news the moment it matches a watch-list.")
    text = "\n".join(
        [
            intro,
            "",
            _(
                "Start with a topic: <code>/subscribe copper</code>, "
                "<code>/subscribe rare earths</code> or <code>/subscribe India-Chile</code>."
            ),
            _("Alerts arrive as the news does, and a digest once a day (see Settings)."),
        ]
    )
    return Reply(
        text,
        ((Button(_("📖 All commands"), ShowHelp()), Button(_("⚙️ Settings"), ShowSettings())),),
    )


@dataclass(frozen=True, slots=True)
class ChannelName:
    """A channel managed from a private chat, as replies name it."""

    title: str
    ref: str  # what to type after a command to name it: @username, or its id

    def html(self) -> str:
        return f"📢 <b>{escape(shorten(self.title, CHANNEL_TITLE_LENGTH))}</b>"

    def command(self, name: str, args: str = "") -> str:
        """A command acting on the channel, to copy: <code>/list @metals_desk</code>."""
        return f"<code>/{name} {escape(self.ref)}{' ' + args if args else ''}</code>"


CHANNEL_TITLE_LENGTH = 64


def subscribe_usage() -> str:
    return _(
        "Usage: <code>/subscribe TOPIC</code>\n"
        "For example <code>/subscribe copper</code> or <code>/subscribe India-Chile</code>; "
        "several at once: <code>/subscribe copper, gold</code>; for a channel you run: "
        "<code>/subscribe @channel copper</code>."
    )


def unsubscribe_usage() -> str:
    return _("Usage: <code>/unsubscribe TOPIC</code> — or use the buttons under /list.")


def subscribed(topic: str, *, group: bool = False, channel: ChannelName | None = None) -> str:
    if channel is not None:
        return _(
            "✅ Subscribed to <b>{topic}</b>: it is on the watch-list of {channel}, and alerts "
            "are posted there."
        ).format(topic=escape(topic), channel=channel.html())
    if group:
        return _(
            "✅ Subscribed to <b>{topic}</b>: it is on this group's watch-list, and alerts come "
            "here."
        ).format(topic=escape(topic))
    return _(
        "✅ Subscribed to <b>{topic}</b>. You will get an alert when it is in the news."
    ).format(topic=escape(topic))


def already_subscribed(
    topic: str, *, group: bool = False, channel: ChannelName | None = None
) -> str:
    if channel is not None:
        return _("<b>{topic}</b> is already on the watch-list of {channel}.").format(
            topic=escape(topic), channel=channel.html()
        )
    if group:
        return _("<b>{topic}</b> is already on this group's watch-list.").format(
            topic=escape(topic)
        )
    return _("You are already subscribed to <b>{topic}</b>.").format(topic=escape(topic))


def forum_place(thread_id: int | None, name: str | None) -> str:
    """Where a forum group's item goes, as HTML: General, or a topic (by its name when
    known)."""
    if thread_id is None:
        return _("General")
    if name:
        return _("the topic <b>{name}</b>").format(name=escape(name))
    return _("topic #{number}").format(number=thread_id)


def subscribed_here(topic: str) -> str:
    return _("✅ Subscribed to <b>{topic}</b>: its alerts come to this topic.").format(
        topic=escape(topic)
    )


def subscribed_in_new_topic(topic: str, name: str) -> str:
    return _(
        "✅ Subscribed to <b>{topic}</b>: its alerts go to its new topic <b>{name}</b>."
    ).format(topic=escape(topic), name=escape(name))


def item_moved(topic: str, before: str) -> str:
    """An item subscribed again from another forum topic; `before` is `forum_place` HTML."""
    return _("↪️ <b>{topic}</b> moved: its alerts now come here instead of {before}.").format(
        topic=escape(topic), before=before
    )


def topic_right_missing() -> str:
    return _(
        "I can't create forum topics here: an administrator must give me the right to manage "
        "topics."
    )


def topics_auto_set(on: bool) -> str:
    if on:
        return _(
            "✅ Each new item subscribed in General now gets a topic of its own, named after it."
        )
    return _("New items subscribed in General now stay in General.")


def topics_usage(on: bool) -> str:
    now = _("auto") if on else _("off")
    return _(
        "Usage: <code>/topics auto</code> (a topic of its own for each new item subscribed in "
        "General) or <code>/topics off</code>. Now: <b>{now}</b>."
    ).format(now=now)


def topics_only_in_forums() -> str:
    return _("/topics works in groups with topics (forums) only.")


def topic_deleted(topics: Sequence[str], *, digest: bool) -> str:
    """A forum topic alerts went to was deleted: what goes to General from now on."""
    lines = []
    if topics:
        lines.append(
            ngettext(
                "The topic for {items} was deleted; its alerts now go to General.",
                "The topic for {items} was deleted; their alerts now go to General.",
                len(topics),
            ).format(items=", ".join(f"<b>{escape(topic)}</b>" for topic in topics))
        )
    if digest:
        lines.append(_("The topic of the digest was deleted; digests now go to General."))
    return "\n".join(lines)


def unsubscribed(topic: str, *, group: bool = False, channel: ChannelName | None = None) -> str:
    if channel is not None:
        return _("Unsubscribed from <b>{topic}</b>: it is off the watch-list of {channel}.").format(
            topic=escape(topic), channel=channel.html()
        )
    if group:
        return _("Unsubscribed from <b>{topic}</b>: it is off this group's watch-list.").format(
            topic=escape(topic)
        )
    return _("Unsubscribed from <b>{topic}</b>.").format(topic=escape(topic))


def not_subscribed(topic: str, *, group: bool = False, channel: ChannelName | None = None) -> str:
    if channel is not None:
        return _("<b>{topic}</b> is not on the watch-list of {channel}. See {command}.").format(
            topic=escape(topic), channel=channel.html(), command=channel.command("list")
        )
    if group:
        return _("<b>{topic}</b> is not on this group's watch-list. See /list.").format(
            topic=escape(topic)
        )
    return _("You are not subscribed to <b>{topic}</b>. See /list.").format(topic=escape(topic))


def too_many_subscriptions(
    limit: int, *, group: bool = False, channel: ChannelName | None = None
) -> str:
    if channel is not None:
        return ngettext(
            "The watch-list of {channel} holds at most {count} topic. Remove one first "
            "(see {command}).",
            "The watch-list of {channel} holds at most {count} topics. Remove one first "
            "(see {command}).",
            limit,
        ).format(channel=channel.html(), count=limit, command=channel.command("list"))
    if group:
        return ngettext(
            "This group's watch-list holds at most {count} topic. Remove one first (see /list).",
            "This group's watch-list holds at most {count} topics. Remove one first (see /list).",
            limit,
        ).format(count=limit)
    return ngettext(
        "You can watch at most {count} topic. Remove one first (see /list).",
        "You can watch at most {count} topics. Remove one first (see /list).",
        limit,
    ).format(count=limit)


def topic_error(reason: str) -> str:
    return f"⚠️ {escape(reason)}"


def _either(names: Sequence[str]) -> str:
    """Names as alternatives: "<b>a</b> or <b>b</b>" (each escaped)."""
    return _(" or ").join(f"<b>{escape(name)}</b>" for name in names)


def suggestion(typed: str, candidates: Sequence[str]) -> Reply:
    """ "Did you mean …?" with a button per candidate and one to keep what was typed."""
    text = _("I don't know <b>{typed}</b>. Did you mean {names}?").format(
        typed=escape(typed), names=_either(candidates)
    )
    rows = [(Button(c, SubscribeTo(c)),) for c in candidates if fits(SubscribeTo(c))]
    if fits(SubscribeTo(typed)):
        rows.append((Button(_("Keep “{typed}”").format(typed=typed), SubscribeTo(typed)),))
    else:
        text += "\n" + _("To keep it as typed, send <code>/subscribe {typed}</code> again.").format(
            typed=escape(typed)
        )
    return Reply(text, tuple(rows))


@dataclass(frozen=True, slots=True)
class ListedTopic:
    """A row of /list, with the item's delivery options."""

    subscription_id: int
    topic: str
    level: str  # storage.models.Level
    silent: bool = False
    preview: str = "off"  # storage.models.Preview
    muted_until: datetime | None = None  # muted now until then (None: not muted)
    place: str | None = None  # in a forum's General: where it goes (`forum_place` HTML)


# What a level pushes at once, as its button says it (the button switches to the next level).
LEVEL_LABELS = {
    "main": N_("main stories only"),
    "split": N_("main now, mentions in digest"),
    "all": N_("every mention now"),
}


def subscription_list(
    topics: Sequence[ListedTopic],
    *,
    group: bool = False,
    channel: ChannelName | None = None,
    forum_topic: bool = False,
) -> Reply:
    """The chat's watch-list (in a forum topic: the items that go there), each item with a
    remove button and a button switching its level."""
    if forum_topic:
        heading = _("<b>This topic's items</b> ({count}):")
        empty = _("No item goes to this topic. Add one here with <code>/subscribe TOPIC</code>.")
    elif channel is not None:
        heading = _("The watch-list of {channel} ({count}):")
        empty = _("The watch-list of {channel} is empty. Add a topic with {command}.")
    elif group:
        heading = _("<b>This group's watch-list</b> ({count}):")
        empty = _(
            "This group's watch-list is empty. Add a topic with <code>/subscribe TOPIC</code>."
        )
    else:
        heading = _("<b>Your watch-list</b> ({count}):")
        empty = _("Your watch-list is empty. Add a topic with <code>/subscribe TOPIC</code>.")
    named = {
        "channel": channel.html() if channel else "",
        "command": channel.command("subscribe", "TOPIC") if channel else "",
    }
    if not topics:
        return Reply(empty.format(**named))
    lines = [heading.format(count=len(topics), **named)]
    lines += [
        f"• {escape(shorten(row.topic, LISTED_TOPIC_LENGTH))}{_option_marks(row)}{_place(row)}"
        for row in topics
    ]
    if visible_length("\n".join(lines)) > LISTED_LENGTH:  # options shown under ⚙ only
        lines = lines[:1] + [f"• {escape(shorten(r.topic, LISTED_TOPIC_LENGTH))}" for r in topics]
    lines.append(
        _(
            "✖ removes a topic. ⚙ shows what it sends at once and opens its options: level, "
            "silent, link preview, mute."
        )
    )
    buttons = tuple(
        (
            Button(f"✖ {shorten(row.topic, 30)}", RemoveSubscription(row.subscription_id)),
            Button(
                f"⚙ {_level_label(row.level)}",
                ShowItemOptions(row.subscription_id),
            ),
        )
        for row in topics
    )
    return Reply("\n".join(lines), buttons)


def _place(row: ListedTopic) -> str:
    return f" → {row.place}" if row.place else ""


def _level_label(level: str) -> str:
    return _(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level


PREVIEW_LABELS = {
    "off": N_("no link preview"),
    "small": N_("small preview"),
    "large": N_("large preview"),
}


def _muted_label(until: datetime) -> str:
    if until.year >= 9999:  # storage.models.MUTED_FOREVER
        return _("muted until unmuted")
    return _("muted until {moment} UTC").format(moment=f"{until.astimezone(UTC):%d %b %H:%M}")


def _option_marks(row: ListedTopic) -> str:
    """What a /list row says of an item's options other than the defaults."""
    marks = []
    if row.muted_until is not None:
        marks.append(f"🔇 {_muted_label(row.muted_until)}")
    if row.silent:
        marks.append(_("🔕 silent"))
    if row.preview != "off":
        marks.append(_preview_label(row.preview))
    return f" — <i>{escape(', '.join(marks))}</i>" if marks else ""


def item_options(row: ListedTopic, *, channel: ChannelName | None = None) -> Reply:
    """One watch item's delivery options, each a row of buttons (the current one marked ✓),
    and a button back to the list."""
    sub = row.subscription_id
    heading = f"⚙ <b>{escape(shorten(row.topic, LISTED_TOPIC_LENGTH))}</b>"
    if channel is not None:
        heading = f"{channel.html()}: {heading}"
    muted = _muted_label(row.muted_until) if row.muted_until is not None else _("not muted")
    lines = [
        heading,
        _("Sends at once: {level}").format(level=_level_label(row.level)),
        _("Notification: silent") if row.silent else _("Notification: with sound"),
        _("Link preview: {preview}").format(preview=_preview_label(row.preview)),
        _("Mute: {mute}").format(mute=muted),
        _(
            "A muted topic is as if not watched until the mute ends; an article it shares with "
            "another topic still comes for that one."
        ),
    ]

    def choice(label: str, name: OptionName, value: str, current: bool) -> Button:
        return Button(f"✓ {label}" if current else label, SetItemOption(sub, name, value))

    buttons = (
        tuple(
            Button(
                f"✓ {_(LEVEL_SHORT[level])}" if row.level == level else _(LEVEL_SHORT[level]),
                SetLevel(sub, level),
            )
            for level in LEVELS
        ),
        (
            choice(_("🔔 sound"), "silent", "off", not row.silent),
            choice(_("🔕 silent"), "silent", "on", row.silent),
        ),
        tuple(
            choice(label, "preview", value, row.preview == value)
            for value, label in (
                ("off", _("no preview")),
                ("small", _("small")),
                ("large", _("large")),
            )
        ),
        (
            Button(_("🔇 1 day"), SetItemOption(sub, "mute", "1d")),
            Button(_("🔇 7 days"), SetItemOption(sub, "mute", "7d")),
            Button(_("🔇 until unmuted"), SetItemOption(sub, "mute", "ever")),
        )
        + ((Button(_("🔊 unmute"), SetItemOption(sub, "mute", "off")),) if row.muted_until else ()),
        (Button(_("« back to the list"), ShowItemOptions(sub, back=True)),),
    )
    return Reply("\n".join(lines), buttons)


LEVEL_SHORT = {
    "main": N_("main only"),
    "split": N_("mentions in digest"),
    "all": N_("every mention"),
}


def _preview_label(preview: str) -> str:
    return _(PREVIEW_LABELS[preview]) if preview in PREVIEW_LABELS else preview


def option_set_notice(topic: str, name: OptionName, value: str) -> str:
    """The short notice an option button shows (plain text, at most 200 UTF-16 units)."""
    said = {
        "silent": _("silent") if value == "on" else _("with sound"),
        "preview": _preview_label(value),
        "mute": {
            "1d": _("muted for 1 day"),
            "7d": _("muted for 7 days"),
            "ever": _("muted until unmuted"),
            "off": _("unmuted"),
        }.get(value, value),
    }[name]
    return shorten(f"{item_label(topic)}: {said}", CALLBACK_NOTICE_LENGTH)


# --------------------------------------------------------------------------------------------
# "Less like this" under an alert
# --------------------------------------------------------------------------------------------

LESS_ITEMS = 3  # watch items of one alert offered choices for
LESS_LABEL_LENGTH = 28


def less_like_this(alert_id: int) -> Reply:
    """The button under an alert as it is sent (buttons only)."""
    return Reply("", ((Button(_("👎 less like this"), LessLikeThis(alert_id)),),))


@dataclass(frozen=True, slots=True)
class LessItem:
    """A watch item an alert named, still on the chat's watch-list."""

    subscription_id: int
    topic: str


def less_choices(alert_id: int, items: Sequence[LessItem], source: str | None) -> Reply:
    """The choices under an alert once "less like this" is pressed (buttons only)."""
    rows: list[tuple[Button, ...]] = []
    for item in items[:LESS_ITEMS]:
        name = shorten(item_label(item.topic), LESS_LABEL_LENGTH)
        rows.append(
            (
                Button(
                    _("Only main stories for {topic}").format(topic=name),
                    LessChoice(alert_id, "main", item.subscription_id),
                ),
            )
        )
        rows.append(
            (
                Button(
                    _("Mute {topic} for 7 days").format(topic=name),
                    LessChoice(alert_id, "mute", item.subscription_id),
                ),
            )
        )
    if source:
        rows.append(
            (
                Button(
                    _("Mute source {source}").format(source=shorten(source, LESS_LABEL_LENGTH)),
                    LessChoice(alert_id, "source"),
                ),
            )
        )
    rows.append((Button(_("« back"), LessLikeThis(alert_id, back=True)),))
    return Reply("", tuple(rows))


def less_done(undo: UndoLess) -> Reply:
    """The button left under an alert once a choice is applied: undo it."""
    return Reply("", ((Button(_("↩ undo"), undo),),))


def less_applied_notice(choice: LessChoiceName, name: str) -> str:
    """The notice of an applied choice (plain text, at most 200 UTF-16 units)."""
    text = {
        "main": _("{topic}: main stories only from now on.").format(topic=item_label(name)),
        "mute": _("{topic}: muted for 7 days.").format(topic=item_label(name)),
        "source": _("Nothing more from {source} in this chat.").format(source=name),
    }[choice]
    return shorten(text, CALLBACK_NOTICE_LENGTH)


def less_undone_notice(choice: LessChoiceName, name: str) -> str:
    text = {
        "main": _("{topic}: level restored.").format(topic=item_label(name)),
        "mute": _("{topic}: mute undone.").format(topic=item_label(name)),
        "source": _("{source} is no longer muted here.").format(source=name),
    }[choice]
    return shorten(text, CALLBACK_NOTICE_LENGTH)


def less_in_channel() -> str:
    """The notice of a "less like this" press in a channel, which is managed from a private
    chat."""
    return _("A channel's topics are changed from a private chat with the bot: /list @channel.")


def alert_gone() -> str:
    return _("That alert is no longer stored.")


def level_set_notice(topic: str, level: LevelName) -> str:
    """The short notice a level button shows (plain text, at most 200 UTF-16 units)."""
    return shorten(f"{item_label(topic)}: {_level_label(level)}", CALLBACK_NOTICE_LENGTH)


def not_on_watch_list() -> str:
    """The notice of a level button whose topic is gone (or is another chat's)."""
    return _("That topic is no longer on your watch-list.")


def removed_notice(topic: str) -> str:
    """The short notice a remove button shows (plain text, at most 200 UTF-16 units)."""
    return shorten(_("Removed {topic}").format(topic=topic), CALLBACK_NOTICE_LENGTH)


def already_removed() -> str:
    return _("Already removed.")


def saved() -> str:
    """The notice of a settings button."""
    return _("Saved.")


def stale_button() -> str:
    return _("That button is no longer valid.")


def unknown_command() -> str:
    return _("I don't know that command. Send /help to see what I can do.")


def apology() -> str:
    return _("Sorry, something went wrong on my side. Please try again in a moment.")


# --------------------------------------------------------------------------------------------
# Interface languages
# --------------------------------------------------------------------------------------------


def language_menu(current: str, *, chosen: bool) -> Reply:
    """/language alone: the language spoken here and why, with a button per language."""
    name = LANGUAGES.get(current, current)
    if chosen:
        text = _("This chat speaks <b>{language}</b>, as chosen with /language.")
    else:
        text = _("This chat speaks <b>{language}</b>, the language of your Telegram app.")
    text = (
        text.format(language=name)
        + "\n"
        + _(
            "Choose another, or send <code>/language es</code> (en, es, hi; auto follows Telegram)."
        )
    )
    buttons = tuple(
        Button(("✓ " if code == current and chosen else "") + label, SetLanguage(code))
        for code, label in LANGUAGES.items()
    )
    automatic = Button(
        ("✓ " if not chosen else "") + _("Automatic (Telegram's language)"),
        SetLanguage(AUTOMATIC),
    )
    return Reply(text, (buttons, (automatic,)))


def language_set(language: str, *, automatic: bool) -> str:
    """Said in the language just chosen."""
    if automatic:
        return _(
            "This chat now follows the language of the Telegram app of whoever writes "
            "(now <b>{language}</b>)."
        ).format(language=LANGUAGES.get(language, language))
    return _("This chat now speaks <b>{language}</b>.").format(
        language=LANGUAGES.get(language, language)
    )


def language_usage() -> str:
    return _(
        "I speak English, Español and हिन्दी: send <code>/language en</code>, "
        "<code>/language es</code>, <code>/language hi</code> or <code>/language auto</code>."
    )


# --------------------------------------------------------------------------------------------
# Settings and digests
# --------------------------------------------------------------------------------------------

MODE_LABELS = {
    "instant": N_("instant alerts only"),
    "digest": N_("daily digest only"),
    "both": N_("instant alerts and a daily digest"),
}
DIGEST_TITLE_LENGTH = 150


def _mode_label(mode: str) -> str:
    return _(MODE_LABELS[mode]) if mode in MODE_LABELS else escape(mode)


def day_label(day: date | datetime) -> str:
    """A date as the reader's language writes it short: "24 Nov 2026", "24 nov 2026"."""
    return format_date(day, "dd MMM y", locale=current_language())


def settings_view(
    *,
    timezone: str,
    digest_time: str | None,
    mode: str,
    empty_digest_line: bool,
    quiet_hours: str | None = None,
    weekly_digest: str | None = None,
    channel: ChannelName | None = None,
) -> Reply:
    """The chat's settings, with buttons to change the delivery mode and empty digests. The
    mode says whether there is a digest, the digest time when: with instant alerts only (or a
    time turned off by an older version) the digest shows as off."""

    def command(name: str, args: str) -> str:
        if channel is not None:
            return channel.command(name, args)
        return f"<code>/{name} {args}</code>"

    shown_mode = mode if digest_time is not None else "instant"
    if shown_mode == "instant":
        digest = _("Daily digest: off — turn it on with {digesttime} or {mode}").format(
            digesttime=command("digesttime", "08:00"), mode=command("mode", "both")
        )
    else:
        if channel is not None:
            digest = _("Daily digest: at {time} its time — change with {change}, stop with {stop}")
        else:
            digest = _("Daily digest: at {time} your time — change with {change}, stop with {stop}")
        digest = digest.format(
            time=digest_times(digest_time or ""),
            change=command("digesttime", "7:30am"),
            stop=command("digesttime", "off"),
        )
    lines = [
        (
            _("<b>Settings of</b> {channel}").format(channel=channel.html())
            if channel
            else _("<b>Your settings</b>")
        ),
        _("Time zone: {zone} ({offset}) — change with {command}").format(
            zone=escape(timezone), offset=utc_offset(timezone), command=command("timezone", "CITY")
        ),
        _("Delivery: {mode}").format(mode=_mode_label(shown_mode)),
        digest,
        _("Weekly digest: {weekly} — change with {change} or {stop}").format(
            weekly=escape(weekly_digest) if weekly_digest else _("off"),
            change=command("weekly", "mon 08:00"),
            stop=command("weekly", "off"),
        ),
        _("Quiet hours: {hours} — change with {change} or {stop}").format(
            hours=escape(quiet_hours) if quiet_hours else _("off"),
            change=command("quiet", "22:00-07:00"),
            stop=command("quiet", "off"),
        ),
    ]
    if shown_mode != "instant":
        if empty_digest_line:
            lines.append(_("An empty digest is a short “nothing new” line."))
        else:
            lines.append(_("An empty digest is not sent."))
    modes = tuple(
        Button(("✓ " if value == shown_mode else "") + value, ChangeSetting("mode", value))
        for value in MODE_LABELS
    )
    toggle = Button(
        _("Empty digest: skip it") if empty_digest_line else _("Empty digest: send a line"),
        ChangeSetting("empty", "skip" if empty_digest_line else "line"),
    )
    return Reply("\n".join(lines), (modes, (toggle,)) if shown_mode != "instant" else (modes,))


TIMEZONE_EXAMPLES = (
    "<code>/timezone Mumbai</code>, <code>/timezone IST</code>, "
    "<code>/timezone UTC+5:30</code>, <code>/timezone Asia/Kolkata</code>"
)
TYPED_ZONE_LENGTH = 64


def timezone_current(timezone: str, local_now: datetime) -> str:
    """/timezone alone: the chat's zone and how to change it."""
    return _(
        "Your time zone is <b>{zone}</b> ({offset}; it is {clock} there now).\n"
        "Change it with a city, a country, an abbreviation or an offset: {examples}."
    ).format(zone=escape(timezone), examples=TIMEZONE_EXAMPLES, **_offset_and_clock(local_now))


def digesttime_usage() -> str:
    return _(
        "Usage: <code>/digesttime 07:30</code>, <code>/digesttime 7:30am</code>, several "
        "like <code>/digesttime 07:30 13:00</code> (your time) or <code>/digesttime off</code>."
    )


def digest_times(stored: str) -> str:
    """ "07:30 13:00" as stored → "07:30 and 13:00"."""
    times = stored.split()
    if len(times) < 2:
        return stored.strip()
    return _("{times} and {last}").format(times=", ".join(times[:-1]), last=times[-1])


def quiet_usage() -> str:
    return _(
        "Usage: <code>/quiet 22:00-07:00</code> (your time): alerts are kept and arrive "
        "together when quiet hours end; <code>/quiet off</code> to stop."
    )


def quiet_set(hours: str | None, timezone: str) -> str:
    if hours is None:
        return _("Quiet hours off: alerts arrive as they come.")
    return _(
        "Quiet hours set to <b>{hours}</b> ({zone}): alerts that come then arrive together "
        "when they end."
    ).format(hours=escape(hours), zone=escape(timezone))


def weekly_usage() -> str:
    return _(
        "Usage: <code>/weekly mon 08:00</code> (your time) for a weekly digest of the week's "
        "main stories, or <code>/weekly off</code>."
    )


def weekly_set(weekly: str | None, timezone: str) -> str:
    if weekly is None:
        return _("Weekly digest turned off.")
    return _(
        "Your weekly digest of the week's main stories will arrive on <b>{weekly}</b> ({zone})."
    ).format(weekly=escape(weekly), zone=escape(timezone))


def mode_usage() -> str:
    return _(
        "Usage: <code>/mode instant</code>, <code>/mode digest</code> or <code>/mode both</code>."
    )


def timezone_set(timezone: str, local_now: datetime) -> str:
    return _("Time zone set to <b>{zone}</b> ({offset}; it is {clock} there now).").format(
        zone=escape(timezone), **_offset_and_clock(local_now)
    )


def _offset_and_clock(local_now: datetime) -> dict[str, str]:
    return {
        "offset": offset_label(local_now.utcoffset() or timedelta()),
        "clock": local_now.strftime("%H:%M"),
    }


def timezone_question(typed: str, choices: Sequence[ZoneChoice]) -> Reply:
    """An ambiguous /timezone: which of these zones?"""
    shown = escape(shorten(typed, TYPED_ZONE_LENGTH))
    return Reply(
        _("<b>{typed}</b> can mean more than one time zone. Which is yours?").format(typed=shown),
        tuple((Button(choice.label, SetTimezone(choice.zone)),) for choice in choices),
    )


def timezone_unknown(typed: str, suggestions: Sequence[ZoneChoice], reason: str = "") -> Reply:
    """/timezone with a name the bot does not know: the closest ones, or how to say it."""
    shown = escape(shorten(typed, TYPED_ZONE_LENGTH))
    if suggestions:
        return Reply(
            _("I don't know the time zone <b>{typed}</b>. Did you mean one of these?").format(
                typed=shown
            ),
            tuple((Button(choice.label, SetTimezone(choice.zone)),) for choice in suggestions),
        )
    why = (
        escape(reason)
        if reason
        else _("I don't know the time zone <b>{typed}</b>.").format(typed=shown)
    )
    return Reply(f"⚠️ {why}\n" + _("Try {examples}.").format(examples=TIMEZONE_EXAMPLES))


def digest_time_set(digest_time: str | None, timezone: str, *, turned_on: bool = False) -> str:
    if digest_time is None:
        return _(
            "Daily digest turned off: you get instant alerts only. Turn it on again with "
            "<code>/digesttime 08:00</code> or <code>/mode both</code>."
        )
    text = _("Your daily digest will arrive at <b>{time}</b> ({zone}).").format(
        time=digest_times(digest_time), zone=escape(timezone)
    )
    if turned_on:
        text += " " + _("Delivery: <b>{mode}</b>.").format(mode=_mode_label("both"))
    return text


def digest_comes_here() -> str:
    return _("It comes to this topic.")


def mode_set(mode: str, digest_time: str | None = None) -> str:
    if digest_time:
        return _("Delivery: <b>{mode}</b>, the digest at {time} your time.").format(
            mode=_mode_label(mode), time=digest_times(digest_time)
        )
    return _("Delivery: <b>{mode}</b>.").format(mode=_mode_label(mode))


def nothing_new() -> str:
    return _("Nothing new on your watch-list since your last digest.")


def empty_digest(day: date, *, weekly: bool = False) -> str:
    if weekly:
        text = _("📰 <b>Weekly digest, week to {day}</b>\nNothing new on your watch-list.")
    else:
        text = _("📰 <b>Digest for {day}</b>\nNothing new on your watch-list.")
    return text.format(day=day_label(day))


def digest(
    day: date, groups: Sequence[tuple[str, Sequence[DigestArticle]]], *, weekly: bool = False
) -> list[str]:
    """The digest (daily, or the weekly one of main stories), grouped by watch item (passing
    mentions marked), split into messages that fit Telegram's limit; a section's heading
    stays with its first story."""
    count = len({article.story for _, articles in groups for article in articles})
    if weekly:
        header = ngettext(
            "📰 <b>Weekly digest, week to {day}</b> — {count} article",
            "📰 <b>Weekly digest, week to {day}</b> — {count} articles",
            count,
        )
    else:
        header = ngettext(
            "📰 <b>Digest for {day}</b> — {count} article",
            "📰 <b>Digest for {day}</b> — {count} articles",
            count,
        )
    lines = [header.format(day=day_label(day), count=count)]
    for topic, articles in groups:
        heading = f"\n<b>{escape(topic)}</b>"
        for index, article in enumerate(articles):
            line = _digest_line(article, mention=article.is_mention(topic))
            lines.append(f"{heading}\n{line}" if index == 0 else line)
    return split_message(lines)


def _digest_line(article: DigestArticle, *, mention: bool) -> str:
    title = escape(shorten(article.title, DIGEST_TITLE_LENGTH))
    linked = f'<a href="{escape(article.url)}">{title}</a>' if article.url else title
    line = f"{'◦' if mention else '•'} {linked}"
    line += f" — {_source_and_date(article.source, article.published)}"
    if article.also:
        line += " " + _also_reported(article.also)
    if mention:
        line += " · " + _("<i>mentioned in passing</i>")
    return line


def _also_reported(sources: Sequence[str]) -> str:
    return _("(also reported by {sources})").format(sources=escape(", ".join(sources)))


# --------------------------------------------------------------------------------------------
# Answers: facts, latest, related, trend
# --------------------------------------------------------------------------------------------

FACTS_PAGE_LENGTH = 1500
FACT_SENTENCE_LENGTH = 400
ANSWER_TITLE_LENGTH = 160
FACT_ORIGIN_TITLE_LENGTH = 60  # an article without a source is named by its title
WATCH_LIST_FACTS = 3  # facts per watch item under /facts alone
WATCH_LIST_FACTS_LENGTH = 3600  # room for the items' facts in one message, with the last line
# The first line of a facts page in any language, e.g. "📊 Key facts: copper (1-3 of 9)".
FACTS_HEADER = re.compile(r"^📊 [^:]+: (?P<topic>.+) \(\d+–\d+ \D+ \d+\)$")


def plain_text(html_text: str) -> str:
    """What a reader sees of an HTML message: for terminals (the CLI and the demo)."""
    return html.unescape(_TAG.sub("", html_text))


def _linked_title(title: str, url: str | None) -> str:
    shown = escape(shorten(title, ANSWER_TITLE_LENGTH))
    return f'<a href="{escape(url)}">{shown}</a>' if url else shown


def _fact_line(fact: RankedFact[ArticleRef]) -> str:
    """A fact, linked to its article with the article's source and date, and the other
    sources that reported it."""
    best = fact.best
    line = f"• {escape(shorten(best.sentence, FACT_SENTENCE_LENGTH))}"
    article = best.article
    origin = _source_and_date(
        article.source or shorten(article.title, FACT_ORIGIN_TITLE_LENGTH), article.published
    )
    if article.url:
        line += f' — <a href="{escape(article.url)}">{origin}</a>'
    else:
        line += f" — <i>{origin}</i>"
    others = [
        d.article.source
        for d in fact.duplicates
        if d.article.source and d.article.source != article.source
    ]
    if others:
        line += " " + _("(also {sources})").format(sources=escape(", ".join(dict.fromkeys(others))))
    return line


def facts_page(topic: str, facts: Sequence[RankedFact[ArticleRef]], offset: int = 0) -> Reply:
    """A page of key facts, under ~1500 characters, with a "more…" button when there are more."""
    if not facts:
        return Reply(
            _("No key facts about <b>{topic}</b> in stored articles yet.").format(
                topic=escape(topic)
            )
        )
    lines: list[str] = []
    size = 0
    offset = min(max(offset, 0), len(facts) - 1)
    end = offset
    for fact in facts[offset:]:
        line = _fact_line(fact)
        if lines and size + visible_length(line) > FACTS_PAGE_LENGTH:
            break
        lines.append(line)
        size += visible_length(line) + 1
        end += 1
    header = _("📊 Key facts: {topic} ({first}–{last} of {total})").format(
        topic=escape(topic), first=offset + 1, last=end, total=len(facts)
    )
    buttons = ((Button(_("more…"), MoreFacts(end)),),) if end < len(facts) else ()
    return Reply("\n".join([header, *lines]), buttons)


def watch_list_facts(found: Sequence[tuple[str, Sequence[RankedFact[ArticleRef]]]]) -> Reply:
    """/facts alone: the newest facts of each watch item (`WATCH_LIST_FACTS`), grouped under
    it, in one message; a button per item with more facts, and one line naming the items
    without any (or that did not fit)."""
    if not found:
        return Reply(
            _(
                "Your watch-list is empty. Ask about one topic with <code>/facts TOPIC</code>, "
                "or subscribe to topics and send /facts alone for all of them."
            )
        )
    lines = [_("📊 <b>Key facts on your watch-list</b>")]
    size = visible_length(lines[0])
    rows: list[tuple[Button, ...]] = []
    without: list[str] = []
    for topic, facts in found:
        group = [f"\n<b>{escape(shorten(topic, LISTED_TOPIC_LENGTH))}</b>"]
        group += [_fact_line(fact) for fact in facts[:WATCH_LIST_FACTS]]
        length = sum(visible_length(line) + 1 for line in group)
        if not facts or size + length > WATCH_LIST_FACTS_LENGTH:
            without.append(topic)
            continue
        lines += group
        size += length
        more = Ask("facts", topic)
        if len(facts) > WATCH_LIST_FACTS and fits(more):
            rows.append((Button(_("More on {topic}").format(topic=shorten(topic, 40)), more),))
    if without:
        names = ", ".join(shorten(topic, LISTED_TOPIC_LENGTH) for topic in without)
        lines.append(
            "\n"
            + _("Not shown (no figures yet, or no room): {topics}").format(
                topics=escape(shorten(names, 600))
            )
        )
    return Reply("\n".join(lines), tuple(rows))


def facts_topic(message_text: str) -> str | None:
    """The topic of a facts page, read back from its first line (for the "more…" button)."""
    match = FACTS_HEADER.match(message_text.split("\n", 1)[0])
    return match.group("topic") if match else None


def latest_list(topic: str, stories: Sequence[Story]) -> str:
    return _headlines(_("🗞 Latest on {topic}").format(topic=topic), stories, topic)


def related_list(topic: str, articles: Sequence[ArticleRef]) -> str:
    return _headlines(_("🔗 Related to {topic}").format(topic=topic), articles, topic)


def _headlines(heading: str, found: Sequence[Story | ArticleRef], topic: str) -> str:
    """A list of articles (/latest, /related) with source, date, link and other sources."""
    if not found:
        return _("No stored articles on <b>{topic}</b> yet.").format(topic=escape(topic))
    lines = [f"<b>{escape(heading)}</b>"]
    for entry in found:
        article, also = (entry.article, entry.also) if isinstance(entry, Story) else (entry, ())
        line = f"• {_linked_title(article.title, article.url)}"
        line += f" — {_source_and_date(article.source, article.published)}"
        if also:
            line += " " + _also_reported(also)
        lines.append(line)
    return "\n".join(lines)


def question_usage(command: str) -> str:
    return _("Usage: <code>/{command} TOPIC</code>, e.g. <code>/{command} copper</code>.").format(
        command=command
    )


def question_suggestion(question: Question, typed: str, candidates: Sequence[str]) -> Reply:
    """ "Did you mean …?" for a question: a button asking it about each candidate, and one
    asking about the topic as typed."""
    text = _("I don't know <b>{typed}</b>. Did you mean {names}?").format(
        typed=escape(typed), names=_either(candidates)
    )
    rows = [
        (Button(f"/{question} {c}", Ask(question, c)),)
        for c in candidates
        if fits(Ask(question, c))
    ]
    if fits(Ask(question, typed)):
        rows.append((Button(_("Ask about “{typed}”").format(typed=typed), Ask(question, typed)),))
    return Reply(text, tuple(rows))


@dataclass(frozen=True, slots=True)
class BurstItem:
    """One alert folded into a combined message."""

    alert_id: int
    title: str
    url: str | None
    source: str | None
    topics: tuple[str, ...]
    published: datetime | None = None
    mentions: tuple[str, ...] = ()  # of `topics`, those only mentioned in passing
    language: str | None = None  # the article's (ISO 639-1), when it was told


@dataclass(frozen=True, slots=True)
class BurstMessage:
    """A message of a burst and the alerts it carries."""

    text: str
    alert_ids: list[int]


BURST_TITLE_LENGTH = 200


def evidence_button() -> Button:
    """The button under a list of headlines (sent in the chat's language)."""
    return Button(_("Why these? Show the evidence"), ShowEvidence())


def alert_burst(items: Sequence[BurstItem], chat_language: str = "en") -> list[BurstMessage]:
    """Several alerts for one chat as a list of headlines, each with its source, date, the
    article's language when it is not the chat's, and watch items: messages within
    Telegram's limit (each sent with `evidence_button`). No message carries a single
    headline, so a message with one alert is always an alert of its own (`bot.story_edits`
    edits those)."""
    header = ngettext(
        "🔔 <b>{count} new article</b> on your watch-list",
        "🔔 <b>{count} new articles</b> on your watch-list",
        len(items),
    ).format(count=len(items))
    continued = _("🔔 <i>continued</i>")
    parts: list[tuple[list[str], list[int]]] = []  # each message's lines and alerts
    lines, size = [header], visible_length(header)
    ids: list[int] = []
    for item in items:
        matched = ", ".join(
            _("{topic} (mentioned)").format(topic=item_label(topic))
            if topic in item.mentions
            else item_label(topic)
            for topic in item.topics
        )
        line = f"• {_linked_title(shorten(item.title, BURST_TITLE_LENGTH), item.url)}"
        line += f" — {_source_and_date(item.source, item.published)}"
        if item.language and item.language != chat_language:
            line += f" · 🌐 {escape(_(language_name(item.language)))}"
        line += f" · <i>{escape(shorten(matched, 200))}</i>"
        length = visible_length(line) + 1
        if ids and size + length > MESSAGE_LIMIT:
            parts.append((lines, ids))
            lines, ids, size = [continued], [], visible_length(continued)
        lines.append(line)
        ids.append(item.alert_id)
        size += length
    if parts and len(ids) == 1:  # the message before gives its last headline to this one
        before_lines, before_ids = parts[-1]
        lines.insert(1, before_lines.pop())
        ids.insert(0, before_ids.pop())
    parts.append((lines, ids))
    return [BurstMessage("\n".join(part_lines), part_ids) for part_lines, part_ids in parts]


def _source_and_date(source: str | None, published: datetime | None) -> str:
    return ", ".join(
        [
            escape(source) if source else _("source unknown"),
            day_label(published) if published else _("date unknown"),
        ]
    )


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why one alert of a burst came: its watch items and the sentence that matched."""

    title: str
    topics: tuple[str, ...]
    mentions: tuple[str, ...]
    sentence: str


def burst_evidence(items: Sequence[Evidence]) -> list[str]:
    """The evidence behind a burst's headlines, in messages within Telegram's limit."""
    if not items:
        return [_("The alerts of that message are no longer stored.")]
    lines = [_("🔎 <b>Why these came</b>")]
    for item in items:
        line = f"• <b>{escape(shorten(item.title, BURST_TITLE_LENGTH))}</b>\n"
        line += f"<i>{escape(shorten(reasons(item.topics, item.mentions), 300))}</i>"
        if item.sentence and item.sentence != item.title:
            line += f": “{escape(shorten(item.sentence, 400))}”"
        lines.append(line)
    return split_message(lines)


def evidence_notice(items: Sequence[Evidence]) -> str:
    """The evidence behind a burst's headlines as a button notice (plain text, 200 UTF-16
    units at most), for a channel, where a message would be posted to every reader."""
    if not items:
        return _("The alerts of that message are no longer stored.")
    text = "; ".join(f"{item.title}: {reasons(item.topics, item.mentions)}" for item in items)
    return shorten(text, CALLBACK_NOTICE_LENGTH)


def item_label(key: str) -> str:
    """A watch item named short, without its exclusions ("copper -Copperfield" → "copper")."""
    return key.split(" -", 1)[0]


def reasons(topics: Sequence[str], mentions: Collection[str]) -> str:
    """Why an alert came: "copper — main subject", "zinc — mentioned" (plain text)."""
    main = [topic for topic in topics if topic not in mentions]
    mentioned = [topic for topic in topics if topic in mentions]
    parts = [_("{topics} — main subject").format(topics=", ".join(main))] if main else []
    if mentioned:
        parts.append(_("{topics} — mentioned").format(topics=", ".join(mentioned)))
    return "; ".join(parts)


def origin(source: str | None, published: datetime | None, url: str | None) -> str:
    """Where a story comes from, saying so plainly when the source, date or link is unknown:
    "Wire · 24 Nov 2026 · Read more", "source unknown · date unknown · no link"."""
    parts = [
        escape(source) if source else _("source unknown"),
        day_label(published) if published else _("date unknown"),
        _('<a href="{url}">Read more</a>').format(url=escape(url)) if url else _("no link"),
    ]
    return " · ".join(parts)


def alert(
    *,
    title: str,
    topics: Sequence[str],
    evidence: str,
    source: str | None,
    url: str | None,
    published: datetime | None,
    mentions: Collection[str] = (),
    listed_with: str | None = None,
    language: str | None = None,
    chat_language: str = "en",
    also: Sequence[str] = (),
) -> str:
    """One alert: headline, the watch items it matched and why, the sentence that matched (for
    a related headline, the article it was listed with), the article's language when it is not
    the chat's, source, date, link; and the other sources that reported the story since, if
    any (`also`)."""
    lines = [
        f"🔔 <b>{escape(shorten(title, ALERT_TITLE_LENGTH))}</b>",
        _("Matched: <i>{reasons}</i>").format(
            reasons=escape(shorten(reasons(topics, mentions), ALERT_TOPICS_LENGTH))
        ),
    ]
    if evidence and evidence != title:
        lines.append(f"“{escape(shorten(evidence, ALERT_EVIDENCE_LENGTH))}”")
    if listed_with:
        shown = escape(shorten(listed_with, ALERT_TITLE_LENGTH))
        lines.append(_("A related headline listed with “{title}”").format(title=shown))
    if language and language != chat_language:
        lines.append(f"🌐 {escape(_(language_name(language)))}")
    lines.append(origin(source, published, url))
    if also:
        lines.append(also_reported_by(also))
    return "\n".join(lines)


def stored_alert(
    row: Alert,
    article: Article,
    *,
    evidence: str,
    listed_with: Article | None,
    also: Sequence[str] = (),
) -> str:
    """An alert row as its single message says it, in the language spoken (`alert`): the same
    text when it is sent and when it is edited to name later sources of its story."""
    return alert(
        title=article.title,
        topics=json.loads(row.topics),
        mentions=json.loads(row.mentions),
        evidence=evidence,
        source=article.source,
        url=article.url or (listed_with.url if listed_with else None),
        published=article.published_at,
        listed_with=listed_with.title if listed_with else None,
        language=article.language,
        chat_language=current_language(),
        also=also,
    )


ALSO_REPORTED_SHOWN = 5  # sources named on the line; the others are counted
ALSO_SOURCE_LENGTH = 60


def also_reported_by(sources: Sequence[str]) -> str:
    """The line naming the later sources of an alert's story: each once, in order, the first
    few named and the others counted ("… and 3 more")."""
    names = list(dict.fromkeys(sources))
    shown = ", ".join(
        escape(shorten(name, ALSO_SOURCE_LENGTH)) for name in names[:ALSO_REPORTED_SHOWN]
    )
    more = len(names) - ALSO_REPORTED_SHOWN
    if more > 0:
        return ngettext(
            "📰 Also reported by {sources} and {count} more",
            "📰 Also reported by {sources} and {count} more",
            more,
        ).format(sources=shown, count=more)
    return _("📰 Also reported by {sources}").format(sources=shown)


# --------------------------------------------------------------------------------------------
# Admin: feeds, ingest, stats. Feed names, URLs, titles and errors come from the web: escaped.
# --------------------------------------------------------------------------------------------

FEED_STATUS_LABELS = {"ok": N_("✅ ok"), "backoff": N_("⏳ backing off"), "paused": N_("⏸ paused")}
LISTED_URL_LENGTH = 200
LISTED_ERROR_LENGTH = 300


def admin_only() -> str:
    return _("This command is admin-only.")


def admin_in_private() -> str:
    return _("Admin commands answer only in a private chat: ask me there.")


def addfeed_usage() -> str:
    return _(
        "Usage: <code>/addfeed URL [NAME]</code>\n"
        "For example <code>/addfeed https://example.com/feed.xml Metals desk</code>."
    )


def feed_id_usage(command: str) -> str:
    return _("Usage: <code>/{command} ID</code> — the ids are in /feeds.").format(
        command=escape(command)
    )


def ingest_usage() -> str:
    return _("Usage: <code>/ingest URL</code> — a web page (article) or an RSS/Atom feed.")


@dataclass(frozen=True, slots=True)
class ListedWebhook:
    """A row of /webhook's list."""

    chat_id: int
    url: str
    failures: int
    disabled: bool
    last_error: str | None


def webhook_usage() -> str:
    return _(
        "Usage:\n"
        "<code>/webhook add [CHAT_ID] URL</code> — POST the chat's alerts to an https URL "
        "(the signing secret is shown once)\n"
        "<code>/webhook remove [CHAT_ID]</code>\n"
        "<code>/webhook test [CHAT_ID]</code> — send a test alert now\n"
        "Without CHAT_ID: this chat."
    )


def webhook_list(webhooks: Sequence[ListedWebhook]) -> list[str]:
    """/webhook alone: every webhook with its state, then the usage (in as few messages as
    fit)."""
    if not webhooks:
        return [_("No webhooks yet.") + "\n\n" + webhook_usage()]
    lines = [_("<b>Webhooks</b>")]
    for hook in webhooks:
        url = escape(shorten(hook.url, LISTED_URL_LENGTH))
        if hook.disabled:
            state = ngettext(
                "⏸ disabled after {count} failed delivery",
                "⏸ disabled after {count} failed deliveries",
                hook.failures,
            ).format(count=hook.failures)
        elif hook.failures:
            state = ngettext(
                "⏳ {count} failed delivery in a row",
                "⏳ {count} failed deliveries in a row",
                hook.failures,
            ).format(count=hook.failures)
        else:
            state = _("✅ ok")
        error = (
            f" — {escape(shorten(hook.last_error, LISTED_ERROR_LENGTH))}" if hook.last_error else ""
        )
        where = _("chat <code>{chat_id}</code>").format(chat_id=hook.chat_id)
        lines.append(f"• {where}: {url} {state}{error}")
    return split_message([*lines, "", webhook_usage()])


def webhook_refused(reason: str) -> str:
    return _("⚠️ Not added: {reason}").format(reason=escape(shorten(reason, LISTED_ERROR_LENGTH)))


def webhook_unknown_chat(chat_id: int) -> str:
    return _("I don't know chat <code>{chat_id}</code>: it has to talk to me first.").format(
        chat_id=chat_id
    )


def webhook_added(chat_id: int, url: str, secret: str, *, replaced: bool) -> str:
    if replaced:
        done = _("✅ Webhook replaced for chat <code>{chat_id}</code>: {url}")
    else:
        done = _("✅ Webhook added for chat <code>{chat_id}</code>: {url}")
    where = escape(shorten(url, LISTED_URL_LENGTH))
    return "\n".join(
        [
            done.format(chat_id=chat_id, url=where),
            _("Secret (shown only now): <code>{secret}</code>").format(secret=escape(secret)),
            _(
                "Each alert is POSTed as JSON with <code>X-Tradebot-Signature: sha256=…</code>, "
                "the HMAC-SHA256 of the body with this secret, and an "
                "<code>Idempotency-Key</code>. Try it: <code>/webhook test</code>."
            ),
        ]
    )


def webhook_removed(chat_id: int) -> str:
    return _("Webhook removed from chat <code>{chat_id}</code>.").format(chat_id=chat_id)


def no_webhook(chat_id: int) -> str:
    return _(
        "No webhook for chat <code>{chat_id}</code>. Add one: <code>/webhook add URL</code>."
    ).format(chat_id=chat_id)


def webhook_test_result(
    chat_id: int, url: str, *, delivered: bool, status: int | None, attempts: int, error: str | None
) -> str:
    where = escape(shorten(url, LISTED_URL_LENGTH))
    if delivered:
        return ngettext(
            "✅ Test alert delivered to chat <code>{chat_id}</code>'s webhook {url}: "
            "HTTP {status} after {count} attempt.",
            "✅ Test alert delivered to chat <code>{chat_id}</code>'s webhook {url}: "
            "HTTP {status} after {count} attempts.",
            attempts,
        ).format(chat_id=chat_id, url=where, status=status, count=attempts)
    answer = f"HTTP {status}" if status is not None else _("no answer")
    reason = f": {escape(shorten(error, LISTED_ERROR_LENGTH))}" if error and error != answer else ""
    return ngettext(
        "❌ Test alert not delivered to chat <code>{chat_id}</code>'s webhook {url} "
        "({answer} after {count} attempt{reason}).",
        "❌ Test alert not delivered to chat <code>{chat_id}</code>'s webhook {url} "
        "({answer} after {count} attempts{reason}).",
        attempts,
    ).format(chat_id=chat_id, url=where, answer=answer, count=attempts, reason=reason)


def webhook_disabled(chat_id: int, url: str, failures: int, error: str | None) -> str:
    """The admins' notice when repeated failures disable a webhook."""
    text = ngettext(
        "⏸ The webhook of chat <code>{chat_id}</code> ({url}) is disabled after {count} "
        "failed delivery in a row.",
        "⏸ The webhook of chat <code>{chat_id}</code> ({url}) is disabled after {count} "
        "failed deliveries in a row.",
        failures,
    ).format(chat_id=chat_id, url=escape(shorten(url, LISTED_URL_LENGTH)), count=failures)
    if error:
        text += " " + _("The last error: {error}.").format(
            error=escape(shorten(error, LISTED_ERROR_LENGTH))
        )
    return text + " " + _("<code>/webhook add</code> sets it up again.")


_AGO = {
    "d": (N_("{amount} d ago"), N_("in {amount} d")),
    "h": (N_("{amount} h ago"), N_("in {amount} h")),
    "min": (N_("{amount} min ago"), N_("in {amount} min")),
}


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago', '2 d ago' (or 'in …' for the future)."""
    if moment is None:
        return _("never")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return _("in under a minute") if future else _("just now")
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            past_form, future_form = _AGO[unit]
            return _(future_form if future else past_form).format(amount=int(seconds // size))
    return _("just now")  # unreachable


def feed_title(feed: Feed) -> str:
    return feed.name or feed.url


def feed_block(feed: Feed, now: datetime | None = None) -> str:
    """One feed in /feeds: id, status, name, URL, last fetch, items, last error."""
    status = (
        _(FEED_STATUS_LABELS[feed.status])
        if feed.status in FEED_STATUS_LABELS
        else escape(feed.status)
    )
    lines = [
        f"<b>#{feed.id}</b> {status} · {escape(shorten(feed_title(feed), 100))}",
        f"<code>{escape(shorten(feed.url, LISTED_URL_LENGTH))}</code>",
    ]
    details = [
        _("last fetch {when}").format(when=ago(feed.last_fetch_at, now)),
        ngettext("{count} item", "{count} items", feed.items_seen).format(count=feed.items_seen),
    ]
    if feed.status != "paused" and feed.next_poll_at is not None:
        details.append(_("next {when}").format(when=ago(feed.next_poll_at, now)))
    lines.append(" · ".join(details))
    if feed.last_error:
        failures = feed.consecutive_failures
        line = f"⚠️ {escape(shorten(feed.last_error, LISTED_ERROR_LENGTH))}"
        if failures > 1:
            line += " " + ngettext(
                "({count} failure in a row)", "({count} failures in a row)", failures
            ).format(count=failures)
        lines.append(line)
    return "\n".join(lines)


def feed_list(feeds: Sequence[Feed], now: datetime | None = None) -> list[str]:
    """/feeds: one block per feed, split into messages that fit Telegram's limit."""
    if not feeds:
        return [_("No feeds yet. Add one with <code>/addfeed URL</code>.")]
    blocks = [_("<b>Feeds</b> ({count})").format(count=len(feeds))]
    blocks += [f"\n{feed_block(feed, now)}" for feed in feeds]
    return split_message(blocks)


def _feed_named(feed: Feed) -> dict[str, object]:
    return {"id": feed.id, "name": escape(shorten(feed_title(feed), 100))}


def feed_added(feed: Feed, *, created: bool) -> str:
    if not created:
        return _("Feed <b>#{id}</b> ({name}) is already there. See /feeds.").format(
            **_feed_named(feed)
        )
    return _("✅ Added feed <b>#{id}</b> ({name}).").format(**_feed_named(feed))


def feed_first_fetch(
    *,
    ok: bool,
    entries: int,
    new_articles: int,
    skipped_old: int,
    matched: int,
    error: str | None,
) -> str:
    """What the first fetch of a newly added feed found."""
    if not ok:
        return _(
            "⚠️ The first fetch failed: {error}\nIt will be retried with backoff; see /feeds."
        ).format(error=escape(shorten(error or _("unknown error"), 300)))
    parts = [
        ngettext("First fetch: {count} entry", "First fetch: {count} entries", entries).format(
            count=entries
        ),
        ngettext("{count} new article stored", "{count} new articles stored", new_articles).format(
            count=new_articles
        ),
    ]
    if skipped_old:
        parts[-1] += " " + ngettext(
            "({count} older one skipped)", "({count} older ones skipped)", skipped_old
        ).format(count=skipped_old)
    parts.append(_("{count} on watch-lists").format(count=matched))
    return ", ".join(parts) + "."


def feed_removed(feed: Feed) -> str:
    return _("Removed feed <b>#{id}</b> ({name}).").format(**_feed_named(feed))


def feed_resumed(feed: Feed) -> str:
    return _("▶️ Feed <b>#{id}</b> ({name}) will be polled again now.").format(**_feed_named(feed))


def no_such_feed(feed_id: str) -> str:
    return _("There is no feed <b>#{id}</b>. See /feeds.").format(id=escape(shorten(feed_id, 20)))


def invalid_feed_url(reason: str) -> str:
    return f"⚠️ {escape(shorten(reason, 300))}"


def feed_paused(
    *, feed_id: int, name: str | None, url: str, failures: int, error: str | None
) -> str:
    """The one message admins get when a feed is paused."""
    return "\n".join(
        [
            ngettext(
                "⏸ Feed <b>#{id}</b> ({name}) is paused after {count} failed fetch in a row.",
                "⏸ Feed <b>#{id}</b> ({name}) is paused after {count} failed fetches in a row.",
                failures,
            ).format(id=feed_id, name=escape(shorten(name or url, 100)), count=failures),
            _("Last error: {error}").format(
                error=escape(shorten(error or _("unknown"), LISTED_ERROR_LENGTH))
            ),
            f"<code>{escape(shorten(url, LISTED_URL_LENGTH))}</code>",
            _("Resume it with <code>/resumefeed {id}</code> once it works again.").format(
                id=feed_id
            ),
        ]
    )


def ingest_failed(url: str, reason: str) -> str:
    return _("⚠️ Could not ingest <code>{url}</code>: {reason}").format(
        url=escape(shorten(url, LISTED_URL_LENGTH)), reason=escape(shorten(reason, 300))
    )


def ingest_result(
    *,
    new: int,
    new_headlines: int,
    duplicates: int,
    matched: int,
    titles: Sequence[str],
    rejected: Sequence[str],
) -> str:
    """/ingest: what was stored, what was a duplicate, what was rejected and why."""
    stored = ngettext("Stored {count} new article", "Stored {count} new articles", new).format(
        count=new
    )
    if new_headlines:
        stored += " " + ngettext(
            "(+{count} headline)", "(+{count} headlines)", new_headlines
        ).format(count=new_headlines)
    parts = [
        stored,
        ngettext("{count} duplicate", "{count} duplicates", duplicates).format(count=duplicates),
        _("{count} on watch-lists").format(count=matched),
    ]
    lines = [", ".join(parts) + "."]
    lines += [f"• {escape(shorten(title, 150))}" for title in titles[:10]]
    if len(titles) > 10:
        lines.append(_("… and {count} more").format(count=len(titles) - 10))
    lines += [
        _("rejected: {reason}").format(reason=escape(shorten(reason, 200)))
        for reason in rejected[:5]
    ]
    return "\n".join(lines)


def stats_lines(stats: Stats, now: datetime | None = None) -> list[str]:
    """The counts, as plain text lines (numbers only, nothing to escape)."""
    lines = [
        _("Chats: {active} active, {blocked} blocked").format(
            active=stats.chats_active, blocked=stats.chats_blocked
        ),
        ngettext(
            "Watch items: {items} ({count} distinct topic)",
            "Watch items: {items} ({count} distinct topics)",
            stats.distinct_topics,
        ).format(items=stats.watch_items, count=stats.distinct_topics),
        _("Articles: {articles} · last ingest {when}").format(
            articles=stats.articles, when=ago(stats.last_ingest_at, now)
        ),
        _("Alerts: {pending} pending, {sent} sent, {failed} failed").format(
            pending=stats.alerts_pending, sent=stats.alerts_sent, failed=stats.alerts_failed
        ),
    ]
    if stats.articles_fanning_out:
        lines.append(
            _(
                "Articles still reaching their chats: {count} (their alerts are not counted yet)"
            ).format(count=stats.articles_fanning_out)
        )
    lines.append(
        _("Feeds: {ok} ok, {backoff} backing off, {paused} paused").format(
            ok=stats.feeds_ok, backoff=stats.feeds_backoff, paused=stats.feeds_paused
        )
    )
    return lines


def stats_text(stats: Stats, now: datetime | None = None) -> str:
    return "\n".join([_("<b>tradebot stats</b>"), *map(escape, stats_lines(stats, now))])


def slow_down() -> str:
    """The one warning a chat gets when it sends faster than the bot answers anyone."""
    return _(
        "⏳ You are sending messages faster than I can answer, so I am skipping some. "
        "Please wait a few seconds before the next command."
    )


# --------------------------------------------------------------------------------------------
# Groups, several topics at once, plain text, pausing
# --------------------------------------------------------------------------------------------


def group_admins_only() -> str:
    """Also a button notice: plain text, under 200 characters."""
    return _("Only this group's administrators can change its watch-list and settings.")


def channel_refused(refusal: Refusal, name: str) -> str:
    """Why a user may not manage the channel `name` (its title, or what was typed), in one
    line of plain text (also a button notice: escape it for a message)."""
    name = shorten(name, CHANNEL_TITLE_LENGTH)
    match refusal:
        case Refusal.NO_SUCH_CHANNEL:
            text = _("I can't find a channel {name}: check its @name or its id (-100…).")
        case Refusal.NOT_PRIVATE:
            text = _("Manage a channel from your private chat with me: /subscribe @channel TOPIC.")
        case Refusal.BOT_NOT_IN:
            text = _("I am not in {name}: add me to it as an administrator who may post messages.")
        case Refusal.BOT_CANNOT_POST:
            text = _("I cannot post in {name}: let me post messages in its administrator rights.")
        case Refusal.NOT_ADMIN:
            text = _("Only the owner and administrators of {name} can manage its alerts.")
    return text.format(name=name)


def several_topics_question(typed: Ambiguous) -> Reply:
    """ "Both in one article, or either?" for several topics typed as one, with a button each."""
    together, each = typed.together, typed.each
    text = ngettext(
        "Did you mean <b>{typed}</b> as one topic — both in the same article, "
        "<b>{together}</b> — or either, as {count} topic ({each})?",
        "Did you mean <b>{typed}</b> as one topic — both in the same article, "
        "<b>{together}</b> — or either, as {count} topics ({each})?",
        len(each),
    ).format(
        typed=escape(typed.typed),
        together=escape(together),
        count=len(each),
        each=", ".join(f"<b>{escape(t)}</b>" for t in each),
    )
    choices: list[tuple[str, Callback]] = [
        (_("Both in one article: {topic}").format(topic=together), SubscribeTo(together)),
        (_("Either: {topics}").format(topics=", ".join(each)), SubscribeToEach(each)),
    ]
    if typed.phrase:
        choices.append(
            (_("The phrase “{typed}”").format(typed=typed.typed), SubscribeTo(typed.typed))
        )
    rows = tuple(
        (Button(shorten(label, 60), action),)
        for label, action in choices
        if fits(action) and decode(encode(action)) == action  # a topic may hold a separator
    )
    if len(rows) < len(choices):
        text += "\n" + _(
            "Send <code>/subscribe {together}</code> for both, or "
            "<code>/subscribe {each}</code> for either."
        ).format(together=escape(together), each=escape(", ".join(each)))
    return Reply(text, rows)


def topic_error_in(typed: str, reason: str) -> str:
    """What is wrong with one of several topics typed at once."""
    return f"⚠️ <b>{escape(typed)}</b>: {escape(reason)}"


def too_many_topics_at_once(limit: int) -> str:
    return ngettext(
        "At most {count} topic at once, separated by commas.",
        "At most {count} topics at once, separated by commas.",
        limit,
    ).format(count=limit)


def ambiguous_removal(typed: str, alike: Sequence[str]) -> str:
    names = ", ".join(f"<b>{escape(topic)}</b>" for topic in alike)
    return _(
        "Several topics read as <b>{typed}</b>: {names}. Remove the one you mean under /list."
    ).format(typed=escape(typed), names=names)


def text_offer(topic: str) -> Reply:
    """What the bot can do with a plain message about `topic`, as buttons."""
    text = _("What shall I do with <b>{topic}</b>? (Send /help to see every command.)").format(
        topic=escape(topic)
    )
    choices: list[tuple[str, Callback]] = [
        (_("🔔 Subscribe to {topic}").format(topic=topic), SubscribeTo(topic)),
        (_("📊 Key facts on {topic}").format(topic=topic), Ask("facts", topic)),
        (_("📰 Latest on {topic}").format(topic=topic), Ask("latest", topic)),
    ]
    rows = tuple((Button(shorten(label, 60), action),) for label, action in choices if fits(action))
    return Reply(text, rows)


def text_not_understood() -> str:
    return _(
        "I read topics and commands: send a name like <code>copper</code> or "
        "<code>/subscribe copper</code>. Send /help to see what I can do."
    )


def paused(channel: ChannelName | None = None) -> str:
    again = channel.command("start") if channel is not None else "/start"
    return _("⏸ Alerts and digests are paused. Send {command} to turn them on again.").format(
        command=again
    )


def resumed() -> str:
    return _("▶️ Alerts and digests are on again.")


# Sources, for everyone: feed names and sites, never their URLs, status or errors
# --------------------------------------------------------------------------------------------

SOURCE_NAME_LENGTH = 100
SOURCE_DAYS = 7  # the period /sources counts articles over


def site_of(url: str) -> str:
    """The host a URL points at, without "www." (no path, query, port or credentials)."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _articles(count: int) -> str:
    return ngettext("{count} article", "{count} articles", count).format(count=count)


def sources_list(feeds: Sequence[Feed], recent: Mapping[str, int]) -> list[str]:
    """/sources: each feed by name and site with its articles of the last `SOURCE_DAYS` days
    (`recent`, by source name), then the other sources (files, pages) of that period."""
    counts = dict(recent)
    lines = [
        ngettext(
            "📡 <b>Where the news comes from</b> (articles in the last {count} day)",
            "📡 <b>Where the news comes from</b> (articles in the last {count} days)",
            SOURCE_DAYS,
        ).format(count=SOURCE_DAYS)
    ]
    if feeds:
        lines.append(_("<b>Feeds</b>"))
    for feed in feeds:
        site = site_of(feed.url)
        name = feed.name or site
        line = f"• {escape(shorten(name, SOURCE_NAME_LENGTH))}"
        if site and site != name:
            line += f" — {escape(site)}"
        lines.append(line + f" · {_articles(counts.pop(name, 0))}")
    if counts:
        lines.append(_("<b>Other sources</b>") if feeds else _("<b>Sources</b>"))
        for source, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"• {escape(shorten(source, SOURCE_NAME_LENGTH))} · {_articles(count)}")
    if len(lines) == 1:
        return [_("No sources yet: the bot has no feeds and no recent articles.")]
    return split_message(lines)


# --------------------------------------------------------------------------------------------
# Feeds and watch-lists in and out: OPML files, CSV export
# --------------------------------------------------------------------------------------------

OPML_LISTED_NOTES = 20  # outlines listed one by one after an import; the rest are counted
OPML_NOTE_LENGTH = 200


def opml_admins_only() -> str:
    return _("Only the bot's admins can import feeds from an OPML file.")


def opml_in_private() -> str:
    return _("Send OPML files to me in a private chat: feed lists are not for the group.")


def opml_too_large(limit_bytes: int) -> str:
    return _("That file is too large: OPML files of up to {size} KB are imported.").format(
        size=limit_bytes // 1024
    )


def opml_unreadable(file_name: str, reason: str) -> str:
    return _("Cannot import <b>{file}</b>: {reason}.").format(
        file=escape(shorten(file_name, 100)), reason=escape(reason)
    )


def opml_imported(added: int, present: Sequence[str], skipped: Sequence[str]) -> list[str]:
    """After an OPML import: how many feeds were added, then each outline that was already
    there or skipped, with why (the first few; the rest counted)."""
    summary = ngettext(
        "📥 Imported {count} feed ({present} already there, {skipped} skipped).",
        "📥 Imported {count} feeds ({present} already there, {skipped} skipped).",
        added,
    ).format(count=added, present=len(present), skipped=len(skipped))
    if added:
        summary += " " + _("The new ones are fetched within a minute; see /feeds.")
    lines = [summary]
    for heading, notes in ((_("Already there"), present), (_("Skipped"), skipped)):
        if not notes:
            continue
        lines.append(f"<b>{heading}</b>")
        lines += [
            f"• {escape(shorten(note, OPML_NOTE_LENGTH))}" for note in notes[:OPML_LISTED_NOTES]
        ]
        if len(notes) > OPML_LISTED_NOTES:
            lines.append(_("… and {count} more").format(count=len(notes) - OPML_LISTED_NOTES))
    return split_message(lines)


def export_empty(*, group: bool) -> str:
    if group:
        return _(
            "This group's watch-list is empty: nothing to export. Add a topic with "
            "<code>/subscribe TOPIC</code>."
        )
    return _(
        "Your watch-list is empty: nothing to export. Add a topic with "
        "<code>/subscribe TOPIC</code>."
    )


def export_caption(count: int, *, group: bool) -> str:
    if group:
        text = ngettext(
            "This group's watch-list: {count} topic with level and date added.",
            "This group's watch-list: {count} topics with level and date added.",
            count,
        )
    else:
        text = ngettext(
            "Your watch-list: {count} topic with level and date added.",
            "Your watch-list: {count} topics with level and date added.",
            count,
        )
    return (
        text.format(count=count)
        + " "
        + _("The same columns as <code>tradebot subscriptions import</code> reads.")
    )


# --------------------------------------------------------------------------------------------
# Inline mode: stories shared from any chat
# --------------------------------------------------------------------------------------------

INLINE_BUTTON_LENGTH = 100  # the client ellipsizes a long one


@dataclass(frozen=True, slots=True)
class SharedText:
    """One inline result: its headline and description (plain text, shown in the list) and
    the message it posts (HTML)."""

    title: str
    description: str
    message: str


def shared_story(article: ArticleRef) -> SharedText:
    origin = _source_and_date(article.source, article.published)
    return SharedText(
        title=shorten(article.title, ANSWER_TITLE_LENGTH),
        description=plain_text(origin),
        message=f"<b>{_linked_title(article.title, article.url)}</b>\n{origin}",
    )


def inline_help() -> str:
    return _("Type a topic after my name, e.g. copper")


def inline_topic_error(reason: str) -> str:
    return shorten(reason, INLINE_BUTTON_LENGTH)


def inline_nothing(topic: str) -> str:
    return shorten(_("No main stories on {topic} yet").format(topic=topic), INLINE_BUTTON_LENGTH)


# /test: what a query would have alerted on. Article titles and sentences are escaped.
# --------------------------------------------------------------------------------------------

TEST_EVIDENCE_LENGTH = 300


def test_usage() -> str:
    return _(
        "Send <code>/test QUERY</code> to see what it would have alerted on in the last 30 "
        "days, e.g. <code>/test (copper OR nickel) -Copperfield</code>."
    )


def _moment(since: datetime) -> str:
    return format_datetime(since, "dd MMM HH:mm", locale=current_language())


def test_report(report: QueryTestReport, token: str | None = None) -> Reply:
    """Alerts per day at each level, the newest matches with their evidence, and a button to
    subscribe as tested (without `token`: for the terminal)."""
    key = escape(report.key)
    days = len(report.days)
    main = sum(day.main for day in report.days)
    mentions = sum(day.mentions for day in report.days)
    lines = [
        ngettext(
            "🧪 <b>{query}</b> over the last {count} day:",
            "🧪 <b>{query}</b> over the last {count} days:",
            days,
        ).format(query=key, count=days),
        _(
            "main stories: {main} ({main_rate:.1f} a day) · every mention: {mentions} "
            "({mentions_rate:.1f} a day)"
        ).format(
            main=main, main_rate=main / days, mentions=mentions, mentions_rate=mentions / days
        ),
    ]
    since = report.counted_since
    if not report.searched:
        if since:
            tried = ngettext(
                "The query names no word the search index knows: tried on the newest "
                "{count} article, since {since} UTC.",
                "The query names no word the search index knows: tried on the newest "
                "{count} articles, since {since} UTC.",
                report.read,
            )
        else:
            tried = ngettext(
                "The query names no word the search index knows: tried on the newest "
                "{count} article.",
                "The query names no word the search index knows: tried on the newest "
                "{count} articles.",
                report.read,
            )
        text = tried.format(count=report.read, since=_moment(since) if since else "")
        lines.append(f"<i>{text}</i>")
    elif since is not None:
        text = ngettext(
            "Counted on the newest {count} article that could match, since {since} UTC.",
            "Counted on the newest {count} articles that could match, since {since} UTC.",
            report.read,
        ).format(count=report.read, since=_moment(since))
        lines.append(f"<i>{text}</i>")
    busy = [day for day in report.days if day.mentions]
    if busy:
        lines += ["", _("<b>Per day</b> (main · every mention)")]
        lines += [
            f"{format_date(day.day, 'dd MMM', locale=current_language())}: "
            f"{day.main} · {day.mentions}"
            for day in busy
        ]
    if report.newest:
        lines += ["", _("<b>Newest</b>")]
    for example in report.newest:
        article = example.article
        line = f"• {_linked_title(article.title, article.url)}"
        line += " — " + (_("main story") if example.about else _("mentioned"))
        if example.evidence and example.evidence != article.title:
            line += f"\n“{escape(shorten(example.evidence, TEST_EVIDENCE_LENGTH))}”"
        line += f"\n{_source_and_date(article.source, article.published)}"
        lines.append(line)
    if not mentions:
        lines += ["", _("Nothing stored would have matched.")]
    label = _("Subscribe to {query}").format(query=shorten(report.key, 40))
    buttons = ((Button(label, SubscribeTested(token)),),) if token else ()
    return Reply("\n".join(lines), buttons)


def test_expired() -> str:
    return _("This test is no longer kept: send /test again.")
