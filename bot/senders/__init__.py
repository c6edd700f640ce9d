"""Senders: one module per delivery channel, behind one small interface.

The dispatcher (`bot.delivery`) knows where a message goes — a `Destination`: a Telegram chat
(a channel is a chat), one of its forum topics, or the chat's webhook — and hands what it
rendered to the sender of that destination's channel, which answers with a `SendResult`.
`telegram.py` sends HTML messages at Telegram's pace and maps its errors; `webhook.py` posts
an alert as signed JSON. Adding a channel (Slack, email) is one more module with a `Sender`
and one more `Channel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import NamedTuple, Protocol, TypeVar

from storage.models import NO_THREAD


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WEBHOOK = "webhook"


class Destination(NamedTuple):
    """Where a message goes: a chat (a channel is one) or a forum topic of it, on a channel."""

    chat_id: int
    thread_id: int = NO_THREAD  # a forum topic; NO_THREAD: the chat itself (a forum's General)
    channel: Channel = Channel.TELEGRAM

    def general(self) -> Destination:
        """The chat itself: a forum's General topic."""
        return self._replace(thread_id=NO_THREAD)


class SendStatus(Enum):
    SENT = "sent"
    STOPPED = "stopped"  # the dispatcher is stopping: not sent
    UNREACHABLE = "unreachable"  # blocked or gone: the chat is now inactive
    THREAD_GONE = "thread gone"  # the forum topic was deleted: not sent
    REJECTED = "rejected"  # refused this message: sending it again will not help
    TRANSIENT = "transient"  # 5xx or network: worth another try later
    UNCHANGED = "unchanged"  # an edit that changed nothing ("message is not modified")
    GONE = "gone"  # the message to edit is no longer there (deleted in the chat)


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    message_id: int | None = None
    error: str = ""


Message_contra = TypeVar("Message_contra", contravariant=True)


class Sender(Protocol[Message_contra]):
    """Sends a rendered message of its channel to a destination on that channel."""

    async def send(self, destination: Destination, message: Message_contra) -> SendResult: ...
