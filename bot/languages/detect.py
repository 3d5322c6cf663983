"""The question's language, and the bot's own fixed phrases in each supported language (bot/languages/)."""

import lzma
import re
import shutil
import threading
from collections import Counter
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from py3langid import modelio
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from bot.derived import derived_file, write_derived
from bot.languages import all_languages, codes, language, language_names
from index.lexical import fold, is_cjk

SUPPORTED = codes()
# Detection is restricted to languages investors plausibly write in; an unsupported one gets English phrases.
CANDIDATES = list(language_names())

_LOADING = threading.Lock()


def identifier(languages: tuple[str, ...] = tuple(CANDIDATES)) -> LanguageIdentifier:
    """py3langid restricted to these languages, loaded once per set (the eval restricts it to the six)."""
    # lru_cache alone lets every thread that arrives before the first load finishes load the model again (about
    # 0.4 s of CPU each): 20 first questions at once waited 7 s
    with _LOADING:
        return _load_identifier(languages)


@lru_cache(maxsize=4)
def _load_identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    loaded = _from_unpacked() or LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    loaded.set_languages(list(languages))
    return loaded


def _from_unpacked() -> LanguageIdentifier | None:
    """The model read from its unpacked copy in the data dir (bot/derived.py, made on first use), as py3langid's
    own loader reads the packed one: unpacking the LZMA took 0.3 to 0.5 s of every start (`investbot ask`). None
    without a data dir or when the copy cannot be read (the packed model is used then)."""
    unpacked = derived_file(f"langid-model-{version('py3langid')}.npz")
    if unpacked is None:
        return None
    try:
        if not unpacked.exists():
            write_derived(unpacked, _unpack)
        with np.load(unpacked, allow_pickle=False) as data:
            return LanguageIdentifier(data["ptc"], data["pc"], data["classes"].tolist(),
                                      modelio._to_array(data["nextmove"]), data["out_feat"].tolist(),
                                      tk_row=modelio._to_array(data["nextmove_row"]), norm_probs=True)
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def _unpack(path: Path) -> None:
    with lzma.open(MODEL_DIR / MODEL_FILE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out, length=1 << 20)


def detect_language(text: str, fallback: str = "en") -> str:
    """ISO 639-1 code of the text's language; `fallback` when the text is too short to tell."""
    if is_cjk(text):
        return "zh"  # langid confuses short Chinese with Japanese; kana would say Japanese
    short = len(text.split()) < 4  # too short for letter statistics ("Steuern?", "Incubatori Bergamo?")
    if short:
        votes = Counter(_own_words()[w] for w in _WORD.findall(fold(text)) if w in _own_words()).most_common(2)
        if votes and (len(votes) == 1 or votes[0][1] > votes[1][1]):
            return votes[0][0]
    lang, prob = identifier().classify(text)
    return fallback if short and prob < 0.9 else lang


_WORD = re.compile(r"[^\W\d_]+")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value or [] for text in _strings(item)] if isinstance(value, list) else []


@lru_cache(maxsize=1)
def _own_words() -> dict[str, str]:
    """The words that one language file alone uses in its prose (example questions, phrases, decline topics,
    interface words, stop words), folded: a word of those in a two-word question says its language better than
    letter statistics can."""
    seen: dict[str, set[str]] = {}
    for code, data in all_languages().items():
        texts = [*_strings([data.get(key) for key in ("routes", "phrases", "topics", "what", "ui")]),
                 *(data.get("search_stop_words") or [])]
        for word in _WORD.findall(fold(" ".join(texts))):
            seen.setdefault(word, set()).add(code)
    return {word: next(iter(langs)) for word, langs in seen.items() if len(langs) == 1 and len(word) > 2}


def phrases(lang: str) -> dict[str, str]:
    """The bot's fixed phrases in this language (bot/languages/<lang>.yaml); English for any other language."""
    return language(lang)["phrases"]
