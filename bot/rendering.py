"""Everything the bot says, as Telegram HTML. Every user- or article-supplied string goes
through `escape`; nothing here imports Telegram, so it is tested directly."""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.callbacks import (
    LEVELS,
    Ask,
    Callback,
    ChangeSetting,
    LevelName,
    MoreFacts,
    Question,
    RemoveSubscription,
    SetLevel,
    SetTimezone,
    ShowEvidence,
    ShowHelp,
    ShowSettings,
    SubscribeTested,
    SubscribeTo,
    SubscribeToEach,
    decode,
    encode,
    fits,
)
from bot.commands import Command, Scope, commands_for
from bot.digests import DigestArticle
from bot.facts import RankedFact
from bot.localtime import ZoneChoice, offset_label, utc_offset
from bot.refs import ArticleRef, QueryTestReport, Story
from bot.text import counted, shorten, utf16_length
from bot.topics import Ambiguous

if TYPE_CHECKING:  # types only: rendering stays free of the database at run time
    from storage.models import Feed
    from storage.stats import Stats

MESSAGE_LIMIT = 4096
CALLBACK_NOTICE_LENGTH = 200
ALERT_TITLE_LENGTH = 300
ALERT_EVIDENCE_LENGTH = 700
ALERT_TOPICS_LENGTH = 800
LISTED_TOPIC_LENGTH = 75  # 50 topics of 75 characters fit one message

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
    args = f" {escape(command.args)}" if command.args else ""
    return f"/{command.name}{args} — {escape(command.description)}"


def help_text(*, admin: bool = False) -> str:
    """The help; admins also see the admin commands (which are not advertised to others)."""
    lines = [
        "<b>tradebot</b> sends you trade news the moment it matches your watch-list.",
        "",
        "<b>Commands</b>",
        *(_command_usage(command) for command in commands_for(Scope.EVERYONE)),
        "",
        "<b>Topics</b>",
        "• a word or phrase: <code>copper</code>, <code>rare earths</code>",
        "• both in one article: <code>India-Chile</code>",
        "• several at once: <code>copper, gold</code>",
        '• leave some out: <code>copper -Copperfield -"copper wire"</code>',
        "• a query: <code>(copper OR nickel) -Copperfield</code>, <code>India NEAR Chile</code> "
        '(one sentence), <code>title:copper</code>, <code>"copper wire"</code> (exact), '
        "<code>/nick(el|le)/</code> — try one first with /test",
        "Names know their aliases (US = U.S. = United States) and groups their members "
        "(rare earths = neodymium, dysprosium, …). Capitalised names match only names: "
        "<code>China</code> is not fine china.",
    ]
    if admin:
        lines += [
            "",
            "<b>Admin</b>",
            *(_command_usage(command) for command in commands_for(Scope.ADMIN)),
        ]
    return "\n".join(lines)


def welcome(*, group: bool = False) -> Reply:
    """/start: what the bot does, how to begin, and buttons to the rest."""
    who = "this group" if group else "you"
    text = "\n".join(
        [
            f"👋 <b>tradebot</b> sends {who} trade news the moment it matches a watch-list.",
            "",
            "Start with a topic: <code>/subscribe copper</code>, "
            "<code>/subscribe rare earths</code> or <code>/subscribe India-Chile</code>.",
            "Alerts arrive as the news does, and a digest once a day (see Settings).",
        ]
    )
    return Reply(
        text, ((Button("📖 All commands", ShowHelp()), Button("⚙️ Settings", ShowSettings())),)
    )


def subscribe_usage() -> str:
    return (
        "Usage: <code>/subscribe TOPIC</code>\n"
        "For example <code>/subscribe copper</code> or <code>/subscribe India-Chile</code>; "
        "several at once: <code>/subscribe copper, gold</code>."
    )


def unsubscribe_usage() -> str:
    return "Usage: <code>/unsubscribe TOPIC</code> — or use the buttons under /list."


def subscribed(topic: str, *, group: bool = False) -> str:
    if group:
        return (
            f"✅ Subscribed to <b>{escape(topic)}</b>: it is on this group's watch-list, and "
            "alerts come here."
        )
    return f"✅ Subscribed to <b>{escape(topic)}</b>. You will get an alert when it is in the news."


def already_subscribed(topic: str, *, group: bool = False) -> str:
    if group:
        return f"<b>{escape(topic)}</b> is already on this group's watch-list."
    return f"You are already subscribed to <b>{escape(topic)}</b>."


def unsubscribed(topic: str, *, group: bool = False) -> str:
    if group:
        return f"Unsubscribed from <b>{escape(topic)}</b>: it is off this group's watch-list."
    return f"Unsubscribed from <b>{escape(topic)}</b>."


def not_subscribed(topic: str, *, group: bool = False) -> str:
    if group:
        return f"<b>{escape(topic)}</b> is not on this group's watch-list. See /list."
    return f"You are not subscribed to <b>{escape(topic)}</b>. See /list."


def too_many_subscriptions(limit: int, *, group: bool = False) -> str:
    if group:
        return (
            f"This group's watch-list holds at most {counted(limit, 'topic')}. "
            "Remove one first (see /list)."
        )
    return f"You can watch at most {counted(limit, 'topic')}. Remove one first (see /list)."


def topic_error(reason: str) -> str:
    return f"⚠️ {escape(reason)}"


