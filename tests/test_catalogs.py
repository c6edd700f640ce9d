"""The message catalogs: every message marked in the code is translated in every interface
language, with the same placeholders and HTML tags and the language's plural forms, and no
catalog keeps a message the code no longer says."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}  # as `make catalogs` extracts them
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?[a-z]+[^>]*>")
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.ENGLISH]

Message = str | tuple[str, str]  # a singular message, or a singular and its plural


@cache
def marked_messages() -> frozenset[Message]:
    """Every message the code marks for translation (singular, or singular and plural)."""
    found: set[Message] = set()
    for package in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(ROOT / package, keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else (message[0], message[1]))
    return frozenset(found)


@cache
def catalog_of(language: str) -> Catalog:
    path = i18n.LOCALES / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


def problems_of(message: Message, catalog: Catalog) -> list[str]:
    """What is wrong with one message's translation in `catalog` (nothing when it is right)."""
    singular = message if isinstance(message, str) else message[0]
    entry = catalog.get(singular)
    if entry is None or entry.fuzzy:
        return [f"untranslated: {singular!r}"]
    if isinstance(message, tuple) != entry.pluralizable:
        return [f"singular/plural mismatch with the code: {singular!r}"]
    translations = [entry.string] if isinstance(entry.string, str) else list(entry.string)
    if len(translations) != catalog.num_plurals and isinstance(message, tuple):
        return [f"{len(translations)} plural forms, not {catalog.num_plurals}: {singular!r}"]
    english = message if isinstance(message, str) else message[-1]
    problems = []
    for translated in translations:
        if not translated:
            problems.append(f"untranslated form: {singular!r}")
        elif placeholders(translated) != placeholders(english):
            problems.append(f"placeholders differ: {singular!r} → {translated!r}")
        elif tags(translated) != tags(english):
            problems.append(f"HTML tags differ: {singular!r} → {translated!r}")
    return problems


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_message_is_translated_with_the_same_placeholders_and_tags(
    language: str,
) -> None:
    catalog = catalog_of(language)
    problems = [
        problem
        for message in sorted(marked_messages(), key=str)
        for problem in problems_of(message, catalog)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_keeps_no_message_the_code_no_longer_says(language: str) -> None:
    said = {message if isinstance(message, str) else message[0] for message in marked_messages()}
    kept = [entry.id for entry in catalog_of(language) if entry.id]
    singulars = [message if isinstance(message, str) else message[0] for message in kept]
    stale = [message for message in singulars if message not in said]
    assert not stale, f"run `make catalogs`: {stale}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_has_the_plural_forms_of_its_language(language: str) -> None:
    assert catalog_of(language).plural_forms == Catalog(locale=language).plural_forms


def test_the_check_catches_a_missing_message_and_a_changed_placeholder() -> None:
    catalog = Catalog(locale="es")
    catalog.add("Removed {topic}", "Eliminado: {tema}")
    catalog.add("<b>{count}</b> new", "{count} nuevos")
    assert problems_of("Removed {topic}", catalog) == [
        "placeholders differ: 'Removed {topic}' → 'Eliminado: {tema}'"
    ]
    assert problems_of("<b>{count}</b> new", catalog) == [
        "HTML tags differ: '<b>{count}</b> new' → '{count} nuevos'"
    ]
    assert problems_of("Saved.", catalog) == ["untranslated: 'Saved.'"]


def test_telegram_language_codes_choose_an_interface_language() -> None:
    assert i18n.language_for("es-MX") == "es"
    assert i18n.language_for("hi") == "hi"
    assert i18n.language_for("pt-br") == "en"
    assert i18n.language_for(None) == "en"


def test_a_chosen_language_wins_over_the_app_language() -> None:
    assert i18n.chat_language("hi", "es") == "hi"
    assert i18n.chat_language(None, "es-ES") == "es"
    assert i18n.chat_language(None, None) == "en"


def test_language_names_typed_after_the_command() -> None:
    assert [i18n.language_named(typed) for typed in ("es", "Español", "HINDI", " auto ")] == [
        "es",
        "es",
        "hi",
        i18n.AUTOMATIC,
    ]
    assert i18n.language_named("klingon") is None


def test_messages_follow_the_language_spoken_in_the_block() -> None:
    with i18n.speaking("es"):
        spanish = [
            i18n.ngettext("{count} article", "{count} articles", n).format(count=n) for n in (1, 2)
        ]
    with i18n.speaking("hi"):
        hindi = i18n.ngettext("{count} new article stored", "{count} new articles stored", 2)
    assert spanish == ["1 artículo", "2 artículos"]
    assert hindi.format(count=2) == "2 नए लेख सहेजे गए"
    assert i18n.ngettext("{count} article", "{count} articles", 1).format(count=1) == "1 article"
