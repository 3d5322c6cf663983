"""Checks that a record's summaries say the same thing in every language: the same numbers (compared as values,
so 5.4 = 5,4 and 490.4 billion = 4904亿), e-mails, URLs and organisation acronyms, no curation note, short
sentences.

Written by hand: translation QA tools compare segments of bilingual files, not the values inside six short texts.
"""

import re
from functools import cache
from importlib.resources import files

import yaml

from bot.languages import all_languages, codes
from index.lexical import cjk_chars

MAX_SENTENCES = 3
MAX_SENTENCE_WORDS = 45  # a sentence an investor reads in one go; about 3 lines in the chat
MAX_SENTENCE_CJK_CHARS = 90  # the same length in Chinese characters
# What marks a curation note or a raw field label: the list the eval refuses in answers (evals/note_patterns.yaml).
NOTE_PATTERNS = re.compile("|".join(p["pattern"] for p in yaml.safe_load(
    (files("evals") / "note_patterns.yaml").read_text(encoding="utf-8"))), re.IGNORECASE)
_NUMBER = re.compile(r"(?<![A-Za-z0-9.,])(\d{1,3}(?:[,.\u202f\u00a0 ]\d{3})+(?!\d)|\d+(?:[.,]\d+)?)")
_THOUSANDS_SEP = re.compile(r"[,.\u202f\u00a0 ](?=\d{3}(?!\d))")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s)\]>,;，。]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“«(À-Ý])|(?<=[。！？])")


@cache
def _scale_pattern(lang: str) -> tuple[re.Pattern, dict[str, float]]:
    scales = {k.casefold(): float(v) for k, v in (all_languages()[lang].get("number_scales") or {}).items()}
    words = sorted(scales, key=len, reverse=True)  # "mil millones" before "mil"
    alternatives = "|".join(re.escape(w) for w in words) or "(?!)"
    # a Latin scale word ends at a word boundary; a CJK one is followed directly by the next character (4904亿欧元)
    return re.compile(rf"\s?({alternatives})(?:(?<=[\u4e00-\u9fff])|(?![^\W\d_]))", re.IGNORECASE), scales


def _value(token: str) -> float:
    token = _THOUSANDS_SEP.sub("", token)  # a separator before exactly three digits groups thousands
    return float(token.replace(",", "."))


def numbers(text: str, lang: str) -> set[float]:
    """The values of the numbers in a text, scale words applied ("6,2 Milliarden" → 6.2e9)."""
    scale_re, scales = _scale_pattern(lang)
    text = _URL.sub(" ", _EMAIL.sub(" ", text))
    found = set()
    for match in _NUMBER.finditer(text):
        value = _value(match.group(1))
        scale = scale_re.match(text, match.end())
        if scale:
            value *= scales[scale.group(1).casefold()]
        found.add(round(value, 6))
    return found


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def _too_long(sentence: str) -> bool:
    cjk = cjk_chars(sentence)
    return cjk > MAX_SENTENCE_CJK_CHARS if cjk else len(sentence.split()) > MAX_SENTENCE_WORDS


def summary_problems(summary: dict[str, str], names: set[str]) -> list[str]:
    """What is wrong with one record's summaries; `names` are the organisation acronyms and names the corpus
    knows, which must be spelled the same in every language."""
    problems = []
    for lang in codes():
        if not (summary.get(lang) or "").strip():
            problems.append(f"summary.{lang} is missing or empty")
    extra = sorted(set(summary) - set(codes()))
    if extra:
        problems.append(f"summary has languages with no language file: {', '.join(extra)}")
    english = summary.get("en") or ""
    if not english:
        return problems
    reference = {"numbers": numbers(english, "en"), "e-mails": set(_EMAIL.findall(english)),
                 "URLs": urls(english),
                 "names": {n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", english)}}
    for lang, text in summary.items():
        if not text or lang not in codes():
            continue
        if NOTE_PATTERNS.search(text):
            problems.append(f"summary.{lang} holds a curation note or a raw field label: "
                            f"{NOTE_PATTERNS.search(text).group(0)!r} (put it in notes)")
        parts = sentences(text)
        if len(parts) > MAX_SENTENCES:
            problems.append(f"summary.{lang} has {len(parts)} sentences (at most {MAX_SENTENCES})")
        long = [s for s in parts if _too_long(s)]
        if long:
            problems.append(f"summary.{lang} has a sentence that is too long: {long[0][:60]!r}…")
        if lang == "en":
            continue
        found = {"numbers": numbers(text, lang), "e-mails": set(_EMAIL.findall(text)),
                 "URLs": urls(text), "names": {n for n in reference["names"] if n in text}}
        for what, expected in reference.items():
            missing, added = expected - found[what], found[what] - expected
            if what == "names":
                added = set()
            if missing or added:
                detail = "; ".join(filter(None, [f"missing {_show(missing)}" if missing else "",
                                                 f"not in English {_show(added)}" if added else ""]))
                problems.append(f"summary.{lang}: {what} differ from the English summary ({detail})")
    return problems


def urls(text: str) -> set[str]:
    return {u.rstrip(".") for u in _URL.findall(text)}


def _show(values: set) -> str:
    return ", ".join(sorted(f"{v:g}" if isinstance(v, float) else str(v) for v in values))