def suggestion(typed: str, candidates: Sequence[str]) -> Reply:
    """ "Did you mean …?" with a button per candidate and one to keep what was typed."""
    names = " or ".join(f"<b>{escape(c)}</b>" for c in candidates)
    text = f"I don't know <b>{escape(typed)}</b>. Did you mean {names}?"
    rows = [(Button(c, SubscribeTo(c)),) for c in candidates if fits(SubscribeTo(c))]
    if fits(SubscribeTo(typed)):
        rows.append((Button(f"Keep “{typed}”", SubscribeTo(typed)),))
    else:
        text += f"\nTo keep it as typed, send <code>/subscribe {escape(typed)}</code> again."
    return Reply(text, tuple(rows))


@dataclass(frozen=True, slots=True)
class ListedTopic:
    """A row of /list."""

    subscription_id: int
    topic: str
    level: str  # storage.models.Level


# What a level pushes at once, as its button says it (the button switches to the next level).
LEVEL_LABELS = {
    "main": "main stories only",
    "split": "main now, mentions in digest",
    "all": "every mention now",
}


def next_level(level: str) -> LevelName:
    """The level a /list row's level button switches to: main → split → all → main."""
    for index, known in enumerate(LEVELS):
        if known == level:
            return LEVELS[(index + 1) % len(LEVELS)]
    return LEVELS[0]


def subscription_list(topics: Sequence[ListedTopic], *, group: bool = False) -> Reply:
    """The chat's watch-list, each item with a remove button and a button switching its level."""
    owner = "This group's watch-list" if group else "Your watch-list"
    if not topics:
        return Reply(f"{owner} is empty. Add a topic with <code>/subscribe TOPIC</code>.")
    lines = [f"<b>{owner}</b> ({len(topics)}):"]
    lines += [f"• {escape(shorten(row.topic, LISTED_TOPIC_LENGTH))}" for row in topics]
    lines.append(
        "✖ removes a topic. The other button shows what it sends at once; tap it to switch: "
        "main stories only → main now, passing mentions in your digest → every mention now."
    )
    buttons = tuple(
        (
            Button(f"✖ {shorten(row.topic, 30)}", RemoveSubscription(row.subscription_id)),
            Button(
                f"{LEVEL_LABELS.get(row.level, row.level)} ↻",
                SetLevel(row.subscription_id, next_level(row.level)),
            ),
        )
        for row in topics
    )
    return Reply("\n".join(lines), buttons)


def level_set_notice(topic: str, level: LevelName) -> str:
    """The short notice a level button shows (plain text, at most 200 UTF-16 units)."""
    return shorten(f"{item_label(topic)}: {LEVEL_LABELS[level]}", CALLBACK_NOTICE_LENGTH)


def not_on_watch_list() -> str:
    """The notice of a level button whose topic is gone (or is another chat's)."""
    return "That topic is no longer on your watch-list."


def removed_notice(topic: str) -> str:
    """The short notice a remove button shows (plain text, at most 200 UTF-16 units)."""
    return shorten(f"Removed {topic}", CALLBACK_NOTICE_LENGTH)


def stale_button() -> str:
    return "That button is no longer valid."


def unknown_command() -> str:
    return "I don't know that command. Send /help to see what I can do."


def apology() -> str:
    return "Sorry, something went wrong on my side. Please try again in a moment."


# --------------------------------------------------------------------------------------------
# Settings and digests
# --------------------------------------------------------------------------------------------

MODE_LABELS = {
    "instant": "instant alerts only",
    "digest": "daily digest only",
    "both": "instant alerts and a daily digest",
}
DIGEST_TITLE_LENGTH = 150


def settings_view(
    *, timezone: str, digest_time: str | None, mode: str, empty_digest_line: bool
) -> Reply:
    """The chat's settings, with buttons to change the delivery mode and empty digests. The
    mode says whether there is a digest, the digest time when: with instant alerts only (or a
    time turned off by an older version) the digest shows as off."""
    shown_mode = mode if digest_time is not None else "instant"
    if shown_mode == "instant":
        digest = "off — turn it on with <code>/digesttime 08:00</code> or <code>/mode both</code>"
    else:
        digest = (
            f"at {digest_time} your time — change with <code>/digesttime 7:30am</code>, "
            "stop with <code>/digesttime off</code>"
        )
    lines = [
        "<b>Your settings</b>",
        f"Time zone: {escape(timezone)} ({utc_offset(timezone)}) — change with "
        "<code>/timezone CITY</code>",
        f"Delivery: {MODE_LABELS.get(shown_mode, escape(shown_mode))}",
        f"Daily digest: {digest}",
    ]
    if shown_mode != "instant":
        empty = "a short “nothing new” line" if empty_digest_line else "not sent"
        lines.append(f"An empty digest is {empty}.")
    modes = tuple(
        Button(("✓ " if value == shown_mode else "") + value, ChangeSetting("mode", value))
        for value in MODE_LABELS
    )
    toggle = Button(
        "Empty digest: skip it" if empty_digest_line else "Empty digest: send a line",
        ChangeSetting("empty", "skip" if empty_digest_line else "line"),
    )
    return Reply("\n".join(lines), (modes, (toggle,)) if shown_mode != "instant" else (modes,))


TIMEZONE_EXAMPLES = (
    "<code>/timezone Mumbai</code>, <code>/timezone IST</code>, "
    "<code>/timezone UTC+5:30</code> or <code>/timezone Asia/Kolkata</code>"
)
TYPED_ZONE_LENGTH = 64


