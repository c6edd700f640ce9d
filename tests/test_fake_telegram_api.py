"""Self-tests of the fake Telegram Bot API (tests/fakes/telegram_api.py).

The HTML validator is unit-tested directly; everything else is driven through a real
python-telegram-bot ``Bot`` / ``Application`` so the fake is proven compatible with PTB v22.
"""

from __future__ import annotations

import contextlib
import datetime as dtm
import re
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram_api import (
    FakeTelegram,
    TelegramHTMLError,
    parse_telegram_html,
    parse_telegram_html_entities,
    utf16_len,
)

CHAT = 42

# PTB 22 itself warns whenever it builds a RetryAfter with an int retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*attribute `retry_after`:DeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def _ci(text: str) -> re.Pattern[str]:
    """A case-insensitive literal pattern: PTB strips "Bad Request: " and capitalizes."""
    return re.compile(re.escape(text), re.IGNORECASE)


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about int time periods
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@contextlib.asynccontextmanager
async def running_app(
    fake: FakeTelegram, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the fake, stopped cleanly on exit."""
    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


# ------------------------------------------------------------------------------ HTML validator


def test_html_nested_tags_give_plain_text_and_entities() -> None:
    text, entities = parse_telegram_html_entities("<b>bold <i>both</i></b> <u>u</u>")
    assert text == "bold both u"
    assert entities == [
        {"offset": 0, "length": 9, "type": "bold"},
        {"offset": 5, "length": 4, "type": "italic"},
        {"offset": 10, "length": 1, "type": "underline"},
    ]


def test_html_supported_tags() -> None:
    html = (
        '<a href="https://example.com/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler> '
        "<blockquote expandable>q</blockquote> "
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        "<strong>1</strong><em>2</em><ins>3</ins><s>4</s><strike>5</strike><del>6</del>"
        "<code>c</code>"
    )
    text, entities = parse_telegram_html_entities(html)
    assert text == "link x = 1 st q 👍 123456c"
    types = {entity["type"] for entity in entities}
    assert types >= {
        "text_link",
        "pre",
        "spoiler",
        "expandable_blockquote",
        "custom_emoji",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "code",
    }
    assert entities[0] == {
        "offset": 0,
        "length": 4,
        "type": "text_link",
        "url": "https://example.com/?a=1&b=2",
    }
    assert {"offset": 5, "length": 5, "type": "pre", "language": "python"} in entities


def test_html_entities_are_decoded_and_bare_ampersands_kept() -> None:
    assert parse_telegram_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;") == '<b> & "q" AB'
    assert parse_telegram_html("AT&T & co; 5 &lt 6") == "AT&T & co; 5 < 6"
    assert parse_telegram_html("&#x1F600;") == "😀"


def test_html_unknown_named_entity_is_rejected() -> None:
    with pytest.raises(TelegramHTMLError, match="Unsupported HTML entity"):
        parse_telegram_html("a&nbsp;b")
    # Telegram itself keeps it literally; the fake can be told to do the same.
    assert parse_telegram_html("a&nbsp;b", strict_entities=False) == "a&nbsp;b"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("I <3 you", 'Unsupported start tag "3" at byte offset 2'),
        ("<3", "Unclosed start tag at byte offset 0"),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_malformed_markup_is_rejected(html: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_telegram_html(html)
    assert str(caught.value) == f"Bad Request: can't parse entities: {reason}"


def test_html_length_is_counted_after_parsing_in_utf16() -> None:
    assert utf16_len("a😀") == 3
    assert len(parse_telegram_html("<b>" + "&amp;" * 4096 + "</b>")) == 4096


# ------------------------------------------------------------------------------ through PTB Bot


async def test_get_me(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.username == "tradebot_test_bot"
    assert me.is_bot
    assert bot.username == "tradebot_test_bot"
    assert [call.method for call in fake.calls] == ["getMe", "getMe"]  # initialize + get_me


async def test_send_message_returns_message_and_is_recorded(bot: Bot, fake: FakeTelegram) -> None:
    first = await bot.send_message(CHAT, "<b>Copper</b> &amp; zinc", parse_mode=ParseMode.HTML)
    second = await bot.send_message(CHAT, "plain")
    assert isinstance(first, Message)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.text == "Copper & zinc"
    assert first.text_html == "<b>Copper</b> &amp; zinc"
    assert first.from_user is not None and first.from_user.id == fake.bot_user["id"]
    assert first.chat.id == CHAT
    [recorded, _] = fake.sent_to(CHAT)
    assert recorded.method == "sendMessage"
    assert recorded.text == "<b>Copper</b> &amp; zinc"
    assert recorded.plain_text == "Copper & zinc"
    assert recorded.parse_mode == "HTML"
    assert recorded.message_id == 1


async def test_bad_html_raises_bad_request(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=_ci("can't parse entities")):
        await bot.send_message(CHAT, "price a < b", parse_mode=ParseMode.HTML)
    assert fake.sent == []
    assert fake.calls[-1].status == 400


async def test_fail_next_429_raises_retry_after(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "x")
    assert _retry_after_seconds(caught.value) == 3
    assert fake.too_many_requests == 1
    await bot.send_message(CHAT, "x")  # only the next call failed
    assert len(fake.sent) == 1


async def test_fail_next_can_target_one_chat_several_times(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found",
                   chat_id=7, times=2)  # fmt: skip
    await bot.send_message(8, "other chat is fine")
    for _ in range(2):
        with pytest.raises(BadRequest, match=_ci("chat not found")):
            await bot.send_message(7, "x")
    await bot.send_message(7, "now it works")
    assert [m.chat_id for m in fake.sent] == [8, 7]


async def test_blocked_chat_raises_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    fake.block_chat(CHAT)
    with pytest.raises(Forbidden, match=_ci("bot was blocked by the user")):
        await bot.send_message(CHAT, "x")
    await bot.send_message(CHAT + 1, "x")
    assert [m.chat_id for m in fake.sent] == [CHAT + 1]


async def test_server_error_raises_network_error(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match=_ci("Internal Server Error")) as caught:
        await bot.send_message(CHAT, "x")
    assert not isinstance(caught.value, BadRequest)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, fake: FakeTelegram) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])

    await bot.send_message(CHAT, "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(CHAT, "ok", reply_markup=keyboard("é" * 32))  # 64 UTF-8 bytes
    for data in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match=_ci("BUTTON_DATA_INVALID")):
            await bot.send_message(CHAT, "too long", reply_markup=keyboard(data))
    assert fake.sent[0].reply_markup == {
        "inline_keyboard": [[{"text": "Go", "callback_data": "x" * 64}]]
    }


async def test_text_length_limit(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=_ci("message is too long")):
        await bot.send_message(CHAT, "a" * 4097)
    with pytest.raises(BadRequest, match=_ci("message is too long")):
        await bot.send_message(CHAT, "😀" * 2049)  # 4098 UTF-16 code units
    # The limit applies after entity parsing: 4096 visible characters are fine.
    await bot.send_message(CHAT, "<b>" + "&amp;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=_ci("message text is empty")):
        await bot.send_message(CHAT, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(fake.sent) == 1


async def test_send_photo_upload_and_caption(bot: Bot, fake: FakeTelegram) -> None:
    message = await bot.send_photo(
        CHAT, photo=b"\x89PNG fake bytes", caption="<i>chart</i>", parse_mode=ParseMode.HTML
    )
    assert message.photo and message.caption == "chart"
    [recorded] = fake.sent
    assert (recorded.method, recorded.text, recorded.plain_text) == (
        "sendPhoto",
        "<i>chart</i>",
        "chart",
    )
    assert recorded.file_size == len(b"\x89PNG fake bytes")
    await bot.send_photo(CHAT, photo=message.photo[-1].file_id)  # by file_id, no caption
    with pytest.raises(BadRequest, match=_ci("message caption is too long")):
        await bot.send_photo(CHAT, photo=b"x", caption="c" * 1025)
    document = await bot.send_document(CHAT, document=b"a,b\n", filename="prices.csv")
    assert document.document is not None and document.document.file_name == "prices.csv"


async def test_edits_and_deletes(bot: Bot, fake: FakeTelegram) -> None:
    message = await bot.send_message(CHAT, "v1")
    with pytest.raises(BadRequest, match=_ci("message is not modified")):
        await bot.edit_message_text("v1", chat_id=CHAT, message_id=message.message_id)
    edited = await bot.edit_message_text("v2", chat_id=CHAT, message_id=message.message_id)
    assert isinstance(edited, Message) and edited.text == "v2"
    with pytest.raises(BadRequest, match=_ci("message to edit not found")):
        await bot.edit_message_text("v3", chat_id=CHAT, message_id=99)
    assert await bot.delete_message(CHAT, message.message_id)
    with pytest.raises(BadRequest, match=_ci("message to delete not found")):
        await bot.delete_message(CHAT, message.message_id)
    assert [m.method for m in fake.sent] == ["sendMessage", "editMessageText"]


async def test_commands_and_unknown_callback(bot: Bot, fake: FakeTelegram) -> None:
    assert await bot.set_my_commands([("subscribe", "Watch a topic"), ("start", "Start")])
    assert fake.commands == [
        {"command": "subscribe", "description": "Watch a topic"},
        {"command": "start", "description": "Start"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["subscribe", "start"]
    with pytest.raises(BadRequest, match=_ci("query is too old")):
        await bot.answer_callback_query("123")


async def test_rate_limits(bot: Bot, fake: FakeTelegram) -> None:
    fake.set_rate_limits(per_second=None, per_chat_per_second=1, group_per_minute=2)
    await bot.send_message(CHAT, "1")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "2")  # same private chat within 1 s
    await bot.send_message(CHAT + 1, "other chat")
    fake.set_rate_limits(per_second=None, per_chat_per_second=None, group_per_minute=2)
    await bot.send_message(-100, "g1")
    await bot.send_message(-100, "g2")
    with pytest.raises(RetryAfter):
        await bot.send_message(-100, "g3")  # 20/min in real life, 2/min here
    assert fake.too_many_requests == 2
    fake.disable_rate_limits()
    await bot.send_message(-100, "g3")


async def test_edits_share_the_sending_limits(bot: Bot, fake: FakeTelegram) -> None:
    fake.set_rate_limits(per_second=None, per_chat_per_second=None, group_per_minute=2)
    message = await bot.send_message(-100, "g1")
    await bot.edit_message_text("g1, edited", chat_id=-100, message_id=message.message_id)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("g1, again", chat_id=-100, message_id=message.message_id)
    with pytest.raises(RetryAfter):
        await bot.send_message(-100, "g2")  # the edit took the group's second slot
    assert fake.too_many_requests == 2


async def test_a_deleted_message_cannot_be_edited_and_an_edit_sets_its_preview(
    bot: Bot, fake: FakeTelegram
) -> None:
    first = await bot.send_message(
        CHAT, "https://example.com/a", link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    await bot.edit_message_text(
        "https://example.com/a, edited", chat_id=CHAT, message_id=first.message_id
    )
    edited = fake.message(CHAT, first.message_id)
    assert edited is not None and "link_preview_options" not in edited  # Telegram's default
    fake.delete_in_chat(CHAT, first.message_id)
    with pytest.raises(BadRequest, match=_ci("message to edit not found")):
        await bot.edit_message_text("gone", chat_id=CHAT, message_id=first.message_id)
    assert fake.pending_updates == []  # a deletion tells the bot nothing


async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    wrong = Bot("999:WRONG", base_url=fake.base_url)
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        await wrong.shutdown()
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}{fake.token}/fooBar")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_wait_for_sent_times_out_with_a_helpful_message(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_message(CHAT, "hello there")
    with pytest.raises(AssertionError, match="hello there"):
        await fake.wait_for_sent(2, timeout=0.05)
    assert len(await fake.wait_for_sent(1, chat_id=CHAT)) == 1


# ------------------------------------------------------------------------------ PTB Application


async def test_application_polls_and_replies(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("hi")

    async with running_app(fake, CommandHandler("start", start)):
        update = fake.add_message(CHAT, "/start")
        [reply] = await fake.wait_for_sent(chat_id=CHAT)
        assert reply.text == "hi"
        fake.add_message(CHAT, "/start@tradebot_test_bot", first_name="Bob")
        await fake.wait_for_sent(2, chat_id=CHAT)

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    # The last getUpdates (on stop, no long poll) confirmed everything and was answered.
    last = fake.calls_of("getUpdates")[-1]
    assert (last.status, last.params["timeout"]) == (200, "0")
    assert last.params["offset"] == str(update["update_id"] + 2)
    assert fake.pending_updates == []
    assert [call.method for call in fake.calls[:2]] == ["getMe", "deleteWebhook"]


async def test_callback_query_round_trip(fake: FakeTelegram) -> None:
    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        button = InlineKeyboardButton("Copper", callback_data="sub:copper")
        await update.effective_message.reply_text(
            "Pick a topic", reply_markup=InlineKeyboardMarkup([[button]])
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text(f"Subscribed to {query.data}")

    async with running_app(fake, CommandHandler("start", menu), CallbackQueryHandler(on_button)):
        fake.add_message(CHAT, "/start")
        [shown] = await fake.wait_for_sent(chat_id=CHAT)
        query_id = fake.add_callback(CHAT, "sub:copper", message_id=shown.message_id)
        _, edit = await fake.wait_for_sent(2, chat_id=CHAT)

    assert fake.callback_answers == [{"callback_query_id": query_id, "text": "got sub:copper"}]
    assert (edit.method, edit.text, edit.message_id) == (
        "editMessageText",
        "Subscribed to sub:copper",
        shown.message_id,
    )
    current = fake.message(CHAT, shown.message_id)
    assert current is not None
    assert current["text"] == "Subscribed to sub:copper"
    assert "reply_markup" not in current  # editMessageText without markup removes the keyboard


async def test_get_chat_member_gives_each_status_as_ptb_reads_it(
    bot: Bot, fake: FakeTelegram
) -> None:
    group, supergroup = -100, -1_000_000_000_555
    fake.add_message(group, "hello", user_id=7, chat_type="group")
    fake.add_message(supergroup, "hello", user_id=7, chat_type="supergroup")
    assert (await bot.get_chat_member(group, 7)).status == "member"
    assert (await bot.get_chat_member(CHAT, CHAT)).status == "member"  # a private chat's user
    kinds = {
        "creator": ChatMemberOwner,
        "administrator": ChatMemberAdministrator,
        "member": ChatMemberMember,
        "restricted": ChatMemberRestricted,
        "left": ChatMemberLeft,
        "kicked": ChatMemberBanned,
    }
    for chat_id in (group, supergroup):
        for status, kind in kinds.items():
            fake.set_member_status(chat_id, 7, status)
            member = await bot.get_chat_member(chat_id, 7)
            assert (type(member), member.status, member.user.id) == (kind, status, 7)
    fake.add_message(group, "hi", user_id=8, chat_type="group")
    with pytest.raises(BadRequest, match=_ci("user not found")):
        await bot.get_chat_member(group, 9)
    fake.add_message(-200, "hi", user_id=9, chat_type="group")
    assert (await bot.get_chat_member(group, 9)).status == "left"  # never wrote in this group
    with pytest.raises(ValueError, match="unknown chat member status"):
        fake.set_member_status(group, 7, "owner")


async def test_an_anonymous_administrator_writes_as_the_group(fake: FakeTelegram) -> None:
    update = fake.add_message(-100, "/start", chat_type="supergroup", anonymous_admin=True)
    message = update["message"]
    assert message["sender_chat"]["id"] == -100
    assert message["from"]["username"] == "GroupAnonymousBot"


# ------------------------------------------------------------------------------ forums, channels


FORUM = -1_000_000_000_777


async def test_a_forum_message_in_a_topic_carries_its_thread_and_replies_can_go_there(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.add_forum(FORUM, title="Procurement desk")
    copper = fake.add_forum_topic(FORUM, "Copper")
    in_topic = fake.add_message(FORUM, "/list", message_thread_id=copper)["message"]
    in_general = fake.add_message(FORUM, "/list")["message"]
    assert in_topic["chat"]["is_forum"] is True and in_topic["chat"]["type"] == "supergroup"
    assert (in_topic["message_thread_id"], in_topic["is_topic_message"]) == (copper, True)
    assert "message_thread_id" not in in_general

    sent = await bot.send_message(FORUM, "to the topic", message_thread_id=copper)
    general = await bot.send_message(FORUM, "to General")
    assert (sent.message_thread_id, sent.is_topic_message) == (copper, True)
    assert general.message_thread_id is None
    assert [m.message_thread_id for m in fake.sent_to(FORUM)] == [copper, None]
    assert fake.forum_topics(FORUM) == {copper: "Copper"}


async def test_a_deleted_or_unknown_topic_is_message_thread_not_found(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.add_forum(FORUM)
    zinc = fake.add_forum_topic(FORUM, "Zinc")
    await bot.send_message(FORUM, "before", message_thread_id=zinc)
    fake.delete_forum_topic(FORUM, zinc)
    for chat_id, thread in ((FORUM, zinc), (FORUM, 1), (CHAT, 5)):
        with pytest.raises(BadRequest, match=_ci("message thread not found")):
            await bot.send_message(chat_id, "lost", message_thread_id=thread)
    assert fake.calls_of("sendMessage")[-1].description == "Bad Request: message thread not found"
    await bot.send_message(FORUM, "General still works")
    with pytest.raises(ValueError, match="no forum topic"):
        fake.add_message(FORUM, "hi", message_thread_id=zinc)


async def test_create_forum_topic_needs_a_forum_and_the_right_to_manage_topics(
    bot: Bot, fake: FakeTelegram
) -> None:
    me = fake.bot_user["id"]
    fake.add_message(-100, "hi", chat_type="supergroup")
    with pytest.raises(BadRequest, match=_ci("the chat is not a forum")):
        await bot.create_forum_topic(-100, "Copper")
    fake.add_forum(FORUM)
    with pytest.raises(BadRequest, match=_ci("not enough rights to create a topic")):
        await bot.create_forum_topic(FORUM, "Copper")  # the bot is a plain member
    fake.set_member_status(FORUM, me, "administrator")
    with pytest.raises(BadRequest, match=_ci("not enough rights to create a topic")):
        await bot.create_forum_topic(FORUM, "Copper")  # an administrator without the right
    fake.set_member_status(FORUM, me, "administrator", can_manage_topics=True)
    topic = await bot.create_forum_topic(FORUM, "Copper")
    assert (topic.name, topic.icon_color) == ("Copper", 0x6FB9F0)
    assert fake.forum_topics(FORUM) == {topic.message_thread_id: "Copper"}
    sent = await bot.send_message(FORUM, "first alert", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id
    with pytest.raises(BadRequest, match=_ci("TOPIC_NAME_INVALID")):
        await bot.create_forum_topic(FORUM, "x" * 129)
    fake.set_member_status(FORUM, me, "creator")
    assert (await bot.create_forum_topic(FORUM, "Zinc")).name == "Zinc"


async def test_a_channel_posts_as_channel_posts_and_the_bot_posts_only_with_the_right(
    bot: Bot, fake: FakeTelegram
) -> None:
    channel, me = -1_001_234_567_890, fake.bot_user["id"]
    fake.add_channel(channel, "metals_desk", title="Metals desk")
    update = fake.add_message(channel, "morning", chat_type="channel")
    post = update["channel_post"]
    assert post["chat"] == {
        "id": channel,
        "type": "channel",
        "title": "Metals desk",
        "username": "metals_desk",
    }
    assert post["sender_chat"]["id"] == channel and "from" not in post
    info = await bot.get_chat("@metals_desk")
    assert (info.id, info.type, info.username) == (channel, "channel", "metals_desk")

    posted = await bot.send_message("@metals_desk", "alert")  # an administrator by default
    assert posted.chat.id == channel and posted.sender_chat is not None
    fake.set_member_status(channel, me, "administrator", can_post_messages=False)
    with pytest.raises(BadRequest, match=_ci("need administrator rights in the channel chat")):
        await bot.send_message(channel, "alert")
    fake.set_member_status(channel, me, "left")
    with pytest.raises(Forbidden, match=_ci("bot is not a member of the channel chat")):
        await bot.send_message(channel, "alert")
    fake.set_member_status(channel, me, "creator")
    await bot.send_message(channel, "alert")
    assert len(fake.sent_to(channel)) == 2


async def test_get_chat_member_gives_the_rights_of_each_kind_of_chat(
    bot: Bot, fake: FakeTelegram
) -> None:
    channel, editor, me = -1_001_000_000_111, 77, fake.bot_user["id"]
    fake.add_channel(channel, "copper_news")
    fake.add_message(editor, "hi")  # the user is known to the bot
    assert (await bot.get_chat_member(channel, editor)).status == "left"
    fake.set_member_status(channel, editor, "administrator")
    admin = await bot.get_chat_member("@copper_news", editor)
    assert isinstance(admin, ChatMemberAdministrator)
    assert (admin.can_post_messages, admin.can_edit_messages, admin.can_manage_topics) == (
        True,
        True,
        None,
    )
    fake.set_member_status(channel, editor, "administrator", can_post_messages=False)
    restricted = await bot.get_chat_member(channel, editor)
    assert isinstance(restricted, ChatMemberAdministrator)
    assert restricted.can_post_messages is False
    for status in ("creator", "member", "left"):
        fake.set_member_status(channel, editor, status)
        assert (await bot.get_chat_member(channel, editor)).status == status

    fake.add_forum(FORUM)
    fake.set_member_status(FORUM, editor, "administrator")
    group_admin = await bot.get_chat_member(FORUM, editor)
    assert isinstance(group_admin, ChatMemberAdministrator)
    assert (group_admin.can_manage_topics, group_admin.can_post_messages) == (False, None)
    assert (await bot.get_chat_member(FORUM, me)).status == "member"  # the bot itself
    assert (await bot.get_chat_member(channel, me)).status == "administrator"
    with pytest.raises(ValueError, match="do not apply"):
        fake.set_member_status(FORUM, editor, "member", can_manage_topics=True)
    with pytest.raises(ValueError, match="do not apply"):
        fake.set_member_status(FORUM, editor, "administrator", can_fly=True)


# ------------------------------------------------------------------------------ messages


async def test_each_message_records_its_silence_and_link_preview(
    bot: Bot, fake: FakeTelegram
) -> None:
    loud = await bot.send_message(CHAT, "https://example.com/copper")
    await bot.send_message(
        CHAT,
        "https://example.com/zinc",
        disable_notification=True,
        link_preview_options=LinkPreviewOptions(prefer_small_media=True),
    )
    await bot.edit_message_text(
        "https://example.com/copper again",
        chat_id=CHAT,
        message_id=loud.message_id,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    first, silent, edit = fake.sent_to(CHAT)
    assert (first.disable_notification, first.link_preview_options) == (False, None)
    assert silent.disable_notification is True
    assert silent.link_preview_options == {"prefer_small_media": True}
    assert edit.link_preview_options == {"is_disabled": True}


async def test_edit_message_text_answers_telegrams_two_errors(bot: Bot, fake: FakeTelegram) -> None:
    message = await bot.send_message(CHAT, "Copper up 2%")
    with pytest.raises(BadRequest, match=_ci("message is not modified")):
        await bot.edit_message_text("Copper up 2%", chat_id=CHAT, message_id=message.message_id)
    with pytest.raises(BadRequest, match=_ci("message to edit not found")):
        await bot.edit_message_text("gone", chat_id=CHAT, message_id=message.message_id + 9)
    descriptions = [call.description for call in fake.calls_of("editMessageText")]
    assert descriptions[0] is not None
    assert descriptions[0].startswith("Bad Request: message is not modified:")
    assert descriptions[1] == "Bad Request: message to edit not found"
    fake.add_forum(FORUM)
    topic = fake.add_forum_topic(FORUM, "Copper")
    alert = await bot.send_message(FORUM, "v1", message_thread_id=topic)
    edited = await bot.edit_message_text("v2", chat_id=FORUM, message_id=alert.message_id)
    assert isinstance(edited, Message) and edited.message_thread_id == topic
    fake.delete_forum_topic(FORUM, topic)
    with pytest.raises(BadRequest, match=_ci("message to edit not found")):
        await bot.edit_message_text("v3", chat_id=FORUM, message_id=alert.message_id)


# ------------------------------------------------------------------------------ command menus


async def test_command_menus_are_kept_per_scope_and_language(bot: Bot, fake: FakeTelegram) -> None:
    admin, group = 9, -100
    fake.add_message(admin, "hi")
    fake.add_message(group, "hi", user_id=admin, chat_type="group")
    await bot.set_my_commands([("help", "all commands")])
    await bot.set_my_commands([("hilfe", "alle Befehle")], language_code="de")
    await bot.set_my_commands(
        [("help", "all commands"), ("stats", "numbers")], scope=BotCommandScopeChat(admin)
    )
    await bot.set_my_commands(
        [("list", "this group's items")], scope=BotCommandScopeAllGroupChats()
    )
    assert fake.commands == [{"command": "help", "description": "all commands"}]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(admin))] == [
        "help",
        "stats",
    ]
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["hilfe"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert fake.commands_for({"type": "chat", "chat_id": admin})[1]["command"] == "stats"

    assert [c["command"] for c in fake.menu_for(admin, admin)] == ["help", "stats"]
    assert [c["command"] for c in fake.menu_for(CHAT, CHAT)] == ["help"]
    assert [c["command"] for c in fake.menu_for(CHAT, CHAT, "de")] == ["hilfe"]
    assert [c["command"] for c in fake.menu_for(group, admin)] == ["list"]
    await bot.delete_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c["command"] for c in fake.menu_for(group, admin)] == ["help"]
    with pytest.raises(BadRequest, match=_ci("invalid language code")):
        await bot.set_my_commands([("help", "x")], language_code="english")
