"""Watch-lists as CSV, one format for `/export`, `tradebot subscriptions export` and
`tradebot subscriptions import`:
``chat_id,topic,level,created,silent,preview,muted_until,thread_id,thread_name`` with a header
row, times in ISO 8601 UTC (``muted_until`` empty when not muted, ``forever`` until unmuted),
``thread_id`` the forum topic a forum group's item posts to (empty: the chat itself, a forum's
General) and ``thread_name`` that topic's name. Import also reads the shorter files of earlier
versions (from ``chat_id,topic`` on), and every row is checked as `/subscribe` checks a topic;
a bad row is reported, not stored. A row with a ``thread_id`` column (even empty: General)
places its item, one the chat already has included; a row without leaves such an item where
it is."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.channels import HIGHEST_CHANNEL_ID, LOWEST_CHANNEL_ID
from bot.lexicon import Lexicon
from bot.query import check_pattern_room
from bot.topics import TopicError, parse_watch_item
from storage.models import MAX_THREAD_NAME, MUTED_FOREVER, Level, Preview, as_utc
from storage.queries import SubscriptionRow

HEADER = (
    "chat_id",
    "topic",
    "level",
    "created",
    "silent",
    "preview",
    "muted_until",
    "thread_id",
    "thread_name",
)
FOREVER = "forever"
# A cell starting with one of these is a formula to a spreadsheet: such a topic is written
# after an apostrophe (shown as text), which reading takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LEVELS = frozenset(level.value for level in Level)
_PREVIEWS = frozenset(preview.value for preview in Preview)
_YES_NO = {"yes": True, "no": False}
MAX_THREAD_ID = 2**31 - 1  # message ids are 32-bit (the column is an INTEGER)


def write_csv(rows: Iterable[SubscriptionRow]) -> str:
    """The rows as CSV text, header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        muted = as_utc(row.muted_until)
        writer.writerow(
            [
                row.chat_id,
                _guarded(row.topic),
                row.level or "",
                _iso(as_utc(row.created_at)),
                "" if row.silent is None else ("yes" if row.silent else "no"),
                row.preview or "",
                FOREVER if muted is not None and muted >= MUTED_FOREVER else _iso(muted),
                "" if row.thread_id is None else row.thread_id,
                _guarded(row.thread_name or ""),
            ]
        )
    return out.getvalue()


def _guarded(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def _unguarded(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


@dataclass(slots=True)
class ReadRows:
    accepted: list[SubscriptionRow] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line of each accepted row
    rejected: list[str] = field(default_factory=list)  # "line N: why"

    def within_pattern_room(self, stored: Mapping[int, list[str]]) -> ReadRows:
        """These rows, those that would take a chat past its limits on regular expressions
        (`bot.query.check_pattern_room`) rejected: `stored` holds the topics already watched
        by every chat that some row gives a regular expression."""
        kept = ReadRows(rejected=list(self.rejected))
        watching = {chat_id: list(topics) for chat_id, topics in stored.items()}
        for row, line in zip(self.accepted, self.lines, strict=True):
            topics = watching.get(row.chat_id)
            if topics is None:  # no regular expression for this chat in the file
                kept.accepted.append(row)
                kept.lines.append(line)
                continue
            try:
                check_pattern_room(topics, row.topic)
            except TopicError as error:
                kept.rejected.append(f"line {line}: {error}")
                continue
            topics.append(row.topic)
            kept.accepted.append(row)
            kept.lines.append(line)
        kept.rejected.sort(key=lambda reason: int(reason.split(":", 1)[0].removeprefix("line ")))
        return kept


def read_rows(rows: Sequence[Sequence[str]], lexicon: Lexicon) -> ReadRows:
    """The subscriptions of CSV rows, each topic stored in its canonical spelling (as
    `/subscribe` would store it); the rows that cannot be, with why."""
    keys: dict[str, str | TopicError] = {}  # a topic is typed again and again: parse it once
    read = ReadRows()
    for number, row in enumerate(rows, start=1):
        if number == 1 and row[:1] == [HEADER[0]]:
            continue
        try:
            subscription = _row(row, keys, lexicon)
        except ValueError as error:
            read.rejected.append(f"line {number}: {error}")
        else:
            read.accepted.append(subscription)
            read.lines.append(number)
    return read


def _row(
    row: Sequence[str], keys: dict[str, str | TopicError], lexicon: Lexicon
) -> SubscriptionRow:
    if not 2 <= len(row) <= len(HEADER):
        raise ValueError(
            "expected chat_id,topic[,level[,created[,silent,preview,muted_until"
            "[,thread_id,thread_name]]]]"
        )
    chat_id, topic = row[0], _unguarded(row[1])
    try:
        number = int(chat_id)
    except ValueError:
        raise ValueError("chat_id is not a number") from None
    key = keys.get(topic)
    if key is None:
        try:
            key = keys[topic] = parse_watch_item(topic, lexicon).key
        except TopicError as error:
            key = keys[topic] = error
    if isinstance(key, TopicError):
        raise ValueError(str(key))
    if len(row) == 2:  # the short form (most files): no options to check
        return SubscriptionRow(number, key, placed=False)
    level, created, silent, preview, muted, thread, thread_name = (*row[2:], *[""] * 7)[:7]
    level = level.strip().lower()
    if level and level not in _LEVELS:
        raise ValueError(f"level {level[:20]!r} is not one of {', '.join(sorted(_LEVELS))}")
    silent = silent.strip().lower()
    if silent and silent not in _YES_NO:
        raise ValueError(f"silent {silent[:20]!r} is not yes or no")
    preview = preview.strip().lower()
    if preview and preview not in _PREVIEWS:
        raise ValueError(f"preview {preview[:20]!r} is not one of {', '.join(sorted(_PREVIEWS))}")
    muted = muted.strip()
    thread_id = _thread_id(number, thread.strip())
    thread_name = _unguarded(thread_name.strip())
    if thread_name and thread_id is None:
        raise ValueError("thread_name without a thread_id")
    if len(thread_name) > MAX_THREAD_NAME:
        raise ValueError(f"thread_name is longer than {MAX_THREAD_NAME} characters")
    return SubscriptionRow(
        number,
        key,
        level or None,
        _time("created", created.strip()),
        _YES_NO[silent] if silent else None,
        preview or None,
        MUTED_FOREVER if muted.lower() == FOREVER else _time("muted_until", muted),
        thread_id,
        thread_name or None,
        placed=len(row) > HEADER.index("thread_id"),
    )


def _thread_id(chat_id: int, text: str) -> int | None:
    """A row's forum topic: a message id of a forum, which only a supergroup (-100…) is."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"thread_id {text[:20]!r} is not a forum topic's id (a whole number)")
    thread_id = int(text)
    if not 0 < thread_id <= MAX_THREAD_ID:
        raise ValueError(f"thread_id {text[:20]} is out of range (1 to {MAX_THREAD_ID})")
    if not LOWEST_CHANNEL_ID <= chat_id <= HIGHEST_CHANNEL_ID:
        raise ValueError(
            f"chat {chat_id} has no forum topics (only a supergroup, -100…, has): "
            "leave thread_id empty"
        )
    return thread_id


def _time(column: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{column} {text[:40]!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
