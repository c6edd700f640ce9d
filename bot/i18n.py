"""Interface languages: every message the bot sends is looked up in a message catalog.

Messages are English in the code, marked with `_` (or `ngettext` when they count something) and
translated from gettext catalogs: `bot/locales/LANG/LC_MESSAGES/tradebot.po`, compiled to `.mo`
when the package is built or installed (`setup.py`). The language of the moment is a context
variable, set with `speaking(language)` around the handling of an update or the sending of an
alert, so rendering functions need no language argument.

    with speaking("es"):
        rendering.subscribed("copper")   # in Spanish
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "tradebot"
LOCALES = Path(__file__).parent / "locales"
ENGLISH = "en"
# The interface languages, each with its own name (what /language offers).
LANGUAGES = {"en": "English", "es": "Español", "hi": "हिन्दी"}
AUTOMATIC = "auto"  # no language chosen: follow the Telegram app of whoever writes
_NAMES = {
    **{code: code for code in LANGUAGES},
    **{name.casefold(): code for code, name in LANGUAGES.items()},
    "espanol": "es",
    "spanish": "es",
    "hindi": "hi",
    "automatic": AUTOMATIC,
    AUTOMATIC: AUTOMATIC,
}


class CatalogMissing(RuntimeError):
    """A language's compiled catalog is not installed (the package was not built)."""


def chat_language(chosen: str | None, code: str | None) -> str:
    """A chat's language: the one chosen with /language, else that of its Telegram
    `language_code`."""
    return chosen if chosen in LANGUAGES else language_for(code)


def language_named(typed: str) -> str | None:
    """The language (or `AUTOMATIC`) typed after /language: a code or a name ("es",
    "Español", "spanish", "हिन्दी", "auto"); None for anything else."""
    return _NAMES.get(typed.strip().casefold())


def language_for(code: str | None) -> str:
    """The interface language for a Telegram `language_code` ("es-MX" → "es"); English for
    anything not translated."""
    base = (code or "").replace("_", "-").split("-", 1)[0].casefold()
    return base if base in LANGUAGES else ENGLISH


@cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of a language (English: the messages as written)."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    if language not in LANGUAGES:
        raise ValueError(f"not an interface language: {language!r}")
    try:
        return gettext.translation(DOMAIN, LOCALES, languages=[language])
    except FileNotFoundError as error:
        raise CatalogMissing(
            f"the {language!r} message catalog is not compiled: reinstall the package "
            "(`make install`, or `pip install .`)"
        ) from error


_current: ContextVar[str] = ContextVar("interface_language", default=ENGLISH)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Render messages in `language` within the block."""
    token = _current.set(language if language in LANGUAGES else ENGLISH)
    try:
        yield
    finally:
        _current.reset(token)


def speak(language: str) -> None:
    """Render messages in `language` for the rest of the current context (an update's
    handling, which `speaking` encloses)."""
    _current.set(language if language in LANGUAGES else ENGLISH)


def current_language() -> str:
    return _current.get()


def _(message: str) -> str:
    """The message in the current language."""
    return catalog(_current.get()).gettext(message)


def N_(message: str) -> str:
    """Mark a message kept in a table for translation where it is shown (with `_`)."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural message for `count`, by the current language's plural rule."""
    return catalog(_current.get()).ngettext(singular, plural, count)
