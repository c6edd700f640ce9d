"""Interface languages end to end: a chat speaks the language of the Telegram app of whoever
writes unless it chose one with /language, its alerts and digests follow, and the command
menus and the bot's description are set in every language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot import i18n, menus, rendering
from bot.app import running
from bot.articles import ArticleIn
from bot.commands import COMMANDS, Scope, commands_for
from bot.context import BotApplication
from bot.digest_jobs import digest_text
from bot.settings import Settings
from handlers import admin
from storage import queries
from storage.db import SessionFactory
from storage.models import Chat
from tests.fakes import FakeTelegram
from tests.test_chat_commands import say
from tests.test_preferences import buttons, tap

SPEAKER = 811  # a private chat whose user's app speaks Spanish
USER = 812  # a private chat whose user's app speaks English
ADMIN = 813
GROUP, MEMBER, GROUP_ADMIN = -100812, 821, 822


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": frozenset({ADMIN})})


def descriptions(menu: list[dict[str, str]]) -> dict[str, str]:
    return {command["command"]: command["description"] for command in menu}


def spoken(language: str, message: str) -> str:
    with i18n.speaking(language):
        return i18n._(message)


async def chat_row(db: SessionFactory, chat_id: int) -> Chat:
    async with db() as session:
        chat = await session.get(Chat, chat_id)
    assert chat is not None
    return chat


async def test_a_spanish_speaking_user_who_never_chose_gets_spanish_replies_and_alerts(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., object],
) -> None:
    telegram.set_user_language(SPEAKER, "es")
    welcome = await say(telegram, "/start", SPEAKER)
    assert "te envía noticias de comercio" in (welcome.plain_text or "")
    assert [b["text"] for b in buttons(welcome)] == ["📖 Todos los comandos", "⚙️ Configuración"]
    subscribed = await say(telegram, "/subscribe copper", SPEAKER)
    assert subscribed.plain_text == (
        "✅ Suscrito a copper. Recibirás una alerta cuando salga en las noticias."
    )
    refused = await say(telegram, "/subscribe copper OR nickel)", SPEAKER)
    assert refused.plain_text == (
        "⚠️ copper OR nickel): Paréntesis desequilibrado después de 'nickel': ninguno lo abrió."
    )
    assert (await chat_row(db, SPEAKER)).language_code == "es"

    await ingest(  # type: ignore[operator]
        ArticleIn(
            title="Copper output rises at Chilean mine",
            body="Copper production rose 3% in October.",
            url="https://news.example.com/copper-es",
            source="Test Wire",
            published=datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
        )
    )
    [alert] = (await telegram.wait_for_sent(4, chat_id=SPEAKER))[3:]
    text = alert.plain_text or ""
    assert "Coincidencia: copper — tema principal" in text
    assert "Test Wire · 24 nov 2026 · Leer más" in text


async def test_language_hi_switches_the_chat_its_help_and_its_menu_and_auto_switches_back(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    assert "<b>Commands</b>" in ((await say(telegram, "/help", USER)).text or "")
    switched = await say(telegram, "/language hi", USER)
    assert switched.plain_text == "यह चैट अब हिन्दी में है।"
    assert (await chat_row(db, USER)).language == "hi"
    help_text = (await say(telegram, "/help", USER)).plain_text or ""
    assert "कमांड" in help_text and "/help — यह सहायता" in help_text
    assert descriptions(telegram.menu_for(USER, USER, "en"))["help"] == "यह सहायता"

    shown = await say(telegram, "/language", USER)
    assert (shown.plain_text or "").startswith("यह चैट हिन्दी में है, जैसा /language से चुना गया।")
    assert [b["text"] for b in buttons(shown)] == [
        "English",
        "Español",
        "✓ हिन्दी",
        "स्वचालित (Telegram की भाषा)",
    ]
    automatic = await tap(telegram, shown, "स्वचालित")
    assert automatic.plain_text == (
        "This chat now follows the language of the Telegram app of whoever writes (now English)."
    )
    assert (await chat_row(db, USER)).language is None
    assert descriptions(telegram.menu_for(USER, USER, "en"))["help"] == "this help"
    assert (await say(telegram, "/language klingon", USER)).plain_text == (
        "I speak English, Español and हिन्दी: send /language en, /language es, /language hi "
        "or /language auto."
    )


async def test_the_menus_and_the_description_are_set_in_every_language(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    everyone = [c.name for c in commands_for(Scope.EVERYONE)]
    admin = [c.name for c in commands_for(Scope.ADMIN)]
    for language, code in (("en", ""), ("es", "es"), ("hi", "hi")):
        menu = telegram.menu_for(USER, USER, code)
        assert [c["command"] for c in menu] == everyone
        assert descriptions(menu)["trend"] == spoken(language, "a chart of articles per day")
        admin_menu = telegram.menu_for(ADMIN, ADMIN, code)
        assert [c["command"] for c in admin_menu] == everyone + admin
        assert descriptions(admin_menu)["feeds"] == spoken(
            language, "the feeds, their status and last errors"
        )
        with i18n.speaking(language):
            assert telegram.description_for(code) == menus.description()
            assert telegram.description_for(code, short=True) == menus.short_description()
    assert descriptions(telegram.menu_for(USER, USER, "es"))["help"] == "esta ayuda"
    assert telegram.description_for("de").startswith("tradebot sends you trade news")


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_every_menu_line_fits_telegrams_limits_in_every_language(language: str) -> None:
    with i18n.speaking(language):
        for command in COMMANDS:
            assert 3 <= len(i18n._(command.description)) <= 256
        assert len(menus.description()) <= 512
        assert len(menus.short_description()) <= 120


async def test_in_a_group_only_administrators_choose_the_language(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.set_member_status(GROUP, GROUP_ADMIN, "administrator")
    telegram.set_user_language(MEMBER, "es")
    before = len(telegram.sent_to(GROUP))
    telegram.add_message(GROUP, "/language hi", user_id=MEMBER, chat_type="supergroup")
    [refused] = (await telegram.wait_for_sent(before + 1, chat_id=GROUP))[before:]
    assert refused.plain_text == (
        "Solo los administradores de este grupo pueden cambiar su lista de seguimiento y su "
        "configuración."
    )
    assert (await chat_row(db, GROUP)).language is None
    telegram.add_message(GROUP, "/language hi", user_id=GROUP_ADMIN, chat_type="supergroup")
    [chosen] = (await telegram.wait_for_sent(before + 2, chat_id=GROUP))[before + 1 :]
    assert chosen.plain_text == "यह चैट अब हिन्दी में है।"
    telegram.add_message(GROUP, "/list", user_id=MEMBER, chat_type="supergroup")
    [listing] = (await telegram.wait_for_sent(before + 3, chat_id=GROUP))[before + 2 :]
    assert (listing.plain_text or "").startswith("इस समूह की वॉच-लिस्ट ख़ाली है।")


async def test_digests_speak_the_chats_language(db: SessionFactory) -> None:
    async with db() as session:
        chat = await queries.ensure_chat(session=session, chat_id=SPEAKER, language_code="es-MX")
        chat.empty_digest_line = True
        await session.commit()
    now = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    [spanish] = await digest_text(db, await chat_row(db, SPEAKER), since=None, until=now)
    assert spanish == "📰 <b>Resumen del 24 nov 2026</b>\nNada nuevo en tu lista de seguimiento."
    async with db() as session:
        await queries.update_chat(session=session, chat_id=SPEAKER, language="hi")
        await session.commit()
    [hindi] = await digest_text(db, await chat_row(db, SPEAKER), since=None, until=now)
    assert hindi.startswith("📰 <b>24 नव॰ 2026 का डाइजेस्ट</b>")


async def test_admin_notices_speak_each_admins_language(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=ADMIN, language_code="es")
        await session.commit()
    told = await admin.notify_admins(
        bot.bot,
        db,
        {ADMIN},
        lambda: rendering.feed_paused(
            feed_id=7, name="Wire", url="https://wire.example.com/feed", failures=3, error=None
        ),
    )
    [notice] = await telegram.wait_for_sent(chat_id=ADMIN)
    assert told
    assert (notice.plain_text or "").startswith(
        "⏸ El feed #7 (Wire) está en pausa tras 3 descargas fallidas seguidas.\n"
        "Último error: desconocido"
    )


async def test_an_admin_who_chose_a_language_keeps_its_admin_menu_after_a_restart(
    make_bot: Callable[..., BotApplication], telegram: FakeTelegram
) -> None:
    everyone = [c.name for c in commands_for(Scope.EVERYONE)]
    admin_commands = [c.name for c in commands_for(Scope.ADMIN)]
    async with running(make_bot(), poll_timeout=1):
        await say(telegram, "/language hi", ADMIN)
    async with running(make_bot(), poll_timeout=1):
        menu = telegram.menu_for(ADMIN, ADMIN, "es")
        assert [c["command"] for c in menu] == everyone + admin_commands
        assert descriptions(menu)["stats"] == spoken("hi", "chats, topics, articles, alerts, feeds")
        assert descriptions(telegram.menu_for(USER, USER, "es"))["help"] == "esta ayuda"