def timezone_current(timezone: str, local_now: datetime) -> str:
    """/timezone alone: the chat's zone and how to change it."""
    return (
        f"Your time zone is <b>{escape(timezone)}</b> ({_offset_and_clock(local_now)}).\n"
        f"Change it with a city, a country, an abbreviation or an offset: {TIMEZONE_EXAMPLES}."
    )


def digesttime_usage() -> str:
    return (
        "Usage: <code>/digesttime 07:30</code>, <code>/digesttime 7:30am</code> (your time) "
        "or <code>/digesttime off</code>."
    )


def mode_usage() -> str:
    return (
        "Usage: <code>/mode instant</code>, <code>/mode digest</code> or <code>/mode both</code>."
    )


def timezone_set(timezone: str, local_now: datetime) -> str:
    return f"Time zone set to <b>{escape(timezone)}</b> ({_offset_and_clock(local_now)})."


def _offset_and_clock(local_now: datetime) -> str:
    offset = offset_label(local_now.utcoffset() or timedelta())
    return f"{offset}; it is {local_now.strftime('%H:%M')} there now"


def timezone_question(typed: str, choices: Sequence[ZoneChoice]) -> Reply:
    """An ambiguous /timezone: which of these zones?"""
    shown = escape(shorten(typed, TYPED_ZONE_LENGTH))
    return Reply(
        f"<b>{shown}</b> can mean more than one time zone. Which is yours?",
        tuple((Button(choice.label, SetTimezone(choice.zone)),) for choice in choices),
    )


def timezone_unknown(typed: str, suggestions: Sequence[ZoneChoice], reason: str = "") -> Reply:
    """/timezone with a name the bot does not know: the closest ones, or how to say it."""
    shown = escape(shorten(typed, TYPED_ZONE_LENGTH))
    if suggestions:
        return Reply(
            f"I don't know the time zone <b>{shown}</b>. Did you mean one of these?",
            tuple((Button(choice.label, SetTimezone(choice.zone)),) for choice in suggestions),
        )
    why = escape(reason) if reason else f"I don't know the time zone <b>{shown}</b>."
    return Reply(f"⚠️ {why}\nTry {TIMEZONE_EXAMPLES}.")


def digest_time_set(digest_time: str | None, timezone: str, *, turned_on: bool = False) -> str:
    if digest_time is None:
        return (
            "Daily digest turned off: you get instant alerts only. Turn it on again with "
            "<code>/digesttime 08:00</code> or <code>/mode both</code>."
        )
    text = f"Your daily digest will arrive at <b>{digest_time}</b> ({escape(timezone)})."
    if turned_on:
        text += f" Delivery: <b>{MODE_LABELS['both']}</b>."
    return text


def mode_set(mode: str, digest_time: str | None = None) -> str:
    text = f"Delivery: <b>{MODE_LABELS[mode]}</b>"
    return text + (f", the digest at {digest_time} your time." if digest_time else ".")


def nothing_new() -> str:
    return "Nothing new on your watch-list since your last digest."


def empty_digest(day: date) -> str:
    return f"📰 <b>Digest for {day.strftime('%d %b %Y')}</b>\nNothing new on your watch-list."


def digest(day: date, groups: Sequence[tuple[str, Sequence[DigestArticle]]]) -> list[str]:
    """The digest, grouped by watch item (passing mentions marked), split into messages that
    fit Telegram's limit; a section's heading stays with its first story."""
    count = len({article.story for _, articles in groups for article in articles})
    lines = [f"📰 <b>Digest for {day.strftime('%d %b %Y')}</b> — {counted(count, 'article')}"]
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
        line += f" (also reported by {escape(', '.join(article.also))})"
    if mention:
        line += " · <i>mentioned in passing</i>"
    return line


# --------------------------------------------------------------------------------------------
# Answers: facts, latest, related, trend
# --------------------------------------------------------------------------------------------

FACTS_PAGE_LENGTH = 1500
FACT_SENTENCE_LENGTH = 400
ANSWER_TITLE_LENGTH = 160
FACT_ORIGIN_TITLE_LENGTH = 60  # an article without a source is named by its title
WATCH_LIST_FACTS = 3  # facts per watch item under /facts alone
WATCH_LIST_FACTS_LENGTH = 3600  # room for the items' facts in one message, with the last line
FACTS_HEADER = re.compile(r"^📊 Key facts: (?P<topic>.+) \(\d+–\d+ of \d+\)$")


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
        line += f" (also {escape(', '.join(dict.fromkeys(others)))})"
    return line


def facts_page(topic: str, facts: Sequence[RankedFact[ArticleRef]], offset: int = 0) -> Reply:
    """A page of key facts, under ~1500 characters, with a "more…" button when there are more."""
    if not facts:
        return Reply(f"No key facts about <b>{escape(topic)}</b> in stored articles yet.")
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
    header = f"📊 Key facts: {escape(topic)} ({offset + 1}–{end} of {len(facts)})"
    buttons = ((Button("more…", MoreFacts(end)),),) if end < len(facts) else ()
    return Reply("\n".join([header, *lines]), buttons)


