"""Test fakes for tradebot's external services."""

from . import postgres
from .telegram_api import (
    Call,
    FakeTelegram,
    SentMessage,
    TelegramHTMLError,
    parse_telegram_html,
    parse_telegram_html_entities,
    utf16_len,
)

__all__ = [
    "Call",
    "FakeTelegram",
    "SentMessage",
    "TelegramHTMLError",
    "parse_telegram_html",
    "parse_telegram_html_entities",
    "postgres",
    "utf16_len",
]
