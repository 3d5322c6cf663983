"""The grounding check a language model's answer must pass before an investor sees it.

Pure functions over text, written by hand because no library checks an answer against its evidence this way:
every cited number refers to evidence that was given; every number, year, percentage, e-mail and URL in the
answer appears in the evidence it cites; every organisation-like name is found in the corpus. The name test is
a heuristic without a tagger (capitalised runs with a word such as "Institute" or "Fondazione", acronyms,
CamelCase words): it errs on the side of rejecting, and a rejected answer costs only fluency, because the
grounded answer takes its place. Its known gap: an invented name with none of these marks ("Zorblax Robotics").
The URL test also stops a model from adding links or images that point outside the evidence.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from bot.find.gazetteer import foreign_place
from bot.languages import all_languages
from bot.languages.detect import detect_language
from index.lexical import STOPWORDS, cjk_chars, fold, is_cjk
from index.summaries import numbers

CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
DATE_PART = re.compile(r"\d+(?=\s*[年月日号])")  # 2023年9月: a date's parts, checked as the year alone would be
MIN_WORDS = 3  # an answer needs this many words (or twice as many Chinese characters) besides markers and numbers
LANGUAGE_CHECK_WORDS = 8  # shorter prose is too little to tell its language
LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.MULTILINE)
# Runs of capitalised words are cut at punctuation and at "and"-like words, so "Kilometro Rosso and POINT" is
# two names; the connectors below stay inside a name ("Politecnico di Milano", "Chamber of Commerce").
_BREAK = re.compile(r"[,;:()\[\]{}\"“”«»!?/|*_#>]|—|–|\.(?:\s|$)|\n")
_TOKEN = re.compile(r"[^\W_][\w&-]*")
NO_ANSWER = "NO_ANSWER"


@lru_cache(maxsize=1)
def name_words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Of every language file (a model may write an Italian name in a German answer): the words that join a name's
    words (lower case), the abbreviations that are vocabulary, and the words that make a name an organisation's
    (folded)."""
    def union(key: str) -> list[str]:
        return [w for data in all_languages().values() for w in data.get(key) or []]

    return (frozenset(w.lower() for w in union("name_connectors")), frozenset(union("generic_abbreviations")),
            frozenset(fold(w) for w in union("organisation_words")))


def _words(text: str) -> str:
    """Folded text as single-spaced words, framed by spaces, for whole-phrase containment tests."""
    return " " + " ".join(re.findall(r"[^\W_]+", fold(text))) + " "


def _url_key(url: str) -> str:
    url = url.rstrip(".,;:!?").lower()
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url)
    return url.rstrip("/")


@lru_cache(maxsize=64)
def evidence_values(evidence: tuple[str, ...]) -> frozenset[float]:
    """Every value a figure in the evidence can be quoted as: with its scale word read in the language of the
    evidence it stands in ("billion" is 10⁹ in English, 10¹² in German), and bare (a model may drop the word)."""
    values: set[float] = set()
    for text in evidence:
        values |= numbers(text, detect_language(text))
        values |= numbers(re.sub(r"[^\d\s.,\u202f\u00a0]", " ", text), "en")  # bare: no word to scale by
    return frozenset(values)


def _prose(text: str) -> str:
    """The words of an answer: no citation markers, numbers, URLs or e-mails."""
    return re.sub(r"\d+(?:[.,\s]\d+)*", " ", URL.sub(" ", EMAIL.sub(" ", CITATION.sub(" ", text))))


def _enough_words(text: str) -> bool:
    prose = _prose(text)
    return cjk_chars(prose) >= 2 * MIN_WORDS or len(re.findall(r"[^\W\d_]{2,}", prose)) >= MIN_WORDS


def cited_numbers(answer: str) -> list[int]:
    return [int(n) for group in CITATION.findall(answer) for n in re.split(r"\s*[,;]\s*", group)]


def name_candidates(text: str) -> list[list[str]]:
    """Organisation-like runs of words in the text: two or more capitalised words (with connectors such as
    "di" or "of" between them) of which one says what kind of organisation it is ("Institute", "Fondazione"),
    or any run with an acronym or a CamelCase word. German capitalises every noun, so capitals alone do not
    make a name: "Weitere Informationen" is not one."""
    connectors, _, organisation_words = name_words()
    out: list[list[str]] = []
    for piece in _BREAK.split(text):
        tokens = _TOKEN.findall(piece)
        run: list[str] = []
        for i, token in enumerate([*tokens, ""]):
            if token[:1].isupper() or (run and token.lower() in connectors and i + 1 < len(tokens)
                                       and tokens[i + 1][:1].isupper()):
                run.append(token)
                continue
            while run and fold(run[0]) in STOPWORDS:  # "Die", "Il", "The" before a name
                run.pop(0)
            organisation = sum(t[:1].isupper() for t in run) >= 2 and any(fold(t) in organisation_words for t in run)
            if organisation or any(_is_special(t) for t in run):
                out.append(run)
            run = []
    return out


