"""The command menus and the bot's description, in every interface language: everyone's
menu by default and per language (`language_code`), the admins' in their private chats
(`BotCommandScopeChat`), and a chat's own when it chose its language with /language."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot import commands, i18n
from bot.i18n import _

log = logging.getLogger(__name__)


def description() -> str:
    """What the bot's profile says before a chat starts (at most 512 characters)."""
    return _(
        "tradebot sends you trade news the moment it matches your watch-list: copper, rare "
        "earths, India-Chile or a query of your own, with the sentence that matched and its "
        "source. Alerts as the news breaks, or a daily digest. Press Start, then "
        "/subscribe copper."
    )


def short_description() -> str:
    """The profile's one line (at most 120 characters)."""
    return _("Trade-news alerts on the topics you watch, with the evidence.")


def menu(*, admin: bool) -> list[BotCommand]:
    """The command menu in the language spoken."""
    return [BotCommand(c.name, _(c.description)) for c in commands.menu(admin=admin)]


def _code(language: str) -> str | None:
    """The `language_code` a language's menu is set for (English is the default, None)."""
    return None if language == i18n.ENGLISH else language


async def set_command_menus(
    bot: Bot, admin_ids: frozenset[int], chosen: Mapping[int, str] | None = None
) -> None:
    """Everyone's menu and the description in each language, and in each admin's private
    chat the admin commands too, in the language the chat chose if it did (`chosen`, by chat
    id); an admin who never wrote to the bot is skipped."""
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            await bot.set_my_commands(menu(admin=False), language_code=_code(language))
            await bot.set_my_description(description(), language_code=_code(language))
            await bot.set_my_short_description(short_description(), language_code=_code(language))
    for admin_id in sorted(admin_ids):
        own = (chosen or {}).get(admin_id)
        try:
            if own is None:
                await _set_admin_menus(bot, admin_id)
            else:
                await set_chat_menu(bot, admin_id, own, admin=True)
        except TelegramError as error:
            log.warning("no admin command menu for %s: %s", admin_id, error)


async def _set_admin_menus(bot: Bot, chat_id: int) -> None:
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            await bot.set_my_commands(
                menu(admin=True), scope=BotCommandScopeChat(chat_id), language_code=_code(language)
            )


async def set_chat_menu(bot: Bot, chat_id: int, language: str | None, *, admin: bool) -> None:
    """The menu of a chat that chose `language` with /language, whatever its members' apps
    speak; None (automatic) puts back the menus that follow each member's app."""
    scope = BotCommandScopeChat(chat_id)
    try:
        for other in i18n.LANGUAGES:
            if other != i18n.ENGLISH:
                await bot.delete_my_commands(scope=scope, language_code=other)
        if language is None:
            if admin:
                await _set_admin_menus(bot, chat_id)
            else:
                await bot.delete_my_commands(scope=scope)
            return
        with i18n.speaking(language):
            await bot.set_my_commands(menu(admin=admin), scope=scope)
    except TelegramError as error:
        log.warning("no command menu for chat %s: %s", chat_id, error)
