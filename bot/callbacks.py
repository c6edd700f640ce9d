"""The data behind inline buttons: one codec, so what a button carries is written and read in
one place. Anything a client sends back is untrusted: `decode` returns None for data that is
malformed, out of range or of a kind the bot never made, and the handler says the button is
no longer valid. What a button may act on (a subscription id, say) is still checked against
the chat that pressed it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

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
    """A level button under /list: what one watch item pushes at once."""

    subscription_id: int
    level: LevelName


@dataclass(frozen=True, slots=True)
class ShowEvidence:
    """The button under a list of headlines: why each came (the alerts sent as that message)."""


@dataclass(frozen=True, slots=True)
class MoreFacts:
    """The next page of /facts, from this offset."""

    offset: int


SettingName = Literal["mode", "empty"]


@dataclass(frozen=True, slots=True)
class ChangeSetting:
    """A button under /settings."""

    name: SettingName
    value: str


Callback = SubscribeTo | RemoveSubscription | SetLevel | ShowEvidence | MoreFacts | ChangeSetting

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
        case ShowEvidence():
            return "why"
        case MoreFacts(offset):
            return f"facts:{offset}"
        case ChangeSetting(name, value):
            return f"set:{name}:{value}"


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
    if data == "why":
        return ShowEvidence()
    if kind == "facts":
        offset = _number(rest, 0, MAX_OFFSET)
        return None if offset is None else MoreFacts(offset)
    if kind == "set":
        name, _, value = rest.partition(":")
        if name == "mode" and value in _SETTING_VALUES["mode"]:
            return ChangeSetting("mode", value)
        if name == "empty" and value in _SETTING_VALUES["empty"]:
            return ChangeSetting("empty", value)
    return None


def pattern(kind: type[Callback]) -> Callable[[object], bool]:
    """A `CallbackQueryHandler` pattern accepting well-formed data of one kind."""

    def matches(data: object) -> bool:
        return isinstance(data, str) and isinstance(decode(data), kind)

    return matches


def _number(text: str, low: int, high: int) -> int | None:
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None
