"""Watch-lists as CSV, one format for `/export`, `tradebot subscriptions export` and
`tradebot subscriptions import`: ``chat_id,topic,level,created`` with a header row, the time in
ISO 8601 UTC. Import also reads the two-column ``chat_id,topic`` files of earlier versions,
and every row is checked as `/subscribe` checks a topic; a bad row is reported, not stored."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.feeds import as_utc
from bot.lexicon import Lexicon
from bot.topics import TopicError, parse_watch_item
from storage.models import Level
from storage.queries import SubscriptionRow

HEADER = ("chat_id", "topic", "level", "created")
# A cell starting with one of these is a formula to a spreadsheet: such a topic is written
# after an apostrophe (shown as text), which reading takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LEVELS = frozenset(level.value for level in Level)


def write_csv(rows: Iterable[SubscriptionRow]) -> str:
    """The rows as CSV text, header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        created = as_utc(row.created_at)
        writer.writerow(
            [
                row.chat_id,
                f"'{row.topic}" if row.topic.startswith(_FORMULA_START) else row.topic,
                row.level or "",
                created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else "",
            ]
        )
    return out.getvalue()


@dataclass(slots=True)
class ReadRows:
    accepted: list[SubscriptionRow] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "line N: why"


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
    return read


def _row(
    row: Sequence[str], keys: dict[str, str | TopicError], lexicon: Lexicon
) -> SubscriptionRow:
    if not 2 <= len(row) <= len(HEADER):
        raise ValueError("expected chat_id,topic[,level[,created]]")
    chat_id, topic, level, created = (*row, "", "")[:4]
    if topic.startswith("'") and topic[1:].startswith(_FORMULA_START):
        topic = topic[1:]
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
    level = level.strip().lower()
    if level and level not in _LEVELS:
        raise ValueError(f"level {level[:20]!r} is not one of {', '.join(sorted(_LEVELS))}")
    return SubscriptionRow(number, key, level or None, _created(created.strip()))


def _created(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"created {text[:40]!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
