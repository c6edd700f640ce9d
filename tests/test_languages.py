"""Articles in Spanish and Hindi: lexicon names, words and sentences of other scripts, language
detection, and alerts end to end that name the story's language."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from sqlmodel import select

from bot import language, rendering
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.language import detect_language
from bot.lexicon import default_lexicon
from bot.matching import Matcher, evidence_sentence
from bot.rendering import alert
from bot.text import normalize_word, search_words, split_sentences, words_of
from bot.topics import parse_watch_item
from storage.db import SessionFactory
from storage.models import Article
from tests.fakes import FakeTelegram
from tests.test_alerts import alerts, settle, subscribe
from tests.test_chat_commands import say

COPPER, CHILE_COPPER, GOLD, OTHER = 21, 22, 23, 24

SPANISH = ArticleIn(
    title="Chile eleva su producción de cobre en octubre",
    body=(
        "La producción de cobre de Chile subió un 5% en octubre frente al mismo mes del año "
        "anterior, según datos oficiales publicados el lunes. Las minas del norte del país "
        "recuperaron su ritmo tras las lluvias de septiembre, y los analistas esperan que los "
        "envíos a Asia sigan creciendo durante el próximo trimestre."
    ),
    url="https://noticias.example.com/cobre-chile",
    source="Diario Minero",
)
HINDI = ArticleIn(
    title="चिली में तांबे का उत्पादन बढ़ा",
    body=(
        "चिली में अक्टूबर में तांबे का उत्पादन पिछले साल की तुलना में 5% बढ़कर 4,80,000 टन हो गया। "
        "सरकारी आंकड़ों के अनुसार उत्तरी खदानों में काम फिर से तेज़ हो गया है। "
        "विश्लेषकों का कहना है कि एशिया को होने वाला निर्यात अगली तिमाही में भी बढ़ता रहेगा।"
    ),
    url="https://samachar.example.com/chile-tamba",
    source="खनिज समाचार",
)
# Words that look like the lexicon's names but are not the commodity or the country
NEAR_MISSES = [
    ArticleIn(
        title="Cobrenza abre nuevas oficinas en Santiago",
        body="La empresa Cobrenza anunció que contratará a cien personas este año.",
        url="https://noticias.example.com/cobrenza",
    ),
    ArticleIn(
        title="Receta: chile relleno con queso",
        body="El chile poblano se asa, se pela y se rellena con queso fresco.",
        url="https://noticias.example.com/receta",
    ),
    ArticleIn(
        title="अच्छी नींद के लिए जल्दी सोना ज़रूरी",
        body="डॉक्टरों का कहना है कि रात को जल्दी सोना और सुबह जल्दी उठना सेहत के लिए अच्छा है।",
        url="https://samachar.example.com/neend",
    ),
]


def matched(topic: str, title: str, body: str = "") -> list[str]:
    """The evidence sentences of the matches of one watch item."""
    lexicon = default_lexicon()
    matcher = Matcher([parse_watch_item(topic, lexicon)], lexicon)
    return [evidence_sentence(title, body, m.evidence_at) for m in matcher.match(title, body)]


# --- words and sentences --------------------------------------------------------------------


def test_devanagari_vowel_marks_and_virama_stay_inside_their_word() -> None:
    assert words_of("कच्चे तेल और तांबे की कीमत") == ["कच्चे", "तेल", "और", "तांबे", "की", "कीमत"]


def test_search_words_keep_hindi_words_whole_and_fold_spanish_accents() -> None:
    assert search_words("तांबे की कीमत", "El petróleo") == "तांबे की कीमत el petroleo"
    assert normalize_word("कच्चा") == "कच्चा"  # the virama is not an accent


def test_a_danda_ends_a_hindi_sentence_and_spanish_questions_open_one() -> None:
    assert split_sentences("तांबा महंगा हुआ। चांदी सस्ती हुई। El cobre subió. ¿Y el oro?") == (
        "तांबा महंगा हुआ।",
        "चांदी सस्ती हुई।",
        "El cobre subió.",
        "¿Y el oro?",
    )


# --- the lexicon ----------------------------------------------------------------------------


def test_every_commodity_and_country_has_spanish_and_hindi_names() -> None:
    raw = tomllib.loads(resources.files("bot").joinpath("data/lexicon.toml").read_text("utf-8"))
    left_out = {"es": {"GD", "MU"}, "hi": set()}  # Granada, Mauricio: see the lexicon
    for code, names in ((code, raw["languages"][code]["names"]) for code in ("es", "hi")):
        missing = {
            concept["id"]
            for concept in raw["concept"]
            if concept["kind"] in {"country", "commodity"} and concept["id"] not in names
        }
        assert missing == left_out[code]


def test_a_name_in_another_language_is_a_typed_topic_too() -> None:
    lexicon = default_lexicon()
    for typed, concept in [("cobre", "copper"), ("तांबा", "copper"), ("चिली", "CL"),
                           ("भारत", "IN"), ("petróleo", "oil"), ("कच्चा तेल", "oil"),
                           ("chilena", "CL"), ("भारतीय", "IN"), ("EE. UU.", "US")]:  # fmt: skip
        found = lexicon.lookup(typed)
        assert found is not None and found.id == concept, typed


def test_a_watch_item_typed_in_hindi_keeps_the_case_rules_of_its_names() -> None:
    lexicon = default_lexicon()
    item = parse_watch_item("चिली-तांबा", lexicon)
    assert item.key == "Chile-copper"  # not "chile-copper", as if typed in lower case
    assert matched("चिली-तांबा", "Receta: chile relleno con cobre", "") == []


def test_no_name_in_another_language_belongs_to_two_concepts() -> None:
    owners: dict[tuple[str, ...], set[str]] = {}
    for concept in default_lexicon().concepts.values():
        for surface in concept.surfaces:
            owners.setdefault(surface.words, set()).add(concept.id)
    shared = {words: ids for words, ids in owners.items() if len(ids) > 1}
    assert shared == {("america",): {"americas", "US"}}  # English, told apart by spelling


# --- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title", "body", "evidence"),
    [
        ("copper", SPANISH.title, SPANISH.body, "La producción de cobre de Chile subió un 5%"),
        ("Chile-copper", SPANISH.title, SPANISH.body, "La producción de cobre de Chile subió"),
        ("copper", HINDI.title, HINDI.body, "चिली में अक्टूबर में तांबे का उत्पादन"),
        ("Chile-copper", HINDI.title, HINDI.body, "चिली में अक्टूबर में तांबे का उत्पादन"),
        ("gold", "सोने की कीमत रिकॉर्ड पर", "सोने की कीमत आज रिकॉर्ड पर पहुंची।", "सोने की कीमत आज"),
        ("silver", "La plata sube", "El precio de la plata subió en Londres.", "El precio de la"),
        ("oil", "भारत का आयात बढ़ा", "भारत ने कच्चे तेल का आयात बढ़ाया।", "भारत ने कच्चे तेल"),
        ("India", "भारत का आयात बढ़ा", "भारत ने कच्चे तेल का आयात बढ़ाया।", "भारत ने कच्चे तेल"),
        ("Chile", "Exportaciones chilenas", "Las exportaciones chilenas crecieron.", "Las exp"),
    ],
)
def test_stories_in_spanish_and_hindi_match_with_evidence_in_their_language(
    topic: str, title: str, body: str, evidence: str
) -> None:
    [sentence] = matched(topic, title, body)
    assert sentence.startswith(evidence)


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        ("copper", NEAR_MISSES[0].title, NEAR_MISSES[0].body),  # "cobre" inside a word
        ("Chile", NEAR_MISSES[1].title, NEAR_MISSES[1].body),  # the pepper, in lower case
        ("gold", NEAR_MISSES[2].title, NEAR_MISSES[2].body),  # सोना: to sleep
        ("silver", "Sin plata", "Juan no tenía plata para el autobús."),  # plata: money
        ("lead", "Muro a plomo", "El albañil comprobó la pared con la plomada y a plomo."),
        ("oil", "सरसों तेल सस्ता", "सरसों तेल की बिक्री बढ़ी।"),  # mustard oil, not crude
        ("US", "दक्षिण अमेरिका में बारिश", "दक्षिण अमेरिका में भारी बारिश हुई।"),  # a region
        ("coal", "Carbon emissions fell", "Carbon emissions from power plants fell 3%."),
        ("coffee", "A new cafe opens", "The cafe on Main Street opened on Monday."),
    ],
)
def test_near_misses_in_spanish_and_hindi_do_not_match(topic: str, title: str, body: str) -> None:
    assert matched(topic, title, body) == []


# --- language detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body", "language"),
    [
        (SPANISH.title, SPANISH.body, "es"),
        (HINDI.title, HINDI.body, "hi"),
        ("Copper output rises at Chilean mine", "Copper production rose 3% in October.", "en"),
        ("COPPER OUTPUT RISES AT CHILEAN MINES AFTER STRIKE ENDS", "", "en"),
        ("Le cuivre chilien progresse", "La production de cuivre a augmenté en octobre.", "fr"),
    ],
)
def test_the_language_of_an_article_is_detected(title: str, body: str, language: str) -> None:
    assert detect_language(title, body) == language


def test_articles_go_on_without_a_language_when_the_model_cannot_be_loaded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("py3langid.langid.MODEL_FILE", "data/no-such-model.npz.xz")
    language._identifier.cache_clear()
    language._unavailable.cache_clear()
    try:
        assert detect_language(SPANISH.title, SPANISH.body) is None
        assert detect_language(HINDI.title, HINDI.body) is None
        [warning] = [r for r in caplog.records if r.name == "bot.language"]  # said once
        assert "stored without their language" in warning.getMessage()
    finally:
        monkeypatch.undo()
        language._identifier.cache_clear()
    assert detect_language(SPANISH.title, SPANISH.body) == "es"


def test_a_text_without_words_has_no_language() -> None:
    assert detect_language("2,450 / 3.1%", "") is None


def test_only_the_start_of_a_long_body_is_read() -> None:
    body = SPANISH.body + " " + "The rest of this page is an English cookie notice. " * 200
    assert detect_language(SPANISH.title, body) == "es"


# --- the alert ------------------------------------------------------------------------------


def test_an_alert_names_the_language_only_when_it_is_not_the_chats() -> None:
    fields: dict[str, Any] = dict(
        title="Chile <cobre>", topics=["copper"], evidence="El cobre & más.", source="Diario",
        url=None, published=None,
    )  # fmt: skip
    lines = alert(**fields, language="es").splitlines()
    assert lines[-2] == "🌐 Spanish" and lines[2] == "“El cobre &amp; más.”"
    assert "🌐" not in alert(**fields, language="en")
    assert "🌐" not in alert(**fields, language=None)
    assert "🌐" not in alert(**fields, language="es", chat_language="es")


# --- end to end -----------------------------------------------------------------------------


async def test_spanish_and_hindi_stories_alert_copper_and_chile_copper_watchers(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, COPPER, "copper")
    await subscribe(db, CHILE_COPPER, "Chile-copper")
    await subscribe(db, GOLD, "gold")
    await ingest(SPANISH)
    for chat in (COPPER, CHILE_COPPER):
        [sent] = await telegram.wait_for_sent(chat_id=chat)
        lines = (sent.plain_text or "").splitlines()
        assert lines[0] == f"🔔 {SPANISH.title}"
        assert lines[2].startswith("“La producción de cobre de Chile subió un 5% en octubre")
        assert lines[3] == "🌐 Spanish"
        assert lines[4].startswith("Diario Minero")
    await ingest(HINDI)
    for chat in (COPPER, CHILE_COPPER):
        _, sent = await telegram.wait_for_sent(2, chat_id=chat)
        lines = (sent.plain_text or "").splitlines()
        assert lines[0] == f"🔔 {HINDI.title}"
        assert lines[2].startswith("“चिली में अक्टूबर में तांबे का उत्पादन")
        assert lines[3] == "🌐 Hindi"
    await settle()
    assert telegram.sent_to(GOLD) == []
    async with db() as session:
        stored = (await session.exec(select(Article.title, Article.language))).all()
    assert sorted(language or "" for _, language in stored) == ["es", "hi"]


async def test_an_english_story_says_no_language(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, COPPER, "copper")
    await ingest(
        ArticleIn(title="Copper output rises in Chile", body="Copper production rose 3% in May.")
    )
    [sent] = await telegram.wait_for_sent(chat_id=COPPER)
    assert "🌐" not in (sent.plain_text or "")


async def test_near_misses_in_spanish_and_hindi_stay_quiet(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, COPPER, "copper", "Chile", "gold")
    await ingest(*NEAR_MISSES)
    await settle(1.0)
    assert telegram.sent_to(COPPER) == []
    assert await alerts(db) == []


async def test_latest_finds_stories_in_hindi_and_spanish(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(SPANISH, HINDI)
    text = (await say(telegram, "/latest copper", OTHER)).plain_text or ""
    assert SPANISH.title in text and HINDI.title in text
    text = (await say(telegram, "/latest तांबा", OTHER)).plain_text or ""
    assert SPANISH.title in text and HINDI.title in text


async def test_facts_lists_figures_from_spanish_and_hindi_stories(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(SPANISH, HINDI)
    text = (await say(telegram, "/facts copper", OTHER)).plain_text or ""
    assert "subió un 5%" in text and "5% बढ़कर 4,80,000 टन" in text


def test_a_list_of_headlines_names_the_language_of_each_article_not_in_the_chats() -> None:
    items = [
        rendering.BurstItem(
            1, "El cobre sube en Chile", None, "Diario", ("copper",), language="es"
        ),
        rendering.BurstItem(2, "Copper rises in Chile", None, "Wire", ("copper",), language="en"),
    ]
    [english] = rendering.alert_burst(items)
    spanish_line, english_line = english.text.splitlines()[1:]
    assert "🌐 Spanish" in spanish_line and "🌐" not in english_line
    [spanish] = rendering.alert_burst(items, chat_language="es")
    assert "🌐" not in spanish.text.splitlines()[1]