def watch_list_facts(found: Sequence[tuple[str, Sequence[RankedFact[ArticleRef]]]]) -> Reply:
    """/facts alone: the newest facts of each watch item (`WATCH_LIST_FACTS`), grouped under
    it, in one message; a button per item with more facts, and one line naming the items
    without any (or that did not fit)."""
    if not found:
        return Reply(
            "Your watch-list is empty. Ask about one topic with <code>/facts TOPIC</code>, "
            "or subscribe to topics and send /facts alone for all of them."
        )
    lines = ["📊 <b>Key facts on your watch-list</b>"]
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
            rows.append((Button(f"More on {shorten(topic, 40)}", more),))
    if without:
        names = ", ".join(shorten(topic, LISTED_TOPIC_LENGTH) for topic in without)
        lines.append(f"\nNot shown (no figures yet, or no room): {escape(shorten(names, 600))}")
    return Reply("\n".join(lines), tuple(rows))


def facts_topic(message_text: str) -> str | None:
    """The topic of a facts page, read back from its first line (for the "more…" button)."""
    match = FACTS_HEADER.match(message_text.split("\n", 1)[0])
    return match.group("topic") if match else None


def latest_list(topic: str, stories: Sequence[Story]) -> str:
    return _headlines(f"🗞 Latest on {topic}", stories, topic)


def related_list(topic: str, articles: Sequence[ArticleRef]) -> str:
    return _headlines(f"🔗 Related to {topic}", articles, topic)


def _headlines(heading: str, found: Sequence[Story | ArticleRef], topic: str) -> str:
    """A list of articles (/latest, /related) with source, date, link and other sources."""
    if not found:
        return f"No stored articles on <b>{escape(topic)}</b> yet."
    lines = [f"<b>{escape(heading)}</b>"]
    for entry in found:
        article, also = (entry.article, entry.also) if isinstance(entry, Story) else (entry, ())
        line = f"• {_linked_title(article.title, article.url)}"
        line += f" — {_source_and_date(article.source, article.published)}"
        if also:
            line += f" (also reported by {escape(', '.join(also))})"
        lines.append(line)
    return "\n".join(lines)


def question_usage(command: str) -> str:
    return f"Usage: <code>/{command} TOPIC</code>, e.g. <code>/{command} copper</code>."


def question_suggestion(question: Question, typed: str, candidates: Sequence[str]) -> Reply:
    """ "Did you mean …?" for a question: a button asking it about each candidate, and one
    asking about the topic as typed."""
    names = " or ".join(f"<b>{escape(c)}</b>" for c in candidates)
    text = f"I don't know <b>{escape(typed)}</b>. Did you mean {names}?"
    rows = [
        (Button(f"/{question} {c}", Ask(question, c)),)
        for c in candidates
        if fits(Ask(question, c))
    ]
    if fits(Ask(question, typed)):
        rows.append((Button(f"Ask about “{typed}”", Ask(question, typed)),))
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


@dataclass(frozen=True, slots=True)
class BurstMessage:
    """A message of a burst and the alerts it carries."""

    text: str
    alert_ids: list[int]


BURST_TITLE_LENGTH = 200
EVIDENCE_BUTTON = Button("Why these? Show the evidence", ShowEvidence())


def alert_burst(items: Sequence[BurstItem]) -> list[BurstMessage]:
    """Several alerts for one chat as a list of headlines, each with its source, date and
    watch items: messages within Telegram's limit (each sent with `EVIDENCE_BUTTON`)."""
    header = f"🔔 <b>{counted(len(items), 'new article')}</b> on your watch-list"
    chunks: list[BurstMessage] = []
    lines, size = [header], visible_length(header)
    ids: list[int] = []
    for item in items:
        matched = ", ".join(
            f"{item_label(topic)} (mentioned)" if topic in item.mentions else item_label(topic)
            for topic in item.topics
        )
        line = f"• {_linked_title(shorten(item.title, BURST_TITLE_LENGTH), item.url)}"
        line += f" — {_source_and_date(item.source, item.published)}"
        line += f" · <i>{escape(shorten(matched, 200))}</i>"
        length = visible_length(line) + 1
        if ids and size + length > MESSAGE_LIMIT:
            chunks.append(BurstMessage("\n".join(lines), ids))
            lines, ids, size = ["🔔 <i>continued</i>"], [], 12
        lines.append(line)
        ids.append(item.alert_id)
        size += length
    chunks.append(BurstMessage("\n".join(lines), ids))
    return chunks