def _is_special(token: str) -> bool:
    """An acronym (MADE, CNAO) or a CamelCase word (PoliHub): a name even on its own."""
    letters = [c for c in token if c.isalpha()]
    acronym = len(letters) >= 2 and all(c.isupper() for c in letters)
    return acronym or any(a.islower() and b.isupper() for a, b in zip(token, token[1:], strict=False))


class Failure(NamedTuple):
    kind: str  # citation, email, url, number, organisation (and, from the backend: error, timeout)
    detail: str

    def __str__(self) -> str:
        return self.detail


class Grounding:
    """Checks answers against the evidence they were given and the names known to the corpus."""

    def __init__(self, corpus_texts: Iterable[str]) -> None:
        texts = list(corpus_texts)
        self._known = _words(" \n ".join(texts))
        self._known_special = {t for text in texts for t in _TOKEN.findall(text) if _is_special(t)}

    def _known_name(self, tokens: list[str]) -> bool:
        if len(tokens) == 1:
            return tokens[0] in self._known_special or tokens[0] in name_words()[1]
        return _words(" ".join(tokens)) in self._known

    def _run_known(self, run: list[str]) -> bool:
        """A run passes when the names the corpus knows cover it, except for single ordinary words between them:
        "Contact Kilometro Rosso", or a German noun after a name ("MADE Forschung"). Two unknown capitalised words
        side by side ("Zorblax Labs") fail, and so does an unknown acronym."""
        if len(run) == 1:
            return self._known_name(run)
        found_name = False
        loose: list[str] = []  # capitalised words not inside a known name, since the last known one
        i = 0
        while i < len(run):
            end = next((j for j in range(len(run), i, -1) if (j - i > 1 or _is_special(run[i]))
                        and self._known_name(run[i:j])), None)
            if end is None:
                if _is_special(run[i]):
                    return False
                if run[i][:1].isupper():
                    loose.append(run[i])
                    if len(loose) > 1:
                        return False
                i += 1
                continue
            found_name, loose, i = True, [], end
        return found_name

    def check(self, answer: str, evidence: list[str], *, require_citation: bool = True,
              language: str | None = None) -> Failure | None:
        """None when the answer is grounded; otherwise the first reason it is not, in a few words. `language`, for
        a whole answer: it must be written in it, with words, not only markers and figures."""
        if language and require_citation:
            if not _enough_words(answer):
                return Failure("words", "the answer has no words besides citations and figures")
            prose = _prose(answer)
            if len(prose.split()) >= LANGUAGE_CHECK_WORDS or cjk_chars(prose) >= 2 * LANGUAGE_CHECK_WORDS:
                written = detect_language(prose, fallback=language)
                if written != language:
                    return Failure("language", f"written in {written}, asked in {language}")
        cited = cited_numbers(answer)
        if require_citation and not cited:
            return Failure("citation", "no citation")
        for n in cited:
            if not 1 <= n <= len(evidence):
                return Failure("citation", f"cites [{n}], which was not given")
        backing_items = [evidence[n - 1] for n in sorted(set(cited))] if require_citation else evidence
        backing = " \n ".join(backing_items)
        backing_lower = backing.lower()
        body = LIST_MARKER.sub(" ", CITATION.sub(" ", answer))
        for email in EMAIL.findall(body):
            if email.lower().rstrip(".") not in backing_lower:
                return Failure("email", f"e-mail {email} is not in the cited evidence")
        backing_urls = {_url_key(u) for u in URL.findall(backing)}
        for url in URL.findall(body):
            if _url_key(url) not in backing_urls and _url_key(url) not in backing_lower:
                return Failure("url", f"URL {url} is not in the cited evidence")
        body = URL.sub(" ", EMAIL.sub(" ", body))
        # figures compared as values, each with its scale word read in the answer's language: "6,2 Billionen" is
        # 6.2e12 in German, not the evidence's 6.2 billion; "22 847" and "22,847" are one figure
        allowed = evidence_values(tuple(backing_items))  # cached: each streamed sentence is checked against it
        for value in sorted(numbers(DATE_PART.sub(" ", body), language or "en")):
            if value not in allowed:
                return Failure("number", f"number {value:g} is not in the cited evidence")
        place = foreign_place(body) if is_cjk(body) else None
        if place and place not in backing:  # a Lombard town renamed in Chinese characters as another city
            return Failure("place", f"place {place} is not in the cited evidence")
        for run in name_candidates(body):
            if not self._run_known(run):
                return Failure("organisation", f"unknown organisation {' '.join(run)!r}")
        return None


def normalise(text: str) -> str:
    """Model output with Unicode compatibility forms folded (full-width digits, non-breaking spaces)."""
    return unicodedata.normalize("NFKC", text)
