"""The sector a question names: what is left of it once the words any hub or where-to-locate question has, its
places, its kinds of hub and its stop words are taken away.

"Which incubators are there in Milan?" names none: its words are a kind of hub, a place and words every such
question has. Such a question is ranked the same way in every language (by place and name), not by how its wording
happens to sit near one hub's description. Measured by meaning, the two kinds did not separate: the best hub's lead,
the S3 area's margin and the spread of the hubs' fit overlap between "fintech in Milan" and "incubators in Milan".
A word the language file does not know counts as a sector: the answer then stays ranked by meaning, as before.
"""

import re
from functools import lru_cache
from pathlib import Path

import bm25s.stopwords

from bot.find.gazetteer import place_names_in
from bot.languages import language
from index.lexical import fold, is_cjk

_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=8)
def _plain(lang: str) -> tuple[re.Pattern, frozenset[str]]:
    """One pattern for the words that name no sector (kinds of hub, plain words) and the language's stop words."""
    data = language(lang)
    patterns = [p for words in data.get("hub_type_words", {}).values() for p in words] + data.get("plain_words", [])
    stop = getattr(bm25s.stopwords, data.get("stop_words", ""), ())
    patterns.sort(key=len, reverse=True)  # the longer word first: "科技园区" before "科技园"
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)"), frozenset(fold(w) for w in stop)


def sector_words(question: str, lang: str, geo_dir: Path) -> str:
    """The words of the question that may name its sector ("fintech software"), or "" when it names none."""
    plain, stop = _plain(lang)
    text = question.casefold()
    if is_cjk(question):  # no spaces: take the words away where they stand, longest first
        text = plain.sub(" ", text)
        for name in place_names_in(question, geo_dir):
            text = text.replace(name, " ")
        for word in sorted((w for w in stop if len(w) > 1), key=len, reverse=True):
            text = text.replace(word, " ")
        # a one-character stop word ("的", "有", "和") only at the edge of what is left: inside a word it is part of it
        runs = (run.strip("".join(w for w in stop if len(w) == 1)) for run in re.findall(r"[^\W\d_]+", text))
        return " ".join(run for run in runs if run)
    # a plain word takes its whole word with it ("Innovationszentren", "d’innovation"), not the other parts of a
    # hyphenated one ("life-sciences")
    text = re.sub(rf"[\w'’]*(?:{plain.pattern})[\w'’]*", " ", text)
    folded = fold(text)
    for name in sorted(place_names_in(question, geo_dir), key=len, reverse=True):
        folded = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", folded)
    left = set(_WORD.findall(folded)) - stop
    # the words as written (with their accents), in order: what is embedded as the sector
    return " ".join(w for w in _WORD.findall(text) if fold(w) in left)
