"""Channels managed from a private chat: reading which channel a command names, and deciding
from what Telegram says of the bot and of the user whether that user may manage it. A channel
cannot type commands, so `/subscribe @channel TOPIC` in a private chat acts on the channel.
Nothing here talks to Telegram."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# A public username (@ and 4-32 letters, digits and underscores, from a letter), or the numeric
# id the Bot API gives channels and supergroups: -(10**12 + the chat's own number), "-100…".
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_NUMBER = re.compile(r"-\d{13}")
LOWEST_CHANNEL_ID = -1_999_999_999_999
HIGHEST_CHANNEL_ID = -1_000_000_000_001
MANAGERS = frozenset({"creator", "administrator"})  # ChatMemberStatus values


class Refusal(Enum):
    """Why a user may not manage a channel through the bot."""

    NO_SUCH_CHANNEL = "no such channel"
    NOT_PRIVATE = "not from a private chat"
    BOT_NOT_IN = "the bot is not in the channel"
    BOT_CANNOT_POST = "the bot cannot post in the channel"
    NOT_ADMIN = "the user is not an administrator of the channel"


@dataclass(frozen=True, slots=True)
class Named:
    """A command's argument split into the channel it names first, if any, and the rest."""

    channel: str | int | None  # "@username", a numeric id, or None: the chat it was typed in
    rest: str
    malformed: bool = False  # the first word starts with "@" but is no username


def named_channel(argument: str) -> Named:
    """Read a channel named first in a command's argument ("@metals_desk copper" names
    @metals_desk; "-1001234567890 copper" names that id); anything else names none."""
    parts = argument.strip().split(maxsplit=1)
    first = parts[0] if parts else ""
    rest = parts[1] if len(parts) == 2 else ""
    if _USERNAME.fullmatch(first):
        return Named(first, rest)
    if _NUMBER.fullmatch(first) and is_channel_id(int(first)):
        return Named(int(first), rest)
    if first.startswith("@"):
        return Named(None, rest, malformed=True)
    return Named(None, argument)


def is_channel_id(chat_id: int) -> bool:
    """Whether a chat id is of the kind channels (and supergroups) have."""
    return LOWEST_CHANNEL_ID <= chat_id <= HIGHEST_CHANNEL_ID


def bot_refusal(status: str, *, can_post_messages: bool | None) -> Refusal | None:
    """Why the bot cannot post in a channel, from its getChatMember status and rights."""
    if status == "creator" or (status == "administrator" and can_post_messages):
        return None
    return Refusal.BOT_NOT_IN if status in ("left", "kicked") else Refusal.BOT_CANNOT_POST


def user_refusal(status: str) -> Refusal | None:
    """Whether a user's getChatMember status makes them one of the channel's managers."""
    return None if status in MANAGERS else Refusal.NOT_ADMIN
