"""The language an article is written in, told from its headline and the start of its body by
py3langid (a naive Bayes model over byte n-grams that installs with the package), restricted to
the languages news feeds mostly come in: a smaller set is faster and confuses fewer of them."""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# ISO 639-1 code → the name an alert gives it
LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "hi": "Hindi",
    "pt": "Portuguese",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "ru": "Russian",
    "zh": "Chinese",
    "ja": "Japanese",
    "ar": "Arabic",
}
SAMPLE_CHARACTERS = 500  # of the body, after the headline: enough to tell, and cheap
MIN_CONFIDENCE = 0.8  # below it the language is left unknown (a short or mixed headline)

_lock = threading.Lock()  # the model is loaded once, by whichever thread asks first


@cache
def _identifier() -> LanguageIdentifier:
    # imported here: naming a language (rendering) should not load numpy
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def identifier() -> LanguageIdentifier:
    """The model, loaded on first use (about a second)."""
    with _lock:
        return _identifier()


def preload() -> None:
    """Load the model in a thread of its own, so that the first article does not wait for it
    (nor, in the bot, hold up the event loop)."""
    threading.Thread(target=identifier, name="language-model", daemon=True).start()


def detect_language(title: str, body: str) -> str | None:
    """The ISO 639-1 code of the language an article is in, or None when it is not clear."""
    sample = f"{title}\n{body[:SAMPLE_CHARACTERS]}"
    if not any(character.isalpha() for character in sample):
        return None
    code, confidence = identifier().classify(sample)
    return str(code) if confidence >= MIN_CONFIDENCE else None


def language_name(code: str) -> str:
    """The English name of a language code of `LANGUAGES` (the code itself for another)."""
    return LANGUAGES.get(code, code)