def _source_and_date(source: str | None, published: datetime | None) -> str:
    return ", ".join(
        [
            escape(source) if source else "source unknown",
            published.strftime("%d %b %Y") if published else "date unknown",
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
        return ["The alerts of that message are no longer stored."]
    lines = ["🔎 <b>Why these came</b>"]
    for item in items:
        line = f"• <b>{escape(shorten(item.title, BURST_TITLE_LENGTH))}</b>\n"
        line += f"<i>{escape(shorten(reasons(item.topics, item.mentions), 300))}</i>"
        if item.sentence and item.sentence != item.title:
            line += f": “{escape(shorten(item.sentence, 400))}”"
        lines.append(line)
    return split_message(lines)


def item_label(key: str) -> str:
    """A watch item named short, without its exclusions ("copper -Copperfield" → "copper")."""
    return key.split(" -", 1)[0]


def reasons(topics: Sequence[str], mentions: Collection[str]) -> str:
    """Why an alert came: "copper — main subject", "zinc — mentioned" (plain text)."""
    main = [topic for topic in topics if topic not in mentions]
    mentioned = [topic for topic in topics if topic in mentions]
    parts = [f"{', '.join(main)} — main subject"] if main else []
    if mentioned:
        parts.append(f"{', '.join(mentioned)} — mentioned")
    return "; ".join(parts)


def origin(source: str | None, published: datetime | None, url: str | None) -> str:
    """Where a story comes from, saying so plainly when the source, date or link is unknown:
    "Wire · 24 Nov 2026 · Read more", "source unknown · date unknown · no link"."""
    parts = [
        escape(source) if source else "source unknown",
        published.strftime("%d %b %Y") if published else "date unknown",
        f'<a href="{escape(url)}">Read more</a>' if url else "no link",
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
) -> str:
    """One alert: headline, the watch items it matched and why, the sentence that matched (for
    a related headline, the article it was listed with), source, date, link."""
    lines = [
        f"🔔 <b>{escape(shorten(title, ALERT_TITLE_LENGTH))}</b>",
        f"Matched: <i>{escape(shorten(reasons(topics, mentions), ALERT_TOPICS_LENGTH))}</i>",
    ]
    if evidence and evidence != title:
        lines.append(f"“{escape(shorten(evidence, ALERT_EVIDENCE_LENGTH))}”")
    if listed_with:
        shown = escape(shorten(listed_with, ALERT_TITLE_LENGTH))
        lines.append(f"A related headline listed with “{shown}”")
    lines.append(origin(source, published, url))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Admin: feeds, ingest, stats. Feed names, URLs, titles and errors come from the web: escaped.
# --------------------------------------------------------------------------------------------

FEED_STATUS_LABELS = {"ok": "✅ ok", "backoff": "⏳ backing off", "paused": "⏸ paused"}
LISTED_URL_LENGTH = 200
LISTED_ERROR_LENGTH = 300


def admin_only() -> str:
    return "This command is admin-only."


def admin_in_private() -> str:
    return "Admin commands answer only in a private chat: ask me there."


def addfeed_usage() -> str:
    return (
        "Usage: <code>/addfeed URL [NAME]</code>\n"
        "For example <code>/addfeed https://example.com/feed.xml Metals desk</code>."
    )


def feed_id_usage(command: str) -> str:
    return f"Usage: <code>/{escape(command)} ID</code> — the ids are in /feeds."


def ingest_usage() -> str:
    return "Usage: <code>/ingest URL</code> — a web page (article) or an RSS/Atom feed."


@dataclass(frozen=True, slots=True)
class ListedWebhook:
    """A row of /webhook's list."""

    chat_id: int
    url: str
    failures: int
    disabled: bool
    last_error: str | None


def webhook_usage() -> str:
    return (
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
        return ["No webhooks yet.\n\n" + webhook_usage()]
    lines = ["<b>Webhooks</b>"]
    for hook in webhooks:
        url = escape(shorten(hook.url, LISTED_URL_LENGTH))
        if hook.disabled:
            state = (
                f"⏸ disabled after {counted(hook.failures, 'failed delivery', 'failed deliveries')}"
            )
        elif hook.failures:
            state = f"⏳ {counted(hook.failures, 'failed delivery', 'failed deliveries')} in a row"
        else:
            state = "✅ ok"
        error = (
            f" — {escape(shorten(hook.last_error, LISTED_ERROR_LENGTH))}" if hook.last_error else ""
        )
        lines.append(f"• chat <code>{hook.chat_id}</code>: {url} {state}{error}")
    return split_message([*lines, "", webhook_usage()])


def webhook_refused(reason: str) -> str:
    return f"⚠️ Not added: {escape(shorten(reason, LISTED_ERROR_LENGTH))}"


def webhook_unknown_chat(chat_id: int) -> str:
    return f"I don't know chat <code>{chat_id}</code>: it has to talk to me first."


def webhook_added(chat_id: int, url: str, secret: str, *, replaced: bool) -> str:
    verb = "replaced" if replaced else "added"
    where = escape(shorten(url, LISTED_URL_LENGTH))
    return (
        f"✅ Webhook {verb} for chat <code>{chat_id}</code>: {where}\n"
        f"Secret (shown only now): <code>{escape(secret)}</code>\n"
        "Each alert is POSTed as JSON with <code>X-Tradebot-Signature: sha256=…</code>, the "
        "HMAC-SHA256 of the body with this secret, and an <code>Idempotency-Key</code>. "
        "Try it: <code>/webhook test</code>."
    )


def webhook_removed(chat_id: int) -> str:
    return f"Webhook removed from chat <code>{chat_id}</code>."


def no_webhook(chat_id: int) -> str:
    return f"No webhook for chat <code>{chat_id}</code>. Add one: <code>/webhook add URL</code>."


def webhook_test_result(
    chat_id: int, url: str, *, delivered: bool, status: int | None, attempts: int, error: str | None
) -> str:
    where = f"chat <code>{chat_id}</code>'s webhook {escape(shorten(url, LISTED_URL_LENGTH))}"
    tries = counted(attempts, "attempt")
    if delivered:
        return f"✅ Test alert delivered to {where}: HTTP {status} after {tries}."
    answer = f"HTTP {status}" if status is not None else "no answer"
    reason = f": {escape(shorten(error, LISTED_ERROR_LENGTH))}" if error and error != answer else ""
    return f"❌ Test alert not delivered to {where} ({answer} after {tries}{reason})."


def webhook_disabled(chat_id: int, url: str, failures: int, error: str | None) -> str:
    """The admins' notice when repeated failures disable a webhook."""
    reason = f" The last error: {escape(shorten(error, LISTED_ERROR_LENGTH))}." if error else ""
    return (
        f"⏸ The webhook of chat <code>{chat_id}</code> ({escape(shorten(url, LISTED_URL_LENGTH))}) "
        f"is disabled after {counted(failures, 'failed delivery', 'failed deliveries')} in a "
        f"row.{reason} <code>/webhook add</code> sets it up again."
    )


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago', '2 d ago' (or 'in …' for the future)."""
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "in under a minute" if future else "just now"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "now"  # unreachable


def feed_title(feed: Feed) -> str:
    return feed.name or feed.url


def feed_block(feed: Feed, now: datetime | None = None) -> str:
    """One feed in /feeds: id, status, name, URL, last fetch, items, last error."""
    status = FEED_STATUS_LABELS.get(feed.status, escape(feed.status))
    lines = [
        f"<b>#{feed.id}</b> {status} · {escape(shorten(feed_title(feed), 100))}",
        f"<code>{escape(shorten(feed.url, LISTED_URL_LENGTH))}</code>",
    ]
    details = [f"last fetch {ago(feed.last_fetch_at, now)}", counted(feed.items_seen, "item")]
    if feed.status != "paused" and feed.next_poll_at is not None:
        details.append(f"next {ago(feed.next_poll_at, now)}")
    lines.append(" · ".join(details))
    if feed.last_error:
        failures = feed.consecutive_failures
        lines.append(
            f"⚠️ {escape(shorten(feed.last_error, LISTED_ERROR_LENGTH))}"
            + (f" ({failures} failures in a row)" if failures > 1 else "")
        )
    return "\n".join(lines)


def feed_list(feeds: Sequence[Feed], now: datetime | None = None) -> list[str]:
    """/feeds: one block per feed, split into messages that fit Telegram's limit."""
    if not feeds:
        return ["No feeds yet. Add one with <code>/addfeed URL</code>."]
    blocks = [f"<b>Feeds</b> ({len(feeds)})"]
    blocks += [f"\n{feed_block(feed, now)}" for feed in feeds]
    return split_message(blocks)


def feed_added(feed: Feed, *, created: bool) -> str:
    name = escape(shorten(feed_title(feed), 100))
    if not created:
        return f"Feed <b>#{feed.id}</b> ({name}) is already there. See /feeds."
    return f"✅ Added feed <b>#{feed.id}</b> ({name})."


def feed_first_fetch(
    *,
    ok: bool,
    entries: int,
    new_articles: int,
    skipped_old: int,
    alerts: int,
    error: str | None,
) -> str:
    """What the first fetch of a newly added feed found."""
    if not ok:
        return (
            f"⚠️ The first fetch failed: {escape(shorten(error or 'unknown error', 300))}\n"
            "It will be retried with backoff; see /feeds."
        )
    text = (
        f"First fetch: {counted(entries, 'entry', 'entries')}, "
        f"{counted(new_articles, 'new article')} stored"
    )
    if skipped_old:
        text += f" ({counted(skipped_old, 'older one')} skipped)"
    return text + f", {counted(alerts, 'alert')} queued."


def feed_removed(feed: Feed) -> str:
    return f"Removed feed <b>#{feed.id}</b> ({escape(shorten(feed_title(feed), 100))})."


def feed_resumed(feed: Feed) -> str:
    return (
        f"▶️ Feed <b>#{feed.id}</b> ({escape(shorten(feed_title(feed), 100))}) "
        "will be polled again now."
    )


def no_such_feed(feed_id: str) -> str:
    return f"There is no feed <b>#{escape(shorten(feed_id, 20))}</b>. See /feeds."


def invalid_feed_url(reason: str) -> str:
    return f"⚠️ {escape(shorten(reason, 300))}"


def feed_paused(
    *, feed_id: int, name: str | None, url: str, failures: int, error: str | None
) -> str:
    """The one message admins get when a feed is paused."""
    return (
        f"⏸ Feed <b>#{feed_id}</b> ({escape(shorten(name or url, 100))}) is paused after "
        f"{counted(failures, 'failed fetch', 'failed fetches')} in a row.\n"
        f"Last error: {escape(shorten(error or 'unknown', LISTED_ERROR_LENGTH))}\n"
        f"<code>{escape(shorten(url, LISTED_URL_LENGTH))}</code>\n"
        f"Resume it with <code>/resumefeed {feed_id}</code> once it works again."
    )


def ingest_failed(url: str, reason: str) -> str:
    return (
        f"⚠️ Could not ingest <code>{escape(shorten(url, LISTED_URL_LENGTH))}</code>: "
        f"{escape(shorten(reason, 300))}"
    )


def ingest_result(
    *,
    new: int,
    new_headlines: int,
    duplicates: int,
    alerts: int,
    titles: Sequence[str],
    rejected: Sequence[str],
) -> str:
    """/ingest: what was stored, what was a duplicate, what was rejected and why."""
    lines = [
        f"Stored {counted(new, 'new article')}"
        + (f" (+{counted(new_headlines, 'headline')})" if new_headlines else "")
        + f", {counted(duplicates, 'duplicate')}, {counted(alerts, 'alert')} queued."
    ]
    lines += [f"• {escape(shorten(title, 150))}" for title in titles[:10]]
    if len(titles) > 10:
        lines.append(f"… and {len(titles) - 10} more")
    lines += [f"rejected: {escape(shorten(reason, 200))}" for reason in rejected[:5]]
    return "\n".join(lines)


def stats_lines(stats: Stats, now: datetime | None = None) -> list[str]:
    """The counts, as plain text lines (numbers only, nothing to escape)."""
    return [
        f"Chats: {stats.chats_active} active, {stats.chats_blocked} blocked",
        f"Watch items: {stats.watch_items} ({counted(stats.distinct_topics, 'distinct topic')})",
        f"Articles: {stats.articles} · last ingest {ago(stats.last_ingest_at, now)}",
        f"Alerts: {stats.alerts_pending} pending, {stats.alerts_sent} sent, "
        f"{stats.alerts_failed} failed",
        f"Feeds: {stats.feeds_ok} ok, {stats.feeds_backoff} backing off, "
        f"{stats.feeds_paused} paused",
    ]


def stats_text(stats: Stats, now: datetime | None = None) -> str:
    return "\n".join(["<b>tradebot stats</b>", *map(escape, stats_lines(stats, now))])


def slow_down() -> str:
    """The one warning a chat gets when it sends faster than the bot answers anyone."""
    return (
        "⏳ You are sending messages faster than I can answer, so I am skipping some. "
        "Please wait a few seconds before the next command."
    )


# --------------------------------------------------------------------------------------------
# Groups, several topics at once, plain text, pausing
# --------------------------------------------------------------------------------------------


def group_admins_only() -> str:
    """Also a button notice: plain text, under 200 characters."""
    return "Only this group's administrators can change its watch-list and settings."


def several_topics_question(typed: Ambiguous) -> Reply:
    """ "Both in one article, or either?" for several topics typed as one, with a button each."""
    together, each = typed.together, typed.each
    text = (
        f"Did you mean <b>{escape(typed.typed)}</b> as one topic — both in the same article, "
        f"<b>{escape(together)}</b> — or either, as {counted(len(each), 'topic')} "
        f"({', '.join(f'<b>{escape(t)}</b>' for t in each)})?"
    )
    choices: list[tuple[str, Callback]] = [
        (f"Both in one article: {together}", SubscribeTo(together)),
        (f"Either: {', '.join(each)}", SubscribeToEach(each)),
    ]
    if typed.phrase:
        choices.append((f"The phrase “{typed.typed}”", SubscribeTo(typed.typed)))
    rows = tuple(
        (Button(shorten(label, 60), action),)
        for label, action in choices
        if fits(action) and decode(encode(action)) == action  # a topic may hold a separator
    )
    if len(rows) < len(choices):
        text += (
            f"\nSend <code>/subscribe {escape(together)}</code> for both, or "
            f"<code>/subscribe {escape(', '.join(each))}</code> for either."
        )
    return Reply(text, rows)


def topic_error_in(typed: str, reason: str) -> str:
    """What is wrong with one of several topics typed at once."""
    return f"⚠️ <b>{escape(typed)}</b>: {escape(reason)}"


def too_many_topics_at_once(limit: int) -> str:
    return f"At most {counted(limit, 'topic')} at once, separated by commas."


def ambiguous_removal(typed: str, alike: Sequence[str]) -> str:
    names = ", ".join(f"<b>{escape(topic)}</b>" for topic in alike)
    return (
        f"Several topics read as <b>{escape(typed)}</b>: {names}. "
        "Remove the one you mean under /list."
    )


def text_offer(topic: str) -> Reply:
    """What the bot can do with a plain message about `topic`, as buttons."""
    text = f"What shall I do with <b>{escape(topic)}</b>? (Send /help to see every command.)"
    choices: list[tuple[str, Callback]] = [
        (f"🔔 Subscribe to {topic}", SubscribeTo(topic)),
        (f"📊 Key facts on {topic}", Ask("facts", topic)),
        (f"📰 Latest on {topic}", Ask("latest", topic)),
    ]
    rows = tuple((Button(shorten(label, 60), action),) for label, action in choices if fits(action))
    return Reply(text, rows)


def text_not_understood() -> str:
    return (
        "I read topics and commands: send a name like <code>copper</code> or "
        "<code>/subscribe copper</code>. Send /help to see what I can do."
    )


def paused() -> str:
    return "⏸ Alerts and digests are paused. Send /start to turn them on again."


def resumed() -> str:
    return "▶️ Alerts and digests are on again."


# Sources, for everyone: feed names and sites, never their URLs, status or errors
# --------------------------------------------------------------------------------------------

SOURCE_NAME_LENGTH = 100
SOURCE_DAYS = 7  # the period /sources counts articles over


def site_of(url: str) -> str:
    """The host a URL points at, without "www." (no path, query, port or credentials)."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def sources_list(feeds: Sequence[Feed], recent: Mapping[str, int]) -> list[str]:
    """/sources: each feed by name and site with its articles of the last `SOURCE_DAYS` days
    (`recent`, by source name), then the other sources (files, pages) of that period."""
    counts = dict(recent)
    lines = [f"📡 <b>Where the news comes from</b> (articles in the last {SOURCE_DAYS} days)"]
    if feeds:
        lines.append("<b>Feeds</b>")
    for feed in feeds:
        site = site_of(feed.url)
        name = feed.name or site
        line = f"• {escape(shorten(name, SOURCE_NAME_LENGTH))}"
        if site and site != name:
            line += f" — {escape(site)}"
        lines.append(line + f" · {counted(counts.pop(name, 0), 'article')}")
    if counts:
        lines.append("<b>Other sources</b>" if feeds else "<b>Sources</b>")
        for source, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            lines.append(
                f"• {escape(shorten(source, SOURCE_NAME_LENGTH))} · {counted(count, 'article')}"
            )
    if len(lines) == 1:
        return ["No sources yet: the bot has no feeds and no recent articles."]
    return split_message(lines)


# --------------------------------------------------------------------------------------------
# Feeds and watch-lists in and out: OPML files, CSV export
# --------------------------------------------------------------------------------------------

OPML_LISTED_NOTES = 20  # outlines listed one by one after an import; the rest are counted
OPML_NOTE_LENGTH = 200


def opml_admins_only() -> str:
    return "Only the bot's admins can import feeds from an OPML file."


def opml_in_private() -> str:
    return "Send OPML files to me in a private chat: feed lists are not for the group."


def opml_too_large(limit_bytes: int) -> str:
    return f"That file is too large: OPML files of up to {limit_bytes // 1024} KB are imported."


def opml_unreadable(file_name: str, reason: str) -> str:
    return f"Cannot import <b>{escape(shorten(file_name, 100))}</b>: {escape(reason)}."


def opml_imported(added: int, present: Sequence[str], skipped: Sequence[str]) -> list[str]:
    """After an OPML import: how many feeds were added, then each outline that was already
    there or skipped, with why (the first few; the rest counted)."""
    lines = [
        f"📥 Imported {counted(added, 'feed')} ({len(present)} already there, "
        f"{len(skipped)} skipped)."
        + (" The new ones are fetched within a minute; see /feeds." if added else "")
    ]
    for heading, notes in (("Already there", present), ("Skipped", skipped)):
        if not notes:
            continue
        lines.append(f"<b>{heading}</b>")
        lines += [
            f"• {escape(shorten(note, OPML_NOTE_LENGTH))}" for note in notes[:OPML_LISTED_NOTES]
        ]
        if len(notes) > OPML_LISTED_NOTES:
            lines.append(f"… and {len(notes) - OPML_LISTED_NOTES} more")
    return split_message(lines)


def export_empty(*, group: bool) -> str:
    owner = "This group's watch-list" if group else "Your watch-list"
    return f"{owner} is empty: nothing to export. Add a topic with <code>/subscribe TOPIC</code>."


def export_caption(count: int, *, group: bool) -> str:
    owner = "This group's watch-list" if group else "Your watch-list"
    return (
        f"{owner}: {counted(count, 'topic')} with level and date added. The same columns "
        "as <code>tradebot subscriptions import</code> reads."
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
    return "Type a topic after my name, e.g. copper"


def inline_topic_error(reason: str) -> str:
    return shorten(reason, INLINE_BUTTON_LENGTH)


def inline_nothing(topic: str) -> str:
    return shorten(f"No main stories on {topic} yet", INLINE_BUTTON_LENGTH)


# /test: what a query would have alerted on. Article titles and sentences are escaped.
# --------------------------------------------------------------------------------------------

TEST_EVIDENCE_LENGTH = 300


def test_usage() -> str:
    return (
        "Send <code>/test QUERY</code> to see what it would have alerted on in the last 30 "
        "days, e.g. <code>/test (copper OR nickel) -Copperfield</code>."
    )


def test_report(report: QueryTestReport, token: str | None = None) -> Reply:
    """Alerts per day at each level, the newest matches with their evidence, and a button to
    subscribe as tested (without `token`: for the terminal)."""
    key = escape(report.key)
    days = len(report.days)
    main = sum(day.main for day in report.days)
    mentions = sum(day.mentions for day in report.days)
    lines = [
        f"🧪 <b>{key}</b> over the last {counted(days, 'day')}:",
        f"main stories: {main} ({main / days:.1f} a day) · every mention: {mentions} "
        f"({mentions / days:.1f} a day)",
    ]
    since = report.counted_since
    if not report.searched:
        lines.append(
            f"<i>The query names no word the search index knows: tried on the newest "
            f"{counted(report.read, 'article')}"
            + (f", since {since:%d %b %H:%M} UTC.</i>" if since else ".</i>")
        )
    elif since is not None:
        lines.append(
            f"<i>Counted on the newest {counted(report.read, 'article')} that could match, "
            f"since {since:%d %b %H:%M} UTC.</i>"
        )
    busy = [day for day in report.days if day.mentions]
    if busy:
        lines += ["", "<b>Per day</b> (main · every mention)"]
        lines += [f"{day.day:%d %b}: {day.main} · {day.mentions}" for day in busy]
    if report.newest:
        lines += ["", "<b>Newest</b>"]
    for example in report.newest:
        article = example.article
        line = f"• {_linked_title(article.title, article.url)}"
        line += " — main story" if example.about else " — mentioned"
        if example.evidence and example.evidence != article.title:
            line += f"\n“{escape(shorten(example.evidence, TEST_EVIDENCE_LENGTH))}”"
        line += f"\n{_source_and_date(article.source, article.published)}"
        lines.append(line)
    if not mentions:
        lines += ["", "Nothing stored would have matched."]
    label = f"Subscribe to {shorten(report.key, 40)}"
    buttons = ((Button(label, SubscribeTested(token)),),) if token else ()
    return Reply("\n".join(lines), buttons)


def test_expired() -> str:
    return "This test is no longer kept: send /test again."
