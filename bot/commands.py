"""The bot's commands in one table: each command's name, what to type after it, the line the
menu and /help show, the handler module that registers it and who it is for. The menu
(`setMyCommands`) and /help are made from this table, and a test checks that every registered
command is in it and back. Nothing here imports Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import N_


class Scope(StrEnum):
    EVERYONE = "everyone"  # private chats and groups: the default menu, /help
    ADMIN = "admin"  # ADMIN_IDS, in their private chat: their own menu, /help for admins


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str  # what follows the command, as /help shows it ("" for nothing), in English
    description: str  # the menu's line and /help's, in English (Telegram allows 3-256 characters)
    handler: str  # the module whose `register` adds its handler
    scope: Scope


COMMANDS: tuple[Command, ...] = (
    Command("start", "", N_("welcome and how to use the bot"), "handlers.basics", Scope.EVERYONE),
    Command("help", "", N_("this help"), "handlers.basics", Scope.EVERYONE),
    Command(
        "stop",
        N_("[@CHANNEL]"),
        N_("pause all alerts and digests (/start resumes them)"),
        "handlers.basics",
        Scope.EVERYONE,
    ),
    Command(
        "subscribe",
        N_("[@CHANNEL] TOPIC"),
        N_("get alerts on a topic (@CHANNEL: in a channel you run)"),
        "handlers.subscriptions",
        Scope.EVERYONE,
    ),
    Command(
        "unsubscribe",
        N_("[@CHANNEL] TOPIC"),
        N_("stop alerts on a topic"),
        "handlers.subscriptions",
        Scope.EVERYONE,
    ),
    Command(
        "list",
        N_("[@CHANNEL]"),
        N_("your topics (or a channel's), with buttons to remove one or change its level"),
        "handlers.subscriptions",
        Scope.EVERYONE,
    ),
    Command(
        "topics",
        N_("auto|off"),
        N_("in a group with topics: a topic of its own for each new item"),
        "handlers.forum",
        Scope.EVERYONE,
    ),
    Command(
        "export",
        "",
        N_("your watch-list as a CSV file (topics, levels, dates)"),
        "handlers.export",
        Scope.EVERYONE,
    ),
    Command(
        "facts",
        N_("[TOPIC]"),
        N_("key figures about a topic, or alone: on your watch-list"),
        "handlers.questions",
        Scope.EVERYONE,
    ),
    Command("related", N_("TOPIC"), N_("related headlines"), "handlers.questions", Scope.EVERYONE),
    Command(
        "latest",
        N_("TOPIC"),
        N_("the newest articles on a topic"),
        "handlers.questions",
        Scope.EVERYONE,
    ),
    Command(
        "trend",
        N_("TOPIC"),
        N_("a chart of articles per day"),
        "handlers.questions",
        Scope.EVERYONE,
    ),
    Command(
        "test",
        N_("QUERY"),
        N_("what a topic or query would have alerted on in the last 30 days"),
        "handlers.querytest",
        Scope.EVERYONE,
    ),
    Command(
        "digest",
        "",
        N_("your digest now: what matched since the last one"),
        "handlers.questions",
        Scope.EVERYONE,
    ),
    Command("sources", "", N_("where the news comes from"), "handlers.admin", Scope.EVERYONE),
    Command(
        "settings",
        N_("[@CHANNEL]"),
        N_("time zone, digest time, delivery mode (yours or a channel's)"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "timezone",
        N_("[@CHANNEL] CITY"),
        N_("your time zone: a city, IST, UTC+5:30 or Asia/Kolkata"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "digesttime",
        N_("[@CHANNEL] TIME…|off"),
        N_("when your daily digests arrive: 07:30, or up to 4 like 07:30 13:00"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "weekly",
        N_("[@CHANNEL] DAY TIME|off"),
        N_("a weekly digest of the week's main stories: mon 08:00"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "quiet",
        N_("[@CHANNEL] FROM-TO|off"),
        N_("quiet hours: alerts wait and arrive together, e.g. 22:00-07:00"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "mode",
        N_("[@CHANNEL] instant|digest|both"),
        N_("alerts one by one, a daily digest, or both"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "language",
        N_("[en|es|hi|auto]"),
        N_("the bot's language: English, Español, हिन्दी, or your app's"),
        "handlers.preferences",
        Scope.EVERYONE,
    ),
    Command(
        "feeds", "", N_("the feeds, their status and last errors"), "handlers.admin", Scope.ADMIN
    ),
    Command(
        "addfeed", N_("URL [NAME]"), N_("poll an RSS or Atom feed"), "handlers.admin", Scope.ADMIN
    ),
    Command("removefeed", N_("ID"), N_("stop polling a feed"), "handlers.admin", Scope.ADMIN),
    Command("resumefeed", N_("ID"), N_("poll a paused feed again"), "handlers.admin", Scope.ADMIN),
    Command(
        "ingest",
        N_("URL"),
        N_("store an article (or a feed's entries) from the web"),
        "handlers.admin",
        Scope.ADMIN,
    ),
    Command(
        "stats", "", N_("chats, topics, articles, alerts, feeds"), "handlers.admin", Scope.ADMIN
    ),
    Command(
        "webhook",
        N_("add|remove|test [CHAT_ID] [URL]"),
        N_("also POST a chat's alerts as signed JSON to a URL"),
        "handlers.admin",
        Scope.ADMIN,
    ),
)


def commands_for(scope: Scope) -> tuple[Command, ...]:
    """The commands of one scope, in the table's order."""
    return tuple(command for command in COMMANDS if command.scope == scope)


def menu(*, admin: bool) -> tuple[Command, ...]:
    """The command menu: everyone's, and for an admin the admin commands after it."""
    return commands_for(Scope.EVERYONE) + (commands_for(Scope.ADMIN) if admin else ())
