"""The commands table (bot/commands.py) is what the bot registers, shows in its menus and
explains in /help — checked on the project's Application against the fake Bot API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from telegram.ext import CommandHandler

from bot.commands import COMMANDS, Scope, commands_for
from bot.context import BotApplication
from bot.settings import Settings
from tests.fakes import FakeTelegram

ADMIN = 71
USER = 72


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": frozenset({ADMIN})})


def registered(app: BotApplication) -> dict[str, str]:
    """Every command a CommandHandler of the app answers → the module of its callback."""
    return {
        name: handler.callback.__module__
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }


def names(commands: object) -> list[str]:
    return [c["command"] for c in commands]  # type: ignore[attr-defined]


def test_every_registered_command_is_in_the_table_with_its_module_and_back(
    make_bot: Callable[..., BotApplication],
) -> None:
    table = {command.name: command.handler for command in COMMANDS}
    assert registered(make_bot()) == table
    assert len(table) == len(COMMANDS)  # no name twice


def test_every_menu_line_fits_telegrams_limits() -> None:
    for command in COMMANDS:
        assert command.name.islower() and 1 <= len(command.name) <= 32
        assert 3 <= len(command.description) <= 256


async def test_the_menu_is_the_table_and_admins_see_theirs_in_their_private_chat(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    everyone = [c.name for c in commands_for(Scope.EVERYONE)]
    admin = [c.name for c in commands_for(Scope.ADMIN)]
    assert names(telegram.commands) == everyone
    assert names(telegram.menu_for(USER, USER)) == everyone
    assert names(telegram.menu_for(ADMIN, ADMIN)) == everyone + admin
    assert names(telegram.menu_for(-100, ADMIN)) == everyone  # not in a group
    descriptions = {c["command"]: c["description"] for c in telegram.menu_for(ADMIN, ADMIN)}
    assert descriptions == {c.name: c.description for c in COMMANDS}


async def test_help_explains_the_commands_of_the_table_and_the_admin_ones_only_to_admins(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    telegram.add_message(USER, "/help")
    [for_user] = await telegram.wait_for_sent(chat_id=USER)
    telegram.add_message(ADMIN, "/help")
    [for_admin] = await telegram.wait_for_sent(chat_id=ADMIN)
    for command in COMMANDS:
        line = f"/{command.name}{' ' + command.args if command.args else ''} — "
        assert line + command.description in (for_admin.plain_text or "")
        shown_to_user = line + command.description in (for_user.plain_text or "")
        assert shown_to_user == (command.scope == Scope.EVERYONE)
