"""The data behind inline buttons: one codec, so what a button carries is written and read in
one place. Anything a client sends back is untrusted: `decode` returns None for data that is
malformed, out of range or of a kind the bot never made, and the handler says the button is
no longer valid. What a button may act on (a subscription id, say) is still checked against
the chat that pressed it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.channels import HIGHEST_CHANNEL_ID, LOWEST_CHANNEL_ID
from bot.i18n import AUTOMATIC, LANGUAGES
from bot.localtime import is_zone

MAX_BYTES = 64  # Telegram's limit on callback data
MAX_ROW_ID = 2**63 - 1  # a database id (BIGINT)
MAX_OFFSET = 10_000


@dataclass(frozen=True, slots=True)
class SubscribeTo:
    """Subscribe to a suggested spelling of a topic."""

    topic: str


@dataclass(frozen=True, slots=True)
class RemoveSubscription:
    """A remove button under /list."""

    subscription_id: int


LevelName = Literal["main", "split", "all"]  # storage.models.Level
LEVELS: tuple[LevelName, ...] = ("main", "split", "all")


@dataclass(frozen=True, slots=True)
class SetLevel:
    """A level button of an item's options: what the item pushes at once."""

    subscription_id: int
    level: LevelName


@dataclass(frozen=True, slots=True)
class ShowItemOptions:
    """The options button of a /list row: that item's delivery options (or, `back`, the
    list again)."""

    subscription_id: int
    back: bool = False


OptionName = Literal["silent", "preview", "mute"]  # the level: `SetLevel`
OPTION_VALUES: dict[OptionName, tuple[str, ...]] = {
    "silent": ("on", "off"),
    "preview": ("off", "small", "large"),  # storage.models.Preview
    "mute": ("1d", "7d", "ever", "off"),
}


@dataclass(frozen=True, slots=True)
class SetItemOption:
    """A button of an item's options: set one of its delivery options."""

    subscription_id: int
    name: OptionName
    value: str


LessChoiceName = Literal["main", "mute", "source"]
LESS_CHOICES: tuple[LessChoiceName, ...] = ("main", "mute", "source")


@dataclass(frozen=True, slots=True)
class LessLikeThis:
    """The "less like this" button under an alert: its choices (or, `back`, the button
    again)."""

    alert_id: int
    back: bool = False


@dataclass(frozen=True, slots=True)
class LessChoice:
    """A choice under an alert: only main stories for an item, mute an item for 7 days (both
    by subscription id), or mute the alert's source (`subscription_id` 0)."""

    alert_id: int
    choice: LessChoiceName
    subscription_id: int = 0


@dataclass(frozen=True, slots=True)
class UndoLess:
    """Undo a choice: `previous` is what it changed (a level; for a mute the end of the mute
    before, in epoch seconds, or 0)."""

    alert_id: int
    choice: LessChoiceName
    subscription_id: int
    previous: str


@dataclass(frozen=True, slots=True)
class ShowEvidence:
    """The button under a list of headlines: why each came (the alerts sent as that message)."""


@dataclass(frozen=True, slots=True)
class MoreFacts:
    """The next page of /facts, from this offset."""

    offset: int


Question = Literal["facts", "related", "latest", "trend"]
QUESTIONS: tuple[Question, ...] = ("facts", "related", "latest", "trend")


SettingName = Literal["mode", "empty"]


@dataclass(frozen=True, slots=True)
class ChangeSetting:
    """A button under /settings."""

    name: SettingName
    value: str


