"""The grounding check a language model's answer must pass before an investor sees it.

Pure functions over text, written by hand because no library checks an answer against its evidence this way:
every cited number refers to evidence that was given; every number, year, percentage, e-mail and URL in the
answer appears in the evidence it cites; every organisation-like name is found in the corpus. The name test is
a heuristic without a tagger (multi-word capitalised runs, acronyms, CamelCase words): it errs on the side of
rejecting, and a rejected answer costs only fluency, because the grounded answer takes its place.
"""

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from index.lexical import STOPWORDS, fold

CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.MULTILINE)
# Runs of capitalised words are cut at punctuation and at "and"-like words, so "Kilometro Rosso and POINT" is
# two names; the connectors below stay inside a name ("Politecnico di Milano", "Chamber of Commerce").
_BREAK = re.compile(r"[,;:()\[\]{}\"“”«»!?/|*_#>]|—|–|\.(?:\s|$)|\n")
_TOKEN = re.compile(r"[^\W_][\w&-]*")
CONNECTORS = frozenset("di del della dello dei degli delle de des du of for von der für per".split())
# Abbreviations that are vocabulary, not organisations; a model may use them in any answer.
GENERIC_ABBREVIATIONS = frozenset(
    "AI IA KI ICT IT EU UE UK USA US R&D RD SME SMEs PMI KMU PME GDP PIL BIP PIB PhD CEO HQ KM MB".split())
NO_ANSWER = "NO_ANSWER"


def _words(text: str) -> str:
    """Folded text as single-spaced words, framed by spaces, for whole-phrase containment tests."""
    return " " + " ".join(re.findall(r"[^\W_]+", fold(text))) + " "


def _url_key(url: str) -> str:
    url = url.rstrip(".,;:!?").lower()
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url)
    return url.rstrip("/")


def _number_key(number: str) -> str:
    # 1,200 / 1.200 / 1200 are the same figure in the languages we serve; a decimal point or comma is dropped
    # too, which can only make two different figures look equal (2.5 vs 25), never the reverse.
    return re.sub(r"[.,]", "", number)


def cited_numbers(answer: str) -> list[int]:
    return [int(n) for group in CITATION.findall(answer) for n in re.split(r"\s*[,;]\s*", group)]


def _is_acronym(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _is_camel(token: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in zip(token, token[1:], strict=False))


def name_candidates(text: str) -> list[tuple[str, bool]]:
    """Organisation-like names in the text, each with whether it opens a sentence (its first word may then be an
    ordinary word written with a capital)."""
    out: list[tuple[str, bool]] = []
    for piece_start, piece in _pieces(text):
        tokens = _TOKEN.findall(piece)
        run: list[str] = []
        run_start = 0
        for i, token in enumerate([*tokens, ""]):
            capital = token[:1].isupper()
            if capital or (run and token.lower() in CONNECTORS and i + 1 < len(tokens)
                           and tokens[i + 1][:1].isupper()):
                if not run:
                    run_start = i
                run.append(token)
                continue
            while run and fold(run[0]) in STOPWORDS:  # "Die", "Il", "The" before a name
                run.pop(0)
                run_start += 1
            capitals = [t for t in run if t[:1].isupper()]
            if len(capitals) >= 2 or (len(run) == 1 and (_is_acronym(run[0]) or _is_camel(run[0]))):
                out.append((" ".join(run), piece_start and run_start == 0))
            run = []
    return out


def _pieces(text: str) -> Iterable[tuple[bool, str]]:
    """The text cut at punctuation; each piece says whether a sentence starts with it."""
    position = 0
    for match in [*_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        before = text[:position].rstrip()
        yield (not before or before[-1] in ".!?\n:"), text[position:end]
        if match:
            position = match.end()


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
        self._known_acronyms = {t for text in texts for t in _TOKEN.findall(text) if _is_acronym(t) or _is_camel(t)}

    def _name_known(self, name: str, opens_sentence: bool) -> bool:
        if len(name.split()) == 1:
            return name in self._known_acronyms or name in GENERIC_ABBREVIATIONS or _words(name) in self._known
        if _words(name) in self._known:
            return True
        first, rest = name.split(" ", 1)
        # "Contact Kilometro Rosso": an ordinary first word (one the corpus uses in lower case) opens a sentence.
        ordinary = fold(first) in STOPWORDS or f" {fold(first)} " in self._known
        return opens_sentence and ordinary and self._name_known(rest, False)

    def check(self, answer: str, evidence: list[str], *, require_citation: bool = True) -> Failure | None:
        """None when the answer is grounded; otherwise the first reason it is not, in a few words."""
        cited = cited_numbers(answer)
        if require_citation and not cited:
            return Failure("citation", "no citation")
        for n in cited:
            if not 1 <= n <= len(evidence):
                return Failure("citation", f"cites [{n}], which was not given")
        backing = " \n ".join(evidence[n - 1] for n in set(cited)) if require_citation else " \n ".join(evidence)
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
        backing_numbers = {_number_key(n) for n in NUMBER.findall(URL.sub(" ", backing))}
        for number in NUMBER.findall(body):
            if _number_key(number) not in backing_numbers:
                return Failure("number", f"number {number} is not in the cited evidence")
        for name, opens_sentence in name_candidates(body):
            if not self._name_known(name, opens_sentence):
                return Failure("organisation", f"unknown organisation {name!r}")
        return None


def normalise(text: str) -> str:
    """Model output with Unicode compatibility forms folded (full-width digits, non-breaking spaces)."""
    return unicodedata.normalize("NFKC", text)
