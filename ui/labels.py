"""The interface's words in each language (the `ui` part of bot/languages/<code>.yaml), and the choice of language
from what the browser asks for."""

from bot.languages import codes, language


def ui_labels(lang: str) -> dict:
    """The page's and widget's words, with the bot's own words they reuse (sources, hub types, location)."""
    words = language(lang)
    return {**words["ui"], "lang": lang if lang in codes() else "en", "sources": words["phrases"]["sources"],
            "hub_types": words["phrases"]["hub_types"], "approx": words["phrases"]["approx"]}


def interface_language(preferred: str | None) -> str:
    """The first supported language in a browser's list ("de-CH,de;q=0.9,en;q=0.8" or "zh-CN"), else English."""
    for part in (preferred or "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in codes():
            return code
    return "en"
