"""Everything the bot says, as Telegram HTML. Every user- or article-supplied string goes
through `escape`; nothing here imports Telegram, so it is tested directly."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.text import shorten

MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
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
    plain = html.unescape(_TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())


def callback_fits(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT


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


COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "", "welcome and how to use the bot"),
    ("help", "", "this help"),
    ("subscribe", "TOPIC", "get alerts on a topic"),
    ("unsubscribe", "TOPIC", "stop alerts on a topic"),
    ("list", "", "your topics, each with a remove button"),
)


def help_text() -> str:
    lines = [
        "<b>tradebot</b> sends you trade news the moment it matches your watch-list.",
        "",
        "<b>Commands</b>",
        *(
            f"/{name}{' ' + escape(args) if args else ''} — {escape(description)}"
            for name, args, description in COMMANDS
        ),
        "",
        "<b>Topics</b>",
        "• a word or phrase: <code>copper</code>, <code>rare earths</code>",
        "• both in one article: <code>India-Chile</code>",
        '• leave some out: <code>copper -Copperfield -"copper wire"</code>',
        "Names know their aliases (US = U.S. = United States) and groups their members "
        "(rare earths = neodymium, dysprosium, …). Capitalised names match only names: "
        "<code>China</code> is not fine china.",
    ]
    return "\n".join(lines)


def subscribe_usage() -> str:
    return (
        "Usage: <code>/subscribe TOPIC</code>\n"
        "For example <code>/subscribe copper</code> or <code>/subscribe India-Chile</code>."
    )


def unsubscribe_usage() -> str:
    return "Usage: <code>/unsubscribe TOPIC</code> — or use the buttons under /list."


def subscribed(topic: str) -> str:
    return f"✅ Subscribed to <b>{escape(topic)}</b>. You will get an alert when it is in the news."


def already_subscribed(topic: str) -> str:
    return f"You are already subscribed to <b>{escape(topic)}</b>."


def unsubscribed(topic: str) -> str:
    return f"Unsubscribed from <b>{escape(topic)}</b>."


def not_subscribed(topic: str) -> str:
    return f"You are not subscribed to <b>{escape(topic)}</b>. See /list."


def too_many_subscriptions(limit: int) -> str:
    return f"You can watch at most {limit} topics. Remove one first (see /list)."


def topic_error(reason: str) -> str:
    return f"⚠️ {escape(reason)}"


def suggestion(typed: str, candidates: Sequence[str]) -> Reply:
    """ "Did you mean …?" with a button per candidate and one to keep what was typed."""
    names = " or ".join(f"<b>{escape(c)}</b>" for c in candidates)
    text = f"I don't know <b>{escape(typed)}</b>. Did you mean {names}?"
    rows = [(Button(c, f"sub:{c}"),) for c in candidates if callback_fits(f"sub:{c}")]
    if callback_fits(f"sub:{typed}"):
        rows.append((Button(f"Keep “{typed}”", f"sub:{typed}"),))
    else:
        text += f"\nTo keep it as typed, send <code>/subscribe {escape(typed)}</code> again."
    return Reply(text, tuple(rows))


def subscription_list(topics: Sequence[tuple[int, str]]) -> Reply:
    """The chat's watch-list, with a remove button for each item."""
    if not topics:
        return Reply("Your watch-list is empty. Add a topic with <code>/subscribe TOPIC</code>.")
    lines = [f"<b>Your watch-list</b> ({len(topics)}):"]
    lines += [f"• {escape(shorten(topic, LISTED_TOPIC_LENGTH))}" for _, topic in topics]
    lines.append("Tap a button to remove a topic.")
    buttons = tuple((Button(f"✖ {shorten(topic, 60)}", f"unsub:{sid}"),) for sid, topic in topics)
    return Reply("\n".join(lines), buttons)


def unknown_command() -> str:
    return "I don't know that command. Send /help to see what I can do."


def apology() -> str:
    return "Sorry, something went wrong on my side. Please try again in a moment."


def alert(
    *,
    title: str,
    topics: Sequence[str],
    evidence: str,
    source: str | None,
    url: str | None,
    published: datetime | None,
) -> str:
    """One alert: headline, the watch items it matched, the sentence that matched, source, link."""
    lines = [
        f"🔔 <b>{escape(shorten(title, ALERT_TITLE_LENGTH))}</b>",
        f"Matched: <i>{escape(shorten(', '.join(topics), ALERT_TOPICS_LENGTH))}</i>",
    ]
    if evidence and evidence != title:
        lines.append(f"“{escape(shorten(evidence, ALERT_EVIDENCE_LENGTH))}”")
    origin = []
    if source:
        origin.append(escape(source))
    if published:
        origin.append(published.strftime("%d %b %Y"))
    if url:
        origin.append(f'<a href="{escape(url)}">Read more</a>')
    if origin:
        lines.append(" · ".join(origin))
    return "\n".join(lines)
