"""The language an article is written in, told from its headline and the start of its body by
py3langid (a naive Bayes model over byte n-grams that ships inside the package), restricted to
the languages news feeds mostly come in: a smaller set confuses fewer of them and keeps less of
the model in memory."""

from __future__ import annotations

import logging
import lzma
import struct
import threading
from array import array
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.i18n import N_

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

log = logging.getLogger(__name__)

# ISO 639-1 code → the name an alert gives it
LANGUAGES = {
    "en": N_("English"),
    "es": N_("Spanish"),
    "hi": N_("Hindi"),
    "pt": N_("Portuguese"),
    "fr": N_("French"),
    "de": N_("German"),
    "it": N_("Italian"),
    "ru": N_("Russian"),
    "zh": N_("Chinese"),
    "ja": N_("Japanese"),
    "ar": N_("Arabic"),
}
SAMPLE_CHARACTERS = 500  # of the body, after the headline: enough to tell, and cheap
MIN_CONFIDENCE = 0.8  # below it the language is left unknown (a short or mixed headline)

_lock = threading.Lock()  # the model is loaded once, by whichever thread asks first
_ZIP_ENTRY = struct.Struct("<4sHHHHHIIIHH")  # a zip file's local header
_ARRAY_TYPES = {2: "H", 4: "I", 8: "L"}  # item size → typecode of a stdlib array


def _arrays(path: object) -> dict[str, Any]:
    """The arrays of the model file (an .npz archive, stored, inside .xz), read in one pass
    of the stream. py3langid's own loader writes the 68 MB archive to a temporary file first,
    which a full disk or a file size limit makes fail."""
    import numpy as np

    arrays = {}
    with lzma.open(path) as stream:  # type: ignore[call-overload]
        while True:
            entry = stream.read(_ZIP_ENTRY.size)
            if entry[:4] != b"PK\x03\x04":
                break  # the archive's directory: every array is read
            _, _, flags, method, *_, name_length, extra_length = _ZIP_ENTRY.unpack(entry)
            if flags & 0x08 or method != 0:
                raise ValueError("the model archive is not laid out as py3langid 0.4 writes it")
            name = stream.read(name_length).decode()
            stream.read(extra_length)
            arrays[name.removesuffix(".npy")] = np.lib.format.read_array(stream)
    return arrays


def _stdlib_array(values: Any) -> array[int]:
    """A NumPy array of unsigned integers as the stdlib array the model's DFA walks."""
    import numpy as np

    result = array(_ARRAY_TYPES[values.dtype.itemsize])
    result.frombytes(np.ascontiguousarray(values).data.cast("B"))
    return result


@cache
def _identifier() -> LanguageIdentifier:
    # imported here: naming a language (rendering) should not load numpy
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model = _arrays(MODEL_DIR / MODEL_FILE)
    classes = model["classes"].tolist()
    kept = [index for index, code in enumerate(classes) if code in LANGUAGES]
    return LanguageIdentifier(
        model["ptc"][:, kept],  # only these languages' columns stay in memory
        model["pc"][kept],
        [classes[index] for index in kept],
        _stdlib_array(model["nextmove"]),
        model["out_feat"].tolist(),
        norm_probs=True,
        tk_row=_stdlib_array(model["nextmove_row"]),
    )


@cache
def _unavailable(reason: str) -> None:
    log.warning("articles are stored without their language: the model failed to load (%s)", reason)


def identifier() -> LanguageIdentifier | None:
    """The model, loaded on first use (about a second); None if it could not be loaded."""
    with _lock:
        try:
            return _identifier()
        except Exception as error:  # an article is never lost for want of its language
            _unavailable(str(error))
            return None


def preload() -> None:
    """Load the model in a thread of its own, so that the first article does not wait for it
    (nor, in the bot, hold up the event loop)."""
    threading.Thread(target=identifier, name="language-model", daemon=True).start()


def detect_language(title: str, body: str) -> str | None:
    """The ISO 639-1 code of the language an article is in, or None when it is not clear."""
    sample = f"{title}\n{body[:SAMPLE_CHARACTERS]}"
    model = identifier()
    if model is None or not any(character.isalpha() for character in sample):
        return None
    code, confidence = model.classify(sample)
    return str(code) if confidence >= MIN_CONFIDENCE else None


def language_name(code: str) -> str:
    """The English name of a language code of `LANGUAGES` (the code itself for another),
    marked for translation where it is shown."""
    return LANGUAGES.get(code, code)
