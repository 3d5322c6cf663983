"""Lexical search with bm25s over the same chunks as the vector store."""

import logging
import re
import unicodedata

import bm25s
import numpy as np

from bot.languages import all_languages

# bm25s sets its own logger to DEBUG at import, which would print through any root handler.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# bm25s's default tokenizer splits on \w+ after lowercasing ASCII; we fold accents (città -> citta, so an
# unaccented query still matches) and cut CJK text into single characters, which no whitespace tokenizer does.
_WORD = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


# The combining marks of the Basic Multilingual Plane, dropped by str.translate: a per-character test in Python made
# folding the corpus a third of the bot's start-up.
_COMBINING = dict.fromkeys(cp for cp in range(0x10000) if unicodedata.combining(chr(cp)))


def cjk_chars(text: str) -> int:
    """How many Chinese characters the text holds (each carries about as much as a short word)."""
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


def is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def fold(text: str) -> str:
    """Lower-case without accents: "Città" -> "citta"."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.lower()).translate(_COMBINING)


# The words the search skips, in every language the bot speaks (bot/languages/, `search_stop_words`).
STOPWORDS = frozenset(fold(w) for data in all_languages().values() for w in data.get("search_stop_words") or [])


def tokenize(text: str) -> list[str]:
    return [t for t in _WORD.findall(fold(text)) if t not in STOPWORDS]


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self._retriever = bm25s.BM25()
        self._size = len(texts)
        self._retriever.index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position of the text, score) for the texts that share a token with the query, best first."""
        tokens = tokenize(query)
        if not tokens or not self._size:
            return []
        docs, scores = self._retriever.retrieve([tokens], k=min(k, self._size), show_progress=False)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0 and np.isfinite(s)]
