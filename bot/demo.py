"""`tradebot demo`: the real bot, offline. A scripted user talks to the application built by
`build_application`; the Bot API is answered in-process by `OfflineBotAPI` and everything the
bot sends is printed. Articles bundled with the project go through the real ingest path and the
real dispatcher sends the alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot import rendering
from bot.app import build_application, running
from bot.articles import ParsedFile, read_articles
from bot.context import services_of
from bot.delivery import SendBudget
from bot.ingest import Ingestor
from bot.settings import Settings

DEMO_CHAT_ID = 1001
DEMO_USER = {"id": DEMO_CHAT_ID, "is_bot": False, "first_name": "Asha"}
BOT_USER = {"id": 1, "is_bot": True, "first_name": "tradebot", "username": "tradebot_demo_bot"}


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
        if endpoint in ("sendMessage", "editMessageText"):
            return self._show_message(endpoint, params)
        if endpoint == "answerCallbackQuery" and params.get("text"):
            self._print(f"   (pop-up) {params['text']}")
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
        if endpoint == "sendMessage":
            self._next_message_id += 1
            self.sent += 1
        markup = params.get("reply_markup") or {}
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Asha"},
            "from": BOT_USER,
            "text": params["text"],
        }
        if markup:
            message["reply_markup"] = markup
        self.messages[message_id] = message
        verb = "edits its message" if endpoint == "editMessageText" else "says"
        self._print(f"\n🤖 bot {verb}:")
        for line in rendering.plain_text(str(params["text"])).splitlines():
            self._print(f"   {line}")
        for row in markup.get("inline_keyboard", []):
            self._print("   " + "  ".join(f"[ {button['text']} ]" for button in row))
        return message

    def _queue(self, update: dict[str, Any]) -> None:
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(update)
        self._new_update.set()

    def user_says(self, text: str) -> None:
        self._print(f"\n🧑 Asha: {text}")
        command = text.split(maxsplit=1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._queue(
            {
                "message": {
                    "message_id": self._next_message_id,
                    "date": int(time.time()),
                    "chat": {"id": DEMO_CHAT_ID, "type": "private", "first_name": "Asha"},
                    "from": DEMO_USER,
                    "text": text,
                    "entities": entities if text.startswith("/") else [],
                }
            }
        )
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

    async def settle(self, *, until_sent: int = 0, quiet: float = 0.3, limit: float = 10.0) -> None:
        """Wait until the bot has taken every update, sent `until_sent` messages in all, and
        gone quiet."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            idle = time.monotonic() - self.last_call > quiet
            if not self._updates and self.sent >= until_sent and idle:
                return

    async def conversation(self, *turns: str) -> None:
        """Play the user's turns one by one, each answered before the next: a message, or
        "[label]" for tapping the newest button whose label starts with it."""
        for turn in turns:
            if turn.startswith("[") and turn.endswith("]"):
                self.user_taps(turn[1:-1])
            else:
                self.user_says(turn)
            await self.settle()

    def narrate(self, text: str) -> None:
        self._print(f"\n── {text}")

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)


async def run_demo(out: Any = sys.stdout) -> int:
    """Play the scripted conversation against a temporary database; 0 on success."""
    with tempfile.TemporaryDirectory(prefix="tradebot-demo-") as directory:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(directory) / 'demo.db'}",
            alert_poll_seconds=1,
            alert_burst_seconds=0,  # show each alert in full rather than lists of headlines
            _env_file=None,
        )
        api = OfflineBotAPI(out)
        app = build_application(settings, request=api, budget=SendBudget(private_interval=0.2))
        services = services_of(app)
        async with running(app, poll_timeout=1):
            ingestor = Ingestor(services.sessions, services.lexicon)
            await _script(api, ingestor, services.dispatcher.wake)
    return 0


async def _script(api: OfflineBotAPI, ingestor: Ingestor, wake: Any) -> None:
    api.narrate("A new user opens the bot.")
    await api.conversation("/start", "/subscribe copper", "/subscribe rare-earth")
    await api.conversation("/subscribe India-Chile")
    api.narrate("A typo gets a suggestion; tapping it subscribes.")
    await api.conversation("/subscribe lithum", "[lithium]", "/list")

    api.narrate("The newsroom ingests the bundled articles; the dispatcher sends the alerts.")
    samples = resources.files("bot").joinpath("samples")
    for name in ("india-copper-talks.txt", "wire.jsonl"):
        with resources.as_file(samples.joinpath(name)) as path:
            parsed = ParsedFile.of(read_articles(path))
        await ingestor.refresh()
        report = await ingestor.ingest(parsed.articles)
        api.narrate(
            f"ingested {name}: new articles: {report.new} (+{report.new_headlines} headlines), "
            f"alerts queued: {report.alerts}"
        )
        before = api.sent
        wake()
        await api.settle(until_sent=before + report.alerts)
    api.narrate("Copperfield, fine china and turkey farms stayed quiet: precision is the product.")

    api.narrate("Re-ingesting the same file queues nothing.")
    with resources.as_file(samples.joinpath("wire.jsonl")) as path:
        report = await ingestor.ingest(ParsedFile.of(read_articles(path)).articles)
    api.narrate(
        f"new: {report.new}, duplicates: {report.duplicates}, alerts queued: {report.alerts}"
    )

    api.narrate("Asha asks what is known.")
    await api.conversation("/facts copper", "/facts rare earths", "/related India-Chile")
    await api.conversation("/latest copper", "/digest", "/timezone Asia/Kolkata", "/settings")
    await api.conversation("/list", "[✖ India-Chile]", "/unsubscribe lithium")
    await api.conversation("/subscribe", "/weather")
    api.narrate("End of the demo.")
