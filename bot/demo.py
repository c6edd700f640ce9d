"""`tradebot demo`: the real bot, offline. A scripted user talks to the application built by
`build_application`; the Bot API is answered in-process by `OfflineBotAPI` and everything the
bot sends is printed. Articles bundled with the project go through the real ingest path and the
real dispatcher sends the alerts. Log lines stay out of the tour (warnings and errors still
show), and each user turn is answered before the next, so every run tells the same story."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot import rendering
from bot.app import build_application, running
from bot.articles import ArticleIn, ParsedFile, read_articles
from bot.context import services_of
from bot.delivery import SendBudget
from bot.ingest import Ingestor
from bot.settings import Settings
from bot.text import counted

DEMO_CHAT_ID = 1001
DEMO_USER = {"id": DEMO_CHAT_ID, "is_bot": False, "first_name": "Asha"}
BOT_USER = {"id": 1, "is_bot": True, "first_name": "tradebot", "username": "tradebot_demo_bot"}
PRIVATE_CHAT = {"id": DEMO_CHAT_ID, "type": "private", "first_name": "Asha"}
GROUP_CHAT = {"id": -1002001, "type": "group", "title": "Metals desk"}
FORUM_CHAT = {"id": -1002002, "type": "supergroup", "title": "Procurement", "is_forum": True}
ZINC_TOPIC = 5001  # the forum's topic "Zinc desk", opened by a user
# A plain-text article has no place for its source and link: the demo's sample gets them here.
TALKS_SOURCE = "Trade Policy Wire"
TALKS_URL = "https://news.example.com/india-chile-peru-copper-talks"
TALKS_PUBLISHED = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
SAMPLES_NEWEST = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # moved to the time of the demo


class OfflineBotAPI(BaseRequest):
    """Answers Bot API calls locally: queued user updates in, bot messages printed out."""

    def __init__(self, out: Any = sys.stdout) -> None:
        self._out = out
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._next_update_id = 1
        self._next_message_id = 1
        self.last_call = time.monotonic()
        self.messages: dict[int, dict[str, Any]] = {}
        self.sent = 0  # messages sent so far
        self.answered = 0  # messages sent or edited, photos and button answers so far
        self._chats = {chat["id"]: chat for chat in (PRIVATE_CHAT, GROUP_CHAT, FORUM_CHAT)}
        self._topics = {ZINC_TOPIC: "Zinc desk"}  # forum topics: thread id → name

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if endpoint != "getUpdates":
            self.last_call = time.monotonic()
        result = await self._answer(endpoint, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    async def _answer(self, endpoint: str, params: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return BOT_USER
        if endpoint == "getUpdates":
            return await self._get_updates(
                int(params.get("offset", 0)), float(params.get("timeout", 0))
            )
        if endpoint in ("sendMessage", "editMessageText", "sendPhoto"):
            self.answered += 1
            return self._show_message(endpoint, params)
        if endpoint == "answerCallbackQuery":
            self.answered += 1
            if params.get("text"):
                self._print(f"   (pop-up) {params['text']}")
        if endpoint == "getChatMember":  # Asha created the demo's groups, and made the bot admin
            return {"status": "creator", "user": DEMO_USER, "is_anonymous": False}
        if endpoint == "createForumTopic":
            thread_id = self._next_message_id
            self._next_message_id += 1
            self._topics[thread_id] = str(params["name"])
            self._print(f"\n   (a new topic opens in {FORUM_CHAT['title']}: {params['name']})")
            return {"message_thread_id": thread_id, "name": params["name"], "icon_color": 0}
        return True

    async def _get_updates(self, offset: int, timeout: float) -> list[dict[str, Any]]:
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return list(self._updates)

    def _show_message(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = int(params.get("message_id") or self._next_message_id)
        if endpoint != "editMessageText":
            self._next_message_id += 1
            self.sent += 1
        markup = params.get("reply_markup") or {}
        chat = self._chats[chat_id]
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
        }
        if endpoint == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": f"chart-{message_id}",
                    "file_unique_id": "c",
                    "width": 800,
                    "height": 400,
                }
            ]
            message["caption"] = text = str(params.get("caption", ""))
        else:
            message["text"] = text = str(params["text"])
        if markup:
            message["reply_markup"] = markup
        self.messages[message_id] = message
        verb = {"editMessageText": "edits its message", "sendPhoto": "sends a chart"}.get(
            endpoint, "says"
        )
        where = f" in {chat['title']}" if "title" in chat else ""
        thread = params.get("message_thread_id")
        if thread is not None:
            message.update(message_thread_id=int(thread), is_topic_message=True)
            where += f" › {self._topics[int(thread)]}"
        self._print(f"\n🤖 bot {verb}{where}:")
        if endpoint == "sendPhoto":
            self._print("   [PNG: articles per day, 30 days]")
        for line in rendering.plain_text(text).splitlines():
            self._print(f"   {line}")
        for row in markup.get("inline_keyboard", []):
            self._print("   " + "  ".join(f"[ {button['text']} ]" for button in row))
        return message

    def _queue(self, update: dict[str, Any]) -> None:
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(update)
        self._new_update.set()

    def user_says(
        self, text: str, chat: dict[str, Any] = PRIVATE_CHAT, thread: int | None = None
    ) -> None:
        """Asha writes in a chat (in a forum, in the topic `thread`, else in General)."""
        where = f" in {chat['title']}" if "title" in chat else ""
        if thread is not None:
            where += f" › {self._topics[thread]}"
        self._print(f"\n🧑 Asha{where}: {text}")
        command = text.split(maxsplit=1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message = {
            "message_id": self._next_message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": DEMO_USER,
            "text": text,
            "entities": entities if text.startswith("/") else [],
        }
        if thread is not None:  # as Telegram sends it: a reply to the topic's first message
            opened = {"name": self._topics[thread], "icon_color": 0}
            message.update(
                message_thread_id=thread,
                is_topic_message=True,
                reply_to_message={
                    "message_id": thread,
                    "date": int(time.time()),
                    "chat": chat,
                    "message_thread_id": thread,
                    "forum_topic_created": opened,
                },
            )
        self._queue({"message": message})
        self._next_message_id += 1

    def user_taps(self, label_start: str) -> None:
        """Tap the newest inline button whose label starts with `label_start`."""
        for message in reversed(self.messages.values()):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"].startswith(label_start):
                        self._print(f"\n🧑 Asha taps [ {button['text']} ]")
                        self._queue(
                            {
                                "callback_query": {
                                    "id": str(self._next_update_id),
                                    "from": DEMO_USER,
                                    "chat_instance": "demo",
                                    "message": message,
                                    "data": button["callback_data"],
                                }
                            }
                        )
                        return
        raise LookupError(f"no button starting with {label_start!r}")

    async def settle(
        self,
        *,
        until_sent: int = 0,
        until_answered: int = 0,
        quiet: float = 0.3,
        limit: float = 30.0,
    ) -> None:
        """Wait until the bot has taken every update, sent `until_sent` messages and given
        `until_answered` answers in all, and gone quiet."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            idle = time.monotonic() - self.last_call > quiet
            done = self.sent >= until_sent and self.answered >= until_answered
            if not self._updates and done and idle:
                return

    async def conversation(
        self, *turns: str, chat: dict[str, Any] = PRIVATE_CHAT, thread: int | None = None
    ) -> None:
        """Play the user's turns one by one, each answered before the next: a message (in the
        forum topic `thread`, if given), or "[label]" for tapping the newest button whose
        label starts with it."""
        for turn in turns:
            before = self.answered
            if turn.startswith("[") and turn.endswith("]"):
                self.user_taps(turn[1:-1])
            else:
                self.user_says(turn, chat, thread)
            await self.settle(until_answered=before + 1)

    def narrate(self, text: str) -> None:
        self._print(f"\n── {text}")

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)


