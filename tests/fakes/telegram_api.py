"""An in-process fake of the Telegram Bot API for tests.

`FakeTelegram` is an aiohttp server on 127.0.0.1 that answers the Bot API methods tradebot uses
closely enough that a real python-telegram-bot v22 ``Application`` (built with
``ApplicationBuilder().token(fake.token).base_url(fake.base_url)``) can poll, send, edit and
answer callback queries against it. It runs in the test's own event loop::

    async with FakeTelegram() as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        ...
        fake.add_message(42, "/start")
        [reply] = await fake.wait_for_sent(chat_id=42)

What users do is injected with `add_message` / `add_callback` (and `delete_in_chat`, which
tells the bot nothing, as in Telegram); what Telegram does wrong is
injected with `fail_next`, `block_chat` and `set_rate_limits`. Everything the bot did is
recorded in `sent`, `calls`, `callback_answers` and `commands`.

Validation follows Telegram where it is cheap to do so (HTML parse mode, length limits counted
in UTF-16 code units after entity parsing, callback data size, "message is not modified", ...).
Deliberate differences from the real server:

* an unknown named HTML entity such as ``&nbsp;`` is rejected (Telegram keeps it as literal
  text, which is almost always a bug in the bot); pass ``strict_html_entities=False`` to get
  Telegram's behaviour;
* Markdown / MarkdownV2 are accepted without validation;
* sending to a chat the fake has never seen works unless ``strict_chats=True``;
* ``message_thread_id`` is only known in forum supergroups (`add_forum`); elsewhere, and for a
  topic that does not exist or was deleted, it is "message thread not found"; a message in a
  topic that replies to no other message replies to the topic's ``forum_topic_created``
  service message, as Telegram sends it (that is where a bot reads the topic's name);
* the bot is a member of every group it hears from and an administrator (who may post) of
  every channel, unless `set_member_status` says otherwise for ``fake.bot_user["id"]``.

Forums, channels and rights: `add_forum`, `add_forum_topic` and `delete_forum_topic`;
`add_channel`; `set_member_status` with administrator rights such as ``can_post_messages`` or
``can_manage_topics``; `createForumTopic` and `getChat`. The command menus the bot set per
scope and language are in `commands_for`, and `menu_for` resolves the one a user sees the way
Telegram's clients do.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = [
    "Call",
    "FakeTelegram",
    "SentMessage",
    "TelegramHTMLError",
    "parse_telegram_html",
    "parse_telegram_html_entities",
    "utf16_len",
]

JSONDict = dict[str, Any]
ChatId = int | str

DEFAULT_TOKEN = "123456:TEST-TOKEN"
DEFAULT_GROUP_USER_ID = 1001
# The user Telegram names as the sender of an anonymous group administrator's message.
GROUP_ANONYMOUS_BOT: JSONDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64

BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"
CONFLICT_DESCRIPTION = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
QUERY_TOO_OLD_DESCRIPTION = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
THREAD_NOT_FOUND_DESCRIPTION = "Bad Request: message thread not found"
EDIT_NOT_FOUND_DESCRIPTION = "Bad Request: message to edit not found"
NOT_A_FORUM_DESCRIPTION = "Bad Request: the chat is not a forum"
TOPIC_RIGHTS_DESCRIPTION = "Bad Request: not enough rights to create a topic"
CHANNEL_RIGHTS_DESCRIPTION = "Bad Request: need administrator rights in the channel chat"
NOT_IN_CHANNEL_DESCRIPTION = "Forbidden: bot is not a member of the channel chat"
DEFAULT_TOPIC_ICON_COLOR = 0x6FB9F0
MAX_TOPIC_NAME_LENGTH = 128
# Administrator rights every ChatMemberAdministrator carries, then those of one kind of chat.
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
CHAT_ADMIN_RIGHTS = {
    "channel": ("can_post_messages", "can_edit_messages"),
    "supergroup": ("can_pin_messages", "can_manage_topics"),
    "group": ("can_pin_messages",),
}
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
NOT_MODIFIED_DESCRIPTION = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def utf16_len(text: str) -> int:
    """Return the length of `text` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------


