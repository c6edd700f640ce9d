"""The message catalogs: every message marked in the code is translated in every interface
language, with the same placeholders and the language's plural forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.ENGLISH]


def marked_messages() -> set[str | tuple[str, str]]:
    """Every message the code marks for translation (singular, or singular and plural)."""
    found: set[str | tuple[str, str]] = set()
    for package in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(ROOT / package, keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def catalog_of(language: str) -> Catalog:
    path = i18n.LOCALES / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_message_is_translated_with_the_same_placeholders(language: str) -> None:
    catalog = catalog_of(language)
    problems = []
    for message in sorted(marked_messages(), key=str):
        singular = message if isinstance(message, str) else message[0]
        entry = catalog.get(singular)
        translations = [] if entry is None or entry.fuzzy else entry.string
        translations = [translations] if isinstance(translations, str) else list(translations)
        if not translations or not all(translations):
            problems.append(f"untranslated: {singular!r}")
            continue
        english = [singular] if isinstance(message, str) else list(message)
        for translated in translations:
            if placeholders(translated) != placeholders(english[-1]):
                problems.append(f"placeholders differ: {singular!r} → {translated!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_has_the_plural_forms_of_its_language(language: str) -> None:
    assert catalog_of(language).plural_forms == Catalog(locale=language).plural_forms


def test_telegram_language_codes_choose_an_interface_language() -> None:
    assert i18n.language_for("es-MX") == "es"
    assert i18n.language_for("hi") == "hi"
    assert i18n.language_for("pt-br") == "en"
    assert i18n.language_for(None) == "en"


def test_messages_follow_the_language_spoken_in_the_block() -> None:
    with i18n.speaking("es"):
        spanish = i18n.ngettext("{count} article", "{count} articles", 2)
    assert spanish.format(count=2) == "2 artículos"
    assert i18n.ngettext("{count} article", "{count} articles", 1).format(count=1) == "1 article"