@dataclass(frozen=True, slots=True)
class SubscribeToEach:
    """Subscribe to several topics at once, each its own watch item (`India` and `Chile`)."""

    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask a question (/facts, /related, /latest, /trend) about a topic: from a plain message,
    a suggested spelling, the typed one or an item of the watch-list."""

    question: Question
    topic: str


@dataclass(frozen=True, slots=True)
class SetTimezone:
    """One of the zones /timezone offers when what was typed is ambiguous or unknown."""

    zone: str


@dataclass(frozen=True, slots=True)
class SubscribeTested:
    """The button under a /test report: subscribe to the query tested. A query may be longer
    than a button can carry, so the button carries a token the chat's tested queries are kept
    under (`handlers.querytest`)."""

    token: str


TOKEN_LENGTH = 12  # hexadecimal digits


@dataclass(frozen=True, slots=True)
class ShowHelp:
    """The "all commands" button under the welcome."""


@dataclass(frozen=True, slots=True)
class ShowSettings:
    """The "settings" button under the welcome."""


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """A button under /language: an interface language, or `AUTOMATIC` (Telegram's)."""

    language: str


@dataclass(frozen=True, slots=True)
class InChannel:
    """A button under a reply about a channel, managed from a private chat: `action` acts on
    that channel (after checking again that the presser manages it)."""

    channel_id: int
    action: ChannelAction


# What a button may do to a channel: its watch-list and settings.
ChannelAction = (
    SubscribeTo
    | SubscribeToEach
    | RemoveSubscription
    | SetLevel
    | ShowItemOptions
    | SetItemOption
    | ChangeSetting
    | SetTimezone
)
CHANNEL_ACTIONS = (
    SubscribeTo,
    SubscribeToEach,
    RemoveSubscription,
    SetLevel,
    ShowItemOptions,
    SetItemOption,
    ChangeSetting,
    SetTimezone,
)

Callback = (
    SubscribeTo
    | RemoveSubscription
    | SetLevel
    | ShowItemOptions
    | SetItemOption
    | LessLikeThis
    | LessChoice
    | UndoLess
    | ShowEvidence
    | MoreFacts
    | ChangeSetting
    | SubscribeToEach
    | Ask
    | SetTimezone
    | SubscribeTested
    | ShowHelp
    | ShowSettings
    | SetLanguage
    | InChannel
)

MAX_TOPICS_PER_BUTTON = 5  # as many as the terms of one watch item `A-B-…`
_TOPIC_SEPARATOR = "|"  # never in a typed topic that `SubscribeToEach` is made from

_SETTING_VALUES: dict[str, frozenset[str]] = {
    "mode": frozenset({"instant", "digest", "both"}),
    "empty": frozenset({"line", "skip"}),
}


def encode(callback: Callback) -> str:
    """The callback data for a button (check `fits` for data built from user text)."""
    match callback:
        case SubscribeTo(topic):
            return f"sub:{topic}"
        case RemoveSubscription(subscription_id):
            return f"unsub:{subscription_id}"
        case SetLevel(subscription_id, level):
            return f"lvl:{subscription_id}:{level}"
        case ShowItemOptions(subscription_id, back):
            return f"opts:{subscription_id}" + (":back" if back else "")
        case SetItemOption(subscription_id, name, value):
            return f"opt:{subscription_id}:{name}:{value}"
        case LessLikeThis(alert_id, back):
            return f"less:{alert_id}" + (":back" if back else "")
        case LessChoice(alert_id, choice, subscription_id):
            return f"lessdo:{alert_id}:{choice}:{subscription_id}"
        case UndoLess(alert_id, choice, subscription_id, previous):
            return f"undo:{alert_id}:{choice}:{subscription_id}:{previous}"
        case ShowEvidence():
            return "why"
        case MoreFacts(offset):
            return f"facts:{offset}"
        case ChangeSetting(name, value):
            return f"set:{name}:{value}"
        case SubscribeToEach(topics):
            return "subs:" + _TOPIC_SEPARATOR.join(topics)
        case Ask(question, topic):
            return f"ask:{question}:{topic}"
        case SetTimezone(zone):
            return f"tz:{zone}"
        case SubscribeTested(token):
            return f"tested:{token}"
        case ShowHelp():
            return "help"
        case ShowSettings():
            return "settings"
        case SetLanguage(language):
            return f"lang:{language}"
        case InChannel(channel_id, action):
            return f"ch:{channel_id}:{encode(action)}"


def fits(callback: Callback) -> bool:
    """Whether the callback's data is within Telegram's 64 bytes."""
    return len(encode(callback).encode("utf-8")) <= MAX_BYTES


def decode(data: str) -> Callback | None:
    """What a button's data asks for, or None when the bot could not have made it."""
    kind, _, rest = data.partition(":")
    if kind == "sub" and rest.strip():
        return SubscribeTo(rest)
    if kind == "unsub":
        subscription_id = _number(rest, 1, MAX_ROW_ID)
        return None if subscription_id is None else RemoveSubscription(subscription_id)
    if kind == "lvl":
        number, _, level = rest.partition(":")
        subscription_id = _number(number, 1, MAX_ROW_ID)
        for known in LEVELS:
            if level == known and subscription_id is not None:
                return SetLevel(subscription_id, known)
        return None
    if kind in ("opts", "less"):
        number, _, back = rest.partition(":")
        row_id = _number(number, 1, MAX_ROW_ID)
        if row_id is None or back not in ("", "back"):
            return None
        return (
            ShowItemOptions(row_id, bool(back))
            if kind == "opts"
            else LessLikeThis(row_id, bool(back))
        )
    if kind == "opt":
        return _item_option(rest)
    if kind in ("lessdo", "undo"):
        return _less(kind, rest)
    if data == "why":
        return ShowEvidence()
    if kind == "facts":
        offset = _number(rest, 0, MAX_OFFSET)
        return None if offset is None else MoreFacts(offset)
    if kind == "ask":
        asked, _, topic = rest.partition(":")
        question = next((q for q in QUESTIONS if q == asked), None)
        return None if question is None or not topic.strip() else Ask(question, topic)
    if kind == "set":
        name, _, value = rest.partition(":")
        if name == "mode" and value in _SETTING_VALUES["mode"]:
            return ChangeSetting("mode", value)
        if name == "empty" and value in _SETTING_VALUES["empty"]:
            return ChangeSetting("empty", value)
    if kind == "subs":
        topics = tuple(rest.split(_TOPIC_SEPARATOR))
        if 2 <= len(topics) <= MAX_TOPICS_PER_BUTTON and all(t.strip() for t in topics):
            return SubscribeToEach(topics)
    if kind == "tz" and is_zone(rest):
        return SetTimezone(rest)
    if (
        kind == "tested"
        and len(rest) == TOKEN_LENGTH
        and all(c in "0123456789abcdef" for c in rest)
    ):
        return SubscribeTested(rest)
    if data == "help":
        return ShowHelp()
    if data == "settings":
        return ShowSettings()
    if kind == "lang" and (rest in LANGUAGES or rest == AUTOMATIC):
        return SetLanguage(rest)
    if kind == "ch":
        number, _, inner = rest.partition(":")
        digits = _number(number.removeprefix("-"), -HIGHEST_CHANNEL_ID, -LOWEST_CHANNEL_ID)
        action = decode(inner)
        if number.startswith("-") and digits is not None and isinstance(action, CHANNEL_ACTIONS):
            return InChannel(-digits, action)
    return None


def pattern(kind: type[Callback]) -> Callable[[object], bool]:
    """A `CallbackQueryHandler` pattern accepting well-formed data of one kind, also when it
    acts on a channel (`InChannel`)."""

    def matches(data: object) -> bool:
        decoded = decode(data) if isinstance(data, str) else None
        return isinstance(decoded.action if isinstance(decoded, InChannel) else decoded, kind)

    return matches


def _item_option(rest: str) -> SetItemOption | None:
    number, _, option = rest.partition(":")
    name, _, value = option.partition(":")
    subscription_id = _number(number, 1, MAX_ROW_ID)
    for known, values in OPTION_VALUES.items():
        if name == known and value in values and subscription_id is not None:
            return SetItemOption(subscription_id, known, value)
    return None


MAX_EPOCH = 10**12  # the end of a mute, in seconds (MUTED_FOREVER is about 2.5e11)


def _less(kind: str, rest: str) -> LessChoice | UndoLess | None:
    parts = rest.split(":")
    if len(parts) != (3 if kind == "lessdo" else 4):
        return None
    alert_id, subscription_id = _number(parts[0], 1, MAX_ROW_ID), _number(parts[2], 0, MAX_ROW_ID)
    choice = next((c for c in LESS_CHOICES if c == parts[1]), None)
    if alert_id is None or subscription_id is None or choice is None:
        return None
    if (choice == "source") != (subscription_id == 0):
        return None
    if kind == "lessdo":
        return LessChoice(alert_id, choice, subscription_id)
    previous = parts[3]
    valid = (
        previous in LEVELS
        if choice == "main"
        else _number(previous, 0, MAX_EPOCH) is not None
        if choice == "mute"
        else previous == "0"
    )
    return UndoLess(alert_id, choice, subscription_id, previous) if valid else None


def _number(text: str, low: int, high: int) -> int | None:
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None