class TelegramHTMLError(ValueError):
    """Telegram would reject the text with ``Bad Request: can't parse entities: ...``.

    ``str(error)`` and `description` are Telegram's full description; `reason` is the part after
    ``can't parse entities:``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.description = f"Bad Request: can't parse entities: {reason}"
        super().__init__(self.description)


_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "blockquote",
        "span",
        "tg-spoiler",
        "tg-emoji",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# TDLib's is_space(); NUL doubles as "end of text", as in TDLib's C strings.
_SPACES = frozenset(" \t\r\n\v\0")
_END = "\0"
_DEC_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_ASCII_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_ALNUM = _ASCII_ALPHA | _DEC_DIGITS
_ATTRIBUTE_NAME_STOP = frozenset("=>/\"'")


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset of the tag's content in the plain text
    out_index: int  # index into the parser's output pieces where the content starts


class _HTMLParser:
    """A port of the algorithm of TDLib's ``parse_html`` (what the Bot API runs)."""

    def __init__(self, text: str, *, strict_entities: bool) -> None:
        self.text = text
        self.strict_entities = strict_entities
        self.out: list[str] = []
        self.utf16_offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []
        self.decoded_surrogate = False

    def at(self, index: int) -> str:
        return self.text[index] if index < len(self.text) else _END

    def byte_offset(self, index: int) -> int:
        return len(self.text[:index].encode("utf-8", "surrogatepass"))

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.utf16_offset += utf16_len(chars)

    def parse(self) -> tuple[str, list[JSONDict]]:
        i = 0
        while i < len(self.text):
            char = self.text[i]
            if char == "&":
                decoded = self.decode_reference(i)
                if decoded is not None:
                    value, i = decoded
                    self.emit(value)
                    continue
            if char != "<":
                self.emit(char)
                i += 1
                continue
            begin = i
            i = self.start_tag(begin) if self.at(begin + 1) != "/" else self.end_tag(begin)
            i += 1  # past the tag's '>'
        if self.stack:
            raise TelegramHTMLError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        if self.decoded_surrogate:
            raise TelegramHTMLError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)  # a language only counts on <pre><code>
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.out), self.entities

    def decode_reference(self, pos: int) -> tuple[str, int] | None:
        """Decode the character reference at `pos` ('&'): (character, position after it).

        None means "not a reference": the '&' is kept as text.
        """
        end = pos + 1
        if self.at(end) == "#":
            end += 1
            is_hex = self.at(end) == "x"
            if is_hex:
                end += 1
            digits_begin = end
            digits = _HEX_DIGITS if is_hex else _DEC_DIGITS
            while self.at(end) in digits:
                end += 1
            number = self.text[digits_begin:end]
            if not number or end - pos >= 10:
                return None
            code = int(number, 16 if is_hex else 10)
            if code == 0 or code >= 0x10FFFF:
                return None
            if 0xD800 <= code <= 0xDFFF:
                self.decoded_surrogate = True
            value = chr(code)
        else:
            while self.at(end) in _ASCII_ALPHA:
                end += 1
            name = self.text[pos + 1 : end]
            named = _NAMED_ENTITIES.get(name)
            if named is None:
                if self.strict_entities and name and self.at(end) == ";":
                    raise TelegramHTMLError(
                        f'Unsupported HTML entity "&{name};" at byte offset {self.byte_offset(pos)}'
                    )
                return None
            value = named
        if self.at(end) == ";":
            end += 1
        return value, end

    def skip_spaces(self, i: int) -> int:
        while self.at(i) != _END and self.at(i) in _SPACES:
            i += 1
        return i

    def start_tag(self, begin: int) -> int:
        """Parse the start tag at `begin` ('<'); return the index of its '>'."""
        offset = self.byte_offset(begin)
        i = begin + 1
        while self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        if self.at(i) == _END:
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {offset}")
        name = self.text[begin + 1 : i].lower()
        if name not in _SUPPORTED_TAGS:
            raise TelegramHTMLError(f'Unsupported start tag "{name}" at byte offset {offset}')

        argument = ""
        while self.at(i) != ">":
            i = self.skip_spaces(i)
            if self.at(i) == ">":
                break
            attribute_begin = i
            while self.at(i) not in _SPACES and self.at(i) not in _ATTRIBUTE_NAME_STOP:
                i += 1
            attribute = self.text[attribute_begin:i]
            if not attribute:
                raise TelegramHTMLError(
                    f'Empty attribute name in the tag "{name}" at byte offset {offset}'
                )
            i = self.skip_spaces(i)
            if self.at(i) != "=":
                if self.at(i) == _END:
                    raise TelegramHTMLError(f'Unclosed start tag "{name}" at byte offset {offset}')
                if name == "blockquote" and attribute == "expandable":
                    argument = "1"
                continue
            i = self.skip_spaces(i + 1)
            if self.at(i) == _END:
                raise TelegramHTMLError(f'Unclosed start tag "{name}" at byte offset {offset}')
            value, i = self.attribute_value(i)
            if self.at(i) == _END:
                raise TelegramHTMLError(f"Unclosed start tag at byte offset {offset}")
            if (name, attribute) in {("a", "href"), ("tg-emoji", "emoji-id")}:
                argument = value
            elif name == "code" and attribute == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif name == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif name == "blockquote" and attribute == "expandable":
                argument = "1"

        if name == "span" and argument != "spoiler":
            raise TelegramHTMLError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        self.stack.append(_OpenTag(name, argument, self.utf16_offset, len(self.out)))
        return i

    def attribute_value(self, i: int) -> tuple[str, int]:
        """Parse an attribute value (name token or quoted string) at `i`."""
        quote = self.at(i)
        if quote not in {'"', "'"}:
            token_begin = i
            while self.at(i) in _ASCII_ALNUM or self.at(i) in {".", "-"}:
                i += 1
            if self.at(i) not in _SPACES and self.at(i) != ">":
                raise TelegramHTMLError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}"
                )
            return self.text[token_begin:i].lower(), i
        i += 1
        chars: list[str] = []
        while self.at(i) != quote and self.at(i) != _END:
            if self.at(i) == "&":
                decoded = self.decode_reference(i)
                if decoded is not None:
                    chars.append(decoded[0])
                    i = decoded[1]
                    continue
            chars.append(self.text[i])
            i += 1
        if self.at(i) == quote:
            i += 1
        return "".join(chars), i

    def end_tag(self, begin: int) -> int:
        """Parse the end tag at `begin` ('</'); return the index of its '>'."""
        offset = self.byte_offset(begin)
        if not self.stack:
            raise TelegramHTMLError(f"Unexpected end tag at byte offset {offset}")
        i = begin + 2
        while self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        end_name = self.text[begin + 2 : i].lower()
        while self.at(i) in _SPACES and self.at(i) != _END:
            i += 1
        if self.at(i) != ">":
            raise TelegramHTMLError(f"Unclosed end tag at byte offset {offset}")
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise TelegramHTMLError(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16_offset > open_tag.offset:
            self.add_entity(open_tag, self.utf16_offset - open_tag.offset)
        self.stack.pop()
        return i

    def add_entity(self, tag: _OpenTag, length: int) -> None:
        entity: JSONDict = {"offset": tag.offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last["offset"] == tag.offset and last["length"] == length
        if tag.name in _SIMPLE_ENTITY_TYPES:
            entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
        elif tag.name == "tg-emoji":
            if not tag.argument.isdecimal() or int(tag.argument) <= 0:
                raise TelegramHTMLError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "a":
            url = tag.argument or "".join(self.out[tag.out_index :])
            if not url:
                return
            entity.update(type="text_link", url=url)
        elif tag.name == "blockquote":
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        elif tag.name == "pre":
            if last is not None and same_span and last["type"] == "code" and "language" in last:
                last["type"] = "pre"  # <pre><code class="language-x">...</code></pre>
                return
            entity["type"] = "pre"
        else:  # code
            if last is not None and same_span and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity["type"] = "code"
            if tag.argument:
                entity["language"] = tag.argument
        self.entities.append(entity)


def parse_telegram_html_entities(
    text: str, *, strict_entities: bool = True
) -> tuple[str, list[JSONDict]]:
    """Parse `text` as Telegram's ``parse_mode=HTML``: return (plain text, message entities).

    Entities are Bot API ``MessageEntity`` dicts with UTF-16 offsets. Raises
    `TelegramHTMLError` (a ValueError) with Telegram's description on malformed markup.
    With `strict_entities` (default) an unknown named entity such as ``&nbsp;`` is an error;
    Telegram itself would keep it as literal text.
    """
    return _HTMLParser(text, strict_entities=strict_entities).parse()


def parse_telegram_html(text: str, *, strict_entities: bool = True) -> str:
    """Return the plain text Telegram would show for `text` sent with ``parse_mode=HTML``.

    Raises `TelegramHTMLError` (a ValueError whose message is Telegram's description, e.g.
    ``Bad Request: can't parse entities: Unsupported start tag "p" at byte offset 0``).
    """
    return parse_telegram_html_entities(text, strict_entities=strict_entities)[0]


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class SentMessage:
    """One successful send*/edit* call, as recorded by `FakeTelegram.sent`.

    `text` is the raw text (the caption for sendPhoto/sendDocument, None for
    editMessageReplyMarkup) exactly as the bot sent it, markup included; `plain_text` is what
    Telegram would display (tags removed, entities decoded).
    """

    method: str
    chat_id: int
    text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    message_id: int
    params: dict[str, str]
    at: float
    plain_text: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    file_size: int | None = None
    file_name: str | None = None
    message_thread_id: int | None = None  # the forum topic the message is in
    disable_notification: bool = False
    link_preview_options: JSONDict | None = None


@dataclass
class Call:
    """One API call. `status` is 200, an error code, or 0 while the call is still pending."""

    method: str
    params: dict[str, str]
    status: int
    at: float
    description: str | None = None


@dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _FailureRule:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: ChatId | None
    remaining: int


@dataclass
class _RateLimits:
    per_second: float | None
    per_chat_per_second: float | None
    group_per_minute: int | None
    retry_after: int


@dataclass
class _StoredMessage:
    message: JSONDict
    from_bot: bool


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


def default_error_description(status: int, retry_after: int | None = None) -> str:
    """Telegram's usual description for an error `status`."""
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: BLOCKED_DESCRIPTION,
        404: "Not Found",
        409: CONFLICT_DESCRIPTION,
        429: f"Too Many Requests: retry after {retry_after if retry_after is not None else 1}",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_Params = dict[str, str]
_Files = dict[str, _Upload]
_Handler = Callable[[_Params, _Files], Awaitable[Any]]

_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile: bots download files of up to 20 MB
MAX_INLINE_RESULTS = 50
MAX_INLINE_BUTTONS = 100  # buttons of one inline keyboard
MAX_INLINE_QUERY_LENGTH = 256
_INLINE_CHAT_TYPES = frozenset({"sender", "private", "group", "supergroup", "channel"})
_START_PARAMETER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _command_entities(text: str) -> list[JSONDict]:
    """bot_command entities for every /command in `text`, as Telegram attaches them."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND_RE.finditer(text)
    ]


def _int_param(params: _Params, name: str, default: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(float(raw))
    except ValueError:
        raise _bad_request(f"wrong parameter {name} specified") from None


def _float_param(params: _Params, name: str, default: float) -> float:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise _bad_request(f"wrong parameter {name} specified") from None


def _as_param(value: Any) -> str:
    """Render a JSON-body value the way PTB would have form-encoded it."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _link_preview_options(params: _Params) -> JSONDict | None:
    """The ``link_preview_options`` of a send or edit, as the object it encodes."""
    raw = params.get("link_preview_options")
    if not raw:
        return None
    try:
        options = json.loads(raw)
    except ValueError:
        options = None
    if not isinstance(options, dict):
        raise _bad_request("can't parse link preview options JSON object")
    return options


def _validate_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise _bad_request(prefix + "InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise _bad_request(prefix + 'Can\'t find field "text"')
    if not text.strip():
        raise _bad_request("inline keyboard button text must be non-empty")
    actions = [
        name
        for name in _INLINE_BUTTON_ACTIONS
        if name in button and not (name == "callback_data" and button[name] == "")
    ]
    if not actions:
        raise _bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str):
            raise _bad_request(prefix + 'Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")
    if "url" in actions and (not isinstance(button["url"], str) or not button["url"].strip()):
        raise _bad_request("BUTTON_URL_INVALID")


def _admin_rights(chat_type: str, overrides: dict[str, bool]) -> dict[str, bool]:
    """An administrator's rights in a chat of `chat_type`: everything but promoting members
    and (in a supergroup) managing topics, unless `overrides` says otherwise."""
    rights = dict.fromkeys(ADMIN_RIGHTS, True)
    rights.update(dict.fromkeys(CHAT_ADMIN_RIGHTS.get(chat_type, ()), True))
    rights.update({"can_promote_members": False})
    if chat_type == "supergroup":
        rights["can_manage_topics"] = False
    rights.update({name: value for name, value in overrides.items() if name in rights})
    return rights


def _scope_key(scope: JSONDict) -> str:
    return json.dumps(scope, sort_keys=True)


def _chat_member(
    status: str, user: JSONDict, *, chat_type: str, rights: dict[str, bool] | None = None
) -> JSONDict:
    """A ChatMember object of the kind `status` names, with the fields Telegram sends."""
    member: JSONDict = {"status": status, "user": dict(user)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": False})
        member.update(_admin_rights(chat_type, rights or {}))
    elif status == "restricted":
        permissions = (
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
            "can_edit_tag",
            "can_react_to_messages",
        )
        member.update(dict.fromkeys(permissions, False))
        member.update({"is_member": True, "until_date": 0})
    elif status == "kicked":
        member["until_date"] = 0
    return member


def parse_reply_markup(raw: str | None) -> JSONDict | None:
    """Parse and validate a ``reply_markup`` parameter like Telegram; None if absent."""
    if raw is None or raw == "":
        return None
    try:
        markup = json.loads(raw)
    except ValueError:
        raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for key in ("inline_keyboard", "keyboard"):
        if key not in markup:
            continue
        rows = markup[key]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(f'field "{key}" must be an Array of Arrays')
        if key == "inline_keyboard" and sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise _bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                if key == "inline_keyboard":
                    _validate_inline_button(button)
                    continue
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text.strip():
                    raise _bad_request("keyboard button text must be non-empty")
        return markup
    if "remove_keyboard" in markup or "force_reply" in markup:
        return markup
    raise _bad_request("can't parse reply keyboard markup JSON object")


def format_text(
    text: str, parse_mode: str | None, *, strict_entities: bool = True
) -> tuple[str, list[JSONDict]]:
    """Apply `parse_mode` to `text` like Telegram: (plain text, entities) or an API error."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        try:
            return parse_telegram_html_entities(text, strict_entities=strict_entities)
        except TelegramHTMLError as exc:
            raise _ApiError(400, exc.description) from None
    if mode in {"markdown", "markdownv2"}:
        return text, []  # accepted without validation (see module docstring)
    raise _bad_request("unsupported parse_mode")


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A fake Telegram Bot API server for PTB-driven tests (see the module docstring).

    Start it with ``await fake.start()`` / ``await fake.stop()`` or ``async with``; then
    `base_url` is ``http://127.0.0.1:PORT/bot`` (PTB appends the token and the method).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_user: JSONDict | None = None,
        strict_chats: bool = False,
        strict_html_entities: bool = True,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: JSONDict = bot_user or {
            "id": bot_id,
            "is_bot": True,
            "first_name": "TradeBot",
            "username": "tradebot_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_chats = strict_chats
        self.strict_html_entities = strict_html_entities
        #: Seconds every call except getUpdates waits before being answered.
        self.latency = 0.0

        # records
        self.sent: list[SentMessage] = []
        self.calls: list[Call] = []
        self.callback_answers: list[dict[str, str]] = []
        self.commands: list[JSONDict] = []
        self.deleted: list[tuple[int, int]] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.inline_answers: list[JSONDict] = []  # answerInlineQuery calls, results parsed
        self.too_many_requests = 0

        # state
        self._base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._updates_event = asyncio.Event()
        self._activity_event = asyncio.Event()
        self._poll_generation = 0
        self._allowed_updates: frozenset[str] | None = None
        self._webhook_url = ""
        self._chats: dict[int, JSONDict] = {}
        self._channel_ids: dict[str, int] = {}
        self._users: dict[int, JSONDict] = {}
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._callback_ids = itertools.count(4_000_000_000_001)
        self._open_callbacks: set[str] = set()
        self._file_ids = itertools.count(1)
        self._files: dict[str, _Upload] = {}  # file_id -> content, for getFile and downloads
        self._inline_query_ids = itertools.count(5_000_000_000_001)
        self._open_inline_queries: set[str] = set()
        self._failures: list[_FailureRule] = []
        self._blocked: set[int] = set()
        self._member_statuses: dict[tuple[int, int], str] = {}
        self._seen_in: set[tuple[int, int]] = set()  # (chat, user): wrote or pressed there
        self._rate_limits: _RateLimits | None = None
        self._send_log: deque[tuple[float, int]] = deque()
        self._stubs: dict[str, Any] = {}
        self._forums: dict[int, dict[int, str]] = {}  # chat → its topics (thread id → name)
        self._member_rights: dict[tuple[int, int], dict[str, bool]] = {}
        # (scope as JSON with sorted keys, language code) → the commands set for it
        self._command_menus: dict[tuple[str, str], list[JSONDict]] = {}
        # setMyDescription / setMyShortDescription: (kind, language_code) → text
        self._descriptions: dict[tuple[str, str], str] = {}
        self._user_languages: dict[int, str] = {}
        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "answerInlineQuery": self._answer_inline_query,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "getChatMember": self._get_chat_member,
            "getChat": self._get_chat,
            "createForumTopic": self._create_forum_topic,
        }.items():
            self._handlers[name.lower()] = (name, handler)

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot``; PTB appends ``{token}/{method}``."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot``, where files are downloaded from (PTB appends
        ``{token}/{file_path}``), as ``https://api.telegram.org/file/bot`` for the real API."""
        return self.base_url.removesuffix("/bot") + "/file/bot"

    async def start(self) -> None:
        """Start serving on a free port of 127.0.0.1."""
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._base_url = f"http://{host}:{port}/bot"

    async def stop(self) -> None:
        """Answer pending long polls with no updates and shut the server down."""
        self._closing = True
        self._notify_updates()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------- injecting user actions

    def add_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ann",
        anonymous_admin: bool = False,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a user's text message for getUpdates; return the update dict.

        ``/commands`` get ``bot_command`` entities like Telegram attaches them. In a group
        (`chat_type` "group"/"supergroup") the sender defaults to `DEFAULT_GROUP_USER_ID`;
        with `anonymous_admin` the message is sent on behalf of the group, as Telegram sends
        an anonymous administrator's (``sender_chat`` the group, ``from`` GroupAnonymousBot);
        a "channel" produces a ``channel_post`` without a sender. In a forum (`add_forum`) a
        message in a topic carries the topic's `message_thread_id` and ``is_topic_message``;
        without one it is in the General topic.
        """
        if chat_id in self._forums:
            chat_type = "supergroup"
        if message_thread_id is not None and message_thread_id not in self._forums.get(chat_id, {}):
            raise ValueError(f"chat {chat_id} has no forum topic {message_thread_id}")
        chat = self._remember_chat(chat_id, chat_type, first_name)
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": dict(chat),
            "text": text,
        }
        if message_thread_id is not None:
            message.update(message_thread_id=message_thread_id, is_topic_message=True)
            message["reply_to_message"] = self._topic_opening(chat_id, message_thread_id)
        kind = "message"
        if chat_type == "channel":
            kind = "channel_post"
            message["sender_chat"] = dict(chat)
        elif anonymous_admin:
            message["sender_chat"] = dict(chat)
            message["from"] = dict(GROUP_ANONYMOUS_BOT)
        else:
            user = self._remember_user(self._default_user_id(chat_id, user_id), first_name)
            message["from"] = dict(user)
            self._seen_in.add((chat_id, user["id"]))
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        self._messages[(chat_id, message["message_id"])] = _StoredMessage(message, False)
        return self._enqueue({kind: message})

    def edit_user_message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """Queue the user's edit of their message `message_id` (an ``edited_message`` update,
        or ``edited_channel_post`` in a channel, with an ``edit_date``); return the update."""
        stored = self._messages[(chat_id, message_id)]
        message = copy.deepcopy(stored.message)
        message["text"] = text
        message["edit_date"] = int(time.time())
        message.pop("entities", None)
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        self._messages[(chat_id, message_id)] = _StoredMessage(message, False)
        kind = "edited_channel_post" if "sender_chat" in message else "edited_message"
        return self._enqueue({kind: message})

    def delete_in_chat(self, chat_id: int, message_id: int) -> None:
        """A user deletes a message for everyone (in a private chat, the bot's too): Telegram
        sends the bot no update, and editing it is "message to edit not found"."""
        del self._messages[(chat_id, message_id)]

    def add_callback(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int,
        user_id: int | None = None,
    ) -> str:
        """Queue a press of an inline button carrying `data`; return the callback_query id.

        The callback's ``message`` is the bot's recorded message `message_id` in `chat_id`
        (as last edited), or a minimal bot message with that id if the fake has none.
        """
        stored = self._messages.get((chat_id, message_id))
        if stored is not None and stored.from_bot:
            message = copy.deepcopy(stored.message)
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat_for(chat_id, lenient=True),
                "from": self._bot_from(),
            }
        uid = self._default_user_id(chat_id, user_id)
        user = self._users.get(uid) or self._remember_user(uid, "Ann")
        self._seen_in.add((chat_id, uid))
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": dict(user),
                    "message": message,
                    "chat_instance": str(abs(chat_id) * 7 + 1),
                    "data": data,
                }
            }
        )
        return query_id

    def add_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ann",
    ) -> dict[str, Any]:
        """Queue a user's message carrying a file (a ``document``, with an optional caption);
        return the update. The bot fetches the content as from Telegram: getFile, then a
        download from `base_file_url`."""
        chat = self._remember_chat(chat_id, chat_type, first_name)
        user = self._remember_user(self._default_user_id(chat_id, user_id), first_name)
        self._seen_in.add((chat_id, user["id"]))
        file_id = f"FAKE-USER-DOCUMENT-{next(self._file_ids)}"
        self._files[file_id] = _Upload(file_name, mime_type, data)
        document: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"U{file_id[-12:]}",
            "file_name": file_name,
            "file_size": len(data),
        }
        if mime_type:
            document["mime_type"] = mime_type
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": dict(user),
            "document": document,
        }
        if caption:
            message["caption"] = caption
        self._messages[(chat_id, message["message_id"])] = _StoredMessage(message, False)
        return self._enqueue({"message": message})

    def add_inline_query(
        self, query: str, *, user_id: int = 42, chat_type: str = "sender", offset: str = ""
    ) -> str:
        """Queue what a user typed after the bot's @username in a chat of `chat_type`
        ("sender": their chat with the bot); return the inline query id. Like Telegram, this
        needs inline mode on (``bot_user["supports_inline_queries"]``, set with BotFather's
        /setinline) and cuts the query at 256 characters."""
        if not self.bot_user.get("supports_inline_queries"):
            raise ValueError("inline mode is off: Telegram sends no inline queries (/setinline)")
        if chat_type not in _INLINE_CHAT_TYPES:
            raise ValueError(f"unknown inline chat type {chat_type!r}")
        user = self._users.get(user_id) or self._remember_user(user_id, "Ann")
        query_id = str(next(self._inline_query_ids))
        self._open_inline_queries.add(query_id)
        self._enqueue(
            {
                "inline_query": {
                    "id": query_id,
                    "from": dict(user),
                    "query": query[:MAX_INLINE_QUERY_LENGTH],
                    "offset": offset,
                    "chat_type": chat_type,
                }
            }
        )
        return query_id

    def file_content(self, file_id: str) -> bytes:
        """The content of a file the fake knows: one a user sent or the bot uploaded."""
        return self._files[file_id].data

    async def wait_for_inline_answer(self, query_id: str, *, timeout: float = 5.0) -> JSONDict:
        """Wait until the bot answered inline query `query_id`; return the answer's parameters
        with ``results`` parsed (a list of result objects)."""

        def answered() -> list[JSONDict]:
            return [a for a in self.inline_answers if a["inline_query_id"] == query_id]

        if await self._wait_until(lambda: bool(answered()), timeout):
            return answered()[0]
        raise AssertionError(
            f"inline query {query_id} was not answered within {timeout}s.\n{self.describe()}"
        )

    # ---------------------------------------------------------------- injecting failures

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` (only those for `chat_id` if given) with
        an error `status`. The description defaults to Telegram's usual one for the status;
        a 429 carries ``parameters.retry_after`` (default 1) so PTB raises RetryAfter.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.append(
            _FailureRule(
                method=method.lower(),
                status=status,
                description=description or default_error_description(status, retry_after),
                retry_after=retry_after if status == 429 else None,
                chat_id=chat_id,
                remaining=times,
            )
        )

    def block_chat(self, chat_id: int) -> None:
        """Every later call for `chat_id` answers 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo `block_chat`."""
        self._blocked.discard(chat_id)

    def set_rate_limits(
        self,
        *,
        per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        group_per_minute: int | None = 20,
        retry_after: int = 1,
    ) -> None:
        """Turn on Telegram's flood limits for sendMessage/sendPhoto/sendDocument and the
        edit* methods (a bot's edits share its sending limits, as TDLib's maintainers say).

        A send or edit is answered 429 "Too Many Requests: retry after `retry_after`" when,
        counting the successful sends and edits before it, there were already `per_second` in
        the last second, `per_chat_per_second` in the same chat in the last second, or
        (negative chat ids: groups) `group_per_minute` in that group in the last 60 s. None
        disables a limit.
        """
        self._rate_limits = _RateLimits(
            per_second=per_second,
            per_chat_per_second=per_chat_per_second,
            group_per_minute=group_per_minute,
            retry_after=retry_after,
        )

    def disable_rate_limits(self) -> None:
        """Turn the flood limits off again (the default)."""
        self._rate_limits = None

    def set_member_status(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """What getChatMember says of `user_id` in `chat_id`: "creator", "administrator",
        "member", "restricted", "left" or "kicked". Unset, a user is a member of their private
        chat and of any group they wrote in or pressed a button in, and "left" elsewhere; the
        bot (``bot_user["id"]``) is a member of groups and an administrator of channels.

        An administrator has every right of their kind of chat except ``can_promote_members``
        and ``can_manage_topics``; `rights` changes some (``can_post_messages=False``,
        ``can_manage_topics=True``). The bot's rights decide whether it may post in a channel
        and create forum topics.
        """
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        known = {*ADMIN_RIGHTS, *(r for names in CHAT_ADMIN_RIGHTS.values() for r in names)}
        unknown = sorted(set(rights) - known)
        if unknown or (rights and status != "administrator"):
            raise ValueError(f"rights {unknown or sorted(rights)} do not apply to {status!r}")
        self._member_statuses[(chat_id, user_id)] = status
        self._member_rights[(chat_id, user_id)] = dict(rights)

    def add_forum(self, chat_id: int, *, title: str | None = None) -> None:
        """Make `chat_id` a forum supergroup (``is_forum``), with only its General topic."""
        chat: JSONDict = {"id": chat_id, "type": "supergroup", "is_forum": True}
        chat["title"] = title or f"Test forum {chat_id}"
        self._chats[chat_id] = chat
        self._forums.setdefault(chat_id, {})

    def add_forum_topic(self, chat_id: int, name: str) -> int:
        """A topic a user created in the forum `chat_id`; its ``message_thread_id`` (the id of
        the service message that opened it, as in Telegram)."""
        if chat_id not in self._forums:
            raise ValueError(f"chat {chat_id} is not a forum (add_forum first)")
        return self._open_topic(chat_id, name, DEFAULT_TOPIC_ICON_COLOR, from_bot=False)

    def delete_forum_topic(self, chat_id: int, message_thread_id: int) -> None:
        """Delete a topic with its messages: sending to it is "message thread not found"."""
        del self._forums[chat_id][message_thread_id]
        for key in [
            key
            for key, stored in self._messages.items()
            if key[0] == chat_id and stored.message.get("message_thread_id") == message_thread_id
        ]:
            del self._messages[key]

    def forum_topics(self, chat_id: int) -> dict[int, str]:
        """The topics of a forum: message_thread_id → name."""
        return dict(self._forums.get(chat_id, {}))

    def add_channel(self, chat_id: int, username: str, *, title: str | None = None) -> None:
        """A channel the bot can reach as `chat_id` or ``@username`` (the bot is one of its
        administrators unless `set_member_status` says otherwise)."""
        name = username.removeprefix("@")
        self._chats[chat_id] = {
            "id": chat_id,
            "type": "channel",
            "title": title or name,
            "username": name,
        }
        self._channel_ids[f"@{name}".lower()] = chat_id

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands the bot set for exactly this scope (default: BotCommandScopeDefault)
        and language, like getMyCommands."""
        key = (_scope_key(scope or {"type": "default"}), language_code)
        return copy.deepcopy(self._command_menus.get(key, []))

    def menu_for(self, chat_id: int, user_id: int, language_code: str = "") -> list[JSONDict]:
        """The command menu `user_id` sees in `chat_id`: the first scope with commands, from
        the narrowest (that user in that chat) to the default, each first in the user's
        language, as Telegram documents it."""
        private = chat_id > 0
        admin = not private and self._status_of(chat_id, user_id) in ("creator", "administrator")
        scopes: list[JSONDict] = []
        if private:
            scopes += [{"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}]
        else:
            scopes.append({"type": "chat_member", "chat_id": chat_id, "user_id": user_id})
            if admin:
                scopes.append({"type": "chat_administrators", "chat_id": chat_id})
            scopes.append({"type": "chat", "chat_id": chat_id})
            if admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes.append({"type": "all_group_chats"})
        scopes.append({"type": "default"})
        for scope in scopes:
            for language in dict.fromkeys((language_code, "")):
                commands = self.commands_for(scope, language)
                if commands:
                    return commands
        return []

    def description_for(self, language_code: str = "", *, short: bool = False) -> str:
        """The bot's description (or short description) a user of `language_code` sees: the
        one set for that language, else the one set without a language."""
        kind = "short_description" if short else "description"
        for language in dict.fromkeys((language_code, "")):
            text = self._descriptions.get((kind, language), "")
            if text:
                return text
        return ""

    def set_user_language(self, user_id: int, language_code: str) -> None:
        """The language of `user_id`'s Telegram app: the ``language_code`` of their updates
        from now on (the fake's users speak "en" otherwise)."""
        self._user_languages[user_id] = language_code
        if user_id in self._users:
            self._users[user_id]["language_code"] = language_code

    def stub_method(self, method: str, result: Any) -> None:
        """Answer `method` (one the fake does not implement) with ``{"ok": true, result}``."""
        self._stubs[method.lower()] = result

    # ---------------------------------------------------------------- reading records

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """The successful sends and edits for `chat_id`, oldest first."""
        return [message for message in self.sent if message.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        """All calls of `method` (any status), oldest first."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a message in the fake's chat history (None if unknown)."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored.message) if stored is not None else None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    async def wait_for_sent(
        self, count: int = 1, *, chat_id: int | None = None, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until at least `count` messages were sent (to `chat_id` if given); return all
        of them. Raises AssertionError listing what was sent if that takes over `timeout` s.
        """

        def matching() -> list[SentMessage]:
            return list(self.sent) if chat_id is None else self.sent_to(chat_id)

        if await self._wait_until(lambda: len(matching()) >= count, timeout):
            return matching()
        target = f" to chat {chat_id}" if chat_id is not None else ""
        raise AssertionError(
            f"expected at least {count} sent message(s){target} within {timeout}s, "
            f"got {len(matching())}.\n{self.describe()}"
        )

    async def wait_for_call(
        self, method: str, count: int = 1, *, timeout: float = 5.0
    ) -> list[Call]:
        """Wait until `count` calls of `method` were answered (any status); return them."""

        def answered() -> list[Call]:
            return [call for call in self.calls_of(method) if call.status]

        if await self._wait_until(lambda: len(answered()) >= count, timeout):
            return answered()
        raise AssertionError(
            f"expected at least {count} answered {method} call(s) within {timeout}s, "
            f"got {len(answered())}.\n{self.describe()}"
        )

    def describe(self, last: int = 15) -> str:
        """A human-readable summary of what was sent and which calls failed."""
        lines = [f"Sent ({len(self.sent)}):"]
        lines += [
            f"  {m.method} chat={m.chat_id} id={m.message_id}: {m.text!r}" for m in self.sent
        ] or ["  (nothing)"]
        failed = [
            call
            for call in self.calls
            if call.status not in (0, 200) and call.description != CONFLICT_DESCRIPTION
        ]
        lines.append(f"Failed calls ({len(failed)}, last {last}):")
        lines += [
            f"  {c.method} {c.status} {c.description!r} params={c.params}" for c in failed[-last:]
        ] or ["  (none)"]
        return "\n".join(lines)

    def clear_records(self) -> None:
        """Forget `sent`, `calls`, `callback_answers` and the 429 count (state is kept)."""
        self.sent.clear()
        self.calls.clear()
        self.callback_answers.clear()
        self.deleted.clear()
        self.chat_actions.clear()
        self.inline_answers.clear()
        self.too_many_requests = 0

    # ---------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)", request.path)
        if match is None:
            return self._error_response(_ApiError(404, "Not Found"))
        token, raw_method = match.groups()
        params, files = await self._read_params(request)
        known = self._handlers.get(raw_method.lower())
        call = Call(
            method=known[0] if known else raw_method,
            params=params,
            status=0,
            at=time.monotonic(),
        )
        self.calls.append(call)
        try:
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            self._raise_injected_failure(raw_method.lower(), params)
            if self.latency and raw_method.lower() != "getupdates":
                await asyncio.sleep(self.latency)
            if known is not None:
                result = await known[1](params, files)
            elif raw_method.lower() in self._stubs:
                result = copy.deepcopy(self._stubs[raw_method.lower()])
            else:
                raise _ApiError(404, "Not Found")
        except _ApiError as exc:
            call.status = exc.status
            call.description = exc.description
            if exc.status == 429:
                self.too_many_requests += 1
            self._notify_activity()
            return self._error_response(exc)
        call.status = 200
        self._notify_activity()
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error_response(error: _ApiError) -> web.Response:
        body: JSONDict = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.status == 429:
            body["parameters"] = {"retry_after": error.retry_after or 1}
        return web.json_response(body, status=error.status)

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[_Params, _Files]:
        params: _Params = dict(request.query)
        files: _Files = {}
        if not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            with contextlib.suppress(ValueError):
                body = await request.json()
                if isinstance(body, dict):
                    params.update({key: _as_param(value) for key, value in body.items()})
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files[key] = _Upload(value.filename, value.content_type, data)
                params[key] = f"<file {value.filename!r}, {len(data)} bytes>"
            elif isinstance(value, bytes | bytearray):
                params[key] = bytes(value).decode("utf-8", "replace")
            else:
                params[key] = value
        return params, files

    def _raise_injected_failure(self, method: str, params: _Params) -> None:
        chat = params.get("chat_id", "").strip()
        for rule in self._failures:
            if rule.method != method:
                continue
            if rule.chat_id is not None and str(rule.chat_id) != chat:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._failures.remove(rule)
            raise _ApiError(rule.status, rule.description, rule.retry_after)

    def _notify_updates(self) -> None:
        self._updates_event.set()
        self._updates_event = asyncio.Event()

    def _notify_activity(self) -> None:
        self._activity_event.set()
        self._activity_event = asyncio.Event()

    async def _wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            event = self._activity_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True

    # ---------------------------------------------------------------- chats, users, messages

    def _enqueue(self, payload: JSONDict) -> JSONDict:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._notify_updates()
        return update

    @staticmethod
    def _default_user_id(chat_id: int, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        return chat_id if chat_id > 0 else DEFAULT_GROUP_USER_ID

    def _remember_user(self, user_id: int, first_name: str) -> JSONDict:
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": self._user_languages.get(user_id, "en"),
        }
        self._users[user_id] = user
        return user

    def _remember_chat(self, chat_id: int, chat_type: str, first_name: str) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None and (known.get("is_forum") or known.get("username")):
            return known  # a forum or a channel made by add_forum / add_channel
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = f"Test {chat_type} {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def _chat_for(self, chat_id: int, *, lenient: bool = False) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if self.strict_chats and not lenient:
            raise _bad_request("chat not found")
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        return {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}

    def _bot_from(self) -> JSONDict:
        keys = ("id", "is_bot", "first_name", "username")
        return {key: self.bot_user[key] for key in keys if key in self.bot_user}

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _open_topic(self, chat_id: int, name: str, icon_color: int, *, from_bot: bool) -> int:
        """Record a new forum topic and the service message that opens it; its thread id."""
        thread_id = self._next_message_id(chat_id)
        message: JSONDict = {
            "message_id": thread_id,
            "date": int(time.time()),
            "chat": dict(self._chats[chat_id]),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": icon_color},
        }
        if from_bot:
            message["from"] = self._bot_from()
        self._messages[(chat_id, thread_id)] = _StoredMessage(message, from_bot)
        self._forums[chat_id][thread_id] = name
        return thread_id

    def _topic_opening(self, chat_id: int, thread_id: int) -> JSONDict:
        """The ``forum_topic_created`` service message that opened a topic."""
        return copy.deepcopy(self._messages[(chat_id, thread_id)].message)

    def _thread(self, chat_id: int, params: _Params) -> int | None:
        """The forum topic a send goes to (None: the chat itself, or a forum's General)."""
        if not params.get("message_thread_id", "").strip():
            return None
        thread_id = _int_param(params, "message_thread_id", 0)
        if thread_id not in self._forums.get(chat_id, {}):
            raise _ApiError(400, THREAD_NOT_FOUND_DESCRIPTION)
        return thread_id

    def _status_of(self, chat_id: int, user_id: int) -> str:
        """getChatMember's status of a user (or of the bot) in a chat, defaults included."""
        chat_type = self._chat_for(chat_id, lenient=True)["type"]
        if user_id == self.bot_user["id"]:
            default = "administrator" if chat_type == "channel" else "member"
        elif user_id == chat_id or (chat_id, user_id) in self._seen_in:
            default = "member"
        else:
            default = "left"
        return self._member_statuses.get((chat_id, user_id), default)

    def _bot_may(self, chat: JSONDict, right: str) -> bool:
        """Whether the bot is the chat's creator, or an administrator with `right`."""
        bot_id = self.bot_user["id"]
        status = self._status_of(chat["id"], bot_id)
        if status == "administrator":
            rights = _admin_rights(chat["type"], self._member_rights.get((chat["id"], bot_id), {}))
            return rights.get(right, False)
        return status == "creator"

    def _check_may_post(self, chat: JSONDict) -> None:
        """In a channel only its creator and administrators who may post messages post."""
        if chat["type"] != "channel" or self._bot_may(chat, "can_post_messages"):
            return
        if self._status_of(chat["id"], self.bot_user["id"]) in ("left", "kicked"):
            raise _ApiError(403, NOT_IN_CHANNEL_DESCRIPTION)
        raise _ApiError(400, CHANNEL_RIGHTS_DESCRIPTION)

    def _resolve_chat(self, params: _Params) -> tuple[int, JSONDict]:
        """The numeric chat id and chat dict a chat-bound call targets; checks blocking."""
        raw = params.get("chat_id", "").strip()
        if not raw:
            raise _bad_request("chat_id is empty")
        if re.fullmatch(r"-?\d+", raw):
            chat_id = int(raw)
        elif re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", raw):
            if raw.lower() not in self._channel_ids:
                if self.strict_chats:
                    raise _bad_request("chat not found")
                channel_id = -1_001_000_000_000 - len(self._channel_ids)
                self._channel_ids[raw.lower()] = channel_id
                self._chats[channel_id] = {
                    "id": channel_id,
                    "type": "channel",
                    "title": raw[1:],
                    "username": raw[1:],
                }
            chat_id = self._channel_ids[raw.lower()]
        else:
            raise _bad_request("chat not found")
        if chat_id in self._blocked:
            raise _ApiError(403, BLOCKED_DESCRIPTION)
        return chat_id, self._chat_for(chat_id)

    def _message_id_param(self, params: _Params) -> int:
        if not params.get("message_id", "").strip():
            raise _bad_request("message identifier is not specified")
        return _int_param(params, "message_id", 0)

    def _check_rate_limit(self, chat_id: int) -> None:
        limits = self._rate_limits
        if limits is None:
            return
        now = time.monotonic()
        while self._send_log and now - self._send_log[0][0] >= 60.0:
            self._send_log.popleft()
        last_second = [chat for at, chat in self._send_log if now - at < 1.0]
        in_chat_last_second = sum(1 for chat in last_second if chat == chat_id)
        in_group_last_minute = sum(1 for _, chat in self._send_log if chat == chat_id)
        if (
            (limits.per_second is not None and len(last_second) >= limits.per_second)
            or (
                limits.per_chat_per_second is not None
                and in_chat_last_second >= limits.per_chat_per_second
            )
            or (
                chat_id < 0
                and limits.group_per_minute is not None
                and in_group_last_minute >= limits.group_per_minute
            )
        ):
            raise _ApiError(
                429, default_error_description(429, limits.retry_after), limits.retry_after
            )

    def _log_send(self, chat_id: int) -> None:
        now = time.monotonic()
        self._send_log.append((now, chat_id))
        while self._send_log and now - self._send_log[0][0] >= 60.0:
            self._send_log.popleft()

    def _store_bot_message(self, chat: JSONDict, content: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": dict(chat),
        }
        if chat["type"] == "channel":
            message["sender_chat"] = dict(chat)
        else:
            message["from"] = self._bot_from()
        message.update(content)
        self._messages[(chat["id"], message["message_id"])] = _StoredMessage(message, True)
        return message

    def _record(
        self,
        method: str,
        chat_id: int,
        message: JSONDict,
        params: _Params,
        *,
        text: str | None,
        plain_text: str | None,
        entities: list[JSONDict],
        markup: JSONDict | None,
        upload: _Upload | None = None,
    ) -> None:
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=chat_id,
                text=text,
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                message_id=message["message_id"],
                params=dict(params),
                at=time.monotonic(),
                plain_text=plain_text,
                entities=entities,
                file_size=len(upload.data) if upload is not None else None,
                file_name=upload.filename if upload is not None else None,
                message_thread_id=message.get("message_thread_id"),
                disable_notification=params.get("disable_notification") == "true",
                link_preview_options=_link_preview_options(params),
            )
        )

    def _formatted(
        self, params: _Params, key: str, *, limit: int, too_long: str, required: bool
    ) -> tuple[str | None, str, list[JSONDict]]:
        """Validate a text (`required`) or caption parameter: (raw, plain text, entities).

        A missing or blank caption gives (None, "", []).
        """
        raw = params.get(key)
        if raw is None or not raw.strip():
            if required:
                raise _bad_request("message text is empty")
            return None, "", []
        parse_mode = params.get("parse_mode")
        plain, entities = format_text(raw, parse_mode, strict_entities=self.strict_html_entities)
        entities_key = "entities" if key == "text" else "caption_entities"
        if not parse_mode and params.get(entities_key):
            try:
                given = json.loads(params[entities_key])
            except ValueError:
                raise _bad_request("can't parse entities JSON object") from None
            entities = given if isinstance(given, list) else []
        if not plain.strip():
            if required:
                raise _bad_request("message text is empty")
            return None, "", []
        if utf16_len(plain) > limit:
            raise _bad_request(too_long)
        return raw, plain, entities

    def _reply_to(self, chat_id: int, params: _Params) -> JSONDict | None:
        raw = params.get("reply_parameters")
        if raw:
            try:
                reply = json.loads(raw)
            except ValueError:
                raise _bad_request("can't parse reply parameters JSON object") from None
            message_id = reply.get("message_id") if isinstance(reply, dict) else None
            allow = bool(isinstance(reply, dict) and reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id"):
            message_id = _int_param(params, "reply_to_message_id", 0)
            allow = params.get("allow_sending_without_reply") == "true"
        else:
            return None
        stored = self._messages.get((chat_id, int(message_id or 0)))
        if stored is None:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return copy.deepcopy(stored.message)

    def _upload(self, params: _Params, files: _Files, key: str) -> tuple[_Upload | None, str]:
        """The uploaded file (None for a file_id/URL) and the file_id to report."""
        upload = files.get(key)
        reference = params.get(key, "")
        if upload is None and reference.startswith("attach://"):
            upload = files.get(reference.removeprefix("attach://"))
        if upload is None:
            if not reference.strip() or reference.startswith("<file"):
                raise _bad_request(f"there is no {key} in the request")
            return None, reference
        if not upload.data:
            raise _bad_request("file must be non-empty")
        file_id = f"FAKE-{key.upper()}-{next(self._file_ids)}"
        self._files[file_id] = upload
        return upload, file_id

    # ---------------------------------------------------------------- API methods

    async def _true(self, params: _Params, files: _Files) -> bool:
        return True

    async def _get_me(self, params: _Params, files: _Files) -> JSONDict:
        return dict(self.bot_user)

    async def _set_webhook(self, params: _Params, files: _Files) -> bool:
        self._webhook_url = params.get("url", "")
        return True

    async def _delete_webhook(self, params: _Params, files: _Files) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates") == "true":
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params, files: _Files) -> JSONDict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _get_updates(self, params: _Params, files: _Files) -> list[JSONDict]:
        if self._webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_float_param(params, "timeout", 0.0), 0.0)
        allowed_raw = params.get("allowed_updates")
        if allowed_raw is not None:
            try:
                allowed = json.loads(allowed_raw) if allowed_raw.strip() else []
            except ValueError:
                allowed = [part.strip() for part in allowed_raw.split(",") if part.strip()]
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset < 0:
            del self._updates[: max(len(self._updates) + offset, 0)]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

        # A newer getUpdates terminates an older one still waiting, like Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(409, CONFLICT_DESCRIPTION)
            if self._allowed_updates is not None:
                self._updates = [
                    update
                    for update in self._updates
                    if not (update.keys() - {"update_id"}).isdisjoint(self._allowed_updates)
                ]
            batch = [u for u in self._updates if offset <= 0 or u["update_id"] >= offset]
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return copy.deepcopy(batch[:limit])
            event = self._updates_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _send_message(self, params: _Params, files: _Files) -> JSONDict:
        chat_id, chat = self._resolve_chat(params)
        raw, plain, entities = self._formatted(
            params,
            "text",
            limit=MAX_MESSAGE_LENGTH,
            too_long="message is too long",
            required=True,
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        thread_id = self._thread(chat_id, params)
        reply_to = self._reply_to(chat_id, params)
        self._check_may_post(chat)
        self._check_rate_limit(chat_id)
        content: JSONDict = {"text": plain}
        if thread_id is not None:
            content.update(message_thread_id=thread_id, is_topic_message=True)
            reply_to = reply_to or self._topic_opening(chat_id, thread_id)
        if entities:
            content["entities"] = entities
        preview = _link_preview_options(params)
        if preview is not None:
            content["link_preview_options"] = preview
        if markup is not None and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._store_bot_message(chat, content)
        self._log_send(chat_id)
        self._record(
            "sendMessage",
            chat_id,
            message,
            params,
            text=raw,
            plain_text=plain,
            entities=entities,
            markup=markup,
        )
        return copy.deepcopy(message)

    async def _send_file(self, method: str, key: str, params: _Params, files: _Files) -> JSONDict:
        chat_id, chat = self._resolve_chat(params)
        upload, file_id = self._upload(params, files, key)
        raw, plain, entities = self._formatted(
            params,
            "caption",
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            required=False,
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        thread_id = self._thread(chat_id, params)
        reply_to = self._reply_to(chat_id, params)
        self._check_may_post(chat)
        self._check_rate_limit(chat_id)
        size = len(upload.data) if upload is not None else None
        unique = f"U{file_id[-12:]}"
        content: JSONDict
        if key == "photo":
            content = {
                "photo": [
                    {
                        "file_id": f"{file_id}-s",
                        "file_unique_id": f"{unique}s",
                        "width": 90,
                        "height": 90,
                    },
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "width": 800,
                        "height": 800,
                        **({"file_size": size} if size is not None else {}),
                    },
                ]
            }
        else:
            document: JSONDict = {"file_id": file_id, "file_unique_id": unique}
            if upload is not None:
                document["file_size"] = size
                if upload.filename:
                    document["file_name"] = upload.filename
                if upload.content_type:
                    document["mime_type"] = upload.content_type
            content = {"document": document}
        if thread_id is not None:
            content.update(message_thread_id=thread_id, is_topic_message=True)
        if raw is not None:
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        if markup is not None and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._store_bot_message(chat, content)
        self._log_send(chat_id)
        self._record(
            method,
            chat_id,
            message,
            params,
            text=raw,
            plain_text=plain if raw else None,
            entities=entities,
            markup=markup,
            upload=upload,
        )
        return copy.deepcopy(message)

    async def _send_photo(self, params: _Params, files: _Files) -> JSONDict:
        return await self._send_file("sendPhoto", "photo", params, files)

    async def _send_document(self, params: _Params, files: _Files) -> JSONDict:
        return await self._send_file("sendDocument", "document", params, files)

    async def _get_file(self, params: _Params, files: _Files) -> JSONDict:
        file_id = params.get("file_id", "").strip()
        upload = self._files.get(file_id)
        if upload is None:
            raise _bad_request("invalid file_id")
        if len(upload.data) > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        suffix = (
            (upload.filename or "").rpartition(".")[2] if "." in (upload.filename or "") else ""
        )
        path = f"documents/{file_id}" + (f".{suffix}" if suffix.isalnum() else "")
        return {
            "file_id": file_id,
            "file_unique_id": f"U{file_id[-12:]}",
            "file_size": len(upload.data),
            "file_path": path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        """A file's content at ``/file/bot{token}/{file_path}`` (as getFile gave the path)."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["file_path"]
        file_id = path.removeprefix("documents/").rsplit(".", 1)[0]
        upload = self._files.get(file_id) if path.startswith("documents/") else None
        if upload is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=upload.data, content_type="application/octet-stream")

    async def _answer_inline_query(self, params: _Params, files: _Files) -> bool:
        query_id = params.get("inline_query_id", "")
        if query_id not in self._open_inline_queries:
            raise _ApiError(400, QUERY_TOO_OLD_DESCRIPTION)
        try:
            results = json.loads(params.get("results") or "")
        except ValueError:
            raise _bad_request("can't parse inline query results JSON object") from None
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._validate_inline_result(result, seen)
        if len(params.get("next_offset", "").encode()) > 64:
            raise _bad_request("NEXT_OFFSET_INVALID")
        if params.get("button"):
            try:
                button = json.loads(params["button"])
            except ValueError:
                raise _bad_request("can't parse inline query button JSON object") from None
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise _bad_request("BUTTON_TEXT_INVALID")
            start = button.get("start_parameter")
            if "web_app" not in button and not _START_PARAMETER_RE.fullmatch(str(start or "")):
                raise _bad_request("START_PARAM_INVALID")
        self._open_inline_queries.discard(query_id)
        self.inline_answers.append({**params, "results": results})
        return True

    def _validate_inline_result(self, result: Any, seen: set[str]) -> None:
        """An InlineQueryResultArticle (the kind tradebot sends) checked as Telegram does."""
        if not isinstance(result, dict) or result.get("type") != "article":
            raise _bad_request("RESULT_TYPE_INVALID")
        result_id = str(result.get("id", ""))
        if not 1 <= len(result_id.encode()) <= 64:
            raise _bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise _bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if not str(result.get("title", "")).strip():
            raise _bad_request("RESULT_TITLE_EMPTY")
        content = result.get("input_message_content")
        if not isinstance(content, dict) or "message_text" not in content:
            raise _bad_request("MESSAGE_EMPTY")
        text_params = {
            "text": str(content["message_text"]),
            **({"parse_mode": str(content["parse_mode"])} if content.get("parse_mode") else {}),
        }
        self._formatted(
            text_params,
            "text",
            limit=MAX_MESSAGE_LENGTH,
            too_long="MESSAGE_TOO_LONG",
            required=True,
        )
        if "reply_markup" in result:
            parse_reply_markup(json.dumps(result["reply_markup"]))

    async def _send_chat_action(self, params: _Params, files: _Files) -> bool:
        chat_id, _ = self._resolve_chat(params)
        action = params.get("action", "")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append((chat_id, action))
        return True

    def _editable(self, params: _Params) -> tuple[int, _StoredMessage]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")  # inline messages are not simulated
        chat_id, _ = self._resolve_chat(params)
        message_id = self._message_id_param(params)
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise _ApiError(400, EDIT_NOT_FOUND_DESCRIPTION)
        if not stored.from_bot:
            raise _bad_request("message can't be edited")
        return chat_id, stored

    def _apply_edit(
        self,
        method: str,
        chat_id: int,
        stored: _StoredMessage,
        params: _Params,
        changes: JSONDict,
        *,
        text: str | None,
        plain_text: str | None,
        entities: list[JSONDict],
        markup: JSONDict | None,
    ) -> JSONDict:
        message = stored.message
        self._check_rate_limit(chat_id)
        updated = {key: value for key, value in message.items() if key not in changes}
        updated.update({key: value for key, value in changes.items() if value is not None})
        compared = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(updated.get(key) == message.get(key) for key in compared):
            raise _bad_request(NOT_MODIFIED_DESCRIPTION.removeprefix("Bad Request: "))
        updated["edit_date"] = int(time.time())
        stored.message = updated
        self._log_send(chat_id)
        self._record(
            method,
            chat_id,
            updated,
            params,
            text=text,
            plain_text=plain_text,
            entities=entities,
            markup=markup,
        )
        return copy.deepcopy(updated)

    async def _edit_message_text(self, params: _Params, files: _Files) -> JSONDict:
        chat_id, stored = self._editable(params)
        raw, plain, entities = self._formatted(
            params,
            "text",
            limit=MAX_MESSAGE_LENGTH,
            too_long="message is too long",
            required=True,
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        if "text" not in stored.message:
            raise _bad_request("there is no text in the message to edit")
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        changes = {
            "text": plain,
            "entities": entities or None,
            "reply_markup": inline,
            # the edited message has the preview the edit asks for, not the one it had
            "link_preview_options": _link_preview_options(params),
        }
        return self._apply_edit(
            "editMessageText",
            chat_id,
            stored,
            params,
            changes,
            text=raw,
            plain_text=plain,
            entities=entities,
            markup=markup,
        )

    async def _edit_message_caption(self, params: _Params, files: _Files) -> JSONDict:
        chat_id, stored = self._editable(params)
        raw, plain, entities = self._formatted(
            params,
            "caption",
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            required=False,
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        if "text" in stored.message:
            raise _bad_request("there is no caption in the message to edit")
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        changes = {
            "caption": plain if raw else None,
            "caption_entities": entities or None,
            "reply_markup": inline,
        }
        return self._apply_edit(
            "editMessageCaption",
            chat_id,
            stored,
            params,
            changes,
            text=raw,
            plain_text=plain if raw else None,
            entities=entities,
            markup=markup,
        )

    async def _edit_message_reply_markup(self, params: _Params, files: _Files) -> JSONDict:
        chat_id, stored = self._editable(params)
        markup = parse_reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad_request("inline keyboard expected")
        return self._apply_edit(
            "editMessageReplyMarkup",
            chat_id,
            stored,
            params,
            {"reply_markup": markup},
            text=None,
            plain_text=None,
            entities=[],
            markup=markup,
        )

    async def _delete_message(self, params: _Params, files: _Files) -> bool:
        chat_id, _ = self._resolve_chat(params)
        message_id = self._message_id_param(params)
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _bad_request("message to delete not found")
        self.deleted.append((chat_id, message_id))
        return True

    async def _answer_callback_query(self, params: _Params, files: _Files) -> bool:
        query_id = params.get("callback_query_id", "")
        if query_id not in self._open_callbacks:
            raise _ApiError(400, QUERY_TOO_OLD_DESCRIPTION)
        if len(params.get("text", "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(dict(params))
        return True

    async def _set_my_commands(self, params: _Params, files: _Files) -> bool:
        try:
            commands = json.loads(params.get("commands") or "[]")
        except ValueError:
            raise _bad_request("can't parse commands JSON object") from None
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or "command" not in command:
                raise _bad_request("can't parse BotCommand: Can't find field \"command\"")
            if "description" not in command:
                raise _bad_request("can't parse BotCommand: Can't find field \"description\"")
            name = str(command["command"]).removeprefix("/")
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = str(command["description"]).strip()
            if not description:
                raise _bad_request("command description must be non-empty")
            if len(description) > 256:
                raise _bad_request("command description is too long")
        key = self._menu_key(params)
        self._command_menus[key] = commands
        if key == (_scope_key({"type": "default"}), ""):
            self.commands = commands
        return True

    async def _get_my_commands(self, params: _Params, files: _Files) -> list[JSONDict]:
        return copy.deepcopy(self._command_menus.get(self._menu_key(params), []))

    async def _delete_my_commands(self, params: _Params, files: _Files) -> bool:
        key = self._menu_key(params)
        self._command_menus.pop(key, None)
        if key == (_scope_key({"type": "default"}), ""):
            self.commands = []
        return True

    async def _set_my_description(self, params: _Params, files: _Files) -> bool:
        return self._set_description(params, "description", MAX_DESCRIPTION_LENGTH)

    async def _get_my_description(self, params: _Params, files: _Files) -> JSONDict:
        language = _language_param(params)
        return {"description": self._descriptions.get(("description", language), "")}

    async def _set_my_short_description(self, params: _Params, files: _Files) -> bool:
        return self._set_description(params, "short_description", MAX_SHORT_DESCRIPTION_LENGTH)

    async def _get_my_short_description(self, params: _Params, files: _Files) -> JSONDict:
        language = _language_param(params)
        return {"short_description": self._descriptions.get(("short_description", language), "")}

    def _set_description(self, params: _Params, kind: str, limit: int) -> bool:
        """setMyDescription / setMyShortDescription: an empty text removes the language's."""
        language = _language_param(params)
        text = params.get(kind, "")
        if len(text) > limit:
            raise _bad_request(f"{kind} is too long")
        if text:
            self._descriptions[(kind, language)] = text
        else:
            self._descriptions.pop((kind, language), None)
        return True

    def _menu_key(self, params: _Params) -> tuple[str, str]:
        """The (scope, language) a set/get/deleteMyCommands call is about, checked."""
        language = _language_param(params)
        try:
            scope = json.loads(params.get("scope") or '{"type": "default"}')
        except ValueError:
            raise _bad_request("can't parse BotCommandScope JSON object") from None
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise _bad_request("unsupported bot command scope type")
        if scope["type"].startswith("chat"):
            if "chat_id" not in scope:
                raise _bad_request('can\'t parse BotCommandScope: Field "chat_id" must be present')
            chat_id, _ = self._resolve_chat({"chat_id": str(scope["chat_id"])})
            scope["chat_id"] = chat_id
        if scope["type"] == "chat_member":
            scope["user_id"] = _int_param({"user_id": str(scope.get("user_id", ""))}, "user_id", 0)
        return _scope_key(scope), language

    async def _get_chat_member(self, params: _Params, files: _Files) -> JSONDict:
        chat_id, chat = self._resolve_chat(params)
        user_id = _int_param(params, "user_id", 0)
        if user_id <= 0:
            raise _bad_request("invalid user_id specified")
        user = self._bot_from() if user_id == self.bot_user["id"] else self._users.get(user_id)
        if user is None:
            if user_id != chat_id:
                raise _bad_request("user not found")
            user = self._remember_user(user_id, "User")
        status = self._status_of(chat_id, user_id)
        rights = self._member_rights.get((chat_id, user_id))
        return _chat_member(status, user, chat_type=chat["type"], rights=rights)

    async def _get_chat(self, params: _Params, files: _Files) -> JSONDict:
        _, chat = self._resolve_chat(params)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _create_forum_topic(self, params: _Params, files: _Files) -> JSONDict:
        chat_id, chat = self._resolve_chat(params)
        if chat_id not in self._forums:
            raise _ApiError(400, NOT_A_FORUM_DESCRIPTION)
        if not self._bot_may(chat, "can_manage_topics"):
            raise _ApiError(400, TOPIC_RIGHTS_DESCRIPTION)
        name = params.get("name", "").strip()
        if not name or len(name) > MAX_TOPIC_NAME_LENGTH:
            raise _bad_request("TOPIC_NAME_INVALID")
        icon_color = _int_param(params, "icon_color", DEFAULT_TOPIC_ICON_COLOR)
        thread_id = self._open_topic(chat_id, name, icon_color, from_bot=True)
        return {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}


MAX_DESCRIPTION_LENGTH = 512
MAX_SHORT_DESCRIPTION_LENGTH = 120


def _language_param(params: _Params) -> str:
    """A call's ``language_code``: empty, or a two-letter ISO 639-1 code."""
    language = params.get("language_code", "").strip()
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise _bad_request("invalid language code specified")
    return language
