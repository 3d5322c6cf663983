"""The question's language, and the bot's own fixed phrases in each supported language (bot/languages/)."""

import threading
from functools import lru_cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from bot.languages import codes, language

SUPPORTED = codes()
# Detection is restricted to languages investors plausibly write in; an unsupported one gets English phrases.
CANDIDATES = [*SUPPORTED, "pt", "nl", "ja", "ko", "ru", "ar", "pl"]
# For a language model's instructions: it answers in any of these, not only in the phrases' languages.
LANGUAGE_NAMES = {"en": "English", "it": "Italian", "de": "German", "fr": "French", "es": "Spanish",
                  "zh": "Chinese (simplified)", "pt": "Portuguese", "nl": "Dutch", "ja": "Japanese", "ko": "Korean",
                  "ru": "Russian", "ar": "Arabic", "pl": "Polish"}

_LOADING = threading.Lock()


def identifier(languages: tuple[str, ...] = tuple(CANDIDATES)) -> LanguageIdentifier:
    """py3langid restricted to these languages, loaded once per set (the eval restricts it to the six)."""
    # lru_cache alone lets every thread that arrives before the first load finishes load the model again (about
    # 0.4 s of CPU each): 20 first questions at once waited 7 s
    with _LOADING:
        return _load_identifier(languages)


@lru_cache(maxsize=4)
def _load_identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    loaded = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    loaded.set_languages(list(languages))
    return loaded


def detect_language(text: str, fallback: str = "en") -> str:
    """ISO 639-1 code of the text's language; `fallback` when the text is too short to tell."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return "zh"  # langid confuses short Chinese with Japanese; kana would say Japanese
    lang, prob = identifier().classify(text)
    if len(text.split()) < 4 and prob < 0.9:
        return fallback
    return lang


def phrases(lang: str) -> dict[str, str]:
    """The bot's fixed phrases in this language (bot/languages/<lang>.yaml); English for any other language."""
    return language(lang)["phrases"]