async def run_demo(out: Any = sys.stdout) -> int:
    """Play the scripted conversation against a temporary database; 0 on success."""
    with tempfile.TemporaryDirectory(prefix="tradebot-demo-") as directory, _quiet_logs():
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(directory) / 'demo.db'}",
            alert_poll_seconds=1,
            alert_burst_seconds=0,  # show each alert in full rather than lists of headlines
            _env_file=None,
        )
        api = OfflineBotAPI(out)
        budget = SendBudget(private_interval=0.2, group_interval=0.2)
        app = build_application(settings, request=api, budget=budget)
        services = services_of(app)
        async with running(app, poll_timeout=1):
            ingestor = Ingestor(services.sessions, services.lexicon)
            await _script(api, ingestor, services.dispatcher.wake)
    return 0


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Keep info and debug log lines (migrations, sender election) out of the tour."""
    before = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(before)


def _sample(name: str) -> list[ArticleIn]:
    """A bundled sample's articles, dated as if the newest had just come in (so /trend and
    the dates shown look the same whenever the demo runs)."""
    with resources.as_file(resources.files("bot").joinpath("samples", name)) as path:
        articles = ParsedFile.of(read_articles(path)).articles
    if name.endswith(".txt"):
        articles = [
            replace(article, source=TALKS_SOURCE, url=TALKS_URL, published=TALKS_PUBLISHED)
            for article in articles
        ]
    shift = datetime.now(UTC) - SAMPLES_NEWEST
    return [
        replace(article, published=article.published + shift) if article.published else article
        for article in articles
    ]


async def _script(api: OfflineBotAPI, ingestor: Ingestor, wake: Any) -> None:
    api.narrate("A new user opens the bot.")
    await api.conversation("/start", "/subscribe copper", "/subscribe rare-earth")
    await api.conversation("/subscribe India-Chile")
    api.narrate("A typo gets a suggestion; tapping it subscribes.")
    await api.conversation("/subscribe lithum", "[lithium]", "/list")
    api.narrate("Asha adds the bot to her team's group: the group has a watch-list of its own.")
    await api.conversation("/start", "/subscribe copper", chat=GROUP_CHAT)

    api.narrate("The newsroom ingests the bundled articles; the dispatcher sends the alerts.")
    for name in ("india-copper-talks.txt", "wire.jsonl"):
        await ingestor.refresh()
        report = await ingestor.ingest(_sample(name))
        api.narrate(
            f"ingested {name}: {counted(report.new, 'new article')} "
            f"(+{counted(report.new_headlines, 'headline')}), "
            f"{report.matched} on watch-lists"
        )
        before = api.sent
        wake()
        await api.settle(until_sent=before + report.matched)
    api.narrate("Copperfield, fine china and turkey farms stayed quiet: precision is the product.")

    api.narrate("Re-ingesting the same file queues nothing.")
    report = await ingestor.ingest(_sample("wire.jsonl"))
    api.narrate(
        f"new: {report.new}, duplicates: {report.duplicates}, on watch-lists: {report.matched}"
    )

    api.narrate("Asha asks what is known.")
    await api.conversation("/facts copper", "/facts rare earths", "/related India-Chile")
    await api.conversation("/latest copper", "/trend copper", "/digest", "/sources")
    api.narrate("Settings: a city or an abbreviation is enough, and times may be 12-hour.")
    await api.conversation("/timezone", "/timezone IST", "[IST (UTC+05:30)]")
    await api.conversation("/digesttime 7:30am", "/settings")
    await api.conversation("/list", "[✖ India-Chile]", "/unsubscribe lithium")
    await api.conversation("/subscribe", "/weather")
    await _second_source(api, ingestor, wake)
    await _forum_topics(api, ingestor, wake)
    api.narrate("End of the demo.")


SECOND_SOURCE = ArticleIn(
    title="Chile's Codelco raises copper production forecast as mines recover",
    body="Codelco, Chile's state-owned copper miner, raised its production forecast for next "
    "year to 1.4 million tonnes as its mines recovered, the mining ministry said.",
    url="https://miningweekly.example.com/codelco-forecast",
    source="Mining Weekly",
)


async def _second_source(api: OfflineBotAPI, ingestor: Ingestor, wake: Any) -> None:
    """A second outlet reports a story already alerted: each alert is edited in place."""
    api.narrate(
        "Mining Weekly reports the Codelco story too: no new ping, the alerts Asha and the "
        "group got are edited in place to name the second source."
    )
    await ingestor.refresh()
    await ingestor.ingest([replace(SECOND_SOURCE, published=datetime.now(UTC))])
    before = api.answered
    wake()
    await api.settle(until_answered=before + 2)  # Asha's alert and the group's


async def _forum_topics(api: OfflineBotAPI, ingestor: Ingestor, wake: Any) -> None:
    """A forum group with a topic per commodity: an item subscribed in a topic sends its
    alerts there; with /topics auto a new item gets a topic of its own."""
    api.narrate("The procurement team's forum group has a topic per commodity.")
    await api.conversation("/subscribe zinc", chat=FORUM_CHAT, thread=ZINC_TOPIC)
    await api.conversation("/topics auto", "/subscribe nickel", "/list", chat=FORUM_CHAT)
    await ingestor.refresh()
    report = await ingestor.ingest(FORUM_NEWS)
    api.narrate(f"ingested {counted(report.new, 'article')}: each goes to its item's topic")
    before = api.sent
    wake()
    await api.settle(until_sent=before + report.matched)


FORUM_NEWS = (
    ArticleIn(
        title="Zinc smelter restarts in Peru after strike",
        body="The zinc smelter in Peru restarted on Monday after a two-week strike, and zinc "
        "shipments resume this week.",
        url="https://news.example.com/peru-zinc-smelter",
        source="Andes Mining Wire",
    ),
    ArticleIn(
        title="Indonesia nickel exports climb",
        body="Indonesia's nickel exports rose 12% in November as new nickel smelters opened.",
        url="https://news.example.com/indonesia-nickel-exports",
        source="Metals Wire",
    ),
)
